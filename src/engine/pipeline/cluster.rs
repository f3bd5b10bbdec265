//! The DEC phase (section 3.1 of the paper): minimise KL(P‖Q) by SGD on the encoder
//! weights and the centroids together, recomputing the target P from all data every
//! `update_interval` batches, until fewer than `tol` of the labels change between two
//! updates.
//!
//! DEC can destroy a good start: on small data a cluster may drain into its
//! neighbours while the loss keeps falling. At every P update this phase checks,
//! without labels, each cluster's size against its collapse threshold
//! (`collapse_fraction` x min(its size after k-means, n/k)); a collapse is reported as
//! a [`RunWarning`], and with `on_collapse: stop` (the default) DEC ends with the
//! encoder and centroids of the last update at which every cluster was healthy.

use std::sync::Arc;

use super::{Ctx, Event, Phase, PipelineError, Snapshot};
use crate::data::Dataset;
use crate::engine::augment::{Augmenter, Batches};
use crate::engine::autoencoder::{Autoencoder, Mlp};
use crate::engine::config::{DecConfig, Method, OnCollapse};
use crate::engine::constraints::{MAX_PAIR_ROWS, PairBatches, satisfied};
use crate::engine::dec::{
    DecStep, StepPairs, hard_labels, kl_divergence, soft_assign, target_distribution,
};
use crate::engine::kmeans::KMeansResult;
use crate::engine::metrics::scores;
use crate::engine::optim::Optimizer;
use crate::engine::report::{HistoryEntry, RunWarning, WarningKind};
use crate::engine::streams::{AUGMENT_DEC, Stream};

/// Where DEC ended.
pub(super) struct DecOutcome {
    pub ae: Autoencoder,
    /// `k x e` centroids.
    pub mu: Vec<f32>,
    /// Batches run.
    pub iterations: usize,
    pub converged: bool,
    pub stopped: bool,
    /// DEC ended on a collapse and `ae`/`mu` are the last healthy state (IDEC: the
    /// decoder too).
    pub stopped_on_collapse: bool,
}

/// The collapse threshold of each cluster: `fraction` x min(its size at the start of
/// DEC, n/k). A cluster below it (or empty) has collapsed.
pub(super) fn collapse_thresholds(init_sizes: &[usize], n: usize, fraction: f32) -> Vec<f64> {
    let k = init_sizes.len().max(1);
    init_sizes
        .iter()
        .map(|&s| f64::from(fraction) * (s as f64).min(n as f64 / k as f64))
        .collect()
}

/// The warning for cluster `j` found collapsed at step `it` with `size` samples. An
/// empty cluster is called empty: its threshold can round to 0 (a cluster that k-means
/// left small, or k close to n), and "0 samples, below its threshold of 0" says
/// nothing.
#[allow(clippy::too_many_arguments)]
fn collapse_message(
    j: usize,
    it: usize,
    size: usize,
    init_size: usize,
    threshold: f64,
    n_over_k: f64,
    c: &crate::engine::config::ClusterConfig,
) -> String {
    let what = if size == 0 {
        format!("cluster {j} emptied at DEC step {it} (it had {init_size} samples after k-means)")
    } else {
        format!(
            "cluster {j} collapsed at DEC step {it}: {size} samples, below its threshold of {threshold:.1} ({} x min(its {init_size} samples after k-means, n/k = {n_over_k:.0}))",
            c.collapse_fraction
        )
    };
    let then = match c.on_collapse {
        OnCollapse::Stop => "; DEC stopped and kept the last healthy state",
        OnCollapse::Warn => "; DEC goes on (on_collapse: warn)",
    };
    format!("{what}{then}")
}

/// Sizes of the `k` clusters of `labels`.
pub(super) fn cluster_sizes(labels: &[u32], k: usize) -> Vec<usize> {
    let mut sizes = vec![0usize; k];
    labels.iter().for_each(|&a| sizes[a as usize] += 1);
    sizes
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

/// Run DEC from the k-means initialisation `km` on the encoder of `ae` (and, for
/// IDEC, its decoder), on augmented batches when `aug` is given (DEC-DA: P still comes
/// from the clean data). A non-finite loss (a step's, or KL(P‖Q) at a P update) ends
/// the run with [`PipelineError::Diverged`], as in pretraining: a NaN embedding would
/// otherwise put every sample in cluster 0 and look "converged".
#[allow(clippy::too_many_arguments)]
pub(super) fn run_dec(
    ds: &Dataset,
    cfg: &DecConfig,
    k: usize,
    mut ae: Autoencoder,
    km: KMeansResult,
    ctx: &mut Ctx,
    aug: Option<Augmenter>,
) -> Result<DecOutcome, PipelineError> {
    let c = &cfg.cluster;
    let truth = ds.labels.as_deref();
    let e = ae.encoder.n_out();
    let mut mu = km.centroids;
    let mut prev = km.labels;
    let init_sizes = cluster_sizes(&prev, k);
    let bsz = c.batch_size.min(ds.n);
    let idec = cfg.method == Method::Idec;
    let mut stepper = DecStep::new(&ae.encoder, k, c.alpha, bsz);
    if idec {
        stepper = stepper.with_decoder(&ae.decoder, bsz, c.idec_gamma);
    }
    // Pairwise constraints: their samples are embedded beside every batch.
    let guided = &cfg.constraints;
    let pairs = (!guided.is_empty()).then(|| PairBatches::new(&guided.pairs, MAX_PAIR_ROWS));
    if let Some(p) = &pairs {
        stepper = stepper.with_pair_rows(&ae.encoder, bsz, p.max_rows());
    }
    let pair_rng = &mut Stream::Constraints.rng(cfg.seed);
    let mut pair_x: Vec<f32> = Vec::new();
    let step0 = ctx.dec_step0;
    let mut opt = Optimizer::new(c.optimizer);
    let mut pb = vec![0.0f32; bsz * k];
    let (mut rec_sum, mut rec_steps) = (0.0f64, 0usize);
    let mut p_all: Vec<f32> = Vec::new();
    let mut converged = false;
    let mut stopped = false;
    let mut stopped_on_collapse = false;
    let mut iterations = 0;
    let thresholds = collapse_thresholds(&init_sizes, ds.n, c.collapse_fraction);
    let mut warned = vec![false; k];
    // The encoder (and IDEC's decoder, which it trains too) and centroids at the last
    // P update with every cluster healthy.
    type Healthy = (Mlp, Option<Mlp>, Vec<f32>);
    let mut healthy: Option<Healthy> = None;
    let mut recent_changes: Vec<f64> = Vec::new();
    let mut diverged: Option<(usize, f32)> = None;
    ctx.phase(Phase::Clustering, step0 + c.max_iter);
    let rng = &mut Stream::Dec.rng(cfg.seed);
    let aug_seed = Stream::Augment(AUGMENT_DEC).seed(cfg.seed);
    std::thread::scope(|scope| {
        let mut batches = Batches::new(scope, &ds.x, ds.n, bsz, aug, aug_seed);
        for it in 0..=c.max_iter {
            if it % c.update_interval == 0 || it == c.max_iter {
                // Target P (eq. 3: p_ij ∝ q_ij² / f_j, f_j = Σ_i q_ij) from all data.
                let (z, q) = full_q(ds, &ae, &mu, k, c.alpha);
                p_all = target_distribution(&q, k);
                let (labels, conf) = hard_labels(&q, k);
                let changed =
                    labels.iter().zip(&prev).filter(|(a, b)| a != b).count() as f64 / ds.n as f64;
                prev = labels;
                recent_changes.push(changed);
                let sizes = cluster_sizes(&prev, k);
                let collapsed: Vec<usize> = (0..k)
                    .filter(|&j| sizes[j] == 0 || (sizes[j] as f64) < thresholds[j])
                    .collect();
                let s = truth.map(|t| scores(t, &prev));
                let loss = kl_divergence(&p_all, &q, ds.n);
                if !loss.is_finite() {
                    diverged = Some((step0 + it, loss));
                    break;
                }
                ctx.record(HistoryEntry {
                    phase: Phase::Clustering.name(),
                    step: step0 + it,
                    loss,
                    acc: s.map(|s| s.acc),
                    nmi: s.map(|s| s.nmi),
                    ari: s.map(|s| s.ari),
                    changed: Some(changed),
                    rec_loss: (rec_steps > 0).then(|| (rec_sum / rec_steps as f64) as f32),
                    constraints_satisfied: (!guided.is_empty())
                        .then(|| satisfied(&guided.pairs, &prev)),
                    elapsed_s: ctx.elapsed(),
                });
                (rec_sum, rec_steps) = (0.0, 0);
                if ctx.sink.wants_snapshot() {
                    ctx.sink.event(Event::Snapshot(Arc::new(Snapshot {
                        phase: Phase::Clustering,
                        step: step0 + it,
                        z,
                        e,
                        assignments: Some(prev.clone()),
                        confidence: Some(conf),
                        centroids: Some(mu.clone()),
                        scores: s,
                    })));
                }
                for &j in &collapsed {
                    if !std::mem::replace(&mut warned[j], true) {
                        let w = RunWarning {
                            kind: WarningKind::Collapse,
                            step: step0 + it,
                            cluster: Some(j),
                            size: Some(sizes[j]),
                            message: collapse_message(
                                j,
                                step0 + it,
                                sizes[j],
                                init_sizes[j],
                                thresholds[j],
                                ds.n as f64 / k as f64,
                                c,
                            ),
                        };
                        ctx.warn(w);
                    }
                }
                if !collapsed.is_empty() && c.on_collapse == OnCollapse::Stop {
                    if let Some((enc, dec, m)) = healthy.take() {
                        ae.encoder = enc;
                        if let Some(dec) = dec {
                            ae.decoder = dec;
                        }
                        mu = m;
                    }
                    stopped_on_collapse = true;
                    break;
                }
                if collapsed.is_empty() && c.on_collapse == OnCollapse::Stop {
                    healthy = Some((
                        ae.encoder.clone(),
                        idec.then(|| ae.decoder.clone()),
                        mu.clone(),
                    ));
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
            let Some(batch) = batches.next(rng) else {
                stopped = true;
                break;
            };
            let b = batch.idx.len();
            for (r, &i) in batch.idx.iter().enumerate() {
                pb[r * k..(r + 1) * k].copy_from_slice(&p_all[i * k..(i + 1) * k]);
            }
            // One SGD step on KL(P‖Q) (eqs. 4-5) for the encoder and the centroids, plus
            // the reconstruction term for IDEC and the pair loss for constraints.
            let pair_batch = pairs.as_ref().map(|p| p.next(pair_rng));
            let step_pairs = pair_batch.as_ref().map(|pb| {
                pair_x.clear();
                for &r in &pb.rows {
                    pair_x.extend_from_slice(&ds.x[r * ds.d..(r + 1) * ds.d]);
                }
                StepPairs {
                    x: &pair_x,
                    batch: pb,
                    weight: guided.weight,
                }
            });
            let decoder = idec.then_some(&mut ae.decoder);
            let l = stepper.step(
                &mut ae.encoder,
                decoder,
                &mut mu,
                &mut opt,
                &batch.x,
                &pb,
                b,
                step_pairs,
                rng,
            );
            if let Some(r) = l.rec {
                rec_sum += r as f64;
                rec_steps += 1;
            }
            let loss = l.kl + l.rec.map_or(0.0, |r| r / c.idec_gamma) + l.pairs.unwrap_or(0.0);
            if !loss.is_finite() {
                diverged = Some((step0 + it + 1, loss));
                break;
            }
            iterations = it + 1;
            ctx.sink.event(Event::Step {
                phase: Phase::Clustering,
                step: step0 + it + 1,
                total: step0 + c.max_iter,
                loss,
                elapsed_s: ctx.elapsed(),
            });
        }
    });
    if let Some((step, loss)) = diverged {
        return Err(PipelineError::Diverged {
            phase: Phase::Clustering.name(),
            step,
            loss,
        });
    }
    if !converged && !stopped && !stopped_on_collapse {
        let last: Vec<String> = recent_changes
            .iter()
            .rev()
            .take(3)
            .rev()
            .map(|v| format!("{:.2}%", 100.0 * v))
            .collect();
        ctx.warn(RunWarning {
            kind: WarningKind::NotConverged,
            step: iterations,
            cluster: None,
            size: None,
            message: format!(
                "DEC did not converge in max_iter = {} steps: the last label changes ({}) stayed above tol = {}%; raise --max-iter or --tol, or check the clusters",
                c.max_iter,
                last.join(", "),
                100.0 * c.tol
            ),
        });
    }
    Ok(DecOutcome {
        ae,
        mu,
        iterations,
        converged,
        stopped,
        stopped_on_collapse,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::DecConfig;

    /// An emptied cluster is named as such; no message prints a threshold of 0.
    #[test]
    fn an_empty_cluster_is_called_empty_not_below_a_zero_threshold() {
        let c = DecConfig::default().cluster;
        // k close to n: a cluster k-means left with 1 sample has threshold 0.25.
        let th = collapse_thresholds(&[1, 9], 10, c.collapse_fraction);
        let m = collapse_message(0, 40, 0, 1, th[0], 5.0, &c);
        assert!(m.starts_with("cluster 0 emptied at DEC step 40"), "{m}");
        assert!(!m.contains("threshold of 0"), "{m}");
        let m = collapse_message(1, 40, 1, 9, th[1], 5.0, &c);
        assert!(m.contains("1 samples, below its threshold of 1.2"), "{m}");
    }
}
