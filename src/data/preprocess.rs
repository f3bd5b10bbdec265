//! Feature preprocessing applied right after loading: scaling, standardising,
//! row normalisation and the DEC paper's normalisation.
//!
//! DEC is sensitive to the input scale (the autoencoder's MSE and the learning rates
//! assume it), so the choice is explicit, recorded in every report, and `auto` picks a
//! sensible one per kind of data.

use serde::{Deserialize, Serialize};

use super::Dataset;

/// How features are rescaled before training.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Preprocessing {
    /// Pick per kind of data: pixels -> `unit-range`, tf-idf -> `l2-rows`, tables -> `standardize`.
    #[default]
    Auto,
    /// Leave the values as they are.
    None,
    /// Min-max scale all values together to [0, 1] (pixels: divide by 255).
    UnitRange,
    /// Zero mean and unit variance per column.
    Standardize,
    /// Each row scaled to unit Euclidean norm.
    L2Rows,
    /// The paper's: scale so that (1/d)·|x|^2 is 1 on average over the rows.
    Paper,
}

/// What kind of data a loader read, for `auto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Pixels,
    TfIdf,
    Table,
}

impl Preprocessing {
    /// Resolve `Auto` for data of the given kind.
    pub fn resolve(self, kind: Option<Kind>) -> Preprocessing {
        match (self, kind) {
            (Preprocessing::Auto, Some(Kind::Pixels)) => Preprocessing::UnitRange,
            (Preprocessing::Auto, Some(Kind::TfIdf)) => Preprocessing::L2Rows,
            (Preprocessing::Auto, _) => Preprocessing::Standardize,
            (p, _) => p,
        }
    }
}

/// Apply `p` (already resolved) to the features in place and record it.
pub fn apply(ds: &mut Dataset, p: Preprocessing) {
    let d = ds.d;
    match p {
        Preprocessing::Auto | Preprocessing::None => {}
        Preprocessing::UnitRange => {
            let (lo, hi) =
                ds.x.iter()
                    .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
                        (a.min(v), b.max(v))
                    });
            // Pixels stored as bytes: divide by 255 exactly, as every MNIST recipe does.
            let (lo, hi) = if lo >= 0.0 && hi > 1.0 && hi <= 255.0 {
                (0.0, 255.0)
            } else {
                (lo, hi)
            };
            let span = if hi > lo { hi - lo } else { 1.0 };
            for v in &mut ds.x {
                *v = (*v - lo) / span;
            }
        }
        Preprocessing::Standardize => {
            let n = ds.n as f64;
            let mut mean = vec![0f64; d];
            let mut sq = vec![0f64; d];
            for row in ds.x.chunks_exact(d) {
                for ((m, s), &v) in mean.iter_mut().zip(&mut sq).zip(row) {
                    *m += v as f64;
                    *s += (v as f64) * (v as f64);
                }
            }
            let scale: Vec<(f32, f32)> = mean
                .iter()
                .zip(&sq)
                .map(|(m, s)| {
                    let mu = m / n;
                    let var = (s / n - mu * mu).max(0.0);
                    let sd = var.sqrt();
                    (mu as f32, if sd > 1e-12 { 1.0 / sd as f32 } else { 1.0 })
                })
                .collect();
            for row in ds.x.chunks_exact_mut(d) {
                for (v, (mu, inv)) in row.iter_mut().zip(&scale) {
                    *v = (*v - mu) * inv;
                }
            }
        }
        Preprocessing::L2Rows => {
            for row in ds.x.chunks_exact_mut(d) {
                let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
                if norm > 0.0 {
                    row.iter_mut().for_each(|v| *v /= norm);
                }
            }
        }
        Preprocessing::Paper => {
            // (1/n) Σ_i (1/d)|x_i|^2 = 1  =>  x <- x / sqrt(mean squared value)
            let ms = ds.x.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>() / ds.x.len() as f64;
            if ms > 0.0 {
                let s = (1.0 / ms.sqrt()) as f32;
                ds.x.iter_mut().for_each(|v| *v *= s);
            }
        }
    }
    ds.preprocessing = p;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds(x: Vec<f32>, d: usize) -> Dataset {
        Dataset::new("t", x, d, None).unwrap()
    }

    #[test]
    fn unit_range_divides_pixels_by_255() {
        let mut a = ds(vec![0.0, 51.0, 255.0, 102.0], 2);
        apply(&mut a, Preprocessing::UnitRange);
        assert_eq!(a.x, vec![0.0, 0.2, 1.0, 0.4]);
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
