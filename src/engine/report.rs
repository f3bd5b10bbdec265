//! The results of a run as one JSON document: dataset, configuration, baselines,
//! final scores, history and timing.

use serde::{Deserialize, Serialize};

use crate::data::DatasetInfo;
use crate::engine::config::DecConfig;
use crate::engine::metrics::{ClassRecall, Confusion, Scores};

/// One point of the training history: a pretraining epoch or a P update of DEC.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// `pretrain_layer_N`, `finetune` or `dec`.
    pub phase: String,
    /// Iteration within the phase.
    pub step: usize,
    /// Reconstruction MSE (pretraining) or KL(P‖Q) over all data (DEC).
    pub loss: f32,
    pub acc: Option<f64>,
    pub nmi: Option<f64>,
    pub ari: Option<f64>,
    /// Fraction of labels that changed since the previous update (DEC only).
    pub changed: Option<f64>,
    /// Seconds since the run started.
    pub elapsed_s: f64,
}

/// ACC, NMI and ARI of a baseline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Baselines {
    /// k-means on the (preprocessed) input.
    pub kmeans_input: Option<Scores>,
    /// k-means on the pretrained autoencoder's embedding ("DEC without backprop").
    pub ae_kmeans: Option<Scores>,
}

/// The end state of the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Final {
    pub acc: Option<f64>,
    pub nmi: Option<f64>,
    pub nmi_geometric: Option<f64>,
    pub ari: Option<f64>,
    /// DEC iterations (batches) run.
    pub iterations: usize,
    /// Whether the label-change tolerance stopped the run (rather than max_iter or a stop).
    pub converged: bool,
    /// Whether the user stopped the run early.
    pub stopped: bool,
    pub n_clusters: usize,
    pub cluster_sizes: Vec<usize>,
    /// Whether a collapsed cluster ended DEC (`on_collapse: stop`); the result is then
    /// the last healthy state.
    #[serde(default)]
    pub stopped_on_collapse: bool,
}

/// What a [`RunWarning`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// A cluster shrank below its collapse threshold or emptied.
    Collapse,
    /// DEC reached `max_iter` with the label changes still above `tol`.
    NotConverged,
    /// With labels: DEC ended with a lower ACC than its AE + k-means start.
    BelowStart,
}

/// Something about a run that its user should know, found without labels except
/// for [`WarningKind::BelowStart`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunWarning {
    pub kind: WarningKind,
    /// DEC iteration (batch) at which it was seen.
    pub step: usize,
    /// The cluster concerned, if one.
    pub cluster: Option<usize>,
    /// Its size then, if a cluster.
    pub size: Option<usize>,
    /// One line for people.
    pub message: String,
}

/// Wall time of each phase, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub baseline_s: f64,
    pub pretrain_s: f64,
    pub finetune_s: f64,
    pub kmeans_s: f64,
    pub dec_s: f64,
    pub total_s: f64,
}

/// Everything a run produced, as written by `--report`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub decscope_version: String,
    pub dataset: DatasetInfo,
    pub config: DecConfig,
    /// Where the autoencoder came from: "pretrained", "init-from <dir>", "cache <dir>".
    pub autoencoder_source: String,
    pub baselines: Baselines,
    #[serde(rename = "final")]
    pub final_: Final,
    pub confusion: Option<Confusion>,
    /// With labels: each class's size and recall under the Hungarian map.
    #[serde(default)]
    pub per_class: Vec<ClassRecall>,
    pub history: Vec<HistoryEntry>,
    pub timing: Timing,
    /// Collapses, a run that did not converge, a result below its start.
    #[serde(default)]
    pub warnings: Vec<RunWarning>,
}

impl Report {
    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}
