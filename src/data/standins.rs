//! New datasets made from a labelled one: seeded subsets, the paper's imbalanced
//! subsample, and MNIST redrawn in the shape of other public digit sets.
//!
//! Why: defaults must hold on data we did not tune to, and the other digit sets (a
//! 16x16 float set of ~9,000 digits, an 8x8 table of integers 0..16) cannot ship with
//! decscope. These stand-ins rebuild their shape, value range and size from MNIST, so
//! every check is reproducible from the bundled and shared data: `benches/standins.py`
//! and `tests/standins.rs` use them. [`retain_linear`] is also the paper's
//! imbalanced-MNIST experiment (section 5.4).

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{DataError, Dataset, ImageShape, Preprocessing};

/// `n` rows drawn at random (fixed by `seed`), kept in their original order.
pub fn random_subset(ds: &Dataset, n: usize, seed: u64) -> Dataset {
    let mut idx: Vec<usize> = (0..ds.n).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    idx.truncate(n.min(ds.n));
    idx.sort_unstable();
    let mut out = ds.subset(&idx);
    out.name = format!("{} ({} random, seed {seed})", ds.name, idx.len());
    out
}

/// The paper's keep probability of class `c` of `k` (section 5.4): "data points of
/// class 0 will be kept with probability r_min and class 9 with probability 1, with the
/// other classes linearly in between", p_c = r_min + (1 - r_min) * c / (K - 1).
pub fn retention(c: usize, k: usize, r_min: f64) -> f64 {
    if c + 1 >= k {
        1.0 // exactly (the formula rounds to 1 - 1e-16 for some r_min)
    } else {
        r_min + (1.0 - r_min) * c as f64 / (k - 1) as f64
    }
}

/// The paper's imbalanced subsample of labelled data: each sample of class c is kept
/// with probability [`retention`]`(c)`, one draw per sample in row order from a ChaCha8
/// stream seeded by `seed` (so class 0 is the smallest, about r_min of its size, and
/// the last class is kept whole). The rows keep their order.
pub fn retain_linear(ds: &Dataset, r_min: f64, seed: u64) -> Result<Dataset, DataError> {
    let path = ds.source.clone().unwrap_or_else(|| ds.name.clone().into());
    let Some(labels) = &ds.labels else {
        return Err(DataError::Invalid {
            path,
            reason: "an imbalanced subsample needs labels; give them with --labels or --label-col"
                .into(),
        });
    };
    if !(r_min > 0.0 && r_min <= 1.0) {
        return Err(DataError::Invalid {
            path,
            reason: format!("retention rate {r_min} must be in (0, 1], e.g. 0.1"),
        });
    }
    let k = ds.n_classes().unwrap_or(0);
    let p: Vec<f64> = (0..k).map(|c| retention(c, k, r_min)).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let idx: Vec<usize> = labels
        .iter()
        .enumerate()
        .filter(|&(_, &l)| rng.random::<f64>() < p[l as usize])
        .map(|(i, _)| i)
        .collect();
    let mut out = ds.subset(&idx);
    out.name = format!("{} (imbalanced, r_min {r_min})", ds.name);
    Ok(out)
}

/// `ds` as a headerless CSV, the way such tables are shared: each value times `scale`
/// rounded to an integer, the label first (`label_first`) or last.
pub fn headerless_csv(ds: &Dataset, scale: f32, label_first: bool) -> String {
    let labels = ds.labels.as_deref().unwrap_or(&[]);
    let mut out = String::with_capacity(ds.n * (ds.d * 3 + 4));
    for i in 0..ds.n {
        let cells: Vec<String> = ds
            .row(i)
            .iter()
            .map(|v| format!("{}", (v * scale).round() as i64))
            .collect();
        let l = labels.get(i).copied().unwrap_or(0);
        out += &if label_first {
            format!("{l},{}\n", cells.join(","))
        } else {
            format!("{},{l}\n", cells.join(","))
        };
    }
    out
}

/// Check that `ds` holds 28x28 grey images scaled to [0,1] (MNIST as loaded).
fn check_mnist_like(ds: &Dataset) -> Result<(), DataError> {
    let ok = ds.d == 784
        && ds.preprocessing == Preprocessing::UnitRange
        && ds.x.iter().all(|v| (0.0..=1.0).contains(v));
    if ok {
        Ok(())
    } else {
        Err(DataError::Invalid {
            path: ds.name.clone().into(),
            reason:
                "stand-ins are made from 28x28 images scaled to [0,1] (MNIST as decscope loads it)"
                    .into(),
        })
    }
}

/// A 28x28 image padded with 2 zero pixels on every side to 32x32.
fn padded_32(img: &[f32]) -> [f32; 32 * 32] {
    let mut out = [0.0f32; 32 * 32];
    for r in 0..28 {
        out[(r + 2) * 32 + 2..(r + 2) * 32 + 30].copy_from_slice(&img[r * 28..(r + 1) * 28]);
    }
    out
}

/// A 16x16 float set like the public 16x16 digit sets: each 28x28 image padded to
/// 32x32 and averaged over 2x2 blocks; values in [0,1], `f32`.
pub fn downsample_16(ds: &Dataset) -> Result<Dataset, DataError> {
    check_mnist_like(ds)?;
    let mut x = Vec::with_capacity(ds.n * 256);
    for i in 0..ds.n {
        let p = padded_32(ds.row(i));
        for r in 0..16 {
            for c in 0..16 {
                let s = p[2 * r * 32 + 2 * c]
                    + p[2 * r * 32 + 2 * c + 1]
                    + p[(2 * r + 1) * 32 + 2 * c]
                    + p[(2 * r + 1) * 32 + 2 * c + 1];
                x.push(s / 4.0);
            }
        }
    }
    square_images(ds, x, 16)
}

/// `x` as `side x side` grey images with the labels and class names of `ds`.
fn square_images(ds: &Dataset, x: Vec<f32>, side: usize) -> Result<Dataset, DataError> {
    let name = format!("{} as {side}x{side}", ds.name);
    let mut out = Dataset::new(name, x, side * side, ds.labels.clone())?;
    out.class_names = ds.class_names.clone();
    out.image_shape = Some(ImageShape {
        height: side,
        width: side,
        channels: 1,
    });
    Ok(out)
}

/// An 8x8 table of integers 0..16 made the way the public 8x8 digit table was (UCI
/// optdigits): each image padded to 32x32, binarised at 0.5, and the set pixels of
/// each 4x4 block counted.
pub fn optdigits_8x8(ds: &Dataset) -> Result<Dataset, DataError> {
    check_mnist_like(ds)?;
    let mut x = Vec::with_capacity(ds.n * 64);
    for i in 0..ds.n {
        let p = padded_32(ds.row(i));
        for r in 0..8 {
            for c in 0..8 {
                let mut count = 0u32;
                for dr in 0..4 {
                    for dc in 0..4 {
                        count += u32::from(p[(4 * r + dr) * 32 + 4 * c + dc] >= 0.5);
                    }
                }
                x.push(count as f32);
            }
        }
    }
    square_images(ds, x, 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mnist_like(n: usize) -> Dataset {
        // Image i: a bright 4x4 square at a place that depends on its label.
        let labels: Vec<u32> = (0..n as u32).map(|i| i % 10).collect();
        let mut x = vec![0.0f32; n * 784];
        for (i, &l) in labels.iter().enumerate() {
            let (r0, c0) = (2 + 2 * l as usize, 4 + l as usize);
            for r in r0..r0 + 4 {
                for c in c0..c0 + 4 {
                    x[i * 784 + r * 28 + c] = 1.0;
                }
            }
        }
        let mut ds = Dataset::new("m", x, 784, Some(labels)).unwrap();
        ds.preprocessing = Preprocessing::UnitRange;
        ds
    }

    #[test]
    fn retention_rises_linearly_from_r_min_for_class_0() {
        // The paper: class 0 kept with probability r_min, class 9 with 1.
        assert_eq!(retention(0, 10, 0.1), 0.1);
        assert!((retention(3, 10, 0.1) - 0.4).abs() < 1e-12); // 0.1 + 0.9 * 3/9
        assert_eq!(retention(9, 10, 0.1), 1.0);
        assert_eq!(retention(0, 1, 0.1), 1.0);
    }

    #[test]
    fn retain_linear_draws_each_sample_and_is_seeded() {
        // 10 classes of 5,000 one-feature rows (the feature is the row index).
        let n = 50_000;
        let labels: Vec<u32> = (0..n as u32).map(|i| i % 10).collect();
        let x: Vec<f32> = (0..n).map(|i| i as f32).collect();
        let ds = Dataset::new("t", x, 1, Some(labels)).unwrap();
        let a = retain_linear(&ds, 0.1, 7).unwrap();
        let mut per = [0usize; 10];
        a.labels
            .as_ref()
            .unwrap()
            .iter()
            .for_each(|&l| per[l as usize] += 1);
        for (c, &got) in per.iter().enumerate() {
            // Binomial(5000, p): within 5 standard deviations of 5000 p.
            let p = 0.1 + 0.9 * c as f64 / 9.0;
            let sd = (5000.0 * p * (1.0 - p)).sqrt();
            assert!(
                (got as f64 - 5000.0 * p).abs() <= 5.0 * sd + 1e-9,
                "class {c}: kept {got}, expected about {}",
                5000.0 * p
            );
        }
        assert_eq!(per[9], 5000, "the last class is kept whole");
        assert!(per[0] < per[5] && per[5] < per[9], "{per:?}");
        // Rows keep their order; the same seed draws the same rows, another seed not.
        assert!(a.x.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(a.x, retain_linear(&ds, 0.1, 7).unwrap().x);
        assert_ne!(a.x, retain_linear(&ds, 0.1, 8).unwrap().x);
        assert!(retain_linear(&ds, 0.0, 7).is_err());
    }

    #[test]
    fn downsampling_keeps_mass_and_shape() {
        let ds = mnist_like(20);
        let s16 = downsample_16(&ds).unwrap();
        assert_eq!((s16.n, s16.d), (20, 256));
        // Averaging 2x2 blocks of the padded image keeps a quarter of the sum.
        let sum28: f32 = ds.row(3).iter().sum();
        let sum16: f32 = s16.row(3).iter().sum();
        assert!((sum16 - sum28 / 4.0).abs() < 1e-4);
        let s8 = optdigits_8x8(&ds).unwrap();
        assert_eq!((s8.n, s8.d), (20, 64));
        // 16 set pixels per image, counted once each, integers 0..16.
        assert_eq!(s8.row(5).iter().sum::<f32>(), 16.0);
        assert!(
            s8.x.iter()
                .all(|v| v.fract() == 0.0 && (0.0..=16.0).contains(v))
        );
        assert_eq!(s8.labels, ds.labels);
    }

    #[test]
    fn subsets_are_seeded_and_sorted() {
        let ds = mnist_like(100);
        let a = random_subset(&ds, 30, 1);
        assert_eq!(a.n, 30);
        assert_eq!(a.x, random_subset(&ds, 30, 1).x);
        assert_ne!(a.x, random_subset(&ds, 30, 2).x);
    }
}
