//! Feature preprocessing applied right after loading: scaling, standardising,
//! row normalisation and the DEC paper's normalisation.
//!
//! DEC is sensitive to the input scale (the autoencoder's MSE and the learning rates
//! assume it), so the choice is explicit, recorded in every report, and `auto` picks a
//! sensible one per kind of data.

use crate::data::Preprocessing;
use serde::{Deserialize, Serialize};

use super::fitted::Scaling;
use super::{Dataset, Format};

/// The preprocessing `auto` chose for a dataset, and the rule that fired, in one line
/// (shown by `inspect`, the app's dataset panel and every report).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub preprocessing: Preprocessing,
    pub reason: String,
}

/// Below this fraction of zeros, non-negative data is not sparse like counts or tf-idf.
pub const SPARSE_ZEROS: f64 = 0.9;
/// Pixel-like tables have at least this fraction of zeros (MNIST: 81%, 8x8 digits: 49%).
pub const PIXEL_ZEROS: f64 = 0.25;
/// Values at most this large can be pixels (bytes, 0..16 counts, [0,1] floats).
pub const PIXEL_MAX: f32 = 255.0;

impl Preprocessing {
    /// Resolve `Auto` for `ds` (values as loaded, before preprocessing) read from a
    /// file of `format`; any other choice is kept, with "asked for" as its reason.
    pub fn resolve(self, ds: &Dataset, format: Option<Format>) -> Choice {
        if self != Preprocessing::Auto {
            return Choice {
                preprocessing: self,
                reason: "asked for (--preprocess)".into(),
            };
        }
        choose(ds, format)
    }
}

/// What `auto` does, decided from the content (the first rule that fits wins):
///
/// 1. IDX files and image folders: `unit-range` (images).
/// 2. svmlight files: `l2-rows` (sparse counts or tf-idf).
/// 3. Non-negative values up to 255 with an image shape (from the file, or guessed from
///    a square d): `unit-range`, one global range for all pixels.
/// 4. Non-negative values with at least 90% zeros: `l2-rows` (counts, tf-idf).
/// 5. Non-negative values up to 255, at least 25% zeros, and columns on one scale (the
///    median column maximum at least a quarter of the overall maximum): `unit-range`.
/// 6. Anything else (negative values, columns on different scales): `standardize`.
///
/// Why not per-column z-scores for pixels: the border pixels of digit images are zero
/// almost everywhere, so standardising blows their rare ink up to huge values and the
/// autoencoder spends itself on them (on a 16x16 digit set: AE + k-means 0.50 instead
/// of 0.69).
pub fn choose(ds: &Dataset, format: Option<Format>) -> Choice {
    format.and_then(by_format).unwrap_or_else(|| by_content(ds))
}

/// The choice a file format settles on its own (images, svmlight, text, HOG), if any.
fn by_format(format: Format) -> Option<Choice> {
    let (preprocessing, reason) = match format {
        Format::Idx | Format::IdxDir | Format::ImageDir => (
            Preprocessing::UnitRange,
            "images: pixels scaled to [0,1] by one global range",
        ),
        Format::Svmlight => (
            Preprocessing::L2Rows,
            "sparse svmlight features (counts or tf-idf): rows scaled to unit length",
        ),
        // Why not the sqrt(d) scaling of DEC's reference code: on Reuters-21578 R8
        // (seed 2) it gave DEC NMI 0.408, below k-means on tf-idf (0.445); unit rows
        // gave 0.547 (see docs/accuracy.md, "The paper's other analyses and data").
        Format::Text => (Preprocessing::L2Rows, "text: tf-idf rows of unit length"),
        Format::Hog => (
            Preprocessing::Paper,
            "HOG features: scaled so that (1/d)|x|^2 is 1 on average",
        ),
        _ => return None,
    };
    Some(Choice {
        preprocessing,
        reason: reason.into(),
    })
}

/// The choice from the values themselves: pixel-like, sparse counts, else a table.
fn by_content(ds: &Dataset) -> Choice {
    let pick = |p: Preprocessing, reason: String| Choice {
        preprocessing: p,
        reason,
    };
    let s = Stats::of(ds);
    let ints = if s.integers { "integers" } else { "values" };
    if s.min >= 0.0
        && s.max <= PIXEL_MAX
        && let Some(shape) = ds.image_shape
    {
        return pick(
            Preprocessing::UnitRange,
            format!(
                "pixel-like: {}x{} images, {ints} in [0, {}] ({:.0}% zeros); scaled to [0,1] by one global range",
                shape.height,
                shape.width,
                s.max,
                100.0 * s.zeros
            ),
        );
    }
    if s.min >= 0.0 && s.zeros >= SPARSE_ZEROS {
        return pick(
            Preprocessing::L2Rows,
            format!(
                "sparse non-negative {ints} ({:.0}% zeros), like counts or tf-idf: rows scaled to unit length",
                100.0 * s.zeros
            ),
        );
    }
    if s.min >= 0.0
        && s.max <= PIXEL_MAX
        && s.zeros >= PIXEL_ZEROS
        && s.median_col_max >= 0.25 * s.max
    {
        return pick(
            Preprocessing::UnitRange,
            format!(
                "pixel-like: {ints} in [0, {}] on one scale ({:.0}% zeros); scaled to [0,1] by one global range",
                s.max,
                100.0 * s.zeros
            ),
        );
    }
    let why = if s.min < 0.0 {
        "negative values".to_string()
    } else if s.max > PIXEL_MAX {
        format!("values up to {}", s.max)
    } else {
        "columns on different scales".to_string()
    };
    pick(
        Preprocessing::Standardize,
        format!("a table ({why}): each column to zero mean and unit variance"),
    )
}

/// What [`choose`] looks at.
struct Stats {
    min: f32,
    max: f32,
    /// Fraction of values that are exactly 0.
    zeros: f64,
    integers: bool,
    /// Median over the non-constant columns of each column's maximum.
    median_col_max: f32,
}

impl Stats {
    fn of(ds: &Dataset) -> Stats {
        let d = ds.d;
        let mut col_min = vec![f32::INFINITY; d];
        let mut col_max = vec![f32::NEG_INFINITY; d];
        let (mut zeros, mut integers) = (0usize, true);
        for row in ds.x.chunks_exact(d) {
            for ((&v, lo), hi) in row.iter().zip(&mut col_min).zip(&mut col_max) {
                if v.is_finite() {
                    *lo = lo.min(v);
                    *hi = hi.max(v);
                }
                zeros += usize::from(v == 0.0);
                integers &= v.fract() == 0.0;
            }
        }
        let min = col_min.iter().copied().fold(f32::INFINITY, f32::min);
        let max = col_max.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut varying: Vec<f32> = col_min
            .iter()
            .zip(&col_max)
            .filter(|(lo, hi)| hi > lo)
            .map(|(_, &hi)| hi)
            .collect();
        varying.sort_by(f32::total_cmp);
        let median_col_max = varying.get(varying.len() / 2).copied().unwrap_or(max);
        Stats {
            min,
            max,
            zeros: zeros as f64 / ds.x.len().max(1) as f64,
            integers,
            median_col_max,
        }
    }
}

/// Fit `p` (already resolved) to the features, apply it in place and record it; the
/// fitted statistics are returned, to be saved with a model ([`super::fitted`]).
pub fn apply(ds: &mut Dataset, p: Preprocessing) -> Scaling {
    let scaling = Scaling::fit(p, &ds.x, ds.d);
    apply_fitted(ds, &scaling);
    scaling
}

/// Apply scaling fitted elsewhere (a model's) to the features in place and record it.
pub fn apply_fitted(ds: &mut Dataset, scaling: &Scaling) {
    scaling.apply(&mut ds.x, ds.d);
    ds.preprocessing = scaling.rule();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds(x: Vec<f32>, d: usize) -> Dataset {
        Dataset::new("t", x, d, None).unwrap()
    }

    #[test]
    fn unit_range_divides_pixels_by_their_maximum() {
        let mut a = ds(vec![0.0, 51.0, 255.0, 102.0], 2);
        apply(&mut a, Preprocessing::UnitRange);
        assert_eq!(a.x, vec![0.0, 0.2, 1.0, 0.4]);
        // 0..16 counts (8x8 digit tables) reach 1, not 16/255.
        let mut b = ds(vec![0.0, 4.0, 16.0, 8.0], 2);
        apply(&mut b, Preprocessing::UnitRange);
        assert_eq!(b.x, vec![0.0, 0.25, 1.0, 0.5]);
        let mut c = ds(vec![-1.0, 1.0, 0.0, 3.0], 2);
        apply(&mut c, Preprocessing::UnitRange);
        assert_eq!(c.x, vec![0.0, 0.5, 0.25, 1.0]);
    }

    /// `n` rows of a `side x side` image: a bright bar on a zero background.
    fn images(n: usize, side: usize, max: f32) -> Dataset {
        let d = side * side;
        let x = (0..n * d)
            .map(|i| {
                let (r, p) = (i / d, i % d);
                if p % side == r % side { max } else { 0.0 }
            })
            .collect();
        ds(x, d)
    }

    #[test]
    fn auto_sees_pixels_counts_and_tables_in_the_content() {
        // 8x8 integers 0..16 in a CSV (shape guessed from d = 64): pixels.
        let mut px = images(40, 8, 16.0);
        px.image_shape = super::super::ImageShape::guess(64);
        let c = Preprocessing::Auto.resolve(&px, Some(Format::Csv));
        assert_eq!(c.preprocessing, Preprocessing::UnitRange, "{}", c.reason);
        assert!(c.reason.contains("8x8"), "{}", c.reason);
        // The same values without an image shape (d = 50 is no square): still one scale.
        let flat = ds(images(40, 8, 16.0).x[..40 * 50].to_vec(), 50);
        let c = Preprocessing::Auto.resolve(&flat, Some(Format::Csv));
        assert_eq!(c.preprocessing, Preprocessing::UnitRange, "{}", c.reason);
        // Sparse counts: unit rows.
        let mut counts = vec![0.0f32; 30 * 100];
        for r in 0..30 {
            counts[r * 100 + r] = 3.0;
            counts[r * 100 + 50 + r % 7] = 1.0;
        }
        let c = Preprocessing::Auto.resolve(&ds(counts, 100), Some(Format::Npy));
        assert_eq!(c.preprocessing, Preprocessing::L2Rows, "{}", c.reason);
        // A heterogeneous table (age, income, a signed score): standardise.
        let t = ds(
            vec![
                31.0, 52_000.0, -0.3, 45.0, 61_000.0, 1.2, 23.0, 18_000.0, 0.4, 60.0, 90_000.0,
                -1.1,
            ],
            3,
        );
        let c = Preprocessing::Auto.resolve(&t, Some(Format::Csv));
        assert_eq!(c.preprocessing, Preprocessing::Standardize, "{}", c.reason);
        // Formats that say what they hold, and explicit choices.
        let c = Preprocessing::Auto.resolve(&t, Some(Format::Idx));
        assert_eq!(c.preprocessing, Preprocessing::UnitRange);
        let c = Preprocessing::L2Rows.resolve(&px, Some(Format::Csv));
        assert_eq!(c.preprocessing, Preprocessing::L2Rows);
        assert!(c.reason.contains("asked"));
    }

    #[test]
    fn standardize_gives_zero_mean_unit_variance() {
        let mut a = ds(vec![1.0, 10.0, 3.0, 10.0, 5.0, 10.0], 2);
        apply(&mut a, Preprocessing::Standardize);
        let col0: Vec<f32> = a.x.iter().step_by(2).copied().collect();
        let mean: f32 = col0.iter().sum::<f32>() / 3.0;
        let var: f32 = col0.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 3.0;
        assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5);
        assert!(
            a.x.iter().skip(1).step_by(2).all(|v| *v == 0.0),
            "constant column stays 0"
        );
    }

    #[test]
    fn paper_normalisation_makes_mean_square_one() {
        let mut a = ds(vec![3.0, 0.0, 0.0, 4.0], 2);
        apply(&mut a, Preprocessing::Paper);
        let ms: f32 = a.x.iter().map(|v| v * v).sum::<f32>() / 4.0;
        assert!((ms - 1.0).abs() < 1e-6);
    }

    #[test]
    fn l2_rows_are_unit() {
        let mut a = ds(vec![3.0, 4.0, 0.0, 0.0], 2);
        apply(&mut a, Preprocessing::L2Rows);
        assert_eq!(a.x, vec![0.6, 0.8, 0.0, 0.0]);
    }
}
