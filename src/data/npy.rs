//! NumPy `.npy` (2-D features; labels from `--labels` or a sibling file) and `.npz`
//! archives (features under x, X, data or features; labels under y, labels, label or
//! target), read with ndarray-npy.

use std::fs::File;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use ndarray::{Array1, ArrayD};
use ndarray_npy::{ReadNpyError, ReadNpyExt, ReadableElement};

use super::{DataError, Dataset, ImageShape};

/// A decoded features array: its values in C order, its shape and its dtype's name.
pub struct Raw {
    pub x: Vec<f32>,
    pub shape: Vec<usize>,
    pub dtype: &'static str,
}

/// Features ready for a [`Dataset`]: `n x d` values, the image shape when the array
/// held images, and a note of how an image array was read.
pub struct Decoded {
    pub x: Vec<f32>,
    pub n: usize,
    pub d: usize,
    pub dtype: &'static str,
    pub image_shape: Option<ImageShape>,
    pub note: Option<String>,
}

const FEATURE_KEYS: [&str; 4] = ["x", "X", "data", "features"];
const LABEL_KEYS: [&str; 4] = ["y", "labels", "label", "target"];

fn npy_err(path: &Path, e: impl std::fmt::Display) -> DataError {
    DataError::Invalid {
        path: path.to_path_buf(),
        reason: format!(
            "{e}. Save it with numpy.save from an array of f32, f64, u8, i32 or i64: samples x features, or images (n, H, W), (n, H, W, C) or (n, C, H, W)"
        ),
    }
}

fn try_dtype<T: ReadableElement + Copy>(
    open: &dyn Fn() -> std::io::Result<Box<dyn Read>>,
    dtype: &'static str,
    f: impl Fn(T) -> f32,
) -> Result<Option<Raw>, ReadNpyError> {
    match ArrayD::<T>::read_npy(open()?) {
        Ok(a) => Ok(Some(Raw {
            shape: a.shape().to_vec(),
            // `iter` walks in logical (C) order whatever the file's memory order.
            x: a.iter().map(|&v| f(v)).collect(),
            dtype,
        })),
        Err(ReadNpyError::WrongDescriptor(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Decode a features array of any supported dtype from `.npy` bytes: a 2-D table, or
/// images (see [`to_rows`]).
pub fn decode_2d(bytes: &[u8], path: &Path) -> Result<Decoded, DataError> {
    check_header(
        &bytes[..bytes.len().min(65_536 + 12)],
        bytes.len() as u64,
        path,
    )?;
    let owned = bytes.to_vec();
    let raw = decode_from(
        &move || Ok(Box::new(Cursor::new(owned.clone())) as Box<dyn Read>),
        path,
    )?;
    to_rows(raw, path)
}

/// Check a `.npy` header against the bytes actually present before any decoder sees it:
/// numpy headers are small (numpy itself refuses over 10,000 bytes) and the data the
/// header's shape and dtype declare must fit in the rest of the file. Never allocate
/// from an unchecked header.
pub fn check_header(head: &[u8], total_len: u64, path: &Path) -> Result<(), DataError> {
    let bad = |offset: u64, reason: String| DataError::Invalid {
        path: path.to_path_buf(),
        reason: format!("byte {offset}: {reason}"),
    };
    if head.len() < 10 || &head[..6] != b"\x93NUMPY" {
        return Err(bad(
            0,
            "not a NumPy .npy file (magic \\x93NUMPY missing); save it with numpy.save".into(),
        ));
    }
    let (hlen, start) = match head[6] {
        1 => (u16::from_le_bytes([head[8], head[9]]) as usize, 10usize),
        2 | 3 if head.len() >= 12 => (
            u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize,
            12usize,
        ),
        v => return Err(bad(6, format!("unsupported .npy format version {v}"))),
    };
    if hlen > 65_536 {
        return Err(bad(
            8,
            format!(
                "header claims {hlen} bytes; real .npy headers are under 10,000. The file is corrupt."
            ),
        ));
    }
    if head.len() < start + hlen {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            offset: head.len() as u64,
            expected: (start + hlen) as u64,
            found: head.len() as u64,
        });
    }
    let text = String::from_utf8_lossy(&head[start..start + hlen]);
    let item = text
        .split("'descr':")
        .nth(1)
        .and_then(|r| r.split('\'').nth(1))
        .and_then(|d| {
            d.trim_start_matches(['<', '>', '|', '='])
                .get(1..)
                .and_then(|n| n.parse::<u64>().ok())
        })
        .unwrap_or(1)
        .max(1);
    let shape = text
        .split("'shape':")
        .nth(1)
        .and_then(|r| r.split('(').nth(1))
        .and_then(|r| r.split(')').next())
        .unwrap_or("");
    let mut count: u64 = 1;
    for part in shape.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let v: u64 = part.trim_end_matches('L').parse().map_err(|_| {
            bad(
                start as u64,
                format!("shape entry '{part}' is not a number"),
            )
        })?;
        count = count
            .checked_mul(v)
            .ok_or_else(|| bad(start as u64, "shape overflows".into()))?;
    }
    let need = count
        .checked_mul(item)
        .ok_or_else(|| bad(start as u64, "shape overflows".into()))?;
    let have = total_len.saturating_sub((start + hlen) as u64);
    if need > have {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            offset: total_len,
            expected: need,
            found: have,
        });
    }
    Ok(())
}

/// Decode a `.npy` array of any rank, reading it from `open()` once per dtype tried.
/// f32 data in C order is taken over without a copy, so reading a file costs little
/// more memory than its features.
fn decode_from(
    open: &dyn Fn() -> std::io::Result<Box<dyn Read>>,
    path: &Path,
) -> Result<Raw, DataError> {
    let r = (|| -> Result<Option<Raw>, ReadNpyError> {
        match ArrayD::<f32>::read_npy(open()?) {
            Ok(a) => {
                let shape = a.shape().to_vec();
                let x = if a.is_standard_layout() {
                    a.into_raw_vec_and_offset().0
                } else {
                    a.iter().copied().collect()
                };
                return Ok(Some(Raw {
                    x,
                    shape,
                    dtype: "f32",
                }));
            }
            Err(ReadNpyError::WrongDescriptor(_)) => {}
            Err(e) => return Err(e),
        }
        if let Some(r) = try_dtype::<f64>(open, "f64", |v| v as f32)? {
            return Ok(Some(r));
        }
        if let Some(r) = try_dtype::<u8>(open, "u8", f32::from)? {
            return Ok(Some(r));
        }
        if let Some(r) = try_dtype::<i32>(open, "i32", |v| v as f32)? {
            return Ok(Some(r));
        }
        try_dtype::<i64>(open, "i64", |v| v as f32)
    })();
    match r {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(DataError::Unsupported {
            path: path.to_path_buf(),
            what: "NumPy dtype".into(),
            hint: "Use f32, f64, u8, i32 or i64 (e.g. x.astype('float32')).".into(),
        }),
        Err(ReadNpyError::Io(e)) => Err(DataError::io(path, e)),
        Err(e) => Err(npy_err(path, e)),
    }
}

/// Whether `c` is a plausible channel count (grey or RGB).
fn is_channels(c: usize) -> bool {
    c == 1 || c == 3
}

/// Rows of features from a decoded array, by its shape:
/// - `(n, d)`: a table, as it is;
/// - `(n, H, W)`: grey images (Keras' MNIST, torchvision's `.data`);
/// - `(n, H, W, C)` with C = 1 or 3: channels-last images (Keras, TensorFlow, PIL);
/// - `(n, C, H, W)` with C = 1 or 3: channels-first images (PyTorch), transposed to
///   channels last, the layout of every image here. When both readings fit (C in the
///   second and the last place), channels last wins; the note says which was assumed.
pub fn to_rows(raw: Raw, path: &Path) -> Result<Decoded, DataError> {
    let Raw { x, shape, dtype } = raw;
    let table = |x, n, d, image_shape, note| Decoded {
        x,
        n,
        d,
        dtype,
        image_shape,
        note,
    };
    let dims = shape
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    match shape[..] {
        [n, d] => Ok(table(x, n, d, None, None)),
        [n, h, w] => Ok(table(
            x,
            n,
            h * w,
            Some(ImageShape {
                height: h,
                width: w,
                channels: 1,
            }),
            Some(format!(
                "images: array ({dims}) read as {h}x{w} grey images"
            )),
        )),
        [n, h, w, c] if is_channels(c) => Ok(table(
            x,
            n,
            h * w * c,
            Some(ImageShape {
                height: h,
                width: w,
                channels: c,
            }),
            Some(format!(
                "images: array ({dims}) read as channels last, {h}x{w} with {c} channel{}",
                if c == 1 { "" } else { "s" }
            )),
        )),
        [n, c, h, w] if is_channels(c) => {
            let mut out = vec![0.0f32; x.len()];
            let plane = h * w;
            for (src, dst) in x
                .chunks_exact(c * plane)
                .zip(out.chunks_exact_mut(c * plane))
            {
                for ch in 0..c {
                    for p in 0..plane {
                        dst[p * c + ch] = src[ch * plane + p];
                    }
                }
            }
            Ok(table(
                out,
                n,
                c * plane,
                Some(ImageShape {
                    height: h,
                    width: w,
                    channels: c,
                }),
                Some(format!(
                    "images: array ({dims}) read as channels first (PyTorch), {h}x{w} with {c} channel{}, stored channels last",
                    if c == 1 { "" } else { "s" }
                )),
            ))
        }
        _ => Err(DataError::Invalid {
            path: path.to_path_buf(),
            reason: format!(
                "the array has shape ({dims}): expected samples x features (n, d), or images (n, H, W), (n, H, W, C) or (n, C, H, W) with C = 1 or 3; reshape other arrays with x.reshape(len(x), -1)"
            ),
        }),
    }
}

/// Decode 1-D labels of an integer or float dtype.
pub fn decode_labels(bytes: &[u8], path: &Path) -> Result<Vec<String>, DataError> {
    check_header(
        &bytes[..bytes.len().min(65_536 + 12)],
        bytes.len() as u64,
        path,
    )?;
    macro_rules! attempt {
        ($t:ty) => {
            match Array1::<$t>::read_npy(Cursor::new(bytes)) {
                Ok(a) => return Ok(a.iter().map(|v| v.to_string()).collect()),
                Err(ReadNpyError::WrongDescriptor(_)) => {}
                Err(ReadNpyError::WrongNdim(_, got)) => {
                    return Err(DataError::Invalid {
                        path: path.to_path_buf(),
                        reason: format!(
                            "labels must be a 1-D array, this one has {got} dimensions"
                        ),
                    });
                }
                Err(e) => return Err(npy_err(path, e)),
            }
        };
    }
    attempt!(i64);
    attempt!(i32);
    attempt!(u8);
    attempt!(u32);
    attempt!(i16);
    attempt!(f64);
    attempt!(f32);
    Err(DataError::Unsupported {
        path: path.to_path_buf(),
        what: "label dtype".into(),
        hint: "Labels must be integers or floats (strings: use a CSV).".into(),
    })
}

fn read(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|e| DataError::io(path, e))
}

/// Labels next to `x.npy`: `y.npy`, `<stem>_labels.npy`, `<stem>-labels.npy`, `labels.npy`.
pub fn sibling_labels(path: &Path) -> Option<PathBuf> {
    let stem = path.file_stem()?.to_str()?;
    let mut c = vec![
        format!("{stem}_labels.npy"),
        format!("{stem}-labels.npy"),
        format!("{stem}_y.npy"),
    ];
    if stem.eq_ignore_ascii_case("x") || stem.ends_with("_x") || stem.ends_with("_X") {
        c.push(format!("{}y.npy", &stem[..stem.len() - 1]));
    }
    c.push("labels.npy".into());
    c.into_iter()
        .map(|n| path.with_file_name(n))
        .find(|p| p.exists() && p != path)
}

pub(crate) fn build(
    path: &Path,
    dec: Decoded,
    labels: Option<(Vec<String>, PathBuf)>,
) -> Result<Dataset, DataError> {
    let Decoded {
        x,
        n,
        d,
        dtype,
        image_shape,
        note,
    } = dec;
    if n == 0 || d == 0 {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let (labels, names) = match labels {
        Some((raw, lp)) => {
            if raw.len() != n {
                return Err(DataError::LabelCount {
                    path: lp,
                    rows: n,
                    labels: raw.len(),
                });
            }
            let (l, names) = super::labels::encode(&raw);
            (Some(l), Some(names))
        }
        None => (None, None),
    };
    let name = super::file_name(path);
    let mut ds = Dataset::new(name, x, d, labels)?;
    ds.class_names = names;
    ds.source = Some(path.to_path_buf());
    ds.dtype = dtype.to_string();
    ds.image_shape = image_shape;
    ds.features_note = note;
    Ok(ds)
}

/// Load a `.npy` features file.
pub fn load_npy(path: &Path, labels: Option<&Path>) -> Result<Dataset, DataError> {
    {
        use std::io::Read as _;
        let mut f = File::open(path).map_err(|e| DataError::io(path, e))?;
        let total = f.metadata().map_err(|e| DataError::io(path, e))?.len();
        let mut head = Vec::new();
        f.by_ref()
            .take(65_536 + 12)
            .read_to_end(&mut head)
            .map_err(|e| DataError::io(path, e))?;
        check_header(&head, total, path)?;
    }
    let p = path.to_path_buf();
    let open = move || -> std::io::Result<Box<dyn Read>> {
        Ok(Box::new(std::io::BufReader::new(File::open(&p)?)))
    };
    let dec = to_rows(decode_from(&open, path)?, path)?;
    let lp = labels
        .map(Path::to_path_buf)
        .or_else(|| sibling_labels(path));
    let labels = match lp {
        Some(lp) => Some((decode_labels(&read(&lp)?, &lp)?, lp)),
        None => None,
    };
    build(path, dec, labels)
}

/// Writes an uncompressed `.npz` archive as NumPy's `np.savez` does: one member
/// `NAME.npy` per array, each in the `.npy` format (written by ndarray-npy). For the
/// stand-in data sets and tests; ndarray-npy's own `NpzWriter` would bring a second,
/// older `zip` crate into the build (see Cargo.toml).
pub struct NpzWriter<W: std::io::Write + std::io::Seek> {
    zip: zip::ZipWriter<W>,
}

impl<W: std::io::Write + std::io::Seek> NpzWriter<W> {
    pub fn new(w: W) -> Self {
        NpzWriter {
            zip: zip::ZipWriter::new(w),
        }
    }

    /// Add `array` as the member `name.npy`.
    pub fn add_array<T: ndarray_npy::WriteNpyExt + ?Sized>(
        &mut self,
        name: &str,
        array: &T,
    ) -> std::io::Result<()> {
        let mut bytes = Vec::new();
        array
            .write_npy(&mut bytes)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(bytes.len() >= u32::MAX as usize);
        self.zip
            .start_file(format!("{name}.npy"), opts)
            .map_err(std::io::Error::other)?;
        std::io::Write::write_all(&mut self.zip, &bytes)
    }

    /// Write the archive's directory.
    pub fn finish(self) -> std::io::Result<W> {
        self.zip.finish().map_err(std::io::Error::other)
    }
}

/// Load a `.npz` archive.
pub fn load_npz(path: &Path) -> Result<Dataset, DataError> {
    let f = File::open(path).map_err(|e| DataError::io(path, e))?;
    parse_npz(f, path)
}

/// Read a `.npz` archive from any seekable reader (`path` is for messages). Each member
/// is read (at most its declared size, and never more than 4 GiB) and then checked and
/// decoded like a `.npy` file.
pub fn parse_npz<R: std::io::Read + std::io::Seek>(
    r: R,
    path: &Path,
) -> Result<Dataset, DataError> {
    let zerr =
        |e: zip::result::ZipError| npy_err(path, format!("not a readable .npz (zip) archive: {e}"));
    let mut z = zip::ZipArchive::new(r).map_err(zerr)?;
    let names: Vec<String> = z
        .file_names()
        .map(|n| n.map(|n| n.into_owned()))
        .collect::<Result<_, _>>()
        .map_err(zerr)?;
    let find = |keys: &[&str]| {
        keys.iter().find_map(|k| {
            names
                .iter()
                .find(|n| n.as_str() == *k || n.trim_end_matches(".npy") == *k)
                .cloned()
        })
    };
    let mut member = |name: &str| -> Result<Vec<u8>, DataError> {
        let mut f = z.by_name(name).map_err(zerr)?;
        let limit = f.size().min(1 << 32);
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(&mut f, limit), &mut v)
            .map_err(|e| DataError::io(path, e))?;
        Ok(v)
    };
    let Some(xk) = find(&FEATURE_KEYS) else {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            reason: format!(
                "no features array: looked for x, X, data or features; the archive has {}",
                names.join(", ")
            ),
        });
    };
    let dec = decode_2d(&member(&xk)?, path)?;
    let labels = match find(&LABEL_KEYS) {
        Some(lk) => Some((decode_labels(&member(&lk)?, path)?, path.to_path_buf())),
        None => None,
    };
    build(path, dec, labels)
}
