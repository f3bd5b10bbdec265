//! The dataset every loader returns: an `n x d` matrix of `f32` features with optional
//! labels, class names, image shape, titles and how it was read.
//!
//! Why: the engine, the CLI and the app never care which file format the user had.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::fitted::{Fitted, TextModel};
use super::{DataError, Format, ImageShape, Preprocessing};

/// A loaded dataset: features, optional labels and where they came from.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Short human name (file or folder name).
    pub name: String,
    /// Where it was read from, if from disk.
    pub source: Option<PathBuf>,
    /// Number of samples.
    pub n: usize,
    /// Number of features per sample.
    pub d: usize,
    /// Features, `n x d`, row-major.
    pub x: Vec<f32>,
    /// Ground-truth class of each sample, `0..n_classes`, if known.
    pub labels: Option<Vec<u32>>,
    /// Names of the classes, indexed by label, if known.
    pub class_names: Option<Vec<String>>,
    /// Image shape of one sample, if the features are pixels.
    pub image_shape: Option<ImageShape>,
    /// The preprocessing already applied to `x`.
    pub preprocessing: Preprocessing,
    /// Why that preprocessing: the rule of `auto` that fired, or "asked for".
    pub preprocessing_reason: Option<String>,
    /// How the labels were found, when a loader guessed (e.g. the last column of a
    /// headerless CSV).
    pub label_note: Option<String>,
    /// Element type in the file (u8, f32, ...).
    pub dtype: String,
    /// For text: the vocabulary of the tf-idf columns and a preview of each document.
    pub text: Option<TextInfo>,
    /// The pixels behind derived features (HOG), `n x image_shape.len()`, for
    /// galleries and thumbnails.
    pub display: Option<Vec<f32>>,
    /// How the features were derived, when not read as they are (tf-idf, HOG), or
    /// how an image array was read (channels first or last).
    pub features_note: Option<String>,
    /// A short title per sample from the file (a CSV's name or id columns; a
    /// document's title or first line), for hover, galleries and exports.
    pub titles: Option<Vec<String>>,
    /// Names of the feature columns, when the file had a header.
    pub column_names: Option<Vec<String>>,
    /// What the loader assumed or changed on the way, one line each (columns kept out
    /// of the features, rows dropped or values filled for missing cells).
    pub notes: Vec<String>,
    /// The preprocessing as fitted values (fitted on these rows, or a model's applied
    /// to them), so a model trained on them keeps it; `None` for data built in memory
    /// without [`super::load`].
    pub fitted: Option<Arc<Fitted>>,
}

/// Summary of a dataset, as written into reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    pub name: String,
    pub source: Option<String>,
    pub n: usize,
    pub d: usize,
    pub n_classes: Option<usize>,
    pub image_shape: Option<ImageShape>,
    pub preprocessing: Preprocessing,
    /// Why that preprocessing (see [`Dataset::preprocessing_reason`]).
    #[serde(default)]
    pub preprocessing_reason: Option<String>,
    /// How the labels were found, when a loader guessed.
    #[serde(default)]
    pub label_note: Option<String>,
    /// Element type in the file.
    #[serde(default)]
    pub dtype: String,
    /// How the features were derived (tf-idf, HOG), if not read as they are.
    #[serde(default)]
    pub features: Option<String>,
    /// What the loader assumed or changed (see [`Dataset::notes`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Dataset {
    /// Build a dataset from parts, checking that the sizes agree.
    pub fn new(
        name: impl Into<String>,
        x: Vec<f32>,
        d: usize,
        labels: Option<Vec<u32>>,
    ) -> Result<Dataset, DataError> {
        let name = name.into();
        if d == 0 || x.is_empty() {
            return Err(DataError::Empty {
                path: PathBuf::from(&name),
            });
        }
        if !x.len().is_multiple_of(d) {
            return Err(DataError::Invalid {
                path: PathBuf::from(&name),
                reason: format!("{} values do not split into rows of {d}", x.len()),
            });
        }
        let n = x.len() / d;
        if let Some(l) = &labels
            && l.len() != n
        {
            return Err(DataError::LabelCount {
                path: PathBuf::from(&name),
                rows: n,
                labels: l.len(),
            });
        }
        Ok(Dataset {
            name,
            source: None,
            n,
            d,
            x,
            labels,
            class_names: None,
            image_shape: None,
            preprocessing: Preprocessing::None,
            preprocessing_reason: None,
            label_note: None,
            dtype: "f32".into(),
            text: None,
            display: None,
            features_note: None,
            titles: None,
            column_names: None,
            notes: Vec::new(),
            fitted: None,
        })
    }

    /// Row `i` of the features.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    /// The title of sample `i` (see [`Dataset::titles`]).
    pub fn title(&self, i: usize) -> Option<&str> {
        self.titles.as_ref()?.get(i).map(String::as_str)
    }

    /// Name of feature column `c`: its header name, else its 0-based index.
    pub fn column_name(&self, c: usize) -> String {
        self.column_names
            .as_ref()
            .and_then(|n| n.get(c).cloned())
            .unwrap_or_else(|| format!("column {c}"))
    }

    /// Number of distinct classes, when labels are known.
    pub fn n_classes(&self) -> Option<usize> {
        let l = self.labels.as_ref()?;
        let from_labels = l.iter().copied().max().map_or(0, |m| m as usize + 1);
        Some(
            self.class_names
                .as_ref()
                .map_or(from_labels, |c| c.len().max(from_labels)),
        )
    }

    /// Name of class `c` (its number when the file gave no names).
    pub fn class_name(&self, c: u32) -> String {
        self.class_names
            .as_ref()
            .and_then(|n| n.get(c as usize).cloned())
            .unwrap_or_else(|| c.to_string())
    }

    /// The summary written into reports.
    pub fn info(&self) -> DatasetInfo {
        DatasetInfo {
            name: self.name.clone(),
            source: self.source.as_ref().map(|p| p.display().to_string()),
            n: self.n,
            d: self.d,
            n_classes: self.n_classes(),
            image_shape: self.image_shape,
            preprocessing: self.preprocessing,
            preprocessing_reason: self.preprocessing_reason.clone(),
            label_note: self.label_note.clone(),
            dtype: self.dtype.clone(),
            features: self.features_note.clone(),
            notes: self.notes.clone(),
        }
    }

    /// The pixels of row `i` for pictures: the image behind derived features when
    /// there is one, else the row itself.
    pub fn display_row(&self, i: usize) -> &[f32] {
        match (&self.display, self.image_shape) {
            (Some(d), Some(s)) => &d[i * s.len()..(i + 1) * s.len()],
            _ => self.row(i),
        }
    }

    /// The format that decides preprocessing: text and HOG features are their own,
    /// whatever file they came from.
    pub fn feature_format(&self, file: Format) -> Format {
        if self.text.is_some() {
            Format::Text
        } else if self.display.is_some() {
            Format::Hog
        } else {
            file
        }
    }

    /// Values per picture (see [`Dataset::display_row`]).
    pub fn display_d(&self) -> usize {
        match (&self.display, self.image_shape) {
            (Some(_), Some(s)) => s.len(),
            _ => self.d,
        }
    }

    /// Rows `idx` as a new dataset (labels, shape and names kept).
    pub fn subset(&self, idx: &[usize]) -> Dataset {
        let mut x = Vec::with_capacity(idx.len() * self.d);
        for &i in idx {
            x.extend_from_slice(self.row(i));
        }
        Dataset {
            name: format!("{} ({} of {})", self.name, idx.len(), self.n),
            source: self.source.clone(),
            n: idx.len(),
            d: self.d,
            x,
            labels: self
                .labels
                .as_ref()
                .map(|l| idx.iter().map(|&i| l[i]).collect()),
            class_names: self.class_names.clone(),
            image_shape: self.image_shape,
            preprocessing: self.preprocessing,
            preprocessing_reason: self.preprocessing_reason.clone(),
            label_note: self.label_note.clone(),
            dtype: self.dtype.clone(),
            text: self.text.as_ref().map(|t| TextInfo {
                vocabulary: t.vocabulary.clone(),
                tokens: t.tokens,
                distinct_stems: t.distinct_stems,
                top_terms: t.top_terms.clone(),
                model: t.model.clone(),
            }),
            display: self.display.as_ref().map(|_| {
                let mut v = Vec::with_capacity(idx.len() * self.display_d());
                for &i in idx {
                    v.extend_from_slice(self.display_row(i));
                }
                v
            }),
            features_note: self.features_note.clone(),
            titles: self
                .titles
                .as_ref()
                .map(|t| idx.iter().map(|&i| t[i].clone()).collect()),
            column_names: self.column_names.clone(),
            notes: self.notes.clone(),
            fitted: self.fitted.clone(),
        }
    }

    /// A cheap fingerprint of the features and labels (FNV-1a over the raw bits),
    /// used to key caches of models pretrained on this data.
    pub fn fingerprint(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |v: u32| {
            for b in v.to_le_bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        };
        eat(self.n as u32);
        eat(self.d as u32);
        for v in &self.x {
            eat(v.to_bits());
        }
        if let Some(l) = &self.labels {
            for &v in l {
                eat(v);
            }
        }
        h
    }

    /// Check that every feature is finite; the error names the first bad cell.
    pub fn check_finite(&self) -> Result<(), DataError> {
        if let Some(pos) = self.x.iter().position(|v| !v.is_finite()) {
            return Err(DataError::NonFinite {
                path: self
                    .source
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(&self.name)),
                row: pos / self.d,
                col: pos % self.d,
            });
        }
        Ok(())
    }
}

/// What a text dataset carries besides its tf-idf matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct TextInfo {
    /// The stems of the columns, in column order.
    pub vocabulary: Arc<Vec<String>>,
    /// Tokens kept per document, before the vocabulary cut, summed.
    pub tokens: usize,
    /// Distinct stems before the cut.
    pub distinct_stems: usize,
    /// The 15 terms of highest mean tf-idf over all documents.
    pub top_terms: Vec<String>,
    /// The vocabulary's idf and tf rule (and the CSV column read), as a model keeps them.
    pub model: Arc<TextModel>,
}

impl Fitted {
    /// Whether `ds` (as read, before the steps after reading) has the input this was
    /// fitted on: as many values per sample, the same columns, the same image shape.
    /// The error names the first mismatch and what to do.
    pub fn check_input(&self, ds: &Dataset, path: &Path) -> Result<(), DataError> {
        let refuse = |reason: String| {
            Err(DataError::Invalid {
                path: path.to_path_buf(),
                reason,
            })
        };
        match (&self.text, &ds.text) {
            (Some(_), None) => {
                return refuse(
                    "the model was trained on text (tf-idf) but this is not text; give documents (a CSV with a text column, .txt)".into(),
                );
            }
            (None, Some(_)) => {
                return refuse(format!(
                    "this is text but the model was trained on {} numeric values per sample",
                    self.input.d
                ));
            }
            _ => {}
        }
        if ds.d != self.input.d {
            return refuse(format!(
                "the model was trained on {} values per sample but this file has {}{}",
                self.input.d,
                ds.d,
                if ds.label_note.is_some() {
                    " (after taking a label column out: name the label column with --label-col as in training, or none)"
                } else {
                    ""
                }
            ));
        }
        if let (Some(want), Some(got)) = (&self.input.columns, &ds.column_names)
            && let Some(c) = (0..want.len()).find(|&c| want.get(c) != got.get(c))
        {
            return refuse(format!(
                "column {c} is '{}' but the model was trained with '{}' there; give the columns of the training file, in its order",
                got.get(c).map_or("", String::as_str),
                want[c]
            ));
        }
        if let (Some(want), Some(got)) = (self.input.image_shape, ds.image_shape)
            && want != got
        {
            return refuse(format!(
                "images of {}x{}x{} but the model was trained on {}x{}x{}; bring them to that size",
                got.height, got.width, got.channels, want.height, want.width, want.channels
            ));
        }
        Ok(())
    }
}
