//! t-SNE fits from scratch (van der Maaten & Hinton 2008) and their settings.
//!
//! The fit is the `bhtsne` crate's FFT-interpolated gradient (the FIt-SNE scheme that
//! openTSNE uses), seeded with a PCA layout scaled as openTSNE does, on neighbours from
//! our exact search and run on one thread ([`on_one_thread`]), so the result is
//! deterministic; [`crate::projection::warm`] continues it at each snapshot.

use serde::{Deserialize, Serialize};

use super::pca::Pca;
use crate::engine::cluster::neighbors::{Neighbor, exact_knn};

/// The table in the bhtsne crate's form, for its `*_with_neighbors` fits.
pub fn to_bhtsne(table: &[Vec<Neighbor>]) -> Vec<Vec<bhtsne::Neighbor<f32>>> {
    table
        .iter()
        .map(|r| {
            r.iter()
                .map(|n| bhtsne::Neighbor {
                    index: n.index as usize,
                    distance: n.distance,
                })
                .collect()
        })
        .collect()
}

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
    /// Barnes-Hut ones ([`crate::projection::barnes_hut`]) 0.45 s, P included, at an exact KL 0.4% above
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

/// Runs `f` (the bhtsne fit) on a pool of one thread.
///
/// Why: bhtsne sums the normaliser Z = Σ_ij (1 + |y_i - y_j|²)⁻¹ with a parallel
/// reduction whose order follows rayon's work stealing, so on several threads the same
/// input and seed gave a different layout from one fit to the next (two checksums in two
/// runs of `decscope project --method tsne` on 2 threads). One thread keeps the order
/// fixed. Cost, timed alternately against the two-thread fit on 2 cores: 10,000 points
/// of a 10-D Z 23-25 s against 15-17 s; raw MNIST (PCA to 50 first) 24.2 s against
/// 24.6 s, as the neighbour search (ours, on both threads) moved out of the fit.
/// `--fit-theta 0.5` (our own Barnes-Hut, whose sums have a fixed order) keeps both
/// threads and repeats too. Inside a one-thread pool already (the app's t-SNE
/// thread) it just runs `f`.
fn on_one_thread<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if rayon::current_num_threads() == 1 {
        return f();
    }
    match rayon::ThreadPoolBuilder::new().num_threads(1).build() {
        Ok(pool) => pool.install(f),
        // No thread to be had: the fit still runs, only its sums' order may vary.
        Err(_) => f(),
    }
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
    // Our exact search, not bhtsne's vantage-point tree: the tree draws its vantage
    // points from an unseeded generator, so among tied distances (duplicate rows, small
    // integer pixels) it chose other neighbours on each run and the same input gave
    // another layout. Ties here go to the smaller index.
    let perplexity = clamp_perplexity(p.perplexity, n);
    let table = exact_knn(x, d, neighbours_for(perplexity, n));
    tsne_on_table(x, d, p, init, &table)
}

/// [`tsne`] on a neighbour table already searched ([`exact_knn`] with
/// [`neighbours_for`] the clamped perplexity), for `n >= 4` rows of at most
/// [`TSNE_MAX_DIMS`] columns: a caller that keeps the table for later updates
/// ([`crate::projection::WarmTsne`]) does not search twice.
pub(crate) fn tsne_on_table(
    x: &[f32],
    d: usize,
    p: &TsneParams,
    init: Option<&[f32]>,
    table: &[Vec<Neighbor>],
) -> (Vec<f32>, f32) {
    let nb = to_bhtsne(table);
    on_one_thread(|| fit(x, d, p, init, &nb))
}

/// [`tsne`]'s fit proper, on `n >= 4` rows of at most [`TSNE_MAX_DIMS`] columns, with
/// each row's neighbours for P.
fn fit(
    x: &[f32],
    d: usize,
    p: &TsneParams,
    init: Option<&[f32]>,
    nb: &[Vec<bhtsne::Neighbor<f32>>],
) -> (Vec<f32>, f32) {
    let n = x.len() / d.max(1);
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
        t.fit_sne_with_neighbors(nb);
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
            t.fit_sne_with_neighbors(nb);
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

/// Neighbours per point for P: three times the perplexity, as bhtsne and openTSNE.
pub(crate) fn neighbours_for(perplexity: f32, n: usize) -> usize {
    ((3.0 * perplexity) as usize).min(n - 1)
}

/// bhtsne needs `n - 1 >= 3 * perplexity`.
pub(crate) fn clamp_perplexity(perplexity: f32, n: usize) -> f32 {
    perplexity
        .min(((n - 1) as f32 / 3.0).floor() - 1.0)
        .max(1.0)
}
