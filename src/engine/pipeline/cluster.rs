//! The DEC phase (section 3.1 of the paper): minimise KL(P‖Q) by SGD on the encoder
//! weights and the centroids together, recomputing the target P from all data every
//! `update_interval` batches, until fewer than `tol` of the labels change between two
//! updates.
//!
//! DEC can destroy a good start: on small data a cluster may drain into its
//! neighbours while the loss keeps falling. At every P update this phase checks,
//! without labels, each cluster's size against its collapse threshold
//! (`collapse_fraction` x min(its size after k-means, n/k)); a collapse is reported as
//! a `RunWarning`, and with `on_collapse: stop` (the default) DEC ends with the
//! encoder and centroids of the last update at which every cluster was healthy.
//!
//! Between two steps the run also takes hand steering (`curation::steering`): at the next
//! P update, or at once while paused, the edit is applied to the Z of the moment, P is
//! recomputed from the edited state and the collapse guard measures from its sizes.

use std::sync::Arc;

use super::tracker::{Tracker, Update};
use super::{Ctx, Event, Phase, PipelineError, Poll, Snapshot};
use super::{LiveReason, LiveState};
use crate::data::Dataset;
use crate::engine::cluster::assign::{hard_labels, soft_assignment};
use crate::engine::cluster::constraints::{MAX_PAIR_ROWS, PairBatches};
use crate::engine::cluster::dec::{DecStep, StepPairs};
use crate::engine::cluster::kmeans::KMeansResult;
use crate::engine::cluster::metrics::scores;
use crate::engine::config::{DecConfig, Method, Precision};
use crate::engine::curation::steering::Steering;
use crate::engine::nn::augment::{Augmenter, Batches};
use crate::engine::nn::autoencoder::Autoencoder;
use crate::engine::nn::optim::Optimizer;
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

/// Z of all samples and their soft assignments Q (eq. 1:
/// q_ij ∝ (1 + |z_i - mu_j|²/α)^(-(α+1)/2)).
pub(super) fn full_q(
    ds: &Dataset,
    ae: &Autoencoder,
    mu: &[f32],
    alpha: f32,
) -> (Vec<f32>, Vec<f32>) {
    let z = ae.encode(&ds.x, ds.n);
    let q = soft_assignment(&z, mu, ae.encoder.n_out(), alpha);
    (z, q)
}

/// The constrained samples beside each batch: their pairs for the next step and their
/// input rows (see [`crate::engine::cluster::constraints`]).
struct Guide {
    batches: PairBatches,
    rng: rand_chacha::ChaCha8Rng,
    batch: crate::engine::cluster::constraints::PairBatch,
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
        batch: &crate::engine::nn::augment::Batch,
        p_all: &[f32],
        ds: &Dataset,
        rng: &mut rand_chacha::ChaCha8Rng,
    ) -> crate::engine::cluster::dec::StepLoss {
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
        let step = self.t.step0 + it;
        let lost =
            (ctx.start_watch.as_mut()).is_some_and(|w| w.observe(step, &self.t.prev, self.k));
        Ok(if lost && u == Update::Go {
            Update::Abandoned
        } else {
            u
        })
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
                .reset_slot(crate::engine::cluster::dec::centroid_slot(&self.ae.encoder));
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
        let (z, q) = full_q(self.ds, &self.ae, &self.mu, self.cfg.cluster.alpha);
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
        batch: &crate::engine::nn::augment::Batch,
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
            self.t.add_reconstruction(r);
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
    let abandoned = end.update == Some(Update::Abandoned);
    if !converged && !end.stopped && !stopped_on_collapse && !abandoned {
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
