//! The app's state that is not widgets: which tab and projection are shown, the kept
//! frames of the replay, the live view of the current run and the settings of the next.

use std::sync::Arc;
use std::time::Instant;

use crate::engine::cluster::metrics::Scores;
use crate::engine::config::{DecConfig, Preset};
use crate::engine::pipeline::{Phase, RunOutput, Snapshot};
use crate::engine::report::{HistoryEntry, RunWarning};

/// The views of the central panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Embedding,
    Curves,
    Clusters,
    Confusion,
    /// Where DEC's gradient pulls, for one cluster.
    Gradient,
    /// The choose-k sweep.
    ChooseK,
    /// The session's finished runs side by side.
    Compare,
}

/// Which projection the embedding view shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Pca,
    Tsne,
}

/// One kept frame of the embedding view, for replay.
#[derive(Clone)]
pub struct Frame {
    pub step: usize,
    pub phase: Phase,
    pub method: Method,
    pub points: Arc<Vec<[f32; 2]>>,
    /// Sample index of each point (`None`: all samples in order).
    pub indices: Option<Arc<Vec<usize>>>,
    pub assignments: Option<Arc<Vec<u32>>>,
}

/// At most this many frames are kept for replay (oldest thinned out first).
pub const MAX_FRAMES: usize = 300;

/// Live state of the current run, rebuilt from the worker's events.
#[derive(Default)]
pub struct RunView {
    pub phase: Option<Phase>,
    pub step: usize,
    pub total: usize,
    pub loss: f32,
    pub phase_started: Option<Instant>,
    /// Time spent paused in this phase, and since when the run is paused (the ETA
    /// counts training time only).
    pub paused_for: std::time::Duration,
    pub paused_since: Option<Instant>,
    pub history: Vec<HistoryEntry>,
    /// Pretraining's settle checks so far (`settle: watch` or `stop`).
    pub settle: Vec<crate::engine::report::SettleCheck>,
    pub baselines: Vec<(&'static str, Scores)>,
    pub snapshot: Option<Arc<Snapshot>>,
    /// 2-D PCA of the snapshot's Z.
    pub proj: Vec<[f32; 2]>,
    pub snapshots_seen: usize,
    /// Kept layouts for the timeline (PCA and t-SNE).
    pub frames: Vec<Frame>,
    /// The latest t-SNE layout.
    pub tsne: Option<crate::projection::Layout>,
    /// Manifold clustering on the latest t-SNE layout, scored against the true labels:
    /// (k-means on the 2-D layout, DEC's clusters on the same points).
    pub manifold_scores: Option<(Scores, Option<Scores>)>,
    pub paused: bool,
    /// The run's method as the literature names it (`DEC`, `IDEC-DA`, ...).
    pub method_label: String,
    pub finished: Option<Box<RunOutput>>,
    pub messages: Vec<String>,
    /// Collapses, no convergence, a result below its start (also in the report).
    pub warnings: Vec<RunWarning>,
    /// Where DEC was resumed after hand edits: the DEC step and what was done.
    pub edit_marks: Vec<(usize, String)>,
}

impl RunView {
    /// Cluster of each sample, once known.
    pub fn assignments(&self) -> Option<&[u32]> {
        if let Some(f) = &self.finished {
            return Some(&f.assignments);
        }
        self.snapshot.as_ref()?.assignments.as_deref()
    }

    /// Confidence (max q) of each sample, once known.
    pub fn confidence(&self) -> Option<&[f32]> {
        if let Some(f) = &self.finished {
            return Some(&f.confidence);
        }
        self.snapshot.as_ref()?.confidence.as_deref()
    }

    /// Estimated seconds left in the current phase, from its training time so far
    /// (time paused left out).
    pub fn eta_s(&self) -> Option<f64> {
        let t = self.training_s(Instant::now())?;
        (self.step > 0 && self.total > self.step)
            .then(|| t / self.step as f64 * (self.total - self.step) as f64)
    }

    /// Seconds the current phase has trained by `now`: since it began, less the time
    /// paused.
    pub fn training_s(&self, now: Instant) -> Option<f64> {
        let paused_now = self
            .paused_since
            .map_or(std::time::Duration::ZERO, |p| now - p);
        let ran = now.checked_duration_since(self.phase_started?)?;
        Some(
            ran.saturating_sub(self.paused_for + paused_now)
                .as_secs_f64(),
        )
    }

    /// The run was paused (`true`) or resumed at `now`.
    pub fn set_paused(&mut self, paused: bool, now: Instant) {
        match (paused, self.paused_since) {
            (true, None) => self.paused_since = Some(now),
            (false, Some(p)) => {
                self.paused_for += now.saturating_duration_since(p);
                self.paused_since = None;
            }
            _ => {}
        }
        self.paused = paused;
    }
}

impl Settings {
    /// The preset's schedule fitted to data of `n` rows (`DecConfig::scaled_to`),
    /// keeping the seed; k goes back to "the number of classes".
    pub fn fit_to(&mut self, n: usize) {
        let (seed, precision, settle) =
            (self.cfg.seed, self.cfg.precision, self.cfg.pretrain.settle);
        self.cfg = DecConfig::preset(self.preset).with_seed(seed).scaled_to(n);
        self.cfg.precision = precision;
        self.cfg.pretrain.settle = settle;
        let spe = n.div_ceil(self.cfg.pretrain.batch_size.max(1)).max(1);
        self.derived_epochs = self.cfg.finetune_iters_for(n).div_ceil(spe);
        self.epochs = self.derived_epochs;
    }
}

/// Editable settings of the next run.
pub struct Settings {
    pub preset: Preset,
    pub cfg: DecConfig,
    /// Pretraining length in epochs.
    pub epochs: usize,
    /// The epochs the `fast` schedule derived for this data (see [`Settings::fit_to`]).
    pub derived_epochs: usize,
    /// Skip pretraining with the bundled or cached autoencoder when one matches.
    pub reuse_pretrained: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// By hand: a phase begun 10 s ago, paused for 4 s of it (3 s done, 1 s still
    /// going), has trained 6 s; at step 30 of 90 that leaves 6 / 30 x 60 = 12 s.
    #[test]
    fn time_paused_is_left_out_of_the_eta() {
        let t0 = Instant::now();
        let mut r = RunView {
            phase_started: Some(t0),
            step: 30,
            total: 90,
            ..RunView::default()
        };
        r.set_paused(true, t0 + Duration::from_secs(2));
        r.set_paused(false, t0 + Duration::from_secs(5));
        r.set_paused(true, t0 + Duration::from_secs(9));
        let now = t0 + Duration::from_secs(10);
        let s = r.training_s(now).unwrap();
        assert!((s - 6.0).abs() < 1e-9, "{s}");
        assert!(r.paused);
        r.set_paused(false, now);
        assert_eq!(r.paused_for, Duration::from_secs(4));
        assert_eq!(r.training_s(now), Some(6.0));
        assert!((r.training_s(now).unwrap() / 30.0 * 60.0 - 12.0).abs() < 1e-9);
    }
}
