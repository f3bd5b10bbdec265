//! The results of a run as one JSON document: dataset, configuration, baselines,
//! final scores, history and timing.

use serde::{Deserialize, Serialize};

use crate::data::DatasetInfo;
use crate::engine::cluster::metrics::{ClassRecall, Confusion, Scores};
use crate::engine::config::{DecConfig, Precision, Start};

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
    /// IDEC: the mean reconstruction MSE of the batches since the previous update
    /// (the loss is then KL + rec_loss/γ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rec_loss: Option<f32>,
    /// With constraints: the share of pairs the hard labels satisfy (must-links in one
    /// cluster, cannot-links in two).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints_satisfied: Option<f64>,
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
    /// With `start: spectral`: the spectral clusters of the pretrained Z, DEC's start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ae_spectral: Option<Scores>,
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
    /// The clusters' names (hand edits); empty when none is named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cluster_names: Vec<Option<String>>,
    /// With constraints: the share of pairs the final labels satisfy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints_satisfied: Option<f64>,
}

/// Where a resumed run (`train --init-from DIR --resume`) went on from: the saved
/// model, the DEC step it had reached, and the hand edits made to it since.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resumed {
    pub from: String,
    /// DEC steps before this run; this run's history goes on from there.
    pub step: usize,
    pub edits: Vec<crate::engine::curation::edit::Edit>,
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
    /// The precision the training products ran in (`f32` or `bf16`): what
    /// `config.precision` resolved to on this CPU.
    #[serde(default)]
    pub precision: Precision,
    /// The kernel that ran the bf16 products (`AMX` or `AVX512-BF16`,
    /// [`crate::engine::nn::bf16::kernel`]); absent for f32.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bf16_kernel: Option<String>,
    /// The start DEC took (`kmeans` or `spectral`): what `config.cluster.start`
    /// resolved to (`auto`, see [`Start::resolved`]); absent when DEC went on from a
    /// saved state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Start>,
    /// With `start: auto` and self-correction on images: DEC from both starts and the
    /// one kept (`pipeline::starts`); `start` is the kept one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_check: Option<StartCheck>,
    /// Collapses, a run that did not converge, a result below its start.
    #[serde(default)]
    pub warnings: Vec<RunWarning>,
    /// Set when DEC went on from a saved (and perhaps edited) state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed: Option<Resumed>,
    /// Hand steering applied while DEC ran (the app's edits during a run), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steered: Vec<crate::engine::curation::record::SteerMark>,
    /// The self-correction's rounds (`--self-correct`), each with its evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub self_correct: Vec<crate::engine::curation::record::CorrectionRound>,
    /// Pretraining's settle checks (`settle: watch` or `stop`), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settle: Vec<SettleCheck>,
    /// With `settle: stop`: the end-to-end pretraining step it stopped at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretrain_stopped_at: Option<usize>,
}

/// The start check (`pipeline::starts`): DEC run from the spectral start and from
/// k-means on the pretrained Z, each outcome's modularity on the pretrained Z's
/// neighbour graph, and the start whose outcome the run kept (the higher modularity).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StartCheck {
    pub spectral: StartOutcome,
    pub kmeans: StartOutcome,
    pub kept: Start,
}

impl StartCheck {
    /// The kept start, as messages name it.
    pub fn kept_name(&self) -> &'static str {
        match self.kept {
            Start::Kmeans => "k-means",
            _ => "spectral",
        }
    }

    /// When the k-means phase ended early: a clause that says where and why.
    pub fn early_clause(&self) -> String {
        if !self.kmeans.stopped_early {
            return String::new();
        }
        format!(
            "; DEC from k-means ended early at step {}, its modularity too far below the spectral outcome's to catch up",
            self.kmeans.last_step
        )
    }
}

/// One start's DEC outcome in the start check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StartOutcome {
    /// Modularity of its hard labels on the pretrained Z's 10-nearest-neighbour graph
    /// ([`crate::engine::cluster::graph::Graph::modularity`]).
    pub modularity: f64,
    /// The DEC step its phase ended at (the history's numbering).
    pub last_step: usize,
    /// DEC steps its phase ran.
    pub steps: usize,
    /// With labels: its ACC (labels only score, they choose nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acc: Option<f64>,
    /// The modularity of the hard labels at each P update of its phase, as
    /// `[step, modularity]` (the history's numbering).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub curve: Vec<(usize, f64)>,
    /// The k-means phase ended early: its modularity had fallen so far below the
    /// spectral outcome's that no DEC phase measured rose enough to pass it
    /// (`pipeline::starts::CATCH_UP`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stopped_early: bool,
}

/// One settle check of end-to-end pretraining (`pipeline::settle`), as the report
/// keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettleCheck {
    /// The end-to-end pretraining step it was made after.
    pub step: usize,
    /// The share of the sample in the same cluster as at the last check (best matching
    /// of the two partitions); `None` at the first check.
    pub agreement: Option<f64>,
    /// The share in the same cluster as at the check `settle::LOOKBACK` checks back
    /// (best matching); `None` for the first checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<f64>,
    /// The reconstruction loss of the epoch it ended.
    pub loss: f32,
    /// With labels: ACC of the check's partition of the sample (labels only score).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acc: Option<f64>,
}

/// What the CLI's summary and the app's Steer panel say when self-correction looked and
/// found nothing to mend ([`Report::self_correction_found_nothing`]).
pub const NOTHING_TO_MEND: &str = "self-correction: no split-and-merge failure found at strength 1.1 or more, nor from 1.0 with the pretrained Z's corroboration (nothing changed)";

impl Report {
    /// Whether self-correction ran and made no round: on in the configuration, no
    /// round listed, and not a resumed run (a resume has no start, and self-correction
    /// runs only after a DEC phase from the pretrained encoder).
    pub fn self_correction_found_nothing(&self) -> bool {
        self.config.cluster.self_correct && self.start.is_some() && self.self_correct.is_empty()
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Time to accuracy, read off the run: the first P update of DEC whose ACC reached
    /// `fraction` of the final ACC, as that entry (its step, ACC and seconds since the
    /// run started). `None` without labels or DEC history.
    pub fn time_to_fraction_of_final(&self, fraction: f64) -> Option<&HistoryEntry> {
        let target = self.final_.acc? * fraction;
        self.history
            .iter()
            .filter(|h| h.phase == "dec")
            .find(|h| h.acc.is_some_and(|a| a >= target))
    }

    /// Time to an absolute accuracy: the first P update of DEC whose ACC reached
    /// `level` (e.g. 0.95), as that entry. `None` without labels or when never reached.
    pub fn time_to_accuracy(&self, level: f64) -> Option<&HistoryEntry> {
        time_to_accuracy(&self.history, level)
    }
}

/// The first DEC entry of `history` whose ACC reached `level`.
pub fn time_to_accuracy(history: &[HistoryEntry], level: f64) -> Option<&HistoryEntry> {
    history
        .iter()
        .filter(|h| h.phase == "dec")
        .find(|h| h.acc.is_some_and(|a| a >= level))
}

/// The ACC levels whose time to reach the CLI summary and the app report.
pub const ACC_LEVELS: [f64; 3] = [0.8, 0.9, 0.95];

/// "ACC 0.80 after 12 s (DEC step 140), ..." for each of [`ACC_LEVELS`] the history
/// reached (seconds since the run started); `None` when it reached none.
pub fn time_to_accuracy_line(history: &[HistoryEntry]) -> Option<String> {
    let reached: Vec<String> = ACC_LEVELS
        .iter()
        .filter_map(|&l| {
            let h = time_to_accuracy(history, l)?;
            Some(format!(
                "ACC {l:.2} after {:.0} s (DEC step {})",
                h.elapsed_s, h.step
            ))
        })
        .collect();
    (!reached.is_empty()).then(|| reached.join(", "))
}

#[cfg(test)]
mod tests {
    use super::HistoryEntry;

    fn entry(phase: &str, step: usize, acc: Option<f64>, elapsed_s: f64) -> HistoryEntry {
        HistoryEntry {
            phase: phase.into(),
            step,
            loss: 0.0,
            acc,
            nmi: None,
            ari: None,
            changed: None,
            rec_loss: None,
            constraints_satisfied: None,
            elapsed_s,
        }
    }

    #[test]
    fn time_to_accuracy_is_the_first_dec_update_at_the_fraction() {
        let json = include_str!("../../tests/fixtures/report_min.json");
        let mut r: super::Report = serde_json::from_str(json).unwrap();
        r.final_.acc = Some(0.8);
        r.history = vec![
            entry("finetune", 10, Some(0.9), 5.0),
            entry("dec", 0, Some(0.70), 10.0),
            entry("dec", 140, Some(0.79), 20.0),
            entry("dec", 280, Some(0.78), 30.0),
            entry("dec", 420, Some(0.80), 40.0),
        ];
        // 0.99 x 0.8 = 0.792: not 0.79 (step 140), first 0.80 at step 420, 40 s.
        let h = r.time_to_fraction_of_final(0.99).unwrap();
        assert_eq!((h.step, h.elapsed_s), (420, 40.0));
        // 0.95 x 0.8 = 0.76: step 140; a pretraining entry above it does not count.
        assert_eq!(r.time_to_fraction_of_final(0.95).unwrap().step, 140);
        r.final_.acc = None;
        assert!(r.time_to_fraction_of_final(0.9).is_none());
    }

    #[test]
    fn time_to_an_accuracy_level_skips_pretraining_and_unreached_levels() {
        let h = vec![
            entry("finetune", 10, Some(0.99), 5.0),
            entry("dec", 0, Some(0.79), 10.0),
            entry("dec", 140, Some(0.85), 20.5),
            entry("dec", 280, Some(0.80), 30.0),
            entry("dec", 420, Some(0.91), 40.0),
        ];
        // 0.80 first at step 140 (0.85), 0.90 at step 420, 0.95 never.
        assert_eq!(super::time_to_accuracy(&h, 0.8).unwrap().step, 140);
        assert_eq!(
            super::time_to_accuracy_line(&h).unwrap(),
            "ACC 0.80 after 20 s (DEC step 140), ACC 0.90 after 40 s (DEC step 420)"
        );
        assert!(super::time_to_accuracy_line(&h[..2]).is_none());
    }
}

/// One finished run in one line: what ran (method, augmentation, preset, seed) and
/// what it reached, for the app's table of the session's runs and `train --log`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub dataset: String,
    pub n: usize,
    /// `DEC`, `IDEC`, `DEC-DA` or `IDEC-DA` (see [`DecConfig::method_label`]).
    pub method: String,
    /// Augmentation ranges, or `off`.
    pub augment: String,
    /// IDEC's γ, if IDEC.
    pub gamma: Option<f32>,
    pub preset: String,
    pub seed: u64,
    pub k: usize,
    /// Where the autoencoder came from.
    pub autoencoder: String,
    pub kmeans_acc: Option<f64>,
    pub ae_kmeans_acc: Option<f64>,
    pub acc: Option<f64>,
    pub nmi: Option<f64>,
    pub ari: Option<f64>,
    pub iterations: usize,
    pub converged: bool,
    pub seconds: f64,
}

impl RunSummary {
    /// The summary of `r`.
    pub fn of(r: &Report) -> RunSummary {
        let c = &r.config;
        RunSummary {
            dataset: r.dataset.name.clone(),
            n: r.dataset.n,
            method: c.method_label(),
            augment: c.augment_label(),
            gamma: (c.method == crate::engine::config::Method::Idec)
                .then_some(c.cluster.idec_gamma),
            preset: c.preset.name().to_string(),
            seed: c.seed,
            k: r.final_.n_clusters,
            autoencoder: r.autoencoder_source.clone(),
            kmeans_acc: r.baselines.kmeans_input.map(|s| s.acc),
            ae_kmeans_acc: r.baselines.ae_kmeans.map(|s| s.acc),
            acc: r.final_.acc,
            nmi: r.final_.nmi,
            ari: r.final_.ari,
            iterations: r.final_.iterations,
            converged: r.final_.converged,
            seconds: r.timing.total_s,
        }
    }

    /// The column names of [`RunSummary::csv_fields`].
    pub const CSV_HEADER: [&'static str; 17] = [
        "dataset",
        "n",
        "method",
        "augment",
        "gamma",
        "preset",
        "seed",
        "k",
        "autoencoder",
        "kmeans_acc",
        "ae_kmeans_acc",
        "acc",
        "nmi",
        "ari",
        "iterations",
        "converged",
        "seconds",
    ];

    /// The values in the order of [`RunSummary::CSV_HEADER`] (empty when unknown).
    pub fn csv_fields(&self) -> Vec<String> {
        let f = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
        vec![
            self.dataset.clone(),
            self.n.to_string(),
            self.method.clone(),
            self.augment.clone(),
            self.gamma.map(|g| g.to_string()).unwrap_or_default(),
            self.preset.clone(),
            self.seed.to_string(),
            self.k.to_string(),
            self.autoencoder.clone(),
            f(self.kmeans_acc),
            f(self.ae_kmeans_acc),
            f(self.acc),
            f(self.nmi),
            f(self.ari),
            self.iterations.to_string(),
            self.converged.to_string(),
            format!("{:.1}", self.seconds),
        ]
    }
}
