//! Projections of the embedding Z to 2-D for the live views: PCA for every point, and
//! t-SNE on a fixed, class-balanced sample that warm-starts from its previous layout
//! at each snapshot (no early exaggeration), aligned by Procrustes so the picture
//! moves instead of jumping or spinning.
//!
//! The t-SNE fit from scratch is the `bhtsne` crate's FFT-interpolated gradient (the FIt-SNE scheme
//! that openTSNE uses), seeded with a PCA layout scaled as openTSNE does, so the result
//! is deterministic.
//!
//! One concept a file: [`pca`], [`tsne`] (fit from scratch and its settings),
//! [`warm`] (warm updates on a kept neighbour table), [`barnes_hut`] (the gradient
//! of warm updates), [`align`] (Procrustes), [`worker`] (the projection thread); here:
//! the sample and manifold clustering that the views share. The exact k nearest
//! neighbours are the engine's ([`crate::engine::cluster::neighbors`]).
//!
//! May use: [`crate::engine`] (its neighbour search and k-means); the engine never uses
//! this module.

pub mod align;
pub mod barnes_hut;
pub mod pca;
pub mod tsne;
pub mod warm;
pub mod worker;

use std::sync::Arc;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

pub use align::procrustes_align;
pub use tsne::{TSNE_MAX_DIMS, TsneParams, pca_init, tsne};
pub use warm::{WarmInfo, WarmTsne};
pub use worker::{ProjectRequest, TsneWorker};

/// A 2-D layout and what it cost.
#[derive(Clone, Debug)]
pub struct Layout {
    /// Row `i` is the position of sample `indices[i]`.
    pub points: Vec<[f32; 2]>,
    pub indices: Arc<Vec<usize>>,
    /// KL divergence of the fit (t-SNE only).
    pub kl: Option<f32>,
    pub seconds: f64,
    /// The training step of the snapshot it shows.
    pub step: usize,
    /// Manifold clustering: k-means on this 2-D layout (one cluster per point, as
    /// N2D does with UMAP), when the request asked for it.
    pub kmeans: Option<Vec<u32>>,
}

/// Manifold clustering: k-means (k-means++, 20 restarts, fixed seed) on a 2-D layout
/// (`n x 2`); one label per point. Clusters that t-SNE separates but DEC's Z keeps
/// close show up here (on MNIST it often splits 4 from 9 better than DEC does).
pub fn manifold_kmeans(layout: &[f32], k: usize, seed: u64) -> Vec<u32> {
    let km = crate::engine::cluster::kmeans::kmeans(
        layout,
        2,
        &crate::engine::cluster::kmeans::KMeansParams {
            seed,
            ..crate::engine::cluster::kmeans::KMeansParams::new(k)
        },
    );
    km.labels
}

/// Up to `max` sample indices spread evenly over `groups` (clusters or labels),
/// sorted, fixed by `seed`: every group keeps its share of points.
pub fn balanced_sample(n: usize, groups: Option<&[u32]>, max: usize, seed: u64) -> Vec<usize> {
    if n <= max {
        return (0..n).collect();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let Some(g) = groups else {
        let mut all: Vec<usize> = (0..n).collect();
        all.shuffle(&mut rng);
        all.truncate(max);
        all.sort_unstable();
        return all;
    };
    let k = g.iter().copied().max().map_or(0, |m| m as usize + 1);
    let mut by: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, &c) in g.iter().enumerate() {
        by[c as usize].push(i);
    }
    by.iter_mut().for_each(|v| v.shuffle(&mut rng));
    // Proportional shares, then round-robin for the remainder.
    let mut out = Vec::with_capacity(max);
    for v in &by {
        let share = v.len() * max / n;
        out.extend_from_slice(&v[..share]);
    }
    let mut j = 0;
    while out.len() < max {
        let v = &by[j % k];
        let share = v.len() * max / n;
        let taken = out.iter().filter(|&&i| g[i] as usize == j % k).count();
        if taken < v.len() && taken >= share {
            out.push(v[taken]);
        }
        j += 1;
        if j > 4 * max + 4 * k {
            break;
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `per` points around 0 and `per` around `gap` on every axis of `d`, uniform ±1.
    fn two_blobs(per: usize, d: usize, gap: f32, seed: u64) -> Vec<f32> {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..2 * per)
            .flat_map(|i| {
                let c = if i < per { 0.0 } else { gap };
                (0..d)
                    .map(|_| c + rng.random_range(-1.0f32..1.0))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn procrustes_undoes_rotation_reflection_scale_and_shift() {
        let prev: Vec<f32> = vec![0.0, 0.0, 1.0, 0.0, 0.0, 2.0, -1.0, 0.5];
        for reflect in [false, true] {
            let (s, c) = 0.7f32.sin_cos();
            let mut cur: Vec<f32> = prev
                .chunks_exact(2)
                .flat_map(|p| {
                    let (x, y) = (p[0], if reflect { -p[1] } else { p[1] });
                    [3.0 * (c * x - s * y) + 5.0, 3.0 * (s * x + c * y) - 2.0]
                })
                .collect();
            procrustes_align(&prev, &mut cur);
            for (a, b) in cur.iter().zip(&prev) {
                assert!((a - b).abs() < 1e-4, "reflect={reflect}: {cur:?}");
            }
        }
    }

    #[test]
    fn balanced_sample_keeps_group_shares_and_is_fixed() {
        let groups: Vec<u32> = (0..1000).map(|i| if i < 900 { 0 } else { 1 }).collect();
        let s = balanced_sample(1000, Some(&groups), 100, 3);
        assert_eq!(s.len(), 100);
        assert_eq!(s.iter().filter(|&&i| groups[i] == 1).count(), 10);
        assert_eq!(s, balanced_sample(1000, Some(&groups), 100, 3));
    }

    #[test]
    fn tsne_separates_two_blobs_and_warm_start_stays_put() {
        let x = two_blobs(150, 5, 8.0, 1);
        let p = TsneParams {
            epochs: 300,
            ..Default::default()
        };
        let (y, kl) = tsne(&x, 5, &p, None);
        assert!(kl.is_finite() && kl > 0.0);
        let centre = |r: std::ops::Range<usize>| {
            let m = r.len() as f32;
            r.fold((0.0, 0.0), |(a, b), i| {
                (a + y[2 * i] / m, b + y[2 * i + 1] / m)
            })
        };
        let (a, b) = (centre(0..150), centre(150..300));
        let spread: f32 = (0..150)
            .map(|i| ((y[2 * i] - a.0).powi(2) + (y[2 * i + 1] - a.1).powi(2)).sqrt())
            .sum::<f32>()
            / 150.0;
        let gap = ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
        assert!(
            gap > 3.0 * spread,
            "blobs not separated: gap {gap}, spread {spread}"
        );
        // Warm start on the same data moves little.
        let (mut y2, _) = tsne(&x, 5, &p, Some(&y));
        procrustes_align(&y, &mut y2);
        let moved: f32 =
            y.iter().zip(&y2).map(|(a, b)| (a - b).abs()).sum::<f32>() / y.len() as f32;
        assert!(
            moved < spread,
            "warm start jumped: {moved} vs spread {spread}"
        );
    }

    /// Runs `f` `times` times on a pool of 4 threads and asserts that every result
    /// equals the first, bit for bit.
    pub(crate) fn assert_repeats_on_a_pool(times: usize, f: impl Fn() -> Vec<f32> + Sync) {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let runs: Vec<Vec<f32>> = (0..times).map(|_| pool.install(&f)).collect();
        for (i, y) in runs.iter().enumerate().skip(1) {
            let same = |(a, b): (&f32, &f32)| a.to_bits() == b.to_bits();
            let differ = y.iter().zip(&runs[0]).filter(|&p| !same(p)).count();
            assert_eq!(differ, 0, "run {i}: {differ} values differ from run 0");
        }
    }

    /// bhtsne sums Z in parallel in an order set by rayon's work stealing, so on a
    /// pool of several threads the same input gave a different layout from one fit to
    /// the next (`decscope project --method tsne`, 2 threads: two checksums for two runs).
    #[test]
    fn tsne_from_scratch_repeats_bit_for_bit_on_a_pool_of_threads() {
        let x = two_blobs(1500, 5, 4.0, 9);
        let p = TsneParams {
            epochs: 120,
            ..Default::default()
        };
        assert_repeats_on_a_pool(4, || tsne(&x, 5, &p, None).0);
    }

    /// Rows with tied distances (here many duplicates, as small integer pixels give):
    /// bhtsne's own neighbour search picks its vantage points from an unseeded
    /// generator, so among ties it chose other neighbours on each run and the same input
    /// gave another layout (`decscope project --method tsne` on 8x8 digits).
    #[test]
    fn tsne_of_rows_with_ties_repeats_bit_for_bit() {
        let x: Vec<f32> = (0..600 * 5)
            .map(|i| ((i * 2_654_435_761usize) >> 7) as f32 % 3.0)
            .collect();
        let p = TsneParams {
            epochs: 60,
            ..Default::default()
        };
        assert_repeats_on_a_pool(3, || tsne(&x, 5, &p, None).0);
    }

    #[test]
    fn warm_updates_keep_the_neighbour_table_and_stay_put() {
        let mut x = two_blobs(200, 4, 6.0, 2);
        let p = TsneParams {
            epochs: 300,
            warm_epochs: 50,
            knn_refresh: 2,
            ..Default::default()
        };
        let mut w = WarmTsne::new();
        let (y0, _, i0) = w.update(&x, 4, &p);
        assert!(
            i0.searched,
            "a fit from scratch searches the table, and keeps it"
        );
        // Z drifts a little between snapshots.
        x.iter_mut().for_each(|v| *v *= 1.02);
        let (y1, kl1, i1) = w.update(&x, 4, &p);
        assert!(
            !i1.searched,
            "the fit's table: the update refreshes distances only"
        );
        assert_eq!(
            w.prepare(&x, 4, &p),
            0.0,
            "one update since the search: not due"
        );
        let (_, _, i2) = w.update(&x, 4, &p);
        assert!(!i2.searched, "second warm update refreshes distances only");
        assert!(
            w.prepare(&x, 4, &p) > 0.0,
            "knn_refresh = 2: due between snapshots"
        );
        let (y3, _, i3) = w.update(&x, 4, &p);
        assert!(!i3.searched, "the table was prepared: refresh only");
        assert!(kl1.is_finite());
        let spread = |y: &[f32]| {
            let n = y.len() / 2;
            let (mx, my) = (0..n).fold((0.0, 0.0), |(a, b), i| (a + y[2 * i], b + y[2 * i + 1]));
            let (mx, my) = (mx / n as f32, my / n as f32);
            (0..n)
                .map(|i| ((y[2 * i] - mx).powi(2) + (y[2 * i + 1] - my).powi(2)).sqrt())
                .sum::<f32>()
                / n as f32
        };
        for y in [&y1, &y3] {
            let moved: f32 = y0
                .iter()
                .zip(y.iter())
                .map(|(a, b)| (a - b).abs())
                .sum::<f32>()
                / y0.len() as f32;
            assert!(moved < 0.5 * spread(&y0), "warm update jumped: {moved}");
        }
        // Manifold clustering on the layout recovers the two blobs.
        let km = manifold_kmeans(&y3, 2, 0);
        let first = km[0];
        assert!(km[..200].iter().all(|&c| c == first));
        assert!(km[200..].iter().all(|&c| c != first));
    }

    #[test]
    fn barnes_hut_fit_from_scratch_separates_blobs() {
        let x = two_blobs(150, 3, 6.0, 6);
        let p = TsneParams {
            epochs: 300,
            fit_theta: 0.5,
            ..Default::default()
        };
        let mut w = WarmTsne::new();
        let (y, kl, info) = w.update(&x, 3, &p);
        assert!(info.searched && kl.is_finite() && kl > 0.0);
        let km = manifold_kmeans(&y, 2, 0);
        assert!(km[..150].iter().all(|&c| c == km[0]));
        assert!(km[150..].iter().all(|&c| c != km[0]));
        // Same seed and data, same layout.
        let (y2, _, _) = WarmTsne::new().update(&x, 3, &p);
        assert_eq!(y, y2);
    }
}
