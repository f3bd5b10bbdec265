//! The file formats decscope reads, and how a path is recognised (by extension, then
//! by its first bytes).
//!
//! Why: users open files by name; the reader must be chosen without asking them.

use std::path::Path;

use super::{DataError, Format, images, svmlight, text};

/// Decide the format of `path` by extension, then by content.
pub fn detect(path: &Path) -> Result<Format, DataError> {
    let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
    if meta.is_dir() {
        let has_idx = std::fs::read_dir(path)
            .map_err(|e| DataError::io(path, e))?
            .filter_map(|e| e.ok())
            .any(|e| {
                e.file_name().to_str().is_some_and(|n| {
                    n.contains("images") && (n.contains("idx") || n.contains("ubyte"))
                })
            });
        return if has_idx {
            Ok(Format::IdxDir)
        } else if images::looks_like(path) {
            Ok(Format::ImageDir)
        } else if text::looks_like(path) {
            Ok(Format::TextDir)
        } else {
            Err(DataError::NotFound {
                path: path.to_path_buf(),
            })
        };
    }
    let name = path
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    // `data.csv.gz`: the format of what is inside (gzip is undone on reading).
    let inner = name.strip_suffix(".gz").unwrap_or(&name);
    let ext = inner.rsplit('.').next().unwrap_or_default();
    match ext {
        "csv" | "tsv" => return Ok(Format::Csv),
        "txt" => return Ok(Format::Text),
        "npy" => return Ok(Format::Npy),
        "npz" => return Ok(Format::Npz),
        "svm" | "svmlight" | "libsvm" => return Ok(Format::Svmlight),
        "idx" => return Ok(Format::Idx),
        _ => {}
    }
    if name.contains("ubyte") || name.contains("idx") {
        return Ok(Format::Idx);
    }
    // By content.
    let mut head = [0u8; 512];
    let got = {
        use std::io::Read;
        let mut f = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
        f.read(&mut head).map_err(|e| DataError::io(path, e))?
    };
    let head = &head[..got];
    if got == 0 {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    if head.starts_with(b"\x93NUMPY") {
        return Ok(Format::Npy);
    }
    if head.starts_with(b"PK") {
        return Ok(Format::Npz);
    }
    if head.starts_with(&[0x1f, 0x8b]) || (got >= 4 && head[0] == 0 && head[1] == 0) {
        return Ok(Format::Idx);
    }
    match std::str::from_utf8(head) {
        Ok(t) if svmlight::looks_like(t) => Ok(Format::Svmlight),
        Ok(_) => Ok(Format::Csv),
        Err(e) if e.valid_up_to() > 400 => Ok(Format::Csv),
        Err(_) => Err(DataError::Unsupported {
            path: path.to_path_buf(),
            what: "file format".into(),
            hint: "decscope reads IDX (MNIST), CSV/TSV, .npy/.npz, svmlight text and folders of PNG/JPEG images; give the file one of those extensions.".into(),
        }),
    }
}
