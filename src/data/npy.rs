//! NumPy `.npy` (2-D features; labels from `--labels` or a sibling file) and `.npz`
//! archives (features under x, X, data or features; labels under y, labels, label or
//! target), read with ndarray-npy.

use std::fs::File;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2, Ix1, Ix2};
use ndarray_npy::{NpzReader, ReadNpyError, ReadNpyExt, ReadableElement};

use super::{DataError, Dataset};

/// Values, rows, columns and dtype name of a decoded 2-D array.
type Decoded = (Vec<f32>, usize, usize, &'static str);

const FEATURE_KEYS: [&str; 4] = ["x", "X", "data", "features"];
const LABEL_KEYS: [&str; 4] = ["y", "labels", "label", "target"];

fn npy_err(path: &Path, e: impl std::fmt::Display) -> DataError {
    DataError::Invalid {
        path: path.to_path_buf(),
        reason: format!(
            "{e}. Save it with numpy.save from a 2-D array of f32, f64, u8, i32 or i64."
        ),
    }
}

fn try2<T: ReadableElement + Copy>(
    open: &dyn Fn() -> std::io::Result<Box<dyn Read>>,
    f: impl Fn(T) -> f32,
) -> Result<Option<(Vec<f32>, usize, usize)>, ReadNpyError> {
    match Array2::<T>::read_npy(open()?) {
        Ok(a) => {
            let (n, d) = a.dim();
            Ok(Some((a.iter().map(|&v| f(v)).collect(), n, d)))
        }
        Err(ReadNpyError::WrongDescriptor(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Decode a 2-D array of any supported dtype from `.npy` bytes: (values, n, d, dtype).
pub fn decode_2d(bytes: &[u8], path: &Path) -> Result<Decoded, DataError> {
    let owned = bytes.to_vec();
    decode_2d_from(
        &move || Ok(Box::new(Cursor::new(owned.clone())) as Box<dyn Read>),
        path,
    )
}

/// Decode a 2-D `.npy` array, reading it from `open()` once per dtype tried. f32 data
/// in C order is taken over without a copy, so reading a file costs little more memory
/// than its features.
fn decode_2d_from(
    open: &dyn Fn() -> std::io::Result<Box<dyn Read>>,
    path: &Path,
) -> Result<Decoded, DataError> {
    let r = (|| -> Result<Option<Decoded>, ReadNpyError> {
        match Array2::<f32>::read_npy(open()?) {
            Ok(a) => {
                let (n, d) = a.dim();
                let v = if a.is_standard_layout() {
                    a.into_raw_vec_and_offset().0
                } else {
                    a.iter().copied().collect()
                };
                return Ok(Some((v, n, d, "f32")));
            }
            Err(ReadNpyError::WrongDescriptor(_)) => {}
            Err(e) => return Err(e),
        }
        if let Some((x, n, d)) = try2::<f64>(open, |v| v as f32)? {
            return Ok(Some((x, n, d, "f64")));
        }
        if let Some((x, n, d)) = try2::<u8>(open, |v| v as f32)? {
            return Ok(Some((x, n, d, "u8")));
        }
        if let Some((x, n, d)) = try2::<i32>(open, |v| v as f32)? {
            return Ok(Some((x, n, d, "i32")));
        }
        if let Some((x, n, d)) = try2::<i64>(open, |v| v as f32)? {
            return Ok(Some((x, n, d, "i64")));
        }
        Ok(None)
    })();
    match r {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(DataError::Unsupported {
            path: path.to_path_buf(),
            what: "NumPy dtype".into(),
            hint: "Use f32, f64, u8, i32 or i64 (e.g. x.astype('float32')).".into(),
        }),
        Err(ReadNpyError::WrongNdim(want, got)) => Err(DataError::Invalid {
            path: path.to_path_buf(),
            reason: format!(
                "the array has {got} dimensions, expected {}: features must be a 2-D array (samples x features); reshape images with x.reshape(len(x), -1)",
                want.unwrap_or(2)
            ),
        }),
        Err(ReadNpyError::Io(e)) => Err(DataError::io(path, e)),
        Err(e) => Err(npy_err(path, e)),
    }
}

/// Decode 1-D labels of an integer or float dtype.
pub fn decode_labels(bytes: &[u8], path: &Path) -> Result<Vec<String>, DataError> {
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

fn build(
    path: &Path,
    x: Vec<f32>,
    n: usize,
    d: usize,
    dtype: &str,
    labels: Option<(Vec<String>, PathBuf)>,
) -> Result<Dataset, DataError> {
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
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut ds = Dataset::new(name, x, d, labels)?;
    ds.class_names = names;
    ds.source = Some(path.to_path_buf());
    ds.dtype = dtype.to_string();
    Ok(ds)
}

/// Load a `.npy` features file.
pub fn load_npy(path: &Path, labels: Option<&Path>) -> Result<Dataset, DataError> {
    let p = path.to_path_buf();
    let open = move || -> std::io::Result<Box<dyn Read>> {
        Ok(Box::new(std::io::BufReader::new(File::open(&p)?)))
    };
    let (x, n, d, dtype) = decode_2d_from(&open, path)?;
    let lp = labels
        .map(Path::to_path_buf)
        .or_else(|| sibling_labels(path));
    let labels = match lp {
        Some(lp) => Some((decode_labels(&read(&lp)?, &lp)?, lp)),
        None => None,
    };
    build(path, x, n, d, dtype, labels)
}

/// Load a `.npz` archive.
pub fn load_npz(path: &Path) -> Result<Dataset, DataError> {
    let f = File::open(path).map_err(|e| DataError::io(path, e))?;
    parse_npz(f, path)
}

/// Read a `.npz` archive from any seekable reader (`path` is for messages).
pub fn parse_npz<R: std::io::Read + std::io::Seek>(
    r: R,
    path: &Path,
) -> Result<Dataset, DataError> {
    let mut z = NpzReader::new(r).map_err(|e| npy_err(path, e))?;
    let names = z.names().map_err(|e| npy_err(path, e))?;
    let find = |keys: &[&str]| {
        keys.iter().find_map(|k| {
            names
                .iter()
                .find(|n| n.as_str() == *k || n.trim_end_matches(".npy") == *k)
                .cloned()
        })
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
    macro_rules! by_name2 {
        ($($t:ty => $tag:literal),*) => {{
            let mut out = None;
            $(
                if out.is_none() {
                    match z.by_name::<ndarray::OwnedRepr<$t>, Ix2>(&xk) {
                        Ok(a) => { let (n, d) = a.dim(); out = Some((a.iter().map(|&v| v as f32).collect::<Vec<f32>>(), n, d, $tag)); }
                        Err(ndarray_npy::ReadNpzError::Npy(ReadNpyError::WrongDescriptor(_))) => {}
                        Err(e) => return Err(npy_err(path, e)),
                    }
                }
            )*
            out
        }};
    }
    let Some((x, n, d, dtype)) =
        by_name2!(f32 => "f32", f64 => "f64", u8 => "u8", i32 => "i32", i64 => "i64")
    else {
        return Err(DataError::Unsupported {
            path: path.to_path_buf(),
            what: format!("dtype of `{xk}`"),
            hint: "Use f32, f64, u8, i32 or i64.".into(),
        });
    };
    let labels = match find(&LABEL_KEYS) {
        Some(lk) => {
            let mut raw = None;
            macro_rules! lab {
                ($($t:ty),*) => {$(
                    if raw.is_none() {
                        match z.by_name::<ndarray::OwnedRepr<$t>, Ix1>(&lk) {
                            Ok(a) => raw = Some(a.iter().map(|v| v.to_string()).collect::<Vec<String>>()),
                            Err(ndarray_npy::ReadNpzError::Npy(ReadNpyError::WrongDescriptor(_))) => {}
                            Err(e) => return Err(npy_err(path, e)),
                        }
                    }
                )*};
            }
            lab!(i64, i32, u8, u32, f64, f32);
            raw.map(|r| (r, path.to_path_buf()))
        }
        None => None,
    };
    build(path, x, n, d, dtype, labels)
}
