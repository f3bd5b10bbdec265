//! The DEC phase (section 3.1 of the paper): minimise KL(P‖Q) by SGD on the encoder
//! weights and the centroids together, recomputing the target P from all data every
//! `update_interval` batches, until fewer than `tol` of the labels change between two
//! updates.

use std::sync::Arc;

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::{Ctx, Event, Phase, Snapshot};
use crate::data::Dataset;
use crate::engine::autoencoder::Autoencoder;
use crate::engine::config::DecConfig;
use crate::engine::dec::{DecStep, hard_labels, kl_divergence, soft_assign, target_distribution};
use crate::engine::kmeans::KMeansResult;
use crate::engine::metrics::scores;
use crate::engine::optim::Optimizer;
use crate::engine::report::HistoryEntry;

/// Where DEC ended.
pub(super) struct DecOutcome {
    pub ae: Autoencoder,
    /// `k x e` centroids.
    pub mu: Vec<f32>,
    /// Batches run.
    pub iterations: usize,
    pub converged: bool,
    pub stopped: bool,
}

/// Z of all samples and their soft assignments Q (eq. 1:
/// q_ij ∝ (1 + |z_i - mu_j|²/α)^(-(α+1)/2)).
pub(super) fn full_q(
    ds: &Dataset,
    ae: &Autoencoder,
    mu: &[f32],
    k: usize,
    alpha: f32,
) -> (Vec<f32>, Vec<f32>) {
    let e = ae.encoder.n_out();
    let z = ae.encode(&ds.x, ds.n);
    let mut q = vec![0.0f32; ds.n * k];
    let mut ker = vec![0.0f32; ds.n * k];
    soft_assign(&z, mu, e, alpha, &mut q, &mut ker);
    (z, q)
}

/// Run DEC from the k-means initialisation `km` on the encoder of `ae`.
pub(super) fn run_dec(
    ds: &Dataset,
    cfg: &DecConfig,
    k: usize,
    mut ae: Autoencoder,
    km: KMeansResult,
    rng: &mut ChaCha8Rng,
    ctx: &mut Ctx,
) -> DecOutcome {
    let c = &cfg.cluster;
    let truth = ds.labels.as_deref();
    let e = ae.encoder.n_out();
    let mut mu = km.centroids;
    let mut prev = km.labels;
    let bsz = c.batch_size.min(ds.n);
    let mut stepper = DecStep::new(&ae.encoder, k, c.alpha, bsz);
    let mut opt = Optimizer::new(c.optimizer);
    let mut order: Vec<usize> = (0..ds.n).collect();
    let mut pos = ds.n;
    let d = ds.d;
    let mut xb = vec![0.0f32; bsz * d];
    let mut pb = vec![0.0f32; bsz * k];
    let mut p_all: Vec<f32> = Vec::new();
    let mut converged = false;
    let mut stopped = false;
    let mut iterations = 0;
    ctx.phase(Phase::Clustering, c.max_iter);
    for it in 0..=c.max_iter {
        if it % c.update_interval == 0 || it == c.max_iter {
            // Target P (eq. 3: p_ij ∝ q_ij² / f_j, f_j = Σ_i q_ij) from all data.
            let (z, q) = full_q(ds, &ae, &mu, k, c.alpha);
            p_all = target_distribution(&q, k);
            let (labels, conf) = hard_labels(&q, k);
            let changed =
                labels.iter().zip(&prev).filter(|(a, b)| a != b).count() as f64 / ds.n as f64;
            prev = labels;
            let s = truth.map(|t| scores(t, &prev));
            let loss = kl_divergence(&p_all, &q, ds.n);
            ctx.record(HistoryEntry {
                phase: Phase::Clustering.name(),
                step: it,
                loss,
                acc: s.map(|s| s.acc),
                nmi: s.map(|s| s.nmi),
                ari: s.map(|s| s.ari),
                changed: Some(changed),
                elapsed_s: ctx.elapsed(),
            });
            if ctx.sink.wants_snapshot() {
                ctx.sink.event(Event::Snapshot(Arc::new(Snapshot {
                    phase: Phase::Clustering,
                    step: it,
                    z,
                    e,
                    assignments: Some(prev.clone()),
                    confidence: Some(conf),
                    centroids: Some(mu.clone()),
                    scores: s,
                })));
            }
            if it > 0 && changed < c.tol as f64 {
                converged = true;
                break;
            }
            if it == c.max_iter {
                break;
            }
        }
        if ctx.ctl.checkpoint().is_err() {
            stopped = true;
            break;
        }
        if pos >= ds.n {
            order.shuffle(rng);
            pos = 0;
        }
        let b = bsz.min(ds.n - pos);
        for (r, &i) in order[pos..pos + b].iter().enumerate() {
            xb[r * d..(r + 1) * d].copy_from_slice(ds.row(i));
            pb[r * k..(r + 1) * k].copy_from_slice(&p_all[i * k..(i + 1) * k]);
        }
        pos += b;
        // One SGD step on KL(P‖Q) (eqs. 4-5) for the encoder and the centroids.
        let loss = stepper.step(&mut ae.encoder, &mut mu, &mut opt, &xb, &pb, b, rng);
        iterations = it + 1;
        ctx.sink.event(Event::Step {
            phase: Phase::Clustering,
            step: it + 1,
            total: c.max_iter,
            loss,
            elapsed_s: ctx.elapsed(),
        });
    }
    DecOutcome {
        ae,
        mu,
        iterations,
        converged,
        stopped,
    }
}
