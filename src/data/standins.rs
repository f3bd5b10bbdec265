//! New datasets made from a labelled one: seeded subsets, the paper's imbalanced
//! subsample, and MNIST redrawn in the shape of other public digit sets.
//!
//! Why: defaults must hold on data we did not tune to, and the other digit sets (a
//! 16x16 float set of ~9,000 digits, an 8x8 table of integers 0..16) cannot ship with
//! decscope. These stand-ins rebuild their shape, value range and size from MNIST, so
//! every check is reproducible from the bundled and shared data: `benches/standins.py`
//! and `tests/standins.rs` use them. [`retain_linear`] is also the paper's
//! imbalanced-MNIST experiment (section 5.4).

use rand::SeedableRng;
use rand::seq::SliceRandom;
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

/// The per-class counts of the paper's imbalanced sample: the retention rate falls
/// linearly from 1 for class 0 to `r_min` for the last class,
/// r_c = 1 - (1 - r_min) * c / (K - 1), and class c keeps round(r_c * |c|) samples.
pub fn retained_counts(class_sizes: &[usize], r_min: f64) -> Vec<usize> {
    let k = class_sizes.len();
    class_sizes
        .iter()
        .enumerate()
        .map(|(c, &size)| {
            let r = if k > 1 {
                1.0 - (1.0 - r_min) * c as f64 / (k - 1) as f64
            } else {
                1.0
            };
            (r * size as f64).round() as usize
        })
        .collect()
}

/// The paper's imbalanced subsample of labelled data (see [`retained_counts`]); which
/// samples of a class stay is fixed by `seed`, and the rows keep their order.
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
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, &l) in labels.iter().enumerate() {
        by_class[l as usize].push(i);
    }
    let sizes: Vec<usize> = by_class.iter().map(Vec::len).collect();
    let keep = retained_counts(&sizes, r_min);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut idx = Vec::new();
    for (members, &m) in by_class.iter_mut().zip(&keep) {
        members.shuffle(&mut rng);
        idx.extend_from_slice(&members[..m]);
    }
    idx.sort_unstable();
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
    fn retained_counts_fall_linearly() {
        // r_c = 1 - 0.9 c / 9 for r_min = 0.1: 1.0, 0.9, ..., 0.1.
        let counts = retained_counts(&[1000; 10], 0.1);
        assert_eq!(
            counts,
            vec![1000, 900, 800, 700, 600, 500, 400, 300, 200, 100]
        );
        assert_eq!(retained_counts(&[10, 20, 30], 0.5), vec![10, 15, 15]);
    }

    #[test]
    fn retain_linear_keeps_the_counts_and_is_seeded() {
        let ds = mnist_like(1000);
        let a = retain_linear(&ds, 0.3, 7).unwrap();
        let mut per = [0usize; 10];
        a.labels
            .as_ref()
            .unwrap()
            .iter()
            .for_each(|&l| per[l as usize] += 1);
        assert_eq!(per.to_vec(), retained_counts(&[100; 10], 0.3));
        let b = retain_linear(&ds, 0.3, 7).unwrap();
        assert_eq!(a.x, b.x);
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
