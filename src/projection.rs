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

use crate::neighbors::{Neighbor, exact_knn, refresh_distances};
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
    /// Barnes-Hut accuracy of warm updates (default 0.5, van der Maaten's usual value;
    /// 0 uses the FFT-interpolated gradient of a fit from scratch instead). Why: the FFT
    /// grid grows with the square of the layout's extent, so on a spread-out layout
    /// (~130 units for 10,000 points) 100 FFT iterations took 1.95 s here and 100
    /// Barnes-Hut ones ([`crate::tsne`]) 0.45 s, P included, at an exact KL 0.4% above
    /// the FFT's (`examples/tsne_warm`).
    pub warm_theta: f32,
    /// Barnes-Hut accuracy of a fit from scratch; 0 (the default) uses the bhtsne
    /// crate's FFT gradient, which measured closest to openTSNE's result (benches/). The
    /// app sets 0.5: on its one t-SNE thread, beside training, the FFT fit of 750
    /// iterations took ~18 s to a first picture, the Barnes-Hut one a fraction of that.
    pub fit_theta: f32,
    /// A warm update keeps the sample's nearest-neighbour table and only recomputes its
    /// distances on the new Z; every this many updates the table is searched anew
    /// between snapshots ([`WarmTsne::prepare`]; default 5; 1 = after every update).
    /// The search costs ~0.2 s for 10,000 points, the refresh ~4 ms.
    pub knn_refresh: usize,
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
            warm_theta: 0.5,
            fit_theta: 0.0,
            knn_refresh: 5,
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
    /// Manifold clustering: k-means on this 2-D layout (one cluster per point, as
    /// N2D does with UMAP), when the request asked for it.
    pub kmeans: Option<Vec<u32>>,
}

/// Manifold clustering: k-means (k-means++, 20 restarts, fixed seed) on a 2-D layout
/// (`n x 2`); one label per point. Clusters that t-SNE separates but DEC's Z keeps
/// close show up here (on MNIST it often splits 4 from 9 better than DEC does).
pub fn manifold_kmeans(layout: &[f32], k: usize, seed: u64) -> Vec<u32> {
    let km = crate::kmeans::kmeans(
        layout,
        2,
        &crate::kmeans::KMeansParams {
            seed,
            ..crate::kmeans::KMeansParams::new(k)
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
    let perplexity = clamp_perplexity(p.perplexity, n);
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

/// What a warm update did, for the views and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WarmInfo {
    /// The neighbour table was searched anew (not just its distances refreshed).
    pub searched: bool,
    /// Seconds spent on the neighbour table.
    pub knn_seconds: f64,
}

/// A t-SNE layout that follows a changing embedding: the first call fits from scratch
/// ([`tsne`]); each later call warm-starts from the previous layout on the new Z,
/// reusing the sample's nearest-neighbour table (distances refreshed every time, the
/// search redone between snapshots every [`TsneParams::knn_refresh`] updates by
/// [`WarmTsne::prepare`]), with the Barnes-Hut
/// gradient of [`crate::tsne`] ([`TsneParams::warm_theta`]).
#[derive(Clone, Debug, Default)]
pub struct WarmTsne {
    table: Vec<Vec<Neighbor>>,
    since_search: usize,
    layout: Option<Vec<f32>>,
}

impl WarmTsne {
    pub fn new() -> Self {
        Self::default()
    }

    /// The last layout (`n x 2`), if any.
    pub fn layout(&self) -> Option<&[f32]> {
        self.layout.as_deref()
    }

    /// Forget the layout and neighbours (a new sample or new data).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// A fit from scratch with [`crate::tsne`]: exact neighbours, PCA seed, openTSNE's
    /// two phases (exaggeration 12 at learning rate n/12 and momentum 0.5 for up to
    /// 250 iterations, then none at rate n and momentum 0.8).
    fn fit_barnes_hut(&mut self, x: &[f32], d: usize, p: &TsneParams) -> (Vec<f32>, f32, WarmInfo) {
        if d > TSNE_MAX_DIMS {
            let reduced = Pca::fit(x, d, TSNE_MAX_DIMS).transform(x);
            return self.fit_barnes_hut(&reduced, TSNE_MAX_DIMS, p);
        }
        let n = x.len() / d.max(1);
        let perplexity = clamp_perplexity(p.perplexity, n);
        let t = Instant::now();
        self.table = exact_knn(x, d, neighbours_for(perplexity, n));
        self.since_search = 0;
        let info = WarmInfo {
            searched: true,
            knn_seconds: t.elapsed().as_secs_f64(),
        };
        let aff = crate::tsne::affinities(&self.table, perplexity);
        let mut y = pca_init(x, d);
        let exag_epochs = p.epochs.min(250);
        let ex = p.early_exaggeration.max(1.0);
        let lr = (n as f32).max(50.0);
        let mut kl = crate::tsne::optimize(
            &mut y,
            &aff,
            &crate::tsne::Descent {
                epochs: exag_epochs.max(1),
                learning_rate: (lr / ex).max(50.0),
                momentum: 0.5,
                theta: p.fit_theta,
                exaggeration: ex,
            },
        );
        if p.epochs > exag_epochs {
            kl = crate::tsne::optimize(
                &mut y,
                &aff,
                &crate::tsne::Descent {
                    epochs: p.epochs - exag_epochs,
                    learning_rate: lr,
                    momentum: 0.8,
                    theta: p.fit_theta,
                    exaggeration: 1.0,
                },
            );
        }
        self.layout = Some(y.clone());
        (y, kl, info)
    }

    fn table_fits(&self, n: usize, k: usize) -> bool {
        self.table.len() == n && self.table.first().is_some_and(|r| r.len() == k)
    }

    /// Between snapshots, when the thread would otherwise wait: search the neighbour
    /// table anew on the Z just laid out, if [`TsneParams::knn_refresh`] updates have
    /// passed since the last search (or there is none). The next [`WarmTsne::update`]
    /// then only refreshes its distances, so a search (~0.2 s for 10,000 points) never
    /// delays a layout. Returns the seconds spent (0 when nothing was due).
    pub fn prepare(&mut self, x: &[f32], d: usize, p: &TsneParams) -> f64 {
        let n = x.len() / d.max(1);
        if n < 4 || self.layout.is_none() {
            return 0.0;
        }
        if d > TSNE_MAX_DIMS {
            let reduced = Pca::fit(x, d, TSNE_MAX_DIMS).transform(x);
            return self.prepare(&reduced, TSNE_MAX_DIMS, p);
        }
        let k = neighbours_for(clamp_perplexity(p.perplexity, n), n);
        if self.table_fits(n, k) && self.since_search < p.knn_refresh.max(1) {
            return 0.0;
        }
        let t = Instant::now();
        self.table = exact_knn(x, d, k);
        self.since_search = 0;
        t.elapsed().as_secs_f64()
    }

    /// Lay out the rows of `x` (`n x d`, the same sample as before): from scratch the
    /// first time, else a warm update aligned onto the previous layout. Returns the
    /// layout, bhtsne's KL estimate and what the update did.
    pub fn update(&mut self, x: &[f32], d: usize, p: &TsneParams) -> (Vec<f32>, f32, WarmInfo) {
        let n = x.len() / d.max(1);
        let prev = match self.layout.take() {
            Some(prev) if prev.len() == 2 * n && n >= 4 => prev,
            _ if p.fit_theta > 0.0 && n >= 4 => {
                return self.fit_barnes_hut(x, d, p);
            }
            _ => {
                let (y, kl) = tsne(x, d, p, None);
                self.table.clear();
                self.layout = Some(y.clone());
                return (y, kl, WarmInfo::default());
            }
        };
        if d > TSNE_MAX_DIMS {
            let reduced = Pca::fit(x, d, TSNE_MAX_DIMS).transform(x);
            self.layout = Some(prev);
            return self.update(&reduced, TSNE_MAX_DIMS, p);
        }
        let perplexity = clamp_perplexity(p.perplexity, n);
        let k = neighbours_for(perplexity, n);
        let t = Instant::now();
        let searched = !self.table_fits(n, k);
        if searched {
            self.table = exact_knn(x, d, k);
            self.since_search = 0;
        } else {
            refresh_distances(&mut self.table, x, d);
        }
        self.since_search += 1;
        let info = WarmInfo {
            searched,
            knn_seconds: t.elapsed().as_secs_f64(),
        };
        let (mut y, kl) = if p.warm_theta > 0.0 {
            // Our own Barnes-Hut (src/tsne.rs): see there for why.
            let aff = crate::tsne::affinities(&self.table, perplexity);
            let mut y = prev.clone();
            let kl = crate::tsne::optimize(
                &mut y,
                &aff,
                &crate::tsne::Descent {
                    epochs: p.warm_epochs,
                    learning_rate: (n as f32).max(50.0),
                    momentum: 0.8,
                    theta: p.warm_theta,
                    exaggeration: 1.0,
                },
            );
            (y, kl)
        } else {
            let nb = crate::neighbors::to_bhtsne(&self.table);
            let rows: Vec<&[f32]> = x.chunks_exact(d).collect();
            let mut t: bhtsne::tSNE<f32, &[f32], 2> = bhtsne::tSNE::new(&rows);
            t.perplexity(perplexity)
                .epochs(p.warm_epochs.max(1))
                .early_exaggeration(1.0)
                .stop_lying_epoch(0)
                .momentum(0.8)
                .momentum_switch_epoch(0)
                .learning_rate((n as f32).max(50.0))
                .initial_embedding(prev.clone());
            t.fit_sne_with_neighbors(&nb);
            (t.embedding(), t.kl_divergence().unwrap_or(f32::NAN))
        };
        procrustes_align(&prev, &mut y);
        self.layout = Some(y.clone());
        (y, kl, info)
    }
}

/// Neighbours per point for P: three times the perplexity, as bhtsne and openTSNE.
fn neighbours_for(perplexity: f32, n: usize) -> usize {
    ((3.0 * perplexity) as usize).min(n - 1)
}

/// bhtsne needs `n - 1 >= 3 * perplexity`.
fn clamp_perplexity(perplexity: f32, n: usize) -> f32 {
    perplexity
        .min(((n - 1) as f32 / 3.0).floor() - 1.0)
        .max(1.0)
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
    /// Clusters for k-means on the layout (manifold clustering); 0 or 1: none.
    pub clusters: usize,
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
                let mut warm = WarmTsne::new();
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
                        warm.reset();
                        prev_n = n;
                    }
                    let idx = indices.clone().unwrap_or_default();
                    let x: Vec<f32> = idx
                        .iter()
                        .flat_map(|&i| req.z[i * req.e..(i + 1) * req.e].iter().copied())
                        .collect();
                    let t = Instant::now();
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        pool.install(|| {
                            let (y, kl, _) = warm.update(&x, req.e, &p);
                            let km = (req.clusters > 1)
                                .then(|| manifold_kmeans(&y, req.clusters, p.seed));
                            (y, kl, km)
                        })
                    }));
                    let Ok((y, kl, km)) = r else {
                        warm.reset();
                        continue;
                    };
                    let layout = Layout {
                        points: y.chunks_exact(2).map(|c| [c[0], c[1]]).collect(),
                        indices: idx,
                        kl: Some(kl),
                        seconds: t.elapsed().as_secs_f64(),
                        step: req.step,
                        kmeans: km,
                    };
                    if lay_tx.send(layout).is_err() {
                        break;
                    }
                    wake();
                    // The neighbour search, when due, runs now, before the next snapshot.
                    let prep = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        pool.install(|| warm.prepare(&x, req.e, &p))
                    }));
                    if prep.is_err() {
                        warm.reset();
                    }
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
        assert!(!i0.searched, "a fit from scratch uses bhtsne's own search");
        // Z drifts a little between snapshots.
        x.iter_mut().for_each(|v| *v *= 1.02);
        let (y1, kl1, i1) = w.update(&x, 4, &p);
        assert!(i1.searched, "no table yet: the update searches itself");
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
