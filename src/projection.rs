//! Projections of the embedding Z to 2-D for the live views: PCA for every point, and
//! t-SNE on a fixed, class-balanced sample that warm-starts from its previous layout
//! at each snapshot (no early exaggeration), aligned by Procrustes so the picture
//! moves instead of jumping or spinning.
//!
//! t-SNE itself is the `bhtsne` crate's FFT-interpolated gradient (the FIt-SNE scheme
//! that openTSNE uses), seeded with a PCA layout scaled as openTSNE does, so the result
//! is deterministic.

use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::pca::Pca;

/// Settings of t-SNE, with documented defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TsneParams {
    /// Perplexity (default 30, as openTSNE and scikit-learn).
    pub perplexity: f32,
    /// Iterations of a fit from scratch, early exaggeration included (default 1200: 250 + 950;
    /// measured on a 10,000-point MNIST embedding, this reaches openTSNE's KL within 4% in
    /// 0.35x its time, where openTSNE's own 750 leave ours 11% above; see benches/).
    pub epochs: usize,
    /// Early exaggeration of a fit from scratch (default 12).
    pub early_exaggeration: f32,
    /// Iterations of a warm update at a new snapshot (default 100).
    pub warm_epochs: usize,
    /// At most this many points get a t-SNE position (default 10,000).
    pub sample: usize,
    pub seed: u64,
}

impl Default for TsneParams {
    fn default() -> Self {
        TsneParams {
            perplexity: 30.0,
            epochs: 1200,
            early_exaggeration: 12.0,
            warm_epochs: 100,
            sample: 10_000,
            seed: 0,
        }
    }
}

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

/// PCA of `x` scaled so the first coordinate has standard deviation 1e-4 (openTSNE's
/// initialisation).
pub fn pca_init(x: &[f32], d: usize) -> Vec<f32> {
    let p = Pca::fit(x, d, 2.min(d));
    let mut y = p.transform(x);
    if d < 2 {
        y = y.iter().flat_map(|&v| [v, 0.0]).collect();
    }
    let n = y.len() / 2;
    let sd = (y.iter().step_by(2).map(|v| v * v).sum::<f32>() / n.max(1) as f32).sqrt();
    let s = if sd > 0.0 { 1e-4 / sd } else { 1.0 };
    y.iter_mut().for_each(|v| *v *= s);
    y
}

fn euclid(a: &&[f32], b: &&[f32]) -> f32 {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f32>()
        .sqrt()
}

/// Inputs wider than this are first reduced by PCA (the usual t-SNE practice: the
/// neighbour search in 784-D pixels would take tens of seconds).
pub const TSNE_MAX_DIMS: usize = 50;

/// t-SNE of the rows of `x` (`n x d`): from `init` (a warm start: no exaggeration,
/// `warm_epochs` iterations) or from a PCA seed (`epochs` with early exaggeration).
/// Returns the flat `n x 2` layout and its KL divergence.
pub fn tsne(x: &[f32], d: usize, p: &TsneParams, init: Option<&[f32]>) -> (Vec<f32>, f32) {
    if d > TSNE_MAX_DIMS {
        let reduced = Pca::fit(x, d, TSNE_MAX_DIMS).transform(x);
        return tsne(&reduced, TSNE_MAX_DIMS, p, init);
    }
    let n = x.len() / d.max(1);
    if n < 4 {
        return (vec![0.0; 2 * n], 0.0);
    }
    let rows: Vec<&[f32]> = x.chunks_exact(d).collect();
    // bhtsne needs n - 1 >= 3 * perplexity.
    let perplexity = p
        .perplexity
        .min(((n - 1) as f32 / 3.0).floor() - 1.0)
        .max(1.0);
    // openTSNE's schedule: an early-exaggeration phase (momentum 0.5, learning rate
    // n / exaggeration), then the plain phase (momentum 0.8, learning rate n). A warm
    // start is the plain phase alone, from the previous layout.
    let plain = |y0: Vec<f32>, epochs: usize| {
        let mut t: bhtsne::tSNE<f32, &[f32], 2> = bhtsne::tSNE::new(&rows);
        t.perplexity(perplexity)
            .epochs(epochs.max(1))
            .early_exaggeration(1.0)
            .stop_lying_epoch(0)
            .momentum(0.8)
            .momentum_switch_epoch(0)
            .learning_rate((n as f32).max(50.0))
            .initial_embedding(y0);
        t.fit_sne(euclid);
        let kl = t.kl_divergence().unwrap_or(f32::NAN);
        (t.embedding(), kl)
    };
    match init {
        Some(y0) => plain(y0.to_vec(), p.warm_epochs),
        None => {
            let exag_epochs = p.epochs.min(250);
            let mut t: bhtsne::tSNE<f32, &[f32], 2> = bhtsne::tSNE::new(&rows);
            t.perplexity(perplexity)
                .epochs(exag_epochs.max(1))
                .early_exaggeration(p.early_exaggeration)
                .stop_lying_epoch(exag_epochs.max(1))
                .momentum(0.5)
                .momentum_switch_epoch(exag_epochs.max(1))
                .learning_rate((n as f32 / p.early_exaggeration.max(1.0)).max(50.0))
                .initial_embedding(pca_init(x, d));
            t.fit_sne(euclid);
            let y = t.embedding();
            if p.epochs > exag_epochs {
                plain(y, p.epochs - exag_epochs)
            } else {
                let kl = t.kl_divergence().unwrap_or(f32::NAN);
                (y, kl)
            }
        }
    }
}

/// Rotate/reflect, scale and shift `cur` (`n x 2`) onto `prev` in the least-squares
/// sense (orthogonal Procrustes), so consecutive layouts keep their orientation.
pub fn procrustes_align(prev: &[f32], cur: &mut [f32]) {
    let n = cur.len() / 2;
    if n == 0 || prev.len() != cur.len() {
        return;
    }
    let mean = |v: &[f32]| {
        let (sx, sy) = v.chunks_exact(2).fold((0.0f64, 0.0f64), |(a, b), p| {
            (a + p[0] as f64, b + p[1] as f64)
        });
        (sx / n as f64, sy / n as f64)
    };
    let (pmx, pmy) = mean(prev);
    let (cmx, cmy) = mean(cur);
    // Cross-covariance M = Cᵀ P (2x2).
    let (mut a, mut b, mut c, mut d, mut cn) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
    for (p, q) in prev.chunks_exact(2).zip(cur.chunks_exact(2)) {
        let (px, py) = (p[0] as f64 - pmx, p[1] as f64 - pmy);
        let (qx, qy) = (q[0] as f64 - cmx, q[1] as f64 - cmy);
        a += qx * px;
        b += qx * py;
        c += qy * px;
        d += qy * py;
        cn += qx * qx + qy * qy;
    }
    if cn <= 0.0 {
        return;
    }
    // Best rotation (det +1) and best reflection (det -1): pick the larger trace.
    let rot_angle = (b - c).atan2(a + d);
    let rot_trace = (a + d).hypot(b - c);
    let ref_angle = (b + c).atan2(a - d);
    let ref_trace = (a - d).hypot(b + c);
    let (r00, r01, r10, r11, trace) = if rot_trace >= ref_trace {
        let (s, co) = rot_angle.sin_cos();
        (co, s, -s, co, rot_trace)
    } else {
        let (s, co) = ref_angle.sin_cos();
        (co, s, s, -co, ref_trace)
    };
    let scale = trace / cn;
    for q in cur.chunks_exact_mut(2) {
        let (qx, qy) = (q[0] as f64 - cmx, q[1] as f64 - cmy);
        q[0] = (scale * (qx * r00 + qy * r10) + pmx) as f32;
        q[1] = (scale * (qx * r01 + qy * r11) + pmy) as f32;
    }
}

/// A request to the projection thread.
pub struct ProjectRequest {
    pub z: Arc<Vec<f32>>,
    pub e: usize,
    pub step: usize,
    /// Groups for the balanced sample, used when the sample is first drawn.
    pub groups: Option<Vec<u32>>,
}

/// Runs t-SNE on its own thread: takes the latest snapshot's Z, warm-starts from the
/// previous layout, aligns, sends the layout back. Never on the GUI or training thread.
pub struct TsneWorker {
    requests: Sender<ProjectRequest>,
    pub layouts: Receiver<Layout>,
    pub params: TsneParams,
}

impl TsneWorker {
    pub fn spawn(params: TsneParams, wake: impl Fn() + Send + 'static) -> TsneWorker {
        let (req_tx, req_rx) = bounded::<ProjectRequest>(1);
        let (lay_tx, lay_rx) = bounded::<Layout>(2);
        let p = params.clone();
        std::thread::Builder::new()
            .name("decscope-tsne".into())
            .spawn(move || {
                // bhtsne parallelises with rayon: give it a pool of its own, so its work
                // never queues in front of the training thread's GEMMs in the global pool.
                let Ok(pool) = rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .thread_name(|_| "decscope-tsne-pool".into())
                    .build()
                else {
                    return;
                };
                let mut indices: Option<Arc<Vec<usize>>> = None;
                let mut prev: Option<Vec<f32>> = None;
                let mut prev_n = 0usize;
                while let Ok(mut req) = req_rx.recv() {
                    // Only the newest snapshot matters.
                    while let Ok(newer) = req_rx.try_recv() {
                        req = newer;
                    }
                    let n = req.z.len() / req.e.max(1);
                    if indices.is_none() || n != prev_n {
                        indices = Some(Arc::new(balanced_sample(
                            n,
                            req.groups.as_deref(),
                            p.sample,
                            p.seed,
                        )));
                        prev = None;
                        prev_n = n;
                    }
                    let idx = indices.clone().unwrap_or_default();
                    let x: Vec<f32> = idx
                        .iter()
                        .flat_map(|&i| req.z[i * req.e..(i + 1) * req.e].iter().copied())
                        .collect();
                    let t = Instant::now();
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        pool.install(|| tsne(&x, req.e, &p, prev.as_deref()))
                    }));
                    let Ok((mut y, kl)) = r else { continue };
                    if let Some(pv) = &prev {
                        procrustes_align(pv, &mut y);
                    }
                    let layout = Layout {
                        points: y.chunks_exact(2).map(|c| [c[0], c[1]]).collect(),
                        indices: idx,
                        kl: Some(kl),
                        seconds: t.elapsed().as_secs_f64(),
                        step: req.step,
                    };
                    prev = Some(y);
                    if lay_tx.send(layout).is_err() {
                        break;
                    }
                    wake();
                }
            })
            .ok();
        TsneWorker {
            requests: req_tx,
            layouts: lay_rx,
            params,
        }
    }

    /// Offer a new snapshot; dropped if the thread is still busy with one queued.
    pub fn offer(&self, req: ProjectRequest) {
        match self.requests.try_send(req) {
            Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        use rand::Rng;
        let mut x = Vec::new();
        for i in 0..300 {
            let c = if i < 150 { 0.0 } else { 8.0 };
            for _ in 0..5 {
                x.push(c + rng.random_range(-1.0f32..1.0));
            }
        }
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
}
