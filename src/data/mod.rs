//! Datasets: an `n x d` matrix of `f32` features with optional labels, and the loaders
//! that read them from disk.
//!
//! Every loader returns the same [`Dataset`], so the engine, the CLI and the app never
//! care which file format the user had. Loaders never trust a header: sizes are checked
//! against the bytes actually present before anything is allocated from them, and every
//! error names the file, the place in it and what to do (see [`DataError`]).
//!
//! May use: nothing else of decscope (the engine, the views and the front ends read it).

pub mod csv;
mod dataset;
mod error;
mod export;
pub mod fitted;
mod format;
pub mod hog;
pub mod idx;
mod image_shape;
pub mod images;
pub mod inspect;
pub mod kinds;
pub mod labels;
mod load;
pub mod missing;
pub mod npy;
pub mod preprocess;
pub mod standins;
pub mod svmlight;
pub mod text;

use std::path::Path;

pub use dataset::{Dataset, DatasetInfo, TextInfo};
pub use error::DataError;
pub use export::{assignments_csv, write_matrix};
pub use fitted::Fitted;
pub use format::detect;
pub use image_shape::ImageShape;
pub use kinds::{Features, Format, Missing, Preprocessing, Tf};
pub use load::{LoadOptions, default_dataset_path, from_array, load};

/// The last component of `path`, as a dataset name.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
