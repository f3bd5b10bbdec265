//! What the steering actions do to the app: an edit, undo, redo, pairs or a suggestion
//! applied to a finished run's clustering, or sent to a live run as a [`Steer`]
//! command, and Resume, which starts DEC again from the edited state.
//!
//! Why apart from the Steer panel (`steer`): the panel draws and returns
//! [`SteerAction`]s; this is where they change the app's state, the worker and the
//! views, so the panel never reaches into them.

use std::sync::Arc;

use super::DecApp;
use super::state::RunView;
use super::steer::{Correction, LiveRun, SteerAction};
use super::worker::Worker;
use crate::engine::cluster::constraints::Constraints;
use crate::engine::curation::edit::Edit;
use crate::engine::curation::record::EditMark;
use crate::engine::pipeline::{Phase, Resume, RunOutput, Snapshot, Steer};

impl DecApp {
    /// The run still in DEC, as the steering panel sees it (`None`: no run, a run before
    /// DEC, or a finished one).
    pub fn live_run(&self) -> Option<LiveRun> {
        if !self.is_running() || self.run.phase != Some(Phase::Clustering) {
            return None;
        }
        let s = self.run.snapshot.as_ref()?;
        let k = s.centroids.as_ref()?.len() / s.e.max(1);
        Some(LiveRun {
            k,
            paused: self.run.paused,
        })
    }

    /// Name of cluster `j` of the clustering shown, if it has one.
    pub fn cluster_name(&self, j: usize) -> Option<String> {
        self.cluster_names().get(j).cloned().flatten()
    }

    /// Carry out a steering action: on the finished run here, or sent to the worker
    /// while the run is in DEC.
    pub fn steer(&mut self, action: SteerAction, ctx: &egui::Context) {
        if let Some(live) = self.live_run() {
            self.steer_live(action, live, ctx);
            return;
        }
        let changed = match action {
            SteerAction::Edit(e) => self.steer_view.apply(e),
            SteerAction::Undo => self.steer_view.undo() || self.undo_correction(),
            SteerAction::Redo => self.steer_view.redo() || self.redo_correction(),
            SteerAction::AddFromSelection => {
                let samples = self.selection.clone();
                self.steer_view.apply(Edit::Add { samples })
            }
            SteerAction::MustLink
            | SteerAction::CannotLink(_)
            | SteerAction::ClearPairs
            | SteerAction::RemovePairs(_) => {
                self.edit_pairs(&action);
                false
            }
            SteerAction::Suggest => {
                self.suggest(ctx);
                false
            }
            SteerAction::Resume => {
                self.resume_steered(ctx);
                false
            }
        };
        if changed {
            self.show_steered();
        }
    }

    /// Must-link the selection, cannot-link it with a cluster, or clear the pairs.
    fn edit_pairs(&mut self, action: &SteerAction) {
        match *action {
            SteerAction::MustLink => self.steer_view.must_link(&self.selection.clone()),
            SteerAction::CannotLink(c) => {
                if let (Some(a), Some(q)) = (self.run.assignments(), self.run.confidence()) {
                    let (a, q) = (a.to_vec(), q.to_vec());
                    self.steer_view
                        .cannot_link(&self.selection.clone(), c, &a, &q);
                }
            }
            SteerAction::ClearPairs => self.steer_view.clear_pairs(),
            SteerAction::RemovePairs(g) => self.steer_view.remove_pairs(g),
            _ => {}
        }
    }

    /// Look for suggested edits on their own thread.
    fn suggest(&mut self, ctx: &egui::Context) {
        let ctx = ctx.clone();
        self.steer_view
            .find_suggestions(move || ctx.request_repaint());
    }

    /// Send a steering action to the running worker; the pairs are kept here too (the
    /// whole set goes with each change).
    fn steer_live(&mut self, action: SteerAction, live: LiveRun, ctx: &egui::Context) {
        let Some(w) = &self.worker else { return };
        let ctl = w.controller.clone();
        let cmd = match action {
            SteerAction::Edit(e) => Some(Steer::Edit(e)),
            SteerAction::Undo => Some(Steer::Undo),
            SteerAction::Redo => Some(Steer::Redo),
            SteerAction::AddFromSelection => Some(Steer::Edit(Edit::Add {
                samples: self.selection.clone(),
            })),
            SteerAction::MustLink
            | SteerAction::CannotLink(_)
            | SteerAction::ClearPairs
            | SteerAction::RemovePairs(_) => {
                self.edit_pairs(&action);
                Some(Steer::Pairs(Constraints {
                    pairs: self.steer_view.constraints.clone(),
                    weight: self.steer_view.weight,
                }))
            }
            SteerAction::Suggest => {
                self.suggest(ctx);
                None
            }
            SteerAction::Resume => {
                self.resume();
                None
            }
        };
        if let Some(cmd) = cmd {
            let when = if live.paused {
                "applying"
            } else {
                "sent; applies at the next P update"
            };
            self.steer_view.note = format!("{when}: {}", describe(&cmd));
            self.steer_view.suggestions.clear();
            ctl.steer(cmd);
        }
    }

    /// Undo of self-correction, once no hand edit is left to undo: the finished run
    /// shown becomes DEC's outcome before the rounds, and the corrected run waits for
    /// Redo. False when the run made no round.
    fn undo_correction(&mut self) -> bool {
        let Correction::Made(rounds) = &self.steer_view.correction else {
            return false;
        };
        let n = rounds.len();
        let Some(out) = self.run.finished.as_mut() else {
            return false;
        };
        let Some(before) = out.uncorrected.take() else {
            return false;
        };
        let corrected = std::mem::replace(&mut **out, *before);
        let acc = |o: &RunOutput| {
            o.report
                .final_
                .acc
                .map_or(String::new(), |a| format!(", ACC {a:.4}"))
        };
        let note = format!(
            "undone: self-correction ({n} round(s)); DEC's outcome before it is shown{} (it had{})",
            acc(out),
            acc(&corrected)
        );
        self.show_run(note, Some(Correction::Undone(Box::new(corrected))));
        true
    }

    /// Redo of self-correction after its Undo (once any hand edit made since is
    /// undone): the corrected run is shown again.
    fn redo_correction(&mut self) -> bool {
        let (Correction::Undone(_), Some(out)) =
            (&self.steer_view.correction, self.run.finished.as_mut())
        else {
            return false;
        };
        let Correction::Undone(corrected) = std::mem::take(&mut self.steer_view.correction) else {
            return false;
        };
        let uncorrected = std::mem::replace(&mut **out, *corrected);
        out.uncorrected = Some(Box::new(uncorrected));
        let acc = out
            .report
            .final_
            .acc
            .map_or(String::new(), |a| format!(", ACC {a:.4}"));
        self.show_run(format!("redone: self-correction{acc}"), None);
        true
    }

    /// The finished run now in `run.finished` is the one to edit and show; `note` says
    /// how it came there, `correction` (when given) what Undo and Redo do next.
    fn show_run(&mut self, note: String, correction: Option<Correction>) {
        let Some(out) = self.run.finished.as_ref() else {
            return;
        };
        self.steer_view.attach(out);
        if let Some(c) = correction {
            self.steer_view.correction = c;
        }
        self.steer_view.note = note.clone();
        self.status = note;
    }

    /// Show the edited clustering in every view: the finished run's assignments,
    /// confidences, centroids and names become the edited state's.
    fn show_steered(&mut self) {
        let (Some(state), Some((a, conf))) =
            (self.steer_view.state().cloned(), self.steer_view.assign())
        else {
            return;
        };
        let Some(out) = self.run.finished.as_mut() else {
            return;
        };
        out.assignments = a.clone();
        out.confidence = conf.clone();
        out.model.centroids = state.centroids().to_vec();
        out.model.config.n_clusters = state.k();
        out.model.curation.names = state.kept_names();
        let snap = Snapshot {
            phase: Phase::Done,
            step: self.run.snapshot.as_ref().map_or(0, |s| s.step),
            z: out.z.clone(),
            e: state.e(),
            assignments: Some(a),
            confidence: Some(conf),
            centroids: Some(state.centroids().to_vec()),
            scores: None,
        };
        self.clusters_changed();
        self.set_snapshot(Arc::new(snap));
    }

    /// Go on with DEC from the edited state under the picked pairs; the curves keep
    /// the history so far, with the resumption marked.
    pub fn resume_steered(&mut self, ctx: &egui::Context) {
        if self.worker.as_ref().is_some_and(|w| !w.is_finished()) || self.is_sweeping() {
            return;
        }
        let (Some(out), Some(state)) =
            (self.run.finished.as_ref(), self.steer_view.state().cloned())
        else {
            self.steer_view.note = "finish a run first".into();
            return;
        };
        let mut cfg = self.run_config();
        // The first run's baselines stay in the panel and the curves.
        cfg.baselines = false;
        cfg.constraints = Constraints {
            pairs: self.steer_view.constraints.clone(),
            weight: self.steer_view.weight,
        };
        let step = out.model.curation.dec_steps;
        let edits = self.steer_view.edits();
        let mut marks = out.model.curation.edits.clone();
        marks.extend(edits.iter().map(|e| EditMark {
            step,
            edit: e.clone(),
        }));
        let resume = Resume {
            ae: out.model.ae.clone(),
            label: "the app's finished run, edited".into(),
            clusters: state,
            step,
            marks,
        };
        let mark = format!(
            "resumed at DEC step {step}: {} edit(s), {} pair(s)",
            edits.len(),
            cfg.constraints.pairs.len()
        );
        let prev = std::mem::take(&mut self.run);
        let mut edit_marks = prev.edit_marks;
        edit_marks.push((step, mark.clone()));
        self.run = RunView {
            method_label: prev.method_label,
            history: prev.history,
            baselines: prev.baselines,
            frames: prev.frames,
            messages: vec![mark],
            edit_marks,
            ..RunView::default()
        };
        self.clusters_changed();
        self.embedding.follow_live();
        self.steer_view.note = "DEC goes on from the edits".into();
        let ctx2 = ctx.clone();
        self.worker = Some(Worker::spawn_resume(
            self.ds.clone(),
            cfg,
            resume,
            move || ctx2.request_repaint(),
        ));
        self.status = "training (resumed)...".into();
    }
}

/// A steering command in a few words.
fn describe(cmd: &Steer) -> String {
    match cmd {
        Steer::Edit(e) => e.to_string(),
        Steer::Undo => "undo".into(),
        Steer::Redo => "redo".into(),
        Steer::Pairs(c) => {
            let (must, cannot) = c.counts();
            format!("{must} must-link and {cannot} cannot-link pair(s)")
        }
    }
}
