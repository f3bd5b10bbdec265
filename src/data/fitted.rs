//! The preprocessing of a training run as fitted values (the rule and its statistics,
//! the text vocabulary and idf, the missing-value fill, HOG's colour scale, the input's
//! shape and columns), saved with the model and applied unchanged to new data.
//!
//! Why: a model maps values, not files. If `predict` re-derived the preprocessing from
//! the batch it is given, the same row would be scaled by other statistics in a batch
//! of ten than among all rows (ten wine rows alone landed in other clusters), one row
//! would standardise to all zeros, and `auto` could even pick another rule. With the
//! fitted values every row is transformed on its own, so predicting any subset gives
//! exactly the assignments and q of predicting all rows.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Tf;
use super::{DataError, Features, ImageShape, Missing, Preprocessing};

/// The file name of the fitted preprocessing in a model folder.
pub const FILE: &str = "preprocess.json";
/// The format tag written into [`FILE`].
pub const FORMAT: &str = "decscope-preprocess-1";

/// Everything needed to turn a new file into the features a model was trained on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fitted {
    /// [`FORMAT`].
    pub format: String,
    /// The input as read, before derived features.
    pub input: Input,
    /// The text model (vocabulary and idf), when the input was text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextModel>,
    /// What `--missing` did, and each column's fill for `mean`.
    pub missing: MissingFill,
    /// Raw values, or HOG of the images.
    pub features: Features,
    /// HOG's colour map: the pixel maximum of the training images (colour images).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hog_max: Option<f32>,
    /// The scaling rule and its statistics.
    pub scaling: Scaling,
    /// Why that rule (the rule of `auto` that fired at fit time, or "asked for").
    pub reason: String,
    /// What was asked for (`auto`, or a rule by name), so a refit asks the same.
    #[serde(default)]
    pub asked: Preprocessing,
    /// Features per sample after everything (what the autoencoder takes).
    pub d: usize,
}

/// The input a model was fitted on, as read (before HOG; after tf-idf for text).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// Values per sample as read.
    pub d: usize,
    /// Column names of a table with a header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// Image shape of a sample, when the values are pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_shape: Option<ImageShape>,
}

/// Text as features: the stems of the columns and their idf.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextModel {
    /// The CSV column that held the documents, if the text came from a table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub terms: Vec<String>,
    /// scikit-learn's smoothed idf of each term, `ln((1 + n) / (1 + df)) + 1`.
    pub idf: Vec<f32>,
    pub tf: Tf,
}

/// `--missing` at fit time, with the column means that `mean` fills in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MissingFill {
    pub policy: Missing,
    /// Per column, the mean of the training rows' present values (`mean` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub means: Option<Vec<f32>>,
}

/// A scaling rule with the statistics it was fitted with. Applying it transforms each
/// row on its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum Scaling {
    /// Values as they are.
    None,
    /// `x <- (x - lo) / span` with the training data's global range.
    UnitRange { lo: f32, span: f32 },
    /// `x_j <- (x_j - mean_j) * inv_sd_j` (`inv_sd_j = 1` for a constant column).
    Standardize { mean: Vec<f32>, inv_sd: Vec<f32> },
    /// Each row to unit Euclidean norm (a row's own norm: nothing to fit).
    L2Rows,
    /// `x <- x * scale`, `scale = 1 / sqrt(mean of x^2 over the training values)`.
    Paper { scale: f32 },
}

impl Scaling {
    /// The rule's name, as `--preprocess` takes it.
    pub fn rule(&self) -> Preprocessing {
        match self {
            Scaling::None => Preprocessing::None,
            Scaling::UnitRange { .. } => Preprocessing::UnitRange,
            Scaling::Standardize { .. } => Preprocessing::Standardize,
            Scaling::L2Rows => Preprocessing::L2Rows,
            Scaling::Paper { .. } => Preprocessing::Paper,
        }
    }

    /// Fit rule `p` (already resolved, not `Auto`) to `x` (`n x d`).
    pub fn fit(p: Preprocessing, x: &[f32], d: usize) -> Scaling {
        match p {
            Preprocessing::Auto | Preprocessing::None => Scaling::None,
            Preprocessing::UnitRange => {
                let (lo, hi) = x
                    .iter()
                    .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
                        (a.min(v), b.max(v))
                    });
                // Non-negative data keeps 0 at 0 (ink stays ink): divide by the
                // maximum, which is exactly 255 for MNIST-style bytes.
                let lo = if lo >= 0.0 { 0.0 } else { lo };
                let span = if hi > lo { hi - lo } else { 1.0 };
                Scaling::UnitRange { lo, span }
            }
            Preprocessing::Standardize => standardize(x, d),
            Preprocessing::L2Rows => Scaling::L2Rows,
            Preprocessing::Paper => {
                // (1/n) Σ_i (1/d)|x_i|^2 = 1  =>  x <- x / sqrt(mean squared value)
                let ms =
                    x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64;
                let scale = if ms > 0.0 {
                    (1.0 / ms.sqrt()) as f32
                } else {
                    1.0
                };
                Scaling::Paper { scale }
            }
        }
    }

    /// Transform the rows of `x` (`n x d`) in place.
    pub fn apply(&self, x: &mut [f32], d: usize) {
        match self {
            Scaling::None => {}
            Scaling::UnitRange { lo, span } => x.iter_mut().for_each(|v| *v = (*v - lo) / span),
            Scaling::Standardize { mean, inv_sd } => {
                for row in x.chunks_exact_mut(d) {
                    for ((v, mu), inv) in row.iter_mut().zip(mean).zip(inv_sd) {
                        *v = (*v - mu) * inv;
                    }
                }
            }
            Scaling::L2Rows => {
                for row in x.chunks_exact_mut(d) {
                    let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
                    if norm > 0.0 {
                        row.iter_mut().for_each(|v| *v /= norm);
                    }
                }
            }
            Scaling::Paper { scale } => x.iter_mut().for_each(|v| *v *= scale),
        }
    }
}

/// Per-column mean and inverse deviation (population, in f64; 1 for a constant column).
fn standardize(x: &[f32], d: usize) -> Scaling {
    let n = (x.len() / d.max(1)).max(1) as f64;
    let mut sum = vec![0f64; d];
    let mut sq = vec![0f64; d];
    for row in x.chunks_exact(d) {
        for ((m, s), &v) in sum.iter_mut().zip(&mut sq).zip(row) {
            *m += f64::from(v);
            *s += f64::from(v) * f64::from(v);
        }
    }
    let (mean, inv_sd) = sum
        .iter()
        .zip(&sq)
        .map(|(m, s)| {
            let mu = m / n;
            let sd = (s / n - mu * mu).max(0.0).sqrt();
            (mu as f32, if sd > 1e-12 { 1.0 / sd as f32 } else { 1.0 })
        })
        .unzip();
    Scaling::Standardize { mean, inv_sd }
}

impl Fitted {
    /// The rule, as `--preprocess` names it.
    pub fn rule(&self) -> Preprocessing {
        self.scaling.rule()
    }

    /// One line for `inspect --model` and the logs: what the model does to a new file.
    pub fn summary(&self) -> String {
        let mut parts = vec![format!("{} ({})", self.rule().name(), self.stats_line())];
        if let Some(t) = &self.text {
            parts.push(format!(
                "text: {}tf-idf over a fixed vocabulary of {} stems{}",
                if t.tf == Tf::Sublinear {
                    "sublinear "
                } else {
                    ""
                },
                t.terms.len(),
                t.column
                    .as_ref()
                    .map(|c| format!(" from column '{c}'"))
                    .unwrap_or_default()
            ));
        }
        if self.features == Features::Hog {
            parts.push("HOG of the images".into());
        }
        if let Some(s) = self.input.image_shape {
            parts.push(format!("images {}x{}x{}", s.height, s.width, s.channels));
        }
        if self.missing.policy != Missing::Error {
            parts.push(format!("--missing {}", self.missing.policy.name()));
        }
        parts.push(format!(
            "{} input values -> {} features",
            self.input.d, self.d
        ));
        parts.join("; ")
    }

    fn stats_line(&self) -> String {
        match &self.scaling {
            Scaling::None => "values as they are".into(),
            Scaling::UnitRange { lo, span } => {
                format!("x -> (x - {lo}) / {span}, the training data's range")
            }
            Scaling::Standardize { mean, .. } => {
                format!(
                    "each of {} columns by its training mean and deviation",
                    mean.len()
                )
            }
            Scaling::L2Rows => "each row to unit length".into(),
            Scaling::Paper { scale } => format!("x -> x * {scale}"),
        }
    }

    /// Read `dir/preprocess.json`; `Ok(None)` when the folder has none (a model saved
    /// before decscope kept its preprocessing).
    pub fn load(dir: &Path) -> Result<Option<Fitted>, DataError> {
        let path = dir.join(FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(DataError::io(&path, e)),
        };
        let invalid = |reason: String| DataError::Invalid {
            path: path.clone(),
            reason,
        };
        let f: Fitted = serde_json::from_str(&text)
            .map_err(|e| invalid(format!("line {}: {e}; save the model again", e.line())))?;
        if f.format != FORMAT {
            return Err(invalid(format!(
                "format '{}' is not '{FORMAT}'; this decscope cannot read it",
                f.format
            )));
        }
        f.check().map_err(invalid)?;
        Ok(Some(f))
    }

    /// The statistics fit the sizes they claim (a hand-edited file is refused here,
    /// not by a panic later).
    fn check(&self) -> Result<(), String> {
        if let Scaling::Standardize { mean, inv_sd } = &self.scaling
            && (mean.len() != self.d || inv_sd.len() != self.d)
        {
            return Err(format!(
                "standardize has {} means and {} deviations for {} features",
                mean.len(),
                inv_sd.len(),
                self.d
            ));
        }
        if let Some(t) = &self.text
            && (t.idf.len() != t.terms.len() || t.terms.len() != self.input.d)
        {
            return Err(format!(
                "the text model has {} terms and {} idf values for {} columns",
                t.terms.len(),
                t.idf.len(),
                self.input.d
            ));
        }
        if let Some(m) = &self.missing.means
            && m.len() != self.input.d
        {
            return Err(format!(
                "{} fill values for {} input columns",
                m.len(),
                self.input.d
            ));
        }
        Ok(())
    }

    /// Write `dir/preprocess.json`.
    pub fn save(&self, dir: &Path) -> Result<(), DataError> {
        let path = dir.join(FILE);
        let text = serde_json::to_string_pretty(self).map_err(|e| DataError::Invalid {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        std::fs::write(&path, text).map_err(|e| DataError::io(&path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand computation: columns [1, 3, 5] (mean 3, population sd sqrt(8/3)) and
    /// [10, 10, 10] (constant: deviation taken as 1).
    #[test]
    fn standardize_fits_mean_and_population_deviation() {
        let Scaling::Standardize { mean, inv_sd } = Scaling::fit(
            Preprocessing::Standardize,
            &[1.0, 10.0, 3.0, 10.0, 5.0, 10.0],
            2,
        ) else {
            panic!("not standardize")
        };
        assert_eq!(mean, vec![3.0, 10.0]);
        assert!(
            (inv_sd[0] - (3.0f32 / 8.0).sqrt()).abs() < 1e-6,
            "{inv_sd:?}"
        );
        assert_eq!(inv_sd[1], 1.0);
    }

    /// A fitted rule transforms one row the same alone as among all rows.
    #[test]
    fn one_row_alone_is_transformed_as_among_all() {
        let x = [1.0f32, 200.0, -3.0, 5.0, 40.0, 7.0, 2.0, 90.0, 0.5];
        for p in [
            Preprocessing::UnitRange,
            Preprocessing::Standardize,
            Preprocessing::L2Rows,
            Preprocessing::Paper,
        ] {
            let s = Scaling::fit(p, &x, 3);
            let mut all = x.to_vec();
            s.apply(&mut all, 3);
            let mut one = x[3..6].to_vec();
            s.apply(&mut one, 3);
            assert_eq!(one, all[3..6], "{p:?}");
            // A single row is not all zeros under standardize (it would be if it were
            // standardised by its own mean).
            assert!(one.iter().any(|v| *v != 0.0), "{p:?}");
        }
    }

    #[test]
    fn unit_range_keeps_zero_for_non_negative_data() {
        assert_eq!(
            Scaling::fit(Preprocessing::UnitRange, &[0.0, 51.0, 255.0], 1),
            Scaling::UnitRange {
                lo: 0.0,
                span: 255.0
            }
        );
        assert_eq!(
            Scaling::fit(Preprocessing::UnitRange, &[-1.0, 3.0], 1),
            Scaling::UnitRange {
                lo: -1.0,
                span: 4.0
            }
        );
    }
}
