//! What went wrong reading a dataset: one enum for every loader.
//!
//! Why: each message says which file, where in it, and what to do about it, so the
//! CLI prints one line and the app one dialog.

use std::path::{Path, PathBuf};

/// What went wrong reading a dataset. Each message says which file, where in it, and
/// what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: cannot read: {source}. Check that the path exists and is readable.")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the file is empty or holds no samples. Choose a file with data in it.")]
    Empty { path: PathBuf },
    #[error(
        "{path}: byte 0: not an IDX file (magic bytes {found:02x?}; expected 00 00 <type> <dims>). \
         Use an MNIST-style .idx/-ubyte file, optionally gzip-compressed."
    )]
    BadMagic { path: PathBuf, found: [u8; 4] },
    #[error(
        "{path}: byte {offset}: file ends early: the header declares {expected} bytes of data but only {found} are there. \
         The file is truncated; download or copy it again."
    )]
    Truncated {
        path: PathBuf,
        offset: u64,
        expected: u64,
        found: u64,
    },
    #[error("{path}: unsupported {what}. {hint}")]
    Unsupported {
        path: PathBuf,
        what: String,
        hint: String,
    },
    #[error(
        "{path}: {labels} labels for {rows} samples. Give the label file that belongs to this data."
    )]
    LabelCount {
        path: PathBuf,
        rows: usize,
        labels: usize,
    },
    #[error(
        "{path}: row {row}, column {col}: value is NaN or infinite. Clean the data (remove or impute such values) first."
    )]
    NonFinite {
        path: PathBuf,
        row: usize,
        col: usize,
    },
    #[error(
        "{path}: {total} missing values (empty or NA cells, NaN) in {columns} column(s) ({per_column}) and {rows} row(s), the first in row {first_row}. \
         Drop those rows with --missing drop-rows, fill each with its column's mean with --missing mean, or fill the gaps in the file."
    )]
    Missing {
        path: PathBuf,
        total: usize,
        columns: usize,
        per_column: String,
        /// 1-based.
        first_row: usize,
        rows: usize,
    },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error(
        "{path}: no dataset found: expected IDX (MNIST-style), CSV/TSV, .npy/.npz, svmlight, or a folder of IDX files or images."
    )]
    NotFound { path: PathBuf },
}

impl DataError {
    /// Attach a path to an I/O error.
    pub fn io(path: &Path, source: std::io::Error) -> DataError {
        DataError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
