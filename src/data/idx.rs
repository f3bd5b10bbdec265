//! IDX files (the MNIST format), raw or gzip-compressed, and folders of them.
//!
//! Layout: 2 zero bytes, a type byte, the number of dimensions, then each dimension as
//! a big-endian u32, then the data, big-endian. An images file `X-images-idx3-ubyte`
//! pairs with its labels `X-labels-idx1-ubyte`. The declared size is never used to
//! allocate: data is read up to the declared length and the file is rejected with the
//! byte offset where it ended if it is shorter.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

use super::{DataError, Dataset, ImageShape};

/// An IDX array: its dimensions and its values as f32.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    /// Element type named by the header (u8, i8, i16, i32, f32, f64).
    pub dtype: &'static str,
    /// The data as stored (big-endian); converted once, straight into the features.
    raw: Vec<u8>,
}

impl IdxArray {
    /// Append the values, as f32, to `out`.
    pub fn extend_f32(&self, out: &mut Vec<f32>) {
        let raw = &self.raw;
        match self.dtype {
            "u8" => out.extend(raw.iter().map(|&b| b as f32)),
            "i8" => out.extend(raw.iter().map(|&b| b as i8 as f32)),
            "i16" => out.extend(
                raw.chunks_exact(2)
                    .map(|c| i16::from_be_bytes([c[0], c[1]]) as f32),
            ),
            "i32" => out.extend(
                raw.chunks_exact(4)
                    .map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]]) as f32),
            ),
            "f32" => out.extend(
                raw.chunks_exact(4)
                    .map(|c| f32::from_be_bytes([c[0], c[1], c[2], c[3]])),
            ),
            _ => out.extend(raw.chunks_exact(8).map(|c| {
                f64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32
            })),
        }
    }

    /// The values as f32.
    pub fn to_f32(&self) -> Vec<f32> {
        let mut v = Vec::with_capacity(self.raw.len() / self.dtype_size());
        self.extend_f32(&mut v);
        v
    }

    fn dtype_size(&self) -> usize {
        match self.dtype {
            "u8" | "i8" => 1,
            "i16" => 2,
            "i32" | "f32" => 4,
            _ => 8,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.raw.len() / self.dtype_size()
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}

fn open(path: &Path) -> Result<Box<dyn Read>, DataError> {
    let mut f = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut head = [0u8; 2];
    let gz = f.read(&mut head).map_err(|e| DataError::io(path, e))? == 2 && head == [0x1f, 0x8b];
    drop(f);
    let f = BufReader::new(File::open(path).map_err(|e| DataError::io(path, e))?);
    Ok(if gz {
        Box::new(GzDecoder::new(f))
    } else {
        Box::new(f)
    })
}

/// Read exactly `buf.len()` bytes or report how many were there.
fn read_full(r: &mut dyn Read, buf: &mut [u8], path: &Path) -> Result<usize, DataError> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(DataError::io(path, e)),
        }
    }
    Ok(got)
}

/// Parse an IDX file from a reader (used by the file loader and the fuzz target).
pub fn parse(reader: &mut dyn Read, path: &Path) -> Result<IdxArray, DataError> {
    let mut magic = [0u8; 4];
    let got = read_full(reader, &mut magic, path)?;
    if got == 0 {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    if got < 4 || magic[0] != 0 || magic[1] != 0 || magic[3] == 0 {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            found: magic,
        });
    }
    let (elem, kind) = match magic[2] {
        0x08 => (1usize, "u8"),
        0x09 => (1, "i8"),
        0x0B => (2, "i16"),
        0x0C => (4, "i32"),
        0x0D => (4, "f32"),
        0x0E => (8, "f64"),
        t => {
            return Err(DataError::Unsupported {
                path: path.to_path_buf(),
                what: format!("IDX element type 0x{t:02x} at byte 2"),
                hint: "IDX types are 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64."
                    .into(),
            });
        }
    };
    let ndims = magic[3] as usize;
    let mut dims_raw = vec![0u8; 4 * ndims];
    let got = read_full(reader, &mut dims_raw, path)?;
    if got < dims_raw.len() {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            offset: 4 + got as u64,
            expected: dims_raw.len() as u64,
            found: got as u64,
        });
    }
    let dims: Vec<usize> = dims_raw
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let count = dims.iter().try_fold(1usize, |a, &b| a.checked_mul(b));
    let bytes = count.and_then(|c| c.checked_mul(elem));
    let Some(bytes) = bytes else {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            reason: format!(
                "byte 4: header declares dimensions {dims:?}, more elements than can exist. The file is corrupt."
            ),
        });
    };
    if bytes == 0 {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    // Grow with the data actually present, never with the header's claim.
    let mut raw = Vec::new();
    reader
        .take(bytes as u64)
        .read_to_end(&mut raw)
        .map_err(|e| DataError::io(path, e))?;
    if raw.len() < bytes {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            offset: (4 + 4 * ndims + raw.len()) as u64,
            expected: bytes as u64,
            found: raw.len() as u64,
        });
    }
    Ok(IdxArray {
        dims,
        dtype: kind,
        raw,
    })
}

/// Read one IDX file.
pub fn read(path: &Path) -> Result<IdxArray, DataError> {
    let mut r = open(path)?;
    parse(&mut *r, path)
}

/// The label file that belongs to an images file by the usual MNIST names, if present.
pub fn sibling_labels(images: &Path) -> Option<PathBuf> {
    let name = images.file_name()?.to_str()?;
    let candidates = [
        name.replace("images-idx3", "labels-idx1"),
        name.replace("images.idx3", "labels.idx1"),
        name.replace("images", "labels"),
    ];
    candidates
        .into_iter()
        .filter(|c| c != name)
        .map(|c| images.with_file_name(c))
        .find(|p| p.exists())
}

fn to_labels(arr: IdxArray, path: &Path) -> Result<Vec<u32>, DataError> {
    if arr.dims.len() != 1 {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            reason: format!(
                "a label file must be 1-D, this one has dimensions {:?}. Pass the labels (idx1) file.",
                arr.dims
            ),
        });
    }
    arr.to_f32()
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v >= 0.0 && v.fract() == 0.0 && v < 1e6 {
                Ok(v as u32)
            } else {
                Err(DataError::Invalid {
                    path: path.to_path_buf(),
                    reason: format!("label {i} is {v}; labels must be non-negative integers."),
                })
            }
        })
        .collect()
}

/// An images file read but not yet converted: its array, labels and shape.
struct Part {
    path: PathBuf,
    arr: IdxArray,
    n: usize,
    d: usize,
    shape: Option<ImageShape>,
    labels: Option<Vec<u32>>,
}

fn read_part(path: &Path, labels: Option<&Path>) -> Result<Part, DataError> {
    let arr = read(path)?;
    if arr.dims.len() == 1 {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            reason:
                "this is a 1-D label file; open the images file (idx3) or the folder holding both."
                    .into(),
        });
    }
    let n = arr.dims[0];
    let d: usize = arr.dims[1..].iter().product();
    let shape = match arr.dims.len() {
        3 => Some(ImageShape {
            height: arr.dims[1],
            width: arr.dims[2],
            channels: 1,
        }),
        4 => Some(ImageShape {
            height: arr.dims[1],
            width: arr.dims[2],
            channels: arr.dims[3],
        }),
        _ => ImageShape::guess(d),
    };
    let label_path = labels
        .map(Path::to_path_buf)
        .or_else(|| sibling_labels(path));
    let labels = match &label_path {
        Some(lp) => {
            let l = to_labels(read(lp)?, lp)?;
            if l.len() != n {
                return Err(DataError::LabelCount {
                    path: lp.clone(),
                    rows: n,
                    labels: l.len(),
                });
            }
            Some(l)
        }
        None => None,
    };
    Ok(Part {
        path: path.to_path_buf(),
        arr,
        n,
        d,
        shape,
        labels,
    })
}

/// Convert parts into one dataset, allocating the features once.
fn build(parts: Vec<Part>, name: String, source: &Path) -> Result<Dataset, DataError> {
    let Some(first) = parts.first() else {
        return Err(DataError::NotFound {
            path: source.to_path_buf(),
        });
    };
    let (d, shape, labelled) = (first.d, first.shape, first.labels.is_some());
    for p in &parts[1..] {
        if p.d != d {
            return Err(DataError::Invalid {
                path: p.path.clone(),
                reason: format!(
                    "has {} features per sample but the folder's first file has {d}; keep one kind of data per folder.",
                    p.d
                ),
            });
        }
        if p.labels.is_some() != labelled {
            return Err(DataError::Invalid {
                path: p.path.clone(),
                reason: "some image files in this folder have label files and others do not; add the missing labels files.".into(),
            });
        }
    }
    let total: usize = parts.iter().map(|p| p.n).sum();
    let dtype = first.arr.dtype;
    let mut x = Vec::with_capacity(total * d);
    let mut labels: Option<Vec<u32>> = labelled.then(|| Vec::with_capacity(total));
    for p in parts {
        p.arr.extend_f32(&mut x);
        if let (Some(all), Some(l)) = (&mut labels, p.labels) {
            all.extend(l);
        }
    }
    let mut ds = Dataset::new(name, x, d, labels)?;
    ds.source = Some(source.to_path_buf());
    ds.image_shape = shape;
    ds.dtype = dtype.to_string();
    ds.class_names = ds.labels.as_ref().map(|l| {
        let k = l.iter().copied().max().unwrap_or(0) as usize + 1;
        (0..k).map(|c| c.to_string()).collect()
    });
    Ok(ds)
}

/// Load an images file, with labels from `labels` or the sibling label file.
pub fn load_file(path: &Path, labels: Option<&Path>) -> Result<Dataset, DataError> {
    let part = read_part(path, labels)?;
    build(vec![part], super::file_name(path), path)
}

/// Load every images/labels pair in a folder, train files before test files, as one
/// dataset (`../shared/datasets/mnist` gives all 70,000 MNIST digits). The raw bytes of
/// every file are read first and converted once into a single feature buffer, so the
/// peak memory stays near the size of the features.
pub fn load_dir(dir: &Path) -> Result<Dataset, DataError> {
    let entries = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    let mut images: Vec<PathBuf> = Vec::new();
    for e in entries {
        let p = e.map_err(|e| DataError::io(dir, e))?.path();
        let name = p
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        if name.contains("images") && (name.contains("idx") || name.contains("ubyte")) {
            images.push(p);
        }
    }
    // Train before test, otherwise by name, so the order never depends on the file system.
    images.sort_by_key(|p| {
        let name = p
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        (!name.starts_with("train"), name)
    });
    if images.is_empty() {
        return Err(DataError::NotFound {
            path: dir.to_path_buf(),
        });
    }
    let parts = images
        .iter()
        .map(|p| read_part(p, None))
        .collect::<Result<Vec<_>, _>>()?;
    build(parts, super::file_name(dir), dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx_bytes(ty: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, ty, dims.len() as u8];
        for d in dims {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn parses_u8_images() {
        let b = idx_bytes(8, &[2, 2, 2], &[0, 1, 2, 3, 4, 5, 6, 255]);
        let a = parse(&mut &b[..], Path::new("t")).unwrap();
        assert_eq!(a.dims, vec![2, 2, 2]);
        assert_eq!(a.to_f32(), vec![0., 1., 2., 3., 4., 5., 6., 255.]);
    }

    #[test]
    fn huge_header_fails_fast_without_allocating() {
        // 16 bytes claiming 10^12 elements.
        let b = idx_bytes(8, &[1_000_000, 1_000_000, 1], &[1, 2, 3]);
        let e = parse(&mut &b[..], Path::new("t")).unwrap_err();
        assert!(matches!(e, DataError::Truncated { found: 3, .. }), "{e}");
    }

    #[test]
    fn bad_magic_is_named() {
        let e = parse(&mut &b"PK\x03\x04abcd"[..], Path::new("t")).unwrap_err();
        assert!(matches!(e, DataError::BadMagic { .. }));
        assert!(e.to_string().contains("not an IDX file"));
    }
}
