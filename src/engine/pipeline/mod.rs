//! The one DEC training pipeline that the command line and the app both run, in
//! phases a reader can find by name:
//! [`baseline`] (k-means on the input) -> [`pretrain`] (layer-wise, then fine-tuning)
//! -> [`starts`] (k-means on Z, or its spectral clusters; with `start: auto`, DEC from
//! both and the start check keeps one) -> [`cluster`] (DEC: KL(P‖Q) by SGD) ->
//! [`correct`] (with `self_correct`: mend a split-and-merge failure in the pretrained Z
//! and run DEC again) -> [`finish`] (final assignment and report).
//!
//! It talks to its caller only through typed [`Event`]s sent to a [`Sink`] and a
//! [`Control`] handle checked between batches (pause, resume, stop), so the same code
//! drives a progress bar in a terminal and live plots in a window.
//!
//! May use: every room of the engine and the run's files beside it; the rooms never
//! use it. Its files: `pretrain`, `starts`, `cluster` (the DEC loop), `tracker`
//! (convergence and the collapse guard), `correct`, `events`, `control`.

mod cluster;
mod control;
mod correct;
mod events;
mod pretrain;
pub mod settle;
mod starts;
mod tracker;

use std::sync::Arc;
use std::time::Instant;

pub use crate::engine::curation::record::CorrectionRound;
pub use crate::engine::curation::record::SteerMark;
pub use crate::engine::curation::steering::Steer;
pub use crate::engine::report::SettleCheck;
pub use control::{Command, Control, Controller, Poll, control_channel};
pub use events::{
    Event, KPoint, LiveReason, LiveState, NullSink, Phase, RetainRow, Sink, Snapshot, SweepEvent,
};
pub use starts::{CATCH_UP, KMEANS_MARGIN};

use crate::data::Dataset;
use crate::engine::cluster::assign::hard_labels;
use crate::engine::cluster::constraints::satisfied;
use crate::engine::cluster::kmeans::{KMeansParams, KMeansResult, kmeans_interruptible};
use crate::engine::cluster::metrics::{Confusion, scores};
use crate::engine::config::{ConfigError, DecConfig, Start};
use crate::engine::curation::edit::kept_names;
use crate::engine::curation::record::{Curation, EditMark};
use crate::engine::curation::steering::Steering;
use crate::engine::model::DecModel;
use crate::engine::nn::autoencoder::Autoencoder;
use crate::engine::report::{
    Baselines, Final, HistoryEntry, Report, Resumed, RunWarning, Timing, WarningKind,
};
use crate::engine::streams::Stream;

/// Why a run ended without a result.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("stopped by the user")]
    Stopped,
    #[error(
        "the initial autoencoder takes {got} inputs but the data has {want} features; pretrain a new one or pick the matching data"
    )]
    InitMismatch { got: usize, want: usize },
    #[error(transparent)]
    Augment(#[from] crate::engine::nn::augment::AugmentError),
    #[error(
        "every one of the {n} {what} of {name} is identical: there is nothing to cluster; check that the features are the columns you meant (--label-col, --text-col) and that the file is not constant"
    )]
    NothingToCluster {
        n: usize,
        /// "rows", or "documents" for text.
        what: &'static str,
        name: String,
    },
    #[error("internal error: {0}")]
    Worker(String),
    #[error(
        "training diverged in {phase} at step {step} (loss is {loss}); lower the learning rate or check the data's scale"
    )]
    Diverged {
        phase: String,
        step: usize,
        loss: f32,
    },
}

/// What a finished run hands back.
#[derive(Clone, Debug)]
pub struct RunOutput {
    pub report: Report,
    pub model: DecModel,
    pub assignments: Vec<u32>,
    pub confidence: Vec<f32>,
    pub z: Vec<f32>,
    /// With self-correction that kept a round: DEC's outcome before its first round
    /// (its report the run's, with that outcome's final block), so that a caller can
    /// show what self-correction changed and take it back.
    pub uncorrected: Option<Box<RunOutput>>,
}

/// Where the autoencoder of a run comes from.
pub enum AeSource {
    /// Pretrain from scratch with the configuration's schedule.
    Pretrain,
    /// Use this one and skip pretraining (`--init-from`, the app's cache or bundled asset).
    Given(Autoencoder, String),
    /// Go on from a DEC state (`--init-from DIR --resume`, the app's Resume): its
    /// encoder and its (perhaps hand-edited) centroids; no pretraining, no k-means.
    Resume(Box<Resume>),
}

/// A DEC state to go on from.
#[derive(Clone, Debug)]
pub struct Resume {
    pub ae: Autoencoder,
    /// Where it came from, for the report ("init-from DIR").
    pub label: String,
    /// `k x e` centroids and the clusters' names.
    pub clusters: crate::engine::curation::edit::ClusterState,
    /// DEC steps already run (the history goes on from there).
    pub step: usize,
    /// Every hand edit of the state's past, each with the DEC step it was made at;
    /// those at `step` were made since DEC last ran.
    pub marks: Vec<EditMark>,
}

impl Resume {
    /// The state of a saved model, its pending edits included.
    pub fn from_model(m: &DecModel, label: String) -> Resume {
        let clusters = m.cluster_state();
        Resume {
            ae: m.ae.clone(),
            label,
            clusters,
            step: m.curation.dec_steps,
            marks: m.curation.edits.clone(),
        }
    }

    /// The edits made since DEC last ran.
    pub fn edits(&self) -> Vec<crate::engine::curation::edit::Edit> {
        let c = Curation {
            names: Vec::new(),
            edits: self.marks.clone(),
            dec_steps: self.step,
        };
        c.pending()
    }
}

/// What every phase shares: where events go, the control handle, the clock, the
/// history so far, the phase timings and the baselines.
struct Ctx<'a> {
    sink: &'a mut dyn Sink,
    ctl: &'a Control,
    start: Instant,
    history: Vec<HistoryEntry>,
    timing: Timing,
    baselines: Baselines,
    warnings: Vec<RunWarning>,
    /// DEC steps run before this run (a resumed run numbers its steps from there).
    dec_step0: usize,
    /// The self-correction's rounds so far.
    corrections: Vec<CorrectionRound>,
    /// The start check, when it ran (`starts`).
    start_check: Option<crate::engine::report::StartCheck>,
    /// While the start check runs: the pretrained Z's graph, on which each P update's
    /// labels are scored.
    start_watch: Option<starts::StartWatch>,
    /// Pretraining's settle checks, and the step it stopped at on them.
    settle: Vec<SettleCheck>,
    settled_at: Option<usize>,
}

impl<'a> Ctx<'a> {
    fn new(sink: &'a mut dyn Sink, ctl: &'a Control) -> Ctx<'a> {
        Ctx {
            sink,
            ctl,
            start: Instant::now(),
            history: Vec::new(),
            timing: Timing::default(),
            baselines: Baselines::default(),
            warnings: Vec::new(),
            dec_step0: 0,
            corrections: Vec::new(),
            start_check: None,
            start_watch: None,
            settle: Vec::new(),
            settled_at: None,
        }
    }
    fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
    fn record(&mut self, h: HistoryEntry) {
        self.history.push(h.clone());
        self.sink.event(Event::History(h));
    }
    fn phase(&mut self, phase: Phase, total: usize) {
        self.sink.event(Event::Phase { phase, total });
    }
    fn warn(&mut self, w: RunWarning) {
        self.warnings.push(w.clone());
        self.sink.event(Event::Warning(w));
    }
}

/// Run DEC on `ds` end to end: the phases below, in order.
pub fn run(
    ds: &Dataset,
    cfg: &DecConfig,
    source: AeSource,
    sink: &mut dyn Sink,
    ctl: &Control,
) -> Result<RunOutput, PipelineError> {
    let (source, resume) = match source {
        AeSource::Resume(r) => {
            let ae = r.ae.clone();
            (AeSource::Given(ae, r.label.clone()), Some(*r))
        }
        other => (other, None),
    };
    // A resumed run clusters into the (edited) state's k.
    let resumed_cfg;
    let cfg = match &resume {
        Some(r) => {
            resumed_cfg = cfg.clone().with_clusters(r.clusters.k());
            &resumed_cfg
        }
        None => cfg,
    };
    cfg.validate(ds.n, ds.n_classes())?;
    something_to_cluster(ds)?;
    crate::engine::nn::linalg::flush_subnormals();
    let k = cfg.clusters_for(ds.n_classes());
    let mut ctx = Ctx::new(sink, ctl);
    let aug = augmenter(ds, cfg)?;
    if let Some(a) = aug
        && a.shape.height.min(a.shape.width) < crate::engine::nn::augment::DEFAULT_MIN_SIDE
    {
        ctx.sink.event(Event::Message(format!(
            "augmenting {} images: below {} pixels a side augmentation was measured to hurt (8x8 digits: DEC-DA 0.46 ACC against DEC 0.59); compare with a run without it",
            a.shape,
            crate::engine::nn::augment::DEFAULT_MIN_SIDE
        )));
    }
    // Each phase draws from its own stream (`streams`), so skipping pretraining leaves
    // DEC's batches as they were.
    baseline(ds, cfg, k, &mut ctx)?;
    let (ae, ae_source) = autoencoder(ds, cfg, source, &mut ctx, aug)?;
    let (km, kmeans, pretrained) = match &resume {
        Some(r) => (resumed_centroids(ds, cfg, r, &ae, &mut ctx), None, None),
        None => {
            let (start, kmeans, z) = starts::init_centroids(ds, cfg, k, &ae, &mut ctx)?;
            let keep = cfg
                .cluster
                .self_correct
                .then(|| correct::Pretrained { ae: ae.clone(), z });
            (start, kmeans, keep)
        }
    };
    let steering = match &resume {
        Some(r) => Steering::new(r.clusters.names().to_vec(), k, r.marks.clone()),
        None => Steering::new(Vec::new(), k, Vec::new()),
    };
    let t0 = Instant::now();
    let warned = ctx.warnings.len();
    let mut dec = cluster::run_dec(ds, cfg, k, ae, km, &mut ctx, aug, steering)?;
    let mut uncorrected = None;
    if let Some(pre) = pretrained {
        if let Some(kmeans) = kmeans {
            let extra = (aug, warned);
            dec = starts::check_starts(ds, cfg, k, dec, kmeans, &pre, &mut ctx, extra)?;
        }
        (dec, uncorrected) = correct::self_correct(ds, cfg, k, dec, pre, &mut ctx, aug)?;
    }
    ctx.timing.dec_s = t0.elapsed().as_secs_f64();
    if dec.stopped && !ctx.sink.wants_stopped_result() {
        return Err(PipelineError::Stopped);
    }
    let mut out = finish(ds, dec, ae_source, resume, ctx);
    out.uncorrected = uncorrected.map(|u| Box::new(outcome_output(ds, u, &out.report)));
    Ok(out)
}

/// Refuse data whose rows are all the same: there is nothing to cluster.
fn something_to_cluster(ds: &Dataset) -> Result<(), PipelineError> {
    if !all_rows_identical(ds) {
        return Ok(());
    }
    Err(PipelineError::NothingToCluster {
        n: ds.n,
        what: if ds.text.is_some() {
            "documents"
        } else {
            "rows"
        },
        name: ds.name.clone(),
    })
}

/// DEC's start when it goes on from a saved state: the state's centroids, and the
/// hard labels they give (no k-means; the AE + k-means baseline does not apply).
fn resumed_centroids(
    ds: &Dataset,
    cfg: &DecConfig,
    r: &Resume,
    ae: &Autoencoder,
    ctx: &mut Ctx,
) -> KMeansResult {
    ctx.dec_step0 = r.step;
    let (_, q) = cluster::full_q(ds, ae, r.clusters.centroids(), cfg.cluster.alpha);
    let labels = hard_labels(&q, r.clusters.k()).0;
    let (must, cannot) = cfg.constraints.counts();
    ctx.sink.event(Event::Message(format!(
        "DEC goes on from DEC step {} with {} clusters after {} hand edit(s), {must} must-link and {cannot} cannot-link pair(s)",
        r.step,
        r.clusters.k(),
        r.edits().len()
    )));
    KMeansResult {
        centroids: r.clusters.centroids().to_vec(),
        labels,
        inertia: 0.0,
    }
}

/// Whether every row of `ds` equals the first (then no clustering can tell them apart,
/// and DEC would only report a collapse after minutes of pretraining).
fn all_rows_identical(ds: &Dataset) -> bool {
    let Some(first) = ds.x.get(..ds.d) else {
        return true;
    };
    ds.x.chunks_exact(ds.d.max(1)).all(|r| r == first)
}

/// Only the pretraining phases of [`run`]: a new autoencoder for `ds` under `cfg`
/// (for sweeps that share one autoencoder across runs).
pub fn pretrain_autoencoder(
    ds: &Dataset,
    cfg: &DecConfig,
    sink: &mut dyn Sink,
    ctl: &Control,
) -> Result<Autoencoder, PipelineError> {
    crate::engine::nn::linalg::flush_subnormals();
    let aug = augmenter(ds, cfg)?;
    let mut ctx = Ctx::new(sink, ctl);
    autoencoder(ds, cfg, AeSource::Pretrain, &mut ctx, aug).map(|(ae, _)| ae)
}

/// The augmenter the configuration asks for on `ds`, or why `ds` cannot be augmented.
pub fn augmenter(
    ds: &Dataset,
    cfg: &DecConfig,
) -> Result<Option<crate::engine::nn::augment::Augmenter>, PipelineError> {
    Ok(cfg.augment.map(|a| a.for_dataset(ds)).transpose()?)
}

/// k-means with the configured restarts; `None` when the user stopped it.
fn kmeans_on(
    x: &[f32],
    d: usize,
    cfg: &DecConfig,
    k: usize,
    seed: u64,
    ctx: &Ctx,
) -> Result<KMeansResult, PipelineError> {
    let params = KMeansParams {
        n_init: cfg.cluster.kmeans_n_init,
        seed,
        ..KMeansParams::new(k)
    };
    let stop = || ctx.ctl.checkpoint().is_err();
    kmeans_interruptible(x, d, &params, &stop).ok_or(PipelineError::Stopped)
}

/// The paper's first baseline: k-means on the (preprocessed) input, for labelled data.
fn baseline(ds: &Dataset, cfg: &DecConfig, k: usize, ctx: &mut Ctx) -> Result<(), PipelineError> {
    let Some(truth) = ds.labels.as_deref().filter(|_| cfg.baselines) else {
        return Ok(());
    };
    ctx.phase(Phase::Baseline, 0);
    let t0 = Instant::now();
    let km = kmeans_on(&ds.x, ds.d, cfg, k, Stream::KMeansInput.seed(cfg.seed), ctx)?;
    let s = scores(truth, &km.labels);
    ctx.baselines.kmeans_input = Some(s);
    ctx.sink.event(Event::Baseline {
        name: "k-means on input",
        scores: s,
    });
    ctx.timing.baseline_s = t0.elapsed().as_secs_f64();
    ctx.ctl.checkpoint()
}

/// The autoencoder of the run: the one given (checked against the data), or a new one
/// pretrained from scratch. Returns it with a note of where it came from.
fn autoencoder(
    ds: &Dataset,
    cfg: &DecConfig,
    source: AeSource,
    ctx: &mut Ctx,
    aug: Option<crate::engine::nn::augment::Augmenter>,
) -> Result<(Autoencoder, String), PipelineError> {
    match source {
        AeSource::Given(ae, label) => {
            if ae.encoder.n_in() != ds.d {
                return Err(PipelineError::InitMismatch {
                    got: ae.encoder.n_in(),
                    want: ds.d,
                });
            }
            ctx.sink.event(Event::Message(format!(
                "autoencoder from {label}; pretraining skipped"
            )));
            Ok((ae, label))
        }
        AeSource::Resume(r) => autoencoder(ds, cfg, AeSource::Given(r.ae, r.label), ctx, aug),
        AeSource::Pretrain => {
            let mut dims = vec![ds.d];
            dims.extend(&cfg.hidden);
            let mut ae = Autoencoder::new(&dims, Stream::Weights.seed(cfg.seed));
            let mut rng = Stream::Pretrain.rng(cfg.seed);
            let (lw, ft) = pretrain::pretrain(&mut ae, ds, cfg, &mut rng, ctx, aug)?;
            ctx.timing.pretrain_s = lw;
            ctx.timing.finetune_s = ft;
            ctx.sink.event(Event::Pretrained(Arc::new(ae.clone())));
            Ok((ae, "pretrained".to_string()))
        }
    }
}

/// The final assignment of every sample, the last snapshot, the report and the model.
/// The warning of a run that ended more than 0.005 ACC below AE + k-means, its start.
fn below_start(
    s: Option<crate::engine::cluster::metrics::Scores>,
    start: Option<(crate::engine::cluster::metrics::Scores, &str)>,
    step: usize,
) -> Option<RunWarning> {
    let (s, (start, name)) = (s?, start?);
    (s.acc < start.acc - 0.005).then(|| RunWarning {
        kind: WarningKind::BelowStart,
        step,
        cluster: None,
        size: None,
        message: format!(
            "DEC ended below its start: ACC {:.4} against {:.4} for {name}",
            s.acc, start.acc
        ),
    })
}

/// Each class's size and recall under the Hungarian map, with the class's name.
fn per_class(ds: &Dataset, c: &Confusion) -> Vec<crate::engine::cluster::metrics::ClassRecall> {
    let mut r = c.per_class_recall();
    r.iter_mut()
        .for_each(|c| c.name = Some(ds.class_name(c.class as u32)));
    r
}

/// With labels: a warning when DEC ended below the start it was given (AE + spectral
/// or AE + k-means).
fn warn_below_start(
    ctx: &mut Ctx,
    s: Option<crate::engine::cluster::metrics::Scores>,
    step: usize,
) {
    let kept_kmeans = ctx.start_check.as_ref().map(|c| c.kept) == Some(Start::Kmeans);
    let start = match ctx.baselines.ae_spectral {
        Some(sp) if !kept_kmeans => Some((sp, "AE + spectral")),
        _ => ctx.baselines.ae_kmeans.map(|km| (km, "AE + k-means")),
    };
    if let Some(w) = below_start(s, start, step) {
        ctx.warn(w);
    }
}

/// Hand steering during the run may have changed k, the names and the pairs
/// (`dec.cfg`, `dec.steering`).
fn finish(
    ds: &Dataset,
    dec: cluster::DecOutcome,
    ae_source: String,
    resume: Option<Resume>,
    mut ctx: Ctx,
) -> RunOutput {
    let (cfg, k, iterations) = (&dec.cfg, dec.k, dec.iterations);
    let (z, q) = cluster::full_q(ds, &dec.ae, &dec.mu, cfg.cluster.alpha);
    let (assignments, confidence) = hard_labels(&q, k);
    let truth = ds.labels.as_deref();
    let s = truth.map(|t| scores(t, &assignments));
    // Steps as the run's history numbers them (a resumed run goes on from its model's).
    let last_step = ctx.dec_step0 + iterations;
    warn_below_start(&mut ctx, s, last_step);
    ctx.timing.total_s = ctx.elapsed();
    ctx.phase(Phase::Done, 0);
    ctx.sink.event(Event::Snapshot(Arc::new(Snapshot {
        phase: Phase::Done,
        step: last_step,
        z: z.clone(),
        e: dec.ae.encoder.n_out(),
        assignments: Some(assignments.clone()),
        confidence: Some(confidence.clone()),
        centroids: Some(dec.mu.clone()),
        scores: s,
    })));
    let (final_, confusion, per_class) = scored(ds, &dec, s, &assignments);
    let report = Report {
        decscope_version: env!("CARGO_PKG_VERSION").to_string(),
        dataset: ds.info(),
        config: cfg.clone(),
        autoencoder_source: ae_source,
        baselines: ctx.baselines,
        per_class,
        final_,
        confusion,
        history: ctx.history,
        timing: ctx.timing,
        precision: cfg.precision.resolved(),
        bf16_kernel: bf16_kernel(cfg),
        start: resume.is_none().then(|| {
            ctx.start_check
                .as_ref()
                .map_or_else(|| starts::start_of(cfg, ds), |c| c.kept)
        }),
        start_check: ctx.start_check,
        warnings: ctx.warnings,
        resumed: resume.as_ref().map(|r| Resumed {
            from: r.label.clone(),
            step: r.step,
            edits: r.edits(),
        }),
        steered: dec.steering.log.clone(),
        self_correct: ctx.corrections,
        settle: ctx.settle,
        pretrain_stopped_at: ctx.settled_at,
    };
    output_of(ds, dec, report, (assignments, confidence, z), last_step)
}

/// The final block, the confusion matrix and the per-class recall of `assignments`
/// (the last two only with labels).
fn scored(
    ds: &Dataset,
    dec: &cluster::DecOutcome,
    s: Option<crate::engine::cluster::metrics::Scores>,
    assignments: &[u32],
) -> (
    Final,
    Option<Confusion>,
    Vec<crate::engine::cluster::metrics::ClassRecall>,
) {
    let confusion = ds.labels.as_deref().map(|t| Confusion::new(t, assignments));
    let recall = confusion
        .as_ref()
        .map(|c| per_class(ds, c))
        .unwrap_or_default();
    (final_block(dec, s, assignments), confusion, recall)
}

/// A DEC outcome's output under `report`: its model (the curation counting
/// `dec_steps` DEC steps and the report's cluster names) and each row's cluster,
/// confidence and z.
fn output_of(
    ds: &Dataset,
    dec: cluster::DecOutcome,
    report: Report,
    (assignments, confidence, z): (Vec<u32>, Vec<f32>, Vec<f32>),
    dec_steps: usize,
) -> RunOutput {
    let model = DecModel {
        alpha: dec.cfg.cluster.alpha,
        config: dec.cfg,
        dataset: ds.info(),
        curation: Curation {
            names: report.final_.cluster_names.clone(),
            edits: dec.steering.marks,
            dec_steps,
        },
        ae: dec.ae,
        centroids: dec.mu,
        preprocess: ds.fitted.clone(),
        settings: None,
    };
    RunOutput {
        report,
        model,
        assignments,
        confidence,
        z,
        uncorrected: None,
    }
}

/// DEC's outcome before self-correction as a run's output: its assignments, scores
/// and model under the run's `report` (history, baselines and rounds kept).
fn outcome_output(ds: &Dataset, dec: cluster::DecOutcome, report: &Report) -> RunOutput {
    let (z, q) = cluster::full_q(ds, &dec.ae, &dec.mu, dec.cfg.cluster.alpha);
    let (assignments, confidence) = hard_labels(&q, dec.k);
    let s = ds.labels.as_deref().map(|t| scores(t, &assignments));
    let mut report = report.clone();
    (report.final_, report.confusion, report.per_class) = scored(ds, &dec, s, &assignments);
    let steps = report.final_.iterations;
    output_of(ds, dec, report, (assignments, confidence, z), steps)
}

/// The report's final block: scores, the run's end, the clusters' sizes and names (none
/// when no cluster is named) and the share of pairs the assignments satisfy.
fn final_block(
    dec: &cluster::DecOutcome,
    s: Option<crate::engine::cluster::metrics::Scores>,
    assignments: &[u32],
) -> Final {
    let cfg = &dec.cfg;
    let names = &dec.steering.names;
    Final {
        acc: s.map(|s| s.acc),
        nmi: s.map(|s| s.nmi),
        nmi_geometric: s.map(|s| s.nmi_geometric),
        ari: s.map(|s| s.ari),
        iterations: dec.iterations,
        converged: dec.converged,
        stopped: dec.stopped,
        n_clusters: dec.k,
        cluster_sizes: tracker::cluster_sizes(assignments, dec.k),
        stopped_on_collapse: dec.stopped_on_collapse,
        cluster_names: kept_names(names),
        constraints_satisfied: (!cfg.constraints.is_empty())
            .then(|| satisfied(&cfg.constraints.pairs, assignments)),
    }
}

/// The kernel of the bf16 products, where the run's products are bf16.
fn bf16_kernel(cfg: &DecConfig) -> Option<String> {
    if cfg.precision.resolved() != crate::engine::config::Precision::Bf16 {
        return None;
    }
    crate::engine::nn::bf16::kernel().map(|k| k.name().to_owned())
}
