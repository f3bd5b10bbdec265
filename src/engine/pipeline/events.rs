//! What a run tells its caller: the phases, per-step progress, history entries,
//! baselines, snapshots of the embedding and free-text messages.
//!
//! Why typed events: the command line turns them into progress bars and the app into
//! live plots, and neither reaches into the engine's state.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::cluster::metrics::{ClassRecall, Scores};
use crate::engine::curation::edit::ClusterState;
use crate::engine::curation::record::EditMark;
use crate::engine::nn::autoencoder::Autoencoder;
use crate::engine::report::{HistoryEntry, RunWarning};

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
    /// A settle check of end-to-end pretraining (`settle`); also kept in the report.
    Settle(crate::engine::report::SettleCheck),
    /// Something the user should know: a collapsed cluster, no convergence, a result
    /// below its start. Also kept in the report.
    Warning(RunWarning),
    /// Progress of a sweep ([`crate::engine::sweep`]); the runs inside it send their
    /// own events as well.
    Sweep(SweepEvent),
    /// DEC paused, or steering applied: the live state that edits apply to
    /// ([`super::steer`]).
    Live(Arc<LiveState>),
}

/// What a sweep reports between its runs.
#[derive(Clone, Debug)]
pub enum SweepEvent {
    /// The sweep begins: the values it will try, in order.
    Started { values: Vec<String> },
    /// Run `index` (0-based) of the sweep begins.
    RunStarted { index: usize, value: String },
    /// The model a k of the choose-k sweep trained (sent just before its [`KPoint`]),
    /// for callers that keep or check it.
    KModel {
        k: usize,
        model: Arc<crate::engine::model::DecModel>,
    },
    /// A k of the choose-k sweep is done.
    KPoint(KPoint),
    /// A retention rate of the imbalance sweep is done.
    RetainRow(Box<RetainRow>),
}

/// One k of the sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KPoint {
    pub k: usize,
    /// KL(P‖Q) per sample on the training split.
    pub l_train: f64,
    /// KL(P‖Q) per sample on the held-out split.
    pub l_val: f64,
    /// Generalizability `l_train / l_val`.
    pub g: f64,
    /// With labels: DEC's scores on all rows (training and held out).
    pub scores: Option<Scores>,
    /// With labels: k-means on the shared embedding (DEC's start), on the training split.
    pub ae_kmeans: Option<Scores>,
    /// DEC iterations and whether the label changes fell below tol.
    pub iterations: usize,
    pub converged: bool,
    /// The run's warnings (collapse, no convergence).
    pub warnings: Vec<String>,
    pub seconds: f64,
}

/// One retention rate of the imbalance sweep: the paper's three rows and each
/// class's recall.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetainRow {
    pub r_min: f64,
    pub n: usize,
    pub class_sizes: Vec<usize>,
    pub kmeans: Option<Scores>,
    pub ae_kmeans: Option<Scores>,
    pub dec: Option<Scores>,
    pub per_class: Vec<ClassRecall>,
    pub warnings: Vec<String>,
    pub seconds: f64,
}

/// Receives the pipeline's events.
pub trait Sink {
    fn event(&mut self, e: Event);
    /// Whether a snapshot (which costs a pass over all data) is wanted now.
    fn wants_snapshot(&mut self) -> bool {
        false
    }
    /// Whether a run stopped during DEC should still be finished and reported (the
    /// app and `train` show what DEC reached); a sweep says no and ends at once.
    fn wants_stopped_result(&mut self) -> bool {
        true
    }
}

/// A sink that drops everything (for tests and scripted use).
pub struct NullSink;
impl Sink for NullSink {
    fn event(&mut self, _: Event) {}
}

/// Why a [`LiveState`] was sent.
#[derive(Clone, Debug, PartialEq)]
pub enum LiveReason {
    /// The run was paused: this is the state edits will apply to.
    Paused,
    /// Steering was applied (one line per change, or why it was refused).
    Steered(Vec<String>),
}

/// DEC's state as steering sees it: sent when the run pauses and after each change.
#[derive(Clone, Debug)]
pub struct LiveState {
    pub step: usize,
    pub reason: LiveReason,
    /// Centroids and names now.
    pub clusters: ClusterState,
    /// Z, assignments and confidences under `clusters` (always sent, never dropped).
    pub snapshot: Arc<Snapshot>,
    /// The run's edits in force, each with its DEC step.
    pub edits: Vec<EditMark>,
    pub can_undo: bool,
    pub can_redo: bool,
    /// Must-link and cannot-link pairs in force.
    pub pairs: (usize, usize),
}
