//! The kinds that describe data and how it is read: its file format, the feature
//! rule, the preprocessing, the term frequency of tf-idf and what to do with missing
//! values.
//!
//! Why a leaf of its own: the dataset records them, the readers take them as options
//! and the fitted preprocessing stores them, so they must not live in any one of those.

use serde::{Deserialize, Serialize};

/// The file formats decscope reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Idx,
    IdxDir,
    Csv,
    Npy,
    Npz,
    Svmlight,
    ImageDir,
    /// A `.txt` file, one document per line.
    Text,
    /// A folder of `.txt` files (one subfolder per class).
    TextDir,
    /// Features computed from images (`--features hog`), not a file format.
    Hog,
}

/// How features are rescaled before training.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Preprocessing {
    /// Chosen from the content: pixel-like data -> `unit-range`, sparse counts or tf-idf
    /// -> `l2-rows`, other tables -> `standardize` (see [`choose`]).
    #[default]
    Auto,
    /// Leave the values as they are.
    None,
    /// Scale all values together to [0, 1] by one global range: non-negative data is
    /// divided by its maximum (bytes with 255 present: by 255), other data min-max.
    UnitRange,
    /// Zero mean and unit variance per column.
    Standardize,
    /// Each row scaled to unit Euclidean norm.
    L2Rows,
    /// The paper's: scale so that (1/d)·|x|^2 is 1 on average over the rows.
    Paper,
}

impl Preprocessing {
    /// The command-line name (`unit-range`, `l2-rows`, ...).
    pub fn name(self) -> String {
        use clap::ValueEnum;
        self.to_possible_value()
            .map_or_else(|| format!("{self:?}"), |v| v.get_name().to_string())
    }
}

/// What to do with missing values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum Missing {
    /// Refuse the file, counting the missing values per column.
    #[default]
    Error,
    /// Drop every row that has a missing value.
    DropRows,
    /// Fill each missing value with the mean of its column's present values.
    Mean,
}

impl Missing {
    /// The flag value, as `--missing` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Missing::Error => "error",
            Missing::DropRows => "drop-rows",
            Missing::Mean => "mean",
        }
    }
}

/// What the autoencoder sees of image data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum Features {
    /// The values as read (pixels for images).
    #[default]
    Raw,
    /// HOG over 8x8-pixel cells, plus an 8x8 colour map for colour images ([`crate::data::hog`]).
    Hog,
}

/// The term-frequency part of tf-idf.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
pub enum Tf {
    /// The raw count of the stem in the document.
    #[default]
    Raw,
    /// 1 + ln(count) for a count above 0 (scikit-learn's `sublinear_tf`): a word said
    /// ten times weighs about three times one said once, not ten.
    Sublinear,
}
