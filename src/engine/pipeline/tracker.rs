//! DEC's bookkeeping between P updates: the target P of every sample, the labels of
//! the last update, the label changes that decide convergence, and the collapse guard.
//!
//! Why apart from the DEC loop (`cluster`): the loop steps the network; this decides,
//! at each P update and without labels, whether DEC goes on, has converged, or has
//! collapsed a cluster (then it restores the last healthy state), and keeps the record
//! the history and the warnings are made from.

use std::sync::Arc;

use super::{Ctx, Event, Phase, Snapshot};
use crate::data::Dataset;
use crate::engine::cluster::assign::{hard_labels, soft_assignment, target_distribution};
use crate::engine::cluster::constraints::satisfied;
use crate::engine::cluster::dec::kl_divergence;
use crate::engine::cluster::metrics::scores;
use crate::engine::config::{DecConfig, Method, OnCollapse};
use crate::engine::nn::autoencoder::{Autoencoder, Mlp};
use crate::engine::report::{HistoryEntry, RunWarning, WarningKind};

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
/// `start`: the cluster's size at DEC's start and when that was ("after k-means",
/// "at the hand edit of DEC step 328").
pub(super) fn collapse_message(
    j: usize,
    it: usize,
    size: usize,
    start: (usize, &str),
    threshold: f64,
    n_over_k: f64,
    c: &crate::engine::config::ClusterConfig,
) -> String {
    let (init_size, when) = start;
    let what = if size == 0 {
        format!("cluster {j} emptied at DEC step {it} (it had {init_size} samples {when})")
    } else {
        format!(
            "cluster {j} collapsed at DEC step {it}: {size} samples, below its threshold of {threshold:.1} ({} x min(its {init_size} samples {when}, n/k = {n_over_k:.0}))",
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

/// The encoder (and IDEC's decoder, which it trains too) and centroids at the last P
/// update with every cluster healthy.
pub(super) type Healthy = (Mlp, Option<Mlp>, Vec<f32>);

/// What a P update decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Update {
    /// Train on.
    Go,
    /// Fewer than `tol` of the labels changed.
    Converged,
    /// A cluster collapsed and `on_collapse: stop` restored the last healthy state.
    Collapsed,
    /// The last update (`max_iter` reached).
    Last,
    /// The start check's k-means phase cannot catch up with the spectral outcome
    /// (`starts::StartWatch`).
    Abandoned,
}

/// DEC's bookkeeping between P updates: the target P of every sample, the labels of
/// the last update, the collapse guard and the recent label changes.
pub(super) struct Tracker {
    pub(super) k: usize,
    /// DEC steps run before this run (a resumed run numbers its steps from there).
    pub(super) step0: usize,
    pub(super) prev: Vec<u32>,
    pub(super) p_all: Vec<f32>,
    pub(super) init_sizes: Vec<usize>,
    pub(super) thresholds: Vec<f64>,
    pub(super) warned: Vec<bool>,
    pub(super) healthy: Option<Healthy>,
    pub(super) recent_changes: Vec<f64>,
    /// IDEC: the sum and count of the batches' reconstruction losses since the last update.
    rec: (f64, usize),
    /// Hand steering changed the clusters: the collapse guard starts again from the
    /// sizes at the next update.
    pub(super) rebase: bool,
    /// When the sizes the guard measures from were taken, for its messages.
    pub(super) start: String,
    /// The last update's snapshot (steering's live state shows it).
    pub(super) last: Option<Arc<Snapshot>>,
}

impl Tracker {
    /// IDEC: one batch's reconstruction loss, for the next update's mean.
    pub(super) fn add_reconstruction(&mut self, loss: f32) {
        self.rec.0 += loss as f64;
        self.rec.1 += 1;
    }

    pub(super) fn new(
        labels: Vec<u32>,
        k: usize,
        n: usize,
        fraction: f32,
        step0: usize,
    ) -> Tracker {
        let init_sizes = cluster_sizes(&labels, k);
        Tracker {
            k,
            step0,
            thresholds: collapse_thresholds(&init_sizes, n, fraction),
            init_sizes,
            prev: labels,
            p_all: Vec::new(),
            warned: vec![false; k],
            healthy: None,
            recent_changes: Vec::new(),
            rec: (0.0, 0),
            rebase: false,
            start: if step0 == 0 {
                "after k-means".into()
            } else {
                format!("when DEC went on at step {step0}")
            },
            last: None,
        }
    }

    /// The last update's labels in the numbering after hand steering (`renumber`: old
    /// number -> new, `None` for a cluster gone), so the next update's "labels changed"
    /// counts the samples that moved, not the ones an edit renumbered.
    pub(super) fn renumber(&mut self, renumber: &[Option<usize>]) {
        for l in &mut self.prev {
            *l = renumber
                .get(*l as usize)
                .copied()
                .flatten()
                .map_or(u32::MAX, |j| j as u32);
        }
    }

    /// The clusters were steered (now `k` of them): the collapse guard measures from
    /// the next update's sizes, and the last healthy state is the edited one (a
    /// collapse after the edit goes back to it, not to nothing).
    pub(super) fn reshape(&mut self, k: usize, edited: Healthy) {
        self.k = k;
        self.warned = vec![false; k];
        self.healthy = Some(edited);
        self.rebase = true;
    }

    /// The P update at DEC step `it` (eq. 3: p_ij ∝ q_ij² / f_j, f_j = Σ_i q_ij, from
    /// all data): new labels, history, snapshot, the collapse guard and the stopping
    /// rule (not right after hand steering, `steered`: an edit is no convergence;
    /// it brings the encoder's Z, computed for the edit, so that it is not computed
    /// twice). `Err((step, loss))` for a non-finite KL(P‖Q).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn update(
        &mut self,
        it: usize,
        ds: &Dataset,
        cfg: &DecConfig,
        ae: &mut Autoencoder,
        mu: &mut Vec<f32>,
        ctx: &mut Ctx,
        steered: Option<Vec<f32>>,
    ) -> Result<Update, (usize, f32)> {
        let (c, k) = (&cfg.cluster, self.k);
        let was_steered = steered.is_some();
        let z = steered.unwrap_or_else(|| ae.encode(&ds.x, ds.n));
        let q = soft_assignment(&z, mu, ae.encoder.n_out(), c.alpha);
        self.p_all = target_distribution(&q, k);
        let (labels, conf) = hard_labels(&q, k);
        let changed = labels
            .iter()
            .zip(&self.prev)
            .filter(|(a, b)| a != b)
            .count() as f64
            / ds.n as f64;
        self.prev = labels;
        if std::mem::take(&mut self.rebase) {
            self.start = format!("at the hand edit of DEC step {}", self.step0 + it);
            self.init_sizes = cluster_sizes(&self.prev, k);
            self.thresholds = collapse_thresholds(&self.init_sizes, ds.n, c.collapse_fraction);
        }
        self.recent_changes.push(changed);
        let loss = kl_divergence(&self.p_all, &q, ds.n);
        if !loss.is_finite() {
            return Err((self.step0 + it, loss));
        }
        let s = ds.labels.as_deref().map(|t| scores(t, &self.prev));
        self.record(it, loss, changed, s, cfg, ctx);
        let snap = Arc::new(Snapshot {
            phase: Phase::Clustering,
            step: self.step0 + it,
            z,
            e: ae.encoder.n_out(),
            assignments: Some(self.prev.clone()),
            confidence: Some(conf),
            centroids: Some(mu.clone()),
            scores: s,
        });
        if ctx.sink.wants_snapshot() {
            ctx.sink.event(Event::Snapshot(snap.clone()));
        }
        self.last = Some(snap);
        let collapsed = self.warn_collapses(it, ds.n, c, ctx);
        if c.on_collapse == OnCollapse::Stop {
            if !collapsed {
                let idec = cfg.method == Method::Idec;
                self.healthy = Some((
                    ae.encoder.clone(),
                    idec.then(|| ae.decoder.clone()),
                    mu.clone(),
                ));
            } else {
                if let Some((enc, dec, m)) = self.healthy.take() {
                    ae.encoder = enc;
                    if let Some(dec) = dec {
                        ae.decoder = dec;
                    }
                    *mu = m;
                }
                return Ok(Update::Collapsed);
            }
        }
        Ok(if it > 0 && changed < c.tol as f64 && !was_steered {
            Update::Converged
        } else if it == c.max_iter {
            Update::Last
        } else {
            Update::Go
        })
    }

    /// The update's history entry (with IDEC's mean reconstruction loss since the last
    /// one, and the share of constraints satisfied).
    pub(super) fn record(
        &mut self,
        it: usize,
        loss: f32,
        changed: f64,
        s: Option<crate::engine::cluster::metrics::Scores>,
        cfg: &DecConfig,
        ctx: &mut Ctx,
    ) {
        let (rec_sum, rec_steps) = std::mem::take(&mut self.rec);
        let guided = &cfg.constraints;
        ctx.record(HistoryEntry {
            phase: Phase::Clustering.name(),
            step: self.step0 + it,
            loss,
            acc: s.map(|s| s.acc),
            nmi: s.map(|s| s.nmi),
            ari: s.map(|s| s.ari),
            changed: Some(changed),
            rec_loss: (rec_steps > 0).then(|| (rec_sum / rec_steps as f64) as f32),
            constraints_satisfied: (!guided.is_empty())
                .then(|| satisfied(&guided.pairs, &self.prev)),
            elapsed_s: ctx.elapsed(),
        });
    }

    /// Warn once for each cluster below its collapse threshold; whether any is.
    pub(super) fn warn_collapses(
        &mut self,
        it: usize,
        n: usize,
        c: &crate::engine::config::ClusterConfig,
        ctx: &mut Ctx,
    ) -> bool {
        let sizes = cluster_sizes(&self.prev, self.k);
        // A cluster that was already empty when the guard began measuring (a hand edit
        // or a resumed model left it so) has lost nothing: it is said once, and DEC
        // goes on (it may gain members). Stopping on it ended a run at the edit itself.
        for j in (0..self.k).filter(|&j| self.init_sizes[j] == 0 && sizes[j] == 0) {
            if !std::mem::replace(&mut self.warned[j], true) {
                let step = self.step0 + it;
                ctx.warn(RunWarning {
                    kind: WarningKind::Collapse,
                    step,
                    cluster: Some(j),
                    size: Some(0),
                    message: format!(
                        "cluster {j} has had no members since {} (DEC step {step}); DEC goes on and it may gain some, or remove it with an edit",
                        self.start
                    ),
                });
            }
        }
        let collapsed: Vec<usize> = (0..self.k)
            .filter(|&j| self.init_sizes[j] > 0)
            .filter(|&j| sizes[j] == 0 || (sizes[j] as f64) < self.thresholds[j])
            .collect();
        for &j in &collapsed {
            if !std::mem::replace(&mut self.warned[j], true) {
                let step = self.step0 + it;
                let message = collapse_message(
                    j,
                    step,
                    sizes[j],
                    (self.init_sizes[j], &self.start),
                    self.thresholds[j],
                    n as f64 / self.k as f64,
                    c,
                );
                ctx.warn(RunWarning {
                    kind: WarningKind::Collapse,
                    step,
                    cluster: Some(j),
                    size: Some(sizes[j]),
                    message,
                });
            }
        }
        !collapsed.is_empty()
    }

    /// The warning of a run that used up `max_iter` with labels still changing.
    pub(super) fn not_converged(
        &self,
        c: &crate::engine::config::ClusterConfig,
        iterations: usize,
    ) -> RunWarning {
        let last: Vec<String> = self
            .recent_changes
            .iter()
            .rev()
            .take(3)
            .rev()
            .map(|v| format!("{:.2}%", 100.0 * v))
            .collect();
        RunWarning {
            kind: WarningKind::NotConverged,
            step: self.step0 + iterations,
            cluster: None,
            size: None,
            message: format!(
                "DEC did not converge in max_iter = {} steps: the last label changes ({}) stayed above tol = {}%; raise --max-iter or --tol, or check the clusters",
                c.max_iter,
                last.join(", "),
                100.0 * c.tol
            ),
        }
    }
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
        let m = collapse_message(0, 40, 0, (1, "after k-means"), th[0], 5.0, &c);
        assert!(m.starts_with("cluster 0 emptied at DEC step 40"), "{m}");
        assert!(!m.contains("threshold of 0"), "{m}");
        let m = collapse_message(
            1,
            40,
            1,
            (9, "at the hand edit of DEC step 20"),
            th[1],
            5.0,
            &c,
        );
        assert!(m.contains("1 samples, below its threshold of 1.2"), "{m}");
        assert!(
            m.contains("its 9 samples at the hand edit of DEC step 20,"),
            "{m}"
        );
    }
}
