//! The one DEC training pipeline that the command line and the app both run:
//! (k-means baseline) -> layer-wise pretraining -> fine-tuning -> k-means on Z -> DEC.
//!
//! It talks to its caller only through typed [`Event`]s sent to a [`Sink`] and a
//! [`Control`] handle checked between batches (pause, resume, stop), so the same code
//! drives a progress bar in a terminal and live plots in a window.

use std::sync::Arc;
use std::time::Instant;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::autoencoder::{Autoencoder, Mlp};
use crate::config::{ConfigError, DecConfig};
use crate::data::Dataset;
use crate::dec::{DecStep, hard_labels, kl_divergence, soft_assign, target_distribution};
use crate::kmeans::{KMeansParams, kmeans_interruptible};
use crate::metrics::{Confusion, Scores, scores};
use crate::model::DecModel;
use crate::optim::Optimizer;
use crate::report::{Baselines, Final, HistoryEntry, Report, Timing};

/// Stages of a run, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    Baseline,
    /// Layer-wise denoising pretraining of encoder/decoder pair `n` (0-based).
    PretrainLayer(usize),
    Finetune,
    KMeans,
    Clustering,
    Done,
}

impl Phase {
    /// What the phase is doing, for progress displays (the CLI's bars, the app's panel).
    pub fn label(&self) -> String {
        match self {
            Phase::Baseline => "k-means on input".into(),
            Phase::PretrainLayer(l) => format!("pretrain layer {}", l + 1),
            Phase::Finetune => "pretrain autoencoder".into(),
            Phase::KMeans => "k-means on Z".into(),
            Phase::Clustering => "DEC clustering".into(),
            Phase::Done => "done".into(),
        }
    }

    /// Short name, as used in the history.
    pub fn name(&self) -> String {
        match self {
            Phase::Baseline => "baseline".into(),
            Phase::PretrainLayer(l) => format!("pretrain_layer_{}", l + 1),
            Phase::Finetune => "finetune".into(),
            Phase::KMeans => "kmeans".into(),
            Phase::Clustering => "dec".into(),
            Phase::Done => "done".into(),
        }
    }
}

/// A picture of the model's state for live views.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub phase: Phase,
    pub step: usize,
    /// Embedding of every sample, `n x e`.
    pub z: Vec<f32>,
    pub e: usize,
    /// Cluster of each sample and its q (after k-means has run).
    pub assignments: Option<Vec<u32>>,
    pub confidence: Option<Vec<f32>>,
    /// `k x e` centroids (after k-means has run).
    pub centroids: Option<Vec<f32>>,
    pub scores: Option<Scores>,
}

/// What the pipeline reports while it runs.
#[derive(Clone, Debug)]
pub enum Event {
    /// A phase begins; `total` iterations (0 when not counted in iterations).
    Phase {
        phase: Phase,
        total: usize,
    },
    /// One iteration done.
    Step {
        phase: Phase,
        step: usize,
        total: usize,
        loss: f32,
        elapsed_s: f64,
    },
    /// A pretraining epoch or a P update ended.
    History(HistoryEntry),
    /// A baseline was scored.
    Baseline {
        name: &'static str,
        scores: Scores,
    },
    Snapshot(Arc<Snapshot>),
    /// Pretraining finished: the autoencoder, for callers that cache it.
    Pretrained(Arc<Autoencoder>),
    /// Free text worth showing (e.g. "autoencoder loaded from cache").
    Message(String),
}

/// Receives the pipeline's events.
pub trait Sink {
    fn event(&mut self, e: Event);
    /// Whether a snapshot (which costs a pass over all data) is wanted now.
    fn wants_snapshot(&mut self) -> bool {
        false
    }
}

/// A sink that drops everything (for tests and scripted use).
pub struct NullSink;
impl Sink for NullSink {
    fn event(&mut self, _: Event) {}
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunState {
    Running,
    Paused,
    Stopped,
}

/// A command to a running pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Pause,
    Resume,
    Stop,
}

/// The sending side of a pipeline's command channel, held by the GUI (cheap to clone).
#[derive(Clone, Debug)]
pub struct Controller(crossbeam_channel::Sender<Command>);

impl Controller {
    pub fn send(&self, c: Command) {
        // The pipeline may have finished already; then there is nothing to control.
        let _ = self.0.send(c);
    }
    pub fn pause(&self) {
        self.send(Command::Pause);
    }
    pub fn resume(&self) {
        self.send(Command::Resume);
    }
    pub fn stop(&self) {
        self.send(Command::Stop);
    }
}

/// The receiving side, owned by the running pipeline and checked between batches.
/// `Control::default()` is never paused or stopped (the command line uses it).
#[derive(Debug)]
pub struct Control {
    rx: Option<crossbeam_channel::Receiver<Command>>,
    state: std::cell::Cell<RunState>,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            rx: None,
            state: std::cell::Cell::new(RunState::Running),
        }
    }
}

/// A connected controller and control.
pub fn control_channel() -> (Controller, Control) {
    let (tx, rx) = crossbeam_channel::unbounded();
    (
        Controller(tx),
        Control {
            rx: Some(rx),
            state: std::cell::Cell::new(RunState::Running),
        },
    )
}

impl Control {
    fn apply(&self, c: Command) {
        if self.state.get() == RunState::Stopped {
            return;
        }
        self.state.set(match c {
            Command::Pause => RunState::Paused,
            Command::Resume => RunState::Running,
            Command::Stop => RunState::Stopped,
        });
    }

    /// Apply pending commands; block while paused; `Err(Stopped)` once stopped (or
    /// once the controller is gone, e.g. the window closed).
    pub fn checkpoint(&self) -> Result<(), PipelineError> {
        if let Some(rx) = &self.rx {
            loop {
                match rx.try_recv() {
                    Ok(c) => self.apply(c),
                    Err(crossbeam_channel::TryRecvError::Empty) => break,
                    Err(crossbeam_channel::TryRecvError::Disconnected) => {
                        self.state.set(RunState::Stopped);
                        break;
                    }
                }
            }
            while self.state.get() == RunState::Paused {
                match rx.recv() {
                    Ok(c) => self.apply(c),
                    Err(_) => self.state.set(RunState::Stopped),
                }
            }
        }
        if self.state.get() == RunState::Stopped {
            Err(PipelineError::Stopped)
        } else {
            Ok(())
        }
    }
}

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
}

/// Where the autoencoder of a run comes from.
pub enum AeSource {
    /// Pretrain from scratch with the configuration's schedule.
    Pretrain,
    /// Use this one and skip pretraining (`--init-from`, the app's cache or bundled asset).
    Given(Autoencoder, String),
}

struct Ctx<'a> {
    sink: &'a mut dyn Sink,
    ctl: &'a Control,
    start: Instant,
    history: Vec<HistoryEntry>,
}

impl Ctx<'_> {
    fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
    fn record(&mut self, h: HistoryEntry) {
        self.history.push(h.clone());
        self.sink.event(Event::History(h));
    }
}

/// Train an MLP to reconstruct its input: `iters` batches of `batch` rows from `x`.
#[allow(clippy::too_many_arguments)]
fn train_reconstruction(
    mlp: &mut Mlp,
    x: &[f32],
    n: usize,
    iters: usize,
    dropout: &[f32],
    cfg: &DecConfig,
    phase: Phase,
    rng: &mut ChaCha8Rng,
    ctx: &mut Ctx,
    z_of: &dyn Fn(&Mlp) -> Option<Vec<f32>>,
) -> Result<(), PipelineError> {
    let p = &cfg.pretrain;
    let d = mlp.n_in();
    let bsz = p.batch_size.min(n);
    let mut ws = mlp.workspace(bsz);
    let mut opt = Optimizer::new(p.optimizer);
    let mut order: Vec<usize> = (0..n).collect();
    let mut pos = n;
    let mut xb = vec![0.0f32; bsz * d];
    let mut grad = vec![0.0f32; bsz * d];
    let steps_per_epoch = n.div_ceil(bsz);
    let (mut epoch_loss, mut epoch_steps) = (0.0f64, 0usize);
    ctx.sink.event(Event::Phase {
        phase,
        total: iters,
    });
    for it in 0..iters {
        ctx.ctl.checkpoint()?;
        if let Some(k) = it.checked_div(p.lr_step) {
            opt.lr = p.optimizer.lr() / p.lr_gamma.powi(k as i32);
        }
        if pos >= n {
            order.shuffle(rng);
            pos = 0;
        }
        let b = bsz.min(n - pos);
        for (r, &i) in order[pos..pos + b].iter().enumerate() {
            xb[r * d..(r + 1) * d].copy_from_slice(&x[i * d..(i + 1) * d]);
        }
        pos += b;
        let loss = mlp.reconstruction_step(&xb, b, dropout, &mut ws, &mut opt, &mut grad, rng);
        if !loss.is_finite() {
            return Err(PipelineError::Diverged {
                phase: phase.name(),
                step: it,
                loss,
            });
        }
        epoch_loss += loss as f64;
        epoch_steps += 1;
        ctx.sink.event(Event::Step {
            phase,
            step: it + 1,
            total: iters,
            loss,
            elapsed_s: ctx.elapsed(),
        });
        if (it + 1) % steps_per_epoch == 0 || it + 1 == iters {
            let h = HistoryEntry {
                phase: phase.name(),
                step: it + 1,
                loss: (epoch_loss / epoch_steps as f64) as f32,
                acc: None,
                nmi: None,
                ari: None,
                changed: None,
                elapsed_s: ctx.elapsed(),
            };
            ctx.record(h);
            (epoch_loss, epoch_steps) = (0.0, 0);
            if ctx.sink.wants_snapshot()
                && let Some(z) = z_of(mlp)
            {
                let e = z.len() / n.max(1);
                ctx.sink.event(Event::Snapshot(Arc::new(Snapshot {
                    phase,
                    step: it + 1,
                    z,
                    e,
                    assignments: None,
                    confidence: None,
                    centroids: None,
                    scores: None,
                })));
            }
        }
    }
    Ok(())
}

/// Pretrain the autoencoder: layer-wise denoising stage (if configured), then
/// end-to-end fine-tuning. Returns (layer-wise seconds, fine-tune seconds).
fn pretrain(
    ae: &mut Autoencoder,
    ds: &Dataset,
    cfg: &DecConfig,
    rng: &mut ChaCha8Rng,
    ctx: &mut Ctx,
) -> Result<(f64, f64), PipelineError> {
    let t0 = Instant::now();
    let n_layers = ae.encoder.layers.len();
    let p = cfg.pretrain.dropout;
    if cfg.pretrain.layerwise_iters > 0 {
        for l in 0..n_layers {
            // Input of pair l: the data through the (already trained) first l encoder layers.
            let h = if l == 0 {
                ds.x.clone()
            } else {
                Mlp {
                    layers: ae.encoder.layers[..l].to_vec(),
                }
                .predict(&ds.x, ds.n)
            };
            let dec_idx = n_layers - 1 - l;
            let mut pair = Mlp {
                layers: vec![
                    ae.encoder.layers[l].clone(),
                    ae.decoder.layers[dec_idx].clone(),
                ],
            };
            let enc_prefix = ae.encoder.layers[..l].to_vec();
            let z_of = |m: &Mlp| {
                // Embedding so far: encoder up to and including this pair's encoder.
                let mut layers = enc_prefix.clone();
                layers.push(m.layers[0].clone());
                Some(Mlp { layers }.predict(&ds.x, ds.n))
            };
            train_reconstruction(
                &mut pair,
                &h,
                ds.n,
                cfg.pretrain.layerwise_iters,
                &[p, p],
                cfg,
                Phase::PretrainLayer(l),
                rng,
                ctx,
                &z_of,
            )?;
            let mut it = pair.layers.into_iter();
            if let (Some(e), Some(d)) = (it.next(), it.next()) {
                ae.encoder.layers[l] = e;
                ae.decoder.layers[dec_idx] = d;
            }
        }
    }
    let layerwise_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let finetune_iters = cfg.finetune_iters_for(ds.n);
    if finetune_iters > 0 {
        let n_enc = n_layers;
        let mut whole = ae.joined();
        let z_of = |m: &Mlp| {
            Some(
                Mlp {
                    layers: m.layers[..n_enc].to_vec(),
                }
                .predict(&ds.x, ds.n),
            )
        };
        let r = train_reconstruction(
            &mut whole,
            &ds.x,
            ds.n,
            finetune_iters,
            &[],
            cfg,
            Phase::Finetune,
            rng,
            ctx,
            &z_of,
        );
        ae.split(whole);
        r?;
    }
    Ok((layerwise_s, t1.elapsed().as_secs_f64()))
}

/// Run DEC on `ds` end to end.
pub fn run(
    ds: &Dataset,
    cfg: &DecConfig,
    source: AeSource,
    sink: &mut dyn Sink,
    ctl: &Control,
) -> Result<RunOutput, PipelineError> {
    let n_classes = ds.n_classes();
    cfg.validate(ds.n, n_classes)?;
    crate::linalg::flush_subnormals();
    let k = cfg.clusters_for(n_classes);
    let mut ctx = Ctx {
        sink,
        ctl,
        start: Instant::now(),
        history: Vec::new(),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut timing = Timing::default();
    let mut baselines = Baselines::default();
    let truth = ds.labels.as_deref();
    let km_params = |seed: u64| KMeansParams {
        n_init: cfg.cluster.kmeans_n_init,
        seed,
        ..KMeansParams::new(k)
    };

    // Paper's baseline 1: k-means on the input.
    if cfg.baselines
        && let Some(t) = truth
    {
        ctx.sink.event(Event::Phase {
            phase: Phase::Baseline,
            total: 0,
        });
        let t0 = Instant::now();
        let stop = || ctx.ctl.checkpoint().is_err();
        let km = kmeans_interruptible(&ds.x, ds.d, &km_params(cfg.seed ^ 0x6b6d), &stop)
            .ok_or(PipelineError::Stopped)?;
        let s = scores(t, &km.labels);
        baselines.kmeans_input = Some(s);
        ctx.sink.event(Event::Baseline {
            name: "k-means on input",
            scores: s,
        });
        timing.baseline_s = t0.elapsed().as_secs_f64();
        ctx.ctl.checkpoint()?;
    }

    // The autoencoder.
    let (mut ae, ae_source) = match source {
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
            (ae, label)
        }
        AeSource::Pretrain => {
            let mut dims = vec![ds.d];
            dims.extend(&cfg.hidden);
            let mut ae = Autoencoder::new(&dims, cfg.seed);
            let (lw, ft) = pretrain(&mut ae, ds, cfg, &mut rng, &mut ctx)?;
            timing.pretrain_s = lw;
            timing.finetune_s = ft;
            ctx.sink.event(Event::Pretrained(Arc::new(ae.clone())));
            (ae, "pretrained".to_string())
        }
    };

    // Baseline 2 and DEC's initialisation: k-means on Z.
    ctx.sink.event(Event::Phase {
        phase: Phase::KMeans,
        total: 0,
    });
    let t0 = Instant::now();
    let e = ae.encoder.n_out();
    let z = ae.encode(&ds.x, ds.n);
    let stop = || ctx.ctl.checkpoint().is_err();
    let km = kmeans_interruptible(&z, e, &km_params(cfg.seed ^ 0x7a), &stop)
        .ok_or(PipelineError::Stopped)?;
    timing.kmeans_s = t0.elapsed().as_secs_f64();
    if let Some(t) = truth {
        let s = scores(t, &km.labels);
        baselines.ae_kmeans = Some(s);
        ctx.sink.event(Event::Baseline {
            name: "AE + k-means",
            scores: s,
        });
    }
    ctx.ctl.checkpoint()?;

    // DEC.
    let t0 = Instant::now();
    let c = &cfg.cluster;
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
    ctx.sink.event(Event::Phase {
        phase: Phase::Clustering,
        total: c.max_iter,
    });
    let full_q = |ae: &Autoencoder, mu: &[f32]| {
        let z = ae.encode(&ds.x, ds.n);
        let mut q = vec![0.0f32; ds.n * k];
        let mut ker = vec![0.0f32; ds.n * k];
        soft_assign(&z, mu, e, c.alpha, &mut q, &mut ker);
        (z, q)
    };
    for it in 0..=c.max_iter {
        if it % c.update_interval == 0 || it == c.max_iter {
            let (z, q) = full_q(&ae, &mu);
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
            order.shuffle(&mut rng);
            pos = 0;
        }
        let b = bsz.min(ds.n - pos);
        for (r, &i) in order[pos..pos + b].iter().enumerate() {
            xb[r * d..(r + 1) * d].copy_from_slice(ds.row(i));
            pb[r * k..(r + 1) * k].copy_from_slice(&p_all[i * k..(i + 1) * k]);
        }
        pos += b;
        let loss = stepper.step(&mut ae.encoder, &mut mu, &mut opt, &xb, &pb, b, &mut rng);
        iterations = it + 1;
        ctx.sink.event(Event::Step {
            phase: Phase::Clustering,
            step: it + 1,
            total: c.max_iter,
            loss,
            elapsed_s: ctx.elapsed(),
        });
    }
    timing.dec_s = t0.elapsed().as_secs_f64();

    // Final assignment.
    let (z, q) = full_q(&ae, &mu);
    let (assignments, confidence) = hard_labels(&q, k);
    let s = truth.map(|t| scores(t, &assignments));
    let mut sizes = vec![0usize; k];
    assignments.iter().for_each(|&a| sizes[a as usize] += 1);
    timing.total_s = ctx.elapsed();
    ctx.sink.event(Event::Phase {
        phase: Phase::Done,
        total: 0,
    });
    {
        ctx.sink.event(Event::Snapshot(Arc::new(Snapshot {
            phase: Phase::Done,
            step: iterations,
            z: z.clone(),
            e,
            assignments: Some(assignments.clone()),
            confidence: Some(confidence.clone()),
            centroids: Some(mu.clone()),
            scores: s,
        })));
    }
    let report = Report {
        decscope_version: env!("CARGO_PKG_VERSION").to_string(),
        dataset: ds.info(),
        config: cfg.clone(),
        autoencoder_source: ae_source,
        baselines,
        final_: Final {
            acc: s.map(|s| s.acc),
            nmi: s.map(|s| s.nmi),
            nmi_geometric: s.map(|s| s.nmi_geometric),
            ari: s.map(|s| s.ari),
            iterations,
            converged,
            stopped,
            n_clusters: k,
            cluster_sizes: sizes,
        },
        confusion: truth.map(|t| Confusion::new(t, &assignments)),
        history: std::mem::take(&mut ctx.history),
        timing,
    };
    let model = DecModel {
        ae,
        centroids: mu,
        alpha: c.alpha,
        config: cfg.clone(),
        dataset: ds.info(),
    };
    Ok(RunOutput {
        report,
        model,
        assignments,
        confidence,
        z,
    })
}
