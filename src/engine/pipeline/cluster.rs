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
//!
//! Between two steps the run also takes hand steering ([`super::steer`]): at the next
//! P update, or at once while paused, the edit is applied to the Z of the moment, P is
//! recomputed from the edited state and the collapse guard measures from its sizes.

use std::sync::Arc;

use super::steer::{LiveReason, LiveState, Steering};
use super::{Ctx, Event, Phase, PipelineError, Poll, Snapshot};
use crate::data::Dataset;
use crate::engine::augment::{Augmenter, Batches};
use crate::engine::autoencoder::{Autoencoder, Mlp};
use crate::engine::config::{DecConfig, Method, OnCollapse, Precision};
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
    /// Clusters at the end.
    pub k: usize,
    /// The run's configuration as steering left it (its k when changed, its pairs).
    pub cfg: DecConfig,
    /// Names, edits in force and the log of the hand steering.
    pub steering: Steering,
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
/// `start`: the cluster's size at DEC's start and when that was ("after k-means",
/// "at the hand edit of DEC step 328").
fn collapse_message(
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

/// Z of all samples and their soft assignments Q (eq. 1:
/// q_ij ∝ (1 + |z_i - mu_j|²/α)^(-(α+1)/2)).
pub(super) fn full_q(
    ds: &Dataset,
    ae: &Autoencoder,
    mu: &[f32],
    k: usize,
    alpha: f32,
) -> (Vec<f32>, Vec<f32>) {
    let z = ae.encode(&ds.x, ds.n);
    let q = q_of(&z, ae.encoder.n_out(), mu, k, alpha);
    (z, q)
}

/// Soft assignments of the `n x e` embeddings `z` (eq. 1).
fn q_of(z: &[f32], e: usize, mu: &[f32], k: usize, alpha: f32) -> Vec<f32> {
    let n = z.len() / e.max(1);
    let mut q = vec![0.0f32; n * k];
    let mut ker = vec![0.0f32; n * k];
    soft_assign(z, mu, e, alpha, &mut q, &mut ker);
    q
}

/// The encoder (and IDEC's decoder, which it trains too) and centroids at the last P
/// update with every cluster healthy.
type Healthy = (Mlp, Option<Mlp>, Vec<f32>);

/// What a P update decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Update {
    /// Train on.
    Go,
    /// Fewer than `tol` of the labels changed.
    Converged,
    /// A cluster collapsed and `on_collapse: stop` restored the last healthy state.
    Collapsed,
    /// The last update (`max_iter` reached).
    Last,
}

/// DEC's bookkeeping between P updates: the target P of every sample, the labels of
/// the last update, the collapse guard and the recent label changes.
struct Tracker {
    k: usize,
    /// DEC steps run before this run (a resumed run numbers its steps from there).
    step0: usize,
    prev: Vec<u32>,
    p_all: Vec<f32>,
    init_sizes: Vec<usize>,
    thresholds: Vec<f64>,
    warned: Vec<bool>,
    healthy: Option<Healthy>,
    recent_changes: Vec<f64>,
    /// IDEC: the sum and count of the batches' reconstruction losses since the last update.
    rec: (f64, usize),
    /// Hand steering changed the clusters: the collapse guard starts again from the
    /// sizes at the next update.
    rebase: bool,
    /// When the sizes the guard measures from were taken, for its messages.
    start: String,
    /// The last update's snapshot (steering's live state shows it).
    last: Option<Arc<Snapshot>>,
}

impl Tracker {
    fn new(labels: Vec<u32>, k: usize, n: usize, fraction: f32, step0: usize) -> Tracker {
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
    fn renumber(&mut self, renumber: &[Option<usize>]) {
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
    fn reshape(&mut self, k: usize, edited: Healthy) {
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
    fn update(
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
        let q = q_of(&z, ae.encoder.n_out(), mu, k, c.alpha);
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
    fn record(
        &mut self,
        it: usize,
        loss: f32,
        changed: f64,
        s: Option<crate::engine::metrics::Scores>,
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
    fn warn_collapses(
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
    fn not_converged(
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

/// The constrained samples beside each batch: their pairs for the next step and their
/// input rows (see [`crate::engine::constraints`]).
struct Guide {
    batches: PairBatches,
    rng: rand_chacha::ChaCha8Rng,
    batch: crate::engine::constraints::PairBatch,
    x: Vec<f32>,
    weight: f32,
}

impl Guide {
    /// `None` when the run has no constraints.
    fn new(cfg: &DecConfig) -> Option<Guide> {
        let g = &cfg.constraints;
        (!g.is_empty()).then(|| Guide {
            batches: PairBatches::new(&g.pairs, MAX_PAIR_ROWS),
            rng: Stream::Constraints.rng(cfg.seed),
            batch: Default::default(),
            x: Vec::new(),
            weight: g.weight,
        })
    }

    /// The next step's pairs and their samples' rows of `ds`.
    fn next(&mut self, ds: &Dataset) -> StepPairs<'_> {
        self.batch = self.batches.next(&mut self.rng);
        self.x.clear();
        for &r in &self.batch.rows {
            self.x.extend_from_slice(&ds.x[r * ds.d..(r + 1) * ds.d]);
        }
        StepPairs {
            x: &self.x,
            batch: &self.batch,
            weight: self.weight,
        }
    }
}

/// What one DEC step needs besides the model: the step's buffers, the optimizer, the
/// batch's targets and the constrained samples.
struct Trainer {
    stepper: DecStep,
    opt: Optimizer,
    /// The batch's rows of P.
    pb: Vec<f32>,
    guide: Option<Guide>,
    idec: bool,
    k: usize,
}

impl Trainer {
    /// New step buffers for `k` clusters and the configuration's pairs; the optimizer
    /// keeps its state (the centroids' moments start again when their count changes).
    fn reshape(&mut self, cfg: &DecConfig, ae: &Autoencoder, k: usize, bsz: usize) {
        let opt = std::mem::replace(&mut self.opt, Optimizer::new(cfg.cluster.optimizer));
        *self = Trainer {
            opt,
            ..Trainer::new(cfg, ae, k, bsz)
        };
    }

    fn new(cfg: &DecConfig, ae: &Autoencoder, k: usize, bsz: usize) -> Trainer {
        let c = &cfg.cluster;
        let idec = cfg.method == Method::Idec;
        let guide = Guide::new(cfg);
        let bf16 = cfg.precision.resolved() == Precision::Bf16;
        let mut stepper = DecStep::new(&ae.encoder, k, c.alpha, bsz).with_bf16(bf16);
        if idec {
            stepper = stepper.with_decoder(&ae.decoder, bsz, c.idec_gamma);
        }
        if let Some(g) = &guide {
            stepper = stepper.with_pair_rows(&ae.encoder, bsz, g.batches.max_rows());
        }
        Trainer {
            stepper,
            opt: Optimizer::new(c.optimizer),
            pb: vec![0.0f32; bsz * k],
            guide,
            idec,
            k,
        }
    }

    /// One SGD step on KL(P‖Q) (eqs. 4-5) for the encoder and the centroids, plus the
    /// reconstruction term for IDEC and the pair loss for constraints.
    fn step(
        &mut self,
        ae: &mut Autoencoder,
        mu: &mut [f32],
        batch: &crate::engine::augment::Batch,
        p_all: &[f32],
        ds: &Dataset,
        rng: &mut rand_chacha::ChaCha8Rng,
    ) -> crate::engine::dec::StepLoss {
        let k = self.k;
        for (r, &i) in batch.idx.iter().enumerate() {
            self.pb[r * k..(r + 1) * k].copy_from_slice(&p_all[i * k..(i + 1) * k]);
        }
        let pairs = self.guide.as_mut().map(|g| g.next(ds));
        let decoder = self.idec.then_some(&mut ae.decoder);
        self.stepper.step(
            &mut ae.encoder,
            decoder,
            mu,
            &mut self.opt,
            &batch.x,
            &self.pb,
            batch.idx.len(),
            pairs,
            rng,
        )
    }
}

/// The state of a DEC run between steps: the model, the step's machinery, the
/// bookkeeping between P updates and the hand steering, with the configuration as
/// steering left it (`cfg`: its k and its pairs).
struct Dec<'d> {
    ds: &'d Dataset,
    cfg: DecConfig,
    ae: Autoencoder,
    mu: Vec<f32>,
    k: usize,
    bsz: usize,
    trainer: Trainer,
    t: Tracker,
    steering: Steering,
}

impl Dec<'_> {
    /// A P update at DEC step `it` (after taking the steering that waited for it).
    fn update(&mut self, it: usize, ctx: &mut Ctx) -> Result<Update, (usize, f32)> {
        let steered = self.take_steering(it, ctx);
        let (lines, z) = steered.unzip();
        let u = self
            .t
            .update(it, self.ds, &self.cfg, &mut self.ae, &mut self.mu, ctx, z)?;
        if let Some(lines) = lines {
            self.tell(it, LiveReason::Steered(lines), ctx);
        }
        Ok(u)
    }

    /// Apply the steering received so far to the live state: its lines and the Z it
    /// was applied on (`None`: there was none).
    fn take_steering(&mut self, it: usize, ctx: &mut Ctx) -> Option<(Vec<String>, Vec<f32>)> {
        let cmds = ctx.ctl.take_steering();
        if cmds.is_empty() {
            return None;
        }
        let e = self.ae.encoder.n_out();
        let z = self.ae.encode(&self.ds.x, self.ds.n);
        let step = self.t.step0 + it;
        let alpha = self.cfg.cluster.alpha;
        let mu_before = self.mu.clone();
        let done = self.steering.apply(
            cmds,
            &mut self.mu,
            e,
            &z,
            alpha,
            step,
            &mut self.cfg.constraints,
        );
        if self.steering.names.len() != self.k {
            // k was "the number of classes" (0) or a number: now it is this one.
            self.k = self.steering.names.len();
            self.cfg.n_clusters = self.k;
        }
        if done.reshaped {
            self.trainer.reshape(&self.cfg, &self.ae, self.k, self.bsz);
        }
        // Only a change of the clusters restarts the collapse guard (a name or new
        // pairs leave it, and its last healthy state, as they were).
        if self.mu != mu_before {
            // The centroids' momentum belonged to the rows as they were: after a merge
            // and a split in one batch (k unchanged) it would drive other clusters.
            self.trainer
                .opt
                .reset_slot(crate::engine::dec::centroid_slot(&self.ae.encoder));
            let idec = self.cfg.method == Method::Idec;
            let edited = (
                self.ae.encoder.clone(),
                idec.then(|| self.ae.decoder.clone()),
                self.mu.clone(),
            );
            self.t.reshape(self.k, edited);
        }
        self.t.renumber(&done.renumber);
        for line in &done.lines {
            ctx.sink
                .event(Event::Message(format!("DEC step {step}: {line}")));
        }
        Some((done.lines, z))
    }

    /// Send the live state (after the update just made, or, on a pause, as it is now).
    fn tell(&mut self, it: usize, reason: LiveReason, ctx: &mut Ctx) {
        let snapshot = match (&reason, &self.t.last) {
            (LiveReason::Steered(_), Some(s)) => s.clone(),
            _ => Arc::new(self.snapshot(it)),
        };
        let e = self.ae.encoder.n_out();
        ctx.sink.event(Event::Live(Arc::new(LiveState {
            step: self.t.step0 + it,
            reason,
            clusters: self.steering.clusters(&self.mu, e),
            snapshot,
            edits: self.steering.marks.clone(),
            can_undo: self.steering.can_undo(),
            can_redo: self.steering.can_redo(),
            pairs: self.cfg.constraints.counts(),
        })));
    }

    /// Z, assignments and scores of the state now.
    fn snapshot(&self, it: usize) -> Snapshot {
        let (z, q) = full_q(self.ds, &self.ae, &self.mu, self.k, self.cfg.cluster.alpha);
        let (labels, conf) = hard_labels(&q, self.k);
        Snapshot {
            phase: Phase::Clustering,
            step: self.t.step0 + it,
            e: self.ae.encoder.n_out(),
            z,
            scores: self.ds.labels.as_deref().map(|t| scores(t, &labels)),
            assignments: Some(labels),
            confidence: Some(conf),
            centroids: Some(self.mu.clone()),
        }
    }

    /// One training step on `batch`; its loss (KL, plus IDEC's and the pairs' terms).
    fn step(
        &mut self,
        batch: &crate::engine::augment::Batch,
        rng: &mut rand_chacha::ChaCha8Rng,
    ) -> f32 {
        let l = self.trainer.step(
            &mut self.ae,
            &mut self.mu,
            batch,
            &self.t.p_all,
            self.ds,
            rng,
        );
        if let Some(r) = l.rec {
            self.t.rec.0 += r as f64;
            self.t.rec.1 += 1;
        }
        l.kl + l.rec.map_or(0.0, |r| r / self.cfg.cluster.idec_gamma) + l.pairs.unwrap_or(0.0)
    }
}

/// How the loop of [`run_dec`] ended.
#[derive(Default)]
struct Ending {
    update: Option<Update>,
    stopped: bool,
    diverged: Option<(usize, f32)>,
    iterations: usize,
}

/// Run DEC from the k-means initialisation `km` on the encoder of `ae` (and, for
/// IDEC, its decoder), on augmented batches when `aug` is given (DEC-DA: P still comes
/// from the clean data), with the configuration's constraints when it has any, and
/// the hand steering that arrives on the control channel (`steer`). A non-finite loss
/// (a step's, or KL(P‖Q) at a P update) ends the run with [`PipelineError::Diverged`],
/// as in pretraining: a NaN embedding would otherwise put every sample in cluster 0
/// and look "converged".
#[allow(clippy::too_many_arguments)]
pub(super) fn run_dec(
    ds: &Dataset,
    cfg: &DecConfig,
    k: usize,
    ae: Autoencoder,
    km: KMeansResult,
    ctx: &mut Ctx,
    aug: Option<Augmenter>,
    steering: Steering,
) -> Result<DecOutcome, PipelineError> {
    let c = &cfg.cluster;
    let bsz = c.batch_size.min(ds.n);
    let mut dec = Dec {
        ds,
        cfg: cfg.clone(),
        trainer: Trainer::new(cfg, &ae, k, bsz),
        t: Tracker::new(km.labels, k, ds.n, c.collapse_fraction, ctx.dec_step0),
        ae,
        mu: km.centroids,
        k,
        bsz,
        steering,
    };
    let step0 = dec.t.step0;
    ctx.phase(Phase::Clustering, step0 + c.max_iter);
    let rng = &mut Stream::Dec.rng(cfg.seed);
    let aug_seed = Stream::Augment(AUGMENT_DEC).seed(cfg.seed);
    let mut end = Ending::default();
    std::thread::scope(|scope| {
        let mut batches = Batches::new(scope, &ds.x, ds.n, bsz, aug, aug_seed);
        for it in 0..=c.max_iter {
            if let Err(ending) = between_steps(&mut dec, it, ctx) {
                end = Ending {
                    iterations: end.iterations,
                    ..ending
                };
                break;
            }
            let Some(batch) = batches.next(rng) else {
                end.stopped = true;
                break;
            };
            let loss = dec.step(batch, rng);
            if !loss.is_finite() {
                end.diverged = Some((step0 + it + 1, loss));
                break;
            }
            end.iterations = it + 1;
            ctx.sink.event(Event::Step {
                phase: Phase::Clustering,
                step: step0 + it + 1,
                total: step0 + c.max_iter,
                loss,
                elapsed_s: ctx.elapsed(),
            });
        }
    });
    finish_dec(dec, end, ctx)
}

/// Before DEC step `it`: the P update when one is due, then pause, resume, stop and
/// steering. `Err` ends the loop (the update's verdict, a stop or a divergence).
fn between_steps(dec: &mut Dec, it: usize, ctx: &mut Ctx) -> Result<(), Ending> {
    let c = &dec.cfg.cluster;
    let mut due = it.is_multiple_of(c.update_interval) || it == c.max_iter;
    loop {
        if due {
            due = false;
            match dec.update(it, ctx) {
                Err(d) => {
                    return Err(Ending {
                        diverged: Some(d),
                        ..Ending::default()
                    });
                }
                Ok(Update::Go) => {}
                Ok(u) => {
                    return Err(Ending {
                        update: Some(u),
                        ..Ending::default()
                    });
                }
            }
        }
        match ctx.ctl.poll() {
            Err(_) => {
                return Err(Ending {
                    stopped: true,
                    ..Ending::default()
                });
            }
            Ok(Poll::Go) => return Ok(()),
            Ok(Poll::Paused) => dec.tell(it, LiveReason::Paused, ctx),
            // Paused with steering: apply it now, with P recomputed from the edit.
            Ok(Poll::Steer) => due = true,
        }
    }
}

/// The outcome of a finished loop: an error for a divergence, else where DEC ended.
fn finish_dec(dec: Dec, end: Ending, ctx: &mut Ctx) -> Result<DecOutcome, PipelineError> {
    if let Some((step, loss)) = end.diverged {
        return Err(PipelineError::Diverged {
            phase: Phase::Clustering.name(),
            step,
            loss,
        });
    }
    let converged = end.update == Some(Update::Converged);
    let stopped_on_collapse = end.update == Some(Update::Collapsed);
    if !converged && !end.stopped && !stopped_on_collapse {
        ctx.warn(dec.t.not_converged(&dec.cfg.cluster, end.iterations));
    }
    Ok(DecOutcome {
        ae: dec.ae,
        mu: dec.mu,
        iterations: end.iterations,
        converged,
        stopped: end.stopped,
        stopped_on_collapse,
        k: dec.k,
        cfg: dec.cfg,
        steering: dec.steering,
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
