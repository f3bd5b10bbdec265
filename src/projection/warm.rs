//! Warm-started t-SNE: a layout that follows the changing embedding Z of a run.
//!
//! Why: a fit from scratch takes seconds and lands in a new arrangement each time; a
//! warm update of 100 Barnes-Hut iterations from the previous layout, on a kept
//! neighbour table, takes a fraction of a second and keeps every cluster in its place.

use std::time::Instant;

use super::align::procrustes_align;
use super::barnes_hut;
use super::pca::Pca;
use super::tsne::{
    TSNE_MAX_DIMS, TsneParams, clamp_perplexity, neighbours_for, pca_init, tsne, tsne_on_table,
};
use crate::engine::cluster::neighbors::{Neighbor, exact_knn, refresh_distances};

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
/// gradient of [`crate::projection::barnes_hut`] ([`TsneParams::warm_theta`]).
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

    /// A fit from scratch with [`crate::projection::barnes_hut`]: exact neighbours, PCA seed, openTSNE's
    /// two phases (exaggeration 12 at learning rate n/12 and momentum 0.5 for up to
    /// 250 iterations, then none at rate n and momentum 0.8).
    fn fit_barnes_hut(&mut self, x: &[f32], d: usize, p: &TsneParams) -> (Vec<f32>, f32, WarmInfo) {
        if d > TSNE_MAX_DIMS {
            let reduced = Pca::fit(x, d, TSNE_MAX_DIMS).transform(x);
            return self.fit_barnes_hut(&reduced, TSNE_MAX_DIMS, p);
        }
        let n = x.len() / d.max(1);
        let perplexity = clamp_perplexity(p.perplexity, n);
        let info = self.search(x, d, neighbours_for(perplexity, n));
        let aff = barnes_hut::affinities(&self.table, perplexity);
        let mut y = pca_init(x, d);
        let exag_epochs = p.epochs.min(250);
        let ex = p.early_exaggeration.max(1.0);
        let lr = (n as f32).max(50.0);
        let mut kl = barnes_hut::optimize(
            &mut y,
            &aff,
            &barnes_hut::Descent {
                epochs: exag_epochs.max(1),
                learning_rate: (lr / ex).max(50.0),
                momentum: 0.5,
                theta: p.fit_theta,
                exaggeration: ex,
            },
        );
        if p.epochs > exag_epochs {
            kl = barnes_hut::optimize(
                &mut y,
                &aff,
                &barnes_hut::Descent {
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

    /// A fit from scratch with bhtsne ([`tsne_on_table`]), on a neighbour table it
    /// keeps: the first warm update then refreshes its distances instead of searching
    /// again (a second search of ~0.2 s on 10,000 points).
    fn fit_bhtsne(&mut self, x: &[f32], d: usize, p: &TsneParams) -> (Vec<f32>, f32, WarmInfo) {
        if d > TSNE_MAX_DIMS {
            let reduced = Pca::fit(x, d, TSNE_MAX_DIMS).transform(x);
            return self.fit_bhtsne(&reduced, TSNE_MAX_DIMS, p);
        }
        let n = x.len() / d.max(1);
        if n < 4 {
            let (y, kl) = tsne(x, d, p, None);
            self.table.clear();
            self.layout = Some(y.clone());
            return (y, kl, WarmInfo::default());
        }
        let info = self.search(x, d, neighbours_for(clamp_perplexity(p.perplexity, n), n));
        let (y, kl) = tsne_on_table(x, d, p, None, &self.table);
        self.layout = Some(y.clone());
        (y, kl, info)
    }

    /// Search the neighbour table anew on the rows of `x`, `k` a row; what it took.
    fn search(&mut self, x: &[f32], d: usize, k: usize) -> WarmInfo {
        let t = Instant::now();
        self.table = exact_knn(x, d, k);
        self.since_search = 0;
        WarmInfo {
            searched: true,
            knn_seconds: t.elapsed().as_secs_f64(),
        }
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
        self.search(x, d, k).knn_seconds
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
            _ => return self.fit_bhtsne(x, d, p),
        };
        if d > TSNE_MAX_DIMS {
            let reduced = Pca::fit(x, d, TSNE_MAX_DIMS).transform(x);
            self.layout = Some(prev);
            return self.update(&reduced, TSNE_MAX_DIMS, p);
        }
        let perplexity = clamp_perplexity(p.perplexity, n);
        let k = neighbours_for(perplexity, n);
        let info = if self.table_fits(n, k) {
            let t = Instant::now();
            refresh_distances(&mut self.table, x, d);
            WarmInfo {
                searched: false,
                knn_seconds: t.elapsed().as_secs_f64(),
            }
        } else {
            self.search(x, d, k)
        };
        self.since_search += 1;
        let (mut y, kl) = if p.warm_theta > 0.0 {
            // Our own Barnes-Hut (src/projection/barnes_hut.rs): see there for why.
            let aff = barnes_hut::affinities(&self.table, perplexity);
            let mut y = prev.clone();
            let kl = barnes_hut::optimize(
                &mut y,
                &aff,
                &barnes_hut::Descent {
                    epochs: p.warm_epochs,
                    learning_rate: (n as f32).max(50.0),
                    momentum: 0.8,
                    theta: p.warm_theta,
                    exaggeration: 1.0,
                },
            );
            (y, kl)
        } else {
            let nb = super::tsne::to_bhtsne(&self.table);
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
