//! Steering the clusters by hand: edits of the clustering (merge, split, remove, a new
//! cluster from the box selection, names) with undo and redo, the suggested edits,
//! must-link and cannot-link pairs from the selection, and Resume, which goes on with
//! DEC from the edited state under those pairs.
//!
//! A finished run is edited here, on its Z (an [`UndoLog`]); a run still in DEC is
//! steered in the engine: each action becomes a `Steer` command to the worker, which
//! applies it at once when the run is paused and at the next P update while it trains,
//! and answers with the live state ([`LiveState`]) that this panel then shows.
//!
//! Why: the views show what DEC got wrong; here the user fixes it and lets training
//! go on from the fix. The view keeps its own state ([`SteerView`]) and draws from it
//! in [`SteerView::ui`]; it changes the app only through the [`SteerAction`]s it
//! returns, which `DecApp::steer` carries out (in `steer_actions`) (the other views' cluster menus return
//! the same actions, from [`cluster_menu`]).

use std::sync::Arc;

use egui::{Color32, RichText};

use crate::engine::cluster::assign::assign;
use crate::engine::cluster::constraints::{Added, Constraint, DEFAULT_WEIGHT, Link, add_pairs};
use crate::engine::curation::edit::{ClusterState, Edit};
use crate::engine::curation::suggest::{KMEANS_START_NOTE, Suggestion, suggest};
use crate::engine::curation::undo::UndoLog;
use crate::engine::pipeline::{LiveState, RunOutput};

/// Most samples of a selection that are paired with each other (all pairs among them).
pub const MAX_PICKS: usize = 64;
/// The members of the chosen cluster (its most confident) each picked sample is
/// cannot-linked with.
pub const CANNOT_PARTNERS: usize = 32;

/// The steering panel's state: the edit history of the finished run's clustering,
/// the pairs picked so far and the last suggestions.
pub struct SteerView {
    history: Option<(ClusterState, UndoLog)>,
    /// Embeddings of the finished run; edits and suggestions are made on them.
    z: Arc<Vec<f32>>,
    alpha: f32,
    /// The finished run's DEC steps (edits are marked there).
    step: usize,
    /// The pairs in force: the groups' pairs, a later group's link winning.
    pub constraints: Vec<Constraint>,
    /// Each pick of pairs (a must-link of a selection, a cannot-link with a cluster),
    /// in order; one can be removed on its own.
    pub pair_groups: Vec<PairGroup>,
    pub weight: f32,
    pub suggestions: Vec<Suggestion>,
    /// The clusters of the suggestion under the pointer, which the Embedding view
    /// picks out (the others dimmed).
    pub hovered: Option<Vec<usize>>,
    /// Suggestions being found on their own thread (a neighbour search over every
    /// sample takes too long for a frame).
    finding: Option<crossbeam_channel::Receiver<Vec<Suggestion>>>,
    /// What the last action did, or why it could not be done.
    pub note: String,
    pub name: String,
    /// The cluster that the cannot-link and merge controls point at.
    pub other: usize,
    /// The run in DEC as the worker last reported it (paused, or just steered).
    pub live: Option<Arc<LiveState>>,
    /// What self-correction did to the finished run, for Undo and Redo.
    pub correction: Correction,
    /// The finished run started from k-means on non-text data: the suggestions' note
    /// says what to compare with ([`KMEANS_START_NOTE`]).
    pub kmeans_start: bool,
}

/// Self-correction of the finished run, as Undo and Redo see it.
#[derive(Clone, Debug, Default)]
pub enum Correction {
    /// It made no round, or the run did not ask for it.
    #[default]
    None,
    /// Its rounds (one line each) are in the run shown; Undo takes them back.
    Made(Vec<String>),
    /// Undo took them back: the run shown is DEC's outcome before them, and Redo
    /// brings back this corrected run.
    Undone(Box<RunOutput>),
}

/// One pick of pairs, as the panel lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct PairGroup {
    /// What was picked ("must-link 5 samples").
    pub what: String,
    pub pairs: Vec<Constraint>,
}

/// What the panel needs to know of a run still in DEC.
#[derive(Clone, Copy, Debug)]
pub struct LiveRun {
    /// Clusters in the latest snapshot.
    pub k: usize,
    pub paused: bool,
}

impl Default for SteerView {
    fn default() -> Self {
        SteerView {
            history: None,
            z: Arc::new(Vec::new()),
            alpha: 1.0,
            step: 0,
            constraints: Vec::new(),
            pair_groups: Vec::new(),
            weight: DEFAULT_WEIGHT,
            suggestions: Vec::new(),
            hovered: None,
            finding: None,
            note: String::new(),
            name: String::new(),
            other: 0,
            live: None,
            correction: Correction::None,
            kmeans_start: false,
        }
    }
}

/// What the steering controls ask for.
#[derive(Clone, Debug, PartialEq)]
pub enum SteerAction {
    Edit(Edit),
    Undo,
    Redo,
    /// Must-link every two samples of the selection.
    MustLink,
    /// Cannot-link the selection with this cluster's most confident members.
    CannotLink(usize),
    /// A new cluster at the selection's mean z.
    AddFromSelection,
    ClearPairs,
    /// Remove one pick of pairs (its index in [`SteerView::pair_groups`]).
    RemovePairs(usize),
    Suggest,
    /// Go on with DEC from the edited state.
    Resume,
}

impl SteerView {
    /// Edit the clustering of `out` from now on (a new history; the pairs stay).
    pub fn attach(&mut self, out: &RunOutput) {
        let state = out.model.cluster_state();
        self.history = Some((state, UndoLog::default()));
        self.live = None;
        self.z = Arc::new(out.z.clone());
        self.alpha = out.model.alpha;
        self.step = out.model.curation.dec_steps;
        self.suggestions.clear();
        self.hovered = None;
        self.other = 0;
        self.correction = match out.uncorrected {
            Some(_) => Correction::Made(correction_lines(out)),
            None => Correction::None,
        };
    }

    /// Forget everything (a new dataset).
    pub fn reset(&mut self) {
        *self = SteerView::default();
    }

    /// The current (edited) clustering, once a run has finished.
    pub fn state(&self) -> Option<&ClusterState> {
        self.history.as_ref().map(|(s, _)| s)
    }

    /// The edits since the run finished, as applied.
    pub fn edits(&self) -> Vec<Edit> {
        self.history
            .as_ref()
            .map_or(Vec::new(), |(_, log)| log.edits().cloned().collect())
    }

    /// Cluster and confidence of every sample under the current state.
    pub fn assign(&self) -> Option<(Vec<u32>, Vec<f32>)> {
        let s = self.state()?;
        Some(assign(&self.z, s.centroids(), s.e(), self.alpha))
    }

    /// Apply `edit`; false (with the reason in `note`) when it cannot be made.
    pub fn apply(&mut self, edit: Edit) -> bool {
        let Some((state, log)) = self.history.as_mut() else {
            self.note = "finish a run first: edits change a finished clustering".into();
            return false;
        };
        let what = edit.to_string();
        match log.edit(state, edit, &self.z, self.alpha) {
            Ok(_) => {
                self.note = format!("done: {what}");
                self.suggestions.clear();
                self.hovered = None;
                true
            }
            Err(e) => {
                self.note = format!("cannot {what}: {e}");
                false
            }
        }
    }

    pub fn undo(&mut self) -> bool {
        let Some((state, log)) = self.history.as_mut() else {
            return false;
        };
        log.undo(state).is_some()
    }

    /// Make the last undone edit again (on this finished run's Z it gives back the
    /// state undo left).
    pub fn redo(&mut self) -> bool {
        let Some((state, log)) = self.history.as_mut() else {
            return false;
        };
        matches!(log.redo(state, &self.z, self.alpha), Some(Ok(_)))
    }

    /// Start finding the suggested edits of the current state on their own thread;
    /// [`SteerView::poll`] takes them.
    pub fn find_suggestions(&mut self, repaint: impl Fn() + Send + 'static) {
        let (state, z) = match (self.state(), &self.live) {
            (Some(s), _) => (s.clone(), self.z.clone()),
            (None, Some(l)) => (l.clusters.clone(), Arc::new(l.snapshot.z.clone())),
            (None, None) => {
                self.note = "pause the run (or let it finish) to look for suggestions".into();
                return;
            }
        };
        let alpha = self.alpha;
        let (tx, rx) = crossbeam_channel::bounded(1);
        std::thread::spawn(move || {
            let _ = tx.send(suggest(&state, &z, alpha, 0));
            repaint();
        });
        self.finding = Some(rx);
        self.note = "looking for suggestions...".into();
    }

    /// Take the suggestions once found (never blocks).
    pub fn poll(&mut self) {
        if let Some(rx) = &self.finding
            && let Ok(found) = rx.try_recv()
        {
            self.note = format!("{} suggested edit(s)", found.len());
            if self.kmeans_start {
                self.note.push_str(&format!(
                    "; {KMEANS_START_NOTE}. Without labels, compare with a run with self-correct ticked (under start, in the Training panel)"
                ));
            }
            self.suggestions = found;
            self.finding = None;
        }
    }

    /// Whether suggestions are being looked for.
    pub fn is_finding(&self) -> bool {
        self.finding.is_some()
    }

    /// Must-link every two of `selection` (its first [`MAX_PICKS`] samples).
    pub fn must_link(&mut self, selection: &[usize]) {
        let picks = &selection[..selection.len().min(MAX_PICKS)];
        let pairs: Vec<Constraint> = picks
            .iter()
            .enumerate()
            .flat_map(|(a, &i)| {
                picks[a + 1..].iter().map(move |&j| Constraint {
                    i,
                    j,
                    link: Link::Must,
                })
            })
            .collect();
        let what = format!("must-link {} samples", picks.len());
        let added = self.add_group(what, pairs);
        self.note = format!(
            "{} must-link pair(s) among {} sample(s){}{}",
            added.new,
            picks.len(),
            if selection.len() > picks.len() {
                format!(" (the first {MAX_PICKS} of the selection)")
            } else {
                String::new()
            },
            added_note(added, "cannot")
        );
    }

    /// Cannot-link each of `selection` (its first [`MAX_PICKS`]) with the
    /// [`CANNOT_PARTNERS`] most confident members of `cluster`.
    pub fn cannot_link(&mut self, selection: &[usize], cluster: usize, a: &[u32], conf: &[f32]) {
        let mut members: Vec<usize> = (0..a.len())
            .filter(|&i| a[i] as usize == cluster && !selection.contains(&i))
            .collect();
        members.sort_by(|&x, &y| conf[y].total_cmp(&conf[x]).then(x.cmp(&y)));
        members.truncate(CANNOT_PARTNERS);
        let picks = &selection[..selection.len().min(MAX_PICKS)];
        let pairs: Vec<Constraint> = picks
            .iter()
            .flat_map(|&i| {
                members.iter().map(move |&j| Constraint {
                    i,
                    j,
                    link: Link::Cannot,
                })
            })
            .collect();
        let what = format!("cannot-link {} samples with cluster {cluster}", picks.len());
        let added = self.add_group(what, pairs);
        self.note = format!(
            "{} cannot-link pair(s) between the selection and cluster {cluster}'s {} most confident members{}",
            added.new,
            members.len(),
            added_note(added, "must")
        );
    }

    /// Add a pick of pairs to those in force (the last link of a pair wins) and list it.
    fn add_group(&mut self, what: String, pairs: Vec<Constraint>) -> Added {
        let added = add_pairs(&mut self.constraints, pairs.iter().copied());
        self.pair_groups.push(PairGroup { what, pairs });
        added
    }

    /// Remove pick `g`: the pairs in force become those of the other picks, in order
    /// (a pair it had turned takes back its earlier link).
    pub fn remove_pairs(&mut self, g: usize) {
        if g >= self.pair_groups.len() {
            return;
        }
        let gone = self.pair_groups.remove(g);
        self.constraints.clear();
        for group in &self.pair_groups {
            add_pairs(&mut self.constraints, group.pairs.iter().copied());
        }
        self.note = format!("removed: {}", gone.what);
    }

    /// Clear every pick of pairs.
    pub fn clear_pairs(&mut self) {
        self.constraints.clear();
        self.pair_groups.clear();
    }

    /// Names of the clusters being edited (finished or live), one per cluster or empty.
    fn names(&self) -> Vec<Option<String>> {
        match (self.state(), &self.live) {
            (Some(s), _) => s.names().to_vec(),
            (None, Some(l)) => l.clusters.names().to_vec(),
            (None, None) => Vec::new(),
        }
    }

    /// The edits to list: a finished run's self-correction and its edits since it
    /// finished, a live run's in force.
    fn edit_lines(&self) -> Vec<String> {
        match (&self.history, &self.live) {
            (Some((_, log)), _) => match &self.correction {
                Correction::Made(rounds) => rounds.clone(),
                _ => Vec::new(),
            }
            .into_iter()
            .chain(log.edits().map(Edit::to_string))
            .collect(),
            (None, Some(l)) => l
                .edits
                .iter()
                .map(|m| format!("{} (DEC step {})", m.edit, m.step))
                .collect(),
            (None, None) => Vec::new(),
        }
    }

    /// Whether hand edits are in force (a finished run's since it finished, a live
    /// run's).
    fn has_edits(&self) -> bool {
        match (&self.history, &self.live) {
            (Some((_, log)), _) => log.can_undo(),
            (None, Some(l)) => !l.edits.is_empty(),
            (None, None) => false,
        }
    }

    fn can_undo_redo(&self) -> (bool, bool) {
        match (&self.history, &self.live) {
            (Some((_, log)), _) => (
                log.can_undo() || matches!(self.correction, Correction::Made(_)),
                log.can_redo() || matches!(self.correction, Correction::Undone(_)),
            ),
            (None, Some(l)) => (l.can_undo, l.can_redo),
            (None, None) => (false, false),
        }
    }

    /// The panel: edit history, undo/redo, pairs, suggestions, Resume. `live`: the run
    /// is still in DEC (edits go to the worker), `None`: a finished run is edited.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        selected: usize,
        running: bool,
        live: Option<LiveRun>,
    ) -> Vec<SteerAction> {
        let mut act = Vec::new();
        self.poll();
        ui.heading("Steer clusters");
        let k = match (self.state(), live) {
            (Some(s), _) => s.k(),
            (None, Some(l)) => l.k,
            (None, None) => return act,
        };
        let hint = match live {
            Some(l) if l.paused => "Paused: edits apply to the live state at once.",
            Some(_) => "Edits apply at DEC's next P update; pause to apply them at once.",
            None => "",
        };
        if !hint.is_empty() {
            ui.label(RichText::new(hint).color(Color32::from_rgb(240, 200, 120)));
        }
        ui.label(
            RichText::new("Right-click a cluster in the Clusters or Confusion view to merge, split or remove it; drag a box in the Embedding view to select samples.")
                .weak()
                .small(),
        );
        self.edit_controls(ui, k, &mut act);
        self.pair_controls(ui, selected, &mut act);
        self.suggestion_list(ui, &mut act);
        let label = if !self.has_edits() && self.constraints.is_empty() {
            "Resume DEC"
        } else {
            "Resume DEC from the edits"
        };
        // A live run resumes from its pause; a finished one starts DEC again.
        let can_resume = match live {
            Some(l) => l.paused,
            None => !running,
        };
        if ui
            .add_enabled(can_resume, egui::Button::new(label))
            .clicked()
        {
            act.push(SteerAction::Resume);
        }
        if !self.note.is_empty() {
            ui.label(
                RichText::new(&self.note)
                    .small()
                    .color(Color32::from_rgb(150, 190, 240)),
            );
        }
        act
    }

    /// Undo, redo, Suggest, the edits so far and the name field.
    fn edit_controls(&mut self, ui: &mut egui::Ui, k: usize, act: &mut Vec<SteerAction>) {
        let (can_undo, can_redo) = self.can_undo_redo();
        ui.horizontal(|ui| {
            if ui
                .add_enabled(can_undo, egui::Button::new("Undo"))
                .clicked()
            {
                act.push(SteerAction::Undo);
            }
            if ui
                .add_enabled(can_redo, egui::Button::new("Redo"))
                .clicked()
            {
                act.push(SteerAction::Redo);
            }
            if ui.button("Suggest").clicked() {
                act.push(SteerAction::Suggest);
            }
        });
        for (i, e) in self.edit_lines().iter().enumerate() {
            ui.label(RichText::new(format!("{}. {e}", i + 1)).small());
        }
        self.other = self.other.min(k - 1);
        ui.horizontal(|ui| {
            ui.label("cluster");
            ui.add(egui::DragValue::new(&mut self.other).range(0..=k - 1));
            ui.add(
                egui::TextEdit::singleline(&mut self.name)
                    .desired_width(70.0)
                    .hint_text("name"),
            );
            if ui.button("Name").clicked() {
                let name = self.name.trim().to_string();
                let named = self.names().get(self.other).is_some_and(Option::is_some);
                if name.is_empty() && !named {
                    self.note = format!("type a name for cluster {} first", self.other);
                } else {
                    act.push(SteerAction::Edit(Edit::Name {
                        cluster: self.other,
                        name: (!name.is_empty()).then_some(name),
                    }));
                }
            }
        });
    }

    /// Must-link / cannot-link / new cluster from the box selection, and the pairs so far.
    fn pair_controls(&mut self, ui: &mut egui::Ui, selected: usize, act: &mut Vec<SteerAction>) {
        ui.label(format!("box selection: {selected} sample(s)"));
        ui.horizontal_wrapped(|ui| {
            let some = selected > 0;
            if ui
                .add_enabled(selected > 1, egui::Button::new("must-link these"))
                .clicked()
            {
                act.push(SteerAction::MustLink);
            }
            let other = self.other;
            if ui
                .add_enabled(
                    some,
                    egui::Button::new(format!("cannot-link with cluster {other}")),
                )
                .clicked()
            {
                act.push(SteerAction::CannotLink(other));
            }
            if ui
                .add_enabled(some, egui::Button::new("new cluster from these"))
                .clicked()
            {
                act.push(SteerAction::AddFromSelection);
            }
        });
        let must = self
            .constraints
            .iter()
            .filter(|c| c.link == Link::Must)
            .count();
        ui.horizontal(|ui| {
            ui.label(format!(
                "pairs: {must} must-link, {} cannot-link",
                self.constraints.len() - must
            ));
            if !self.constraints.is_empty() && ui.small_button("clear").clicked() {
                act.push(SteerAction::ClearPairs);
            }
        });
        for (g, group) in self.pair_groups.iter().enumerate() {
            ui.horizontal(|ui| {
                if ui.small_button(format!("remove pick {}", g + 1)).clicked() {
                    act.push(SteerAction::RemovePairs(g));
                }
                ui.label(RichText::new(format!("{}. {}", g + 1, group.what)).small());
            });
        }
        ui.horizontal(|ui| {
            ui.label("pair weight");
            ui.add(
                egui::DragValue::new(&mut self.weight)
                    .range(0.0..=100.0)
                    .speed(0.1),
            );
        });
    }

    /// Each suggestion with its evidence and an apply button; the one under the
    /// pointer becomes [`SteerView::hovered`].
    fn suggestion_list(&mut self, ui: &mut egui::Ui, act: &mut Vec<SteerAction>) {
        let mut hovered = None;
        for s in &self.suggestions {
            let row = ui.horizontal_wrapped(|ui| {
                let apply = ui.small_button("apply");
                if apply.clicked() {
                    act.push(SteerAction::Edit(s.edit.clone()));
                }
                let evidence = ui
                    .label(RichText::new(&s.evidence).small())
                    .on_hover_text("its clusters are picked out in the Embedding view");
                apply.hovered() || evidence.hovered()
            });
            if row.inner || row.response.hovered() {
                hovered = Some(s.edit.clusters());
            }
        }
        self.hovered = hovered;
    }
}

/// One line per round of self-correction in `out`'s report, as the panel lists them.
pub fn correction_lines(out: &RunOutput) -> Vec<String> {
    out.report
        .self_correct
        .iter()
        .map(|r| {
            let (a, b) = r.found.merge;
            format!(
                "self-correction round {} (DEC step {}): merged {b} into {a}, split {}{}",
                r.round,
                r.step,
                r.found.split,
                if r.taken_back { " (taken back)" } else { "" }
            )
        })
        .collect()
}

/// The context menu of cluster `c` (of `k`): merge with, split into, remove, new
/// cluster from the selection; what was chosen.
pub fn cluster_menu(ui: &mut egui::Ui, c: usize, k: usize) -> Option<SteerAction> {
    let mut out = None;
    ui.menu_button("merge with...", |ui| {
        for b in (0..k).filter(|&b| b != c) {
            if ui.button(format!("cluster {b}")).clicked() {
                out = Some(SteerAction::Edit(Edit::Merge { a: c, b }));
            }
        }
    });
    ui.menu_button("split into...", |ui| {
        for into in 2..=4 {
            if ui.button(format!("{into} clusters")).clicked() {
                out = Some(SteerAction::Edit(Edit::Split {
                    cluster: c,
                    into,
                    seed: 0,
                }));
            }
        }
    });
    if ui.button("remove").clicked() {
        out = Some(SteerAction::Edit(Edit::Remove { cluster: c }));
    }
    if ui.button("cannot-link the selection with it").clicked() {
        out = Some(SteerAction::CannotLink(c));
    }
    out
}

/// What a pick left alone or turned, for the status note (empty when nothing was).
fn added_note(added: Added, other: &str) -> String {
    let mut parts = Vec::new();
    if added.already > 0 {
        parts.push(format!("{} already picked", added.already));
    }
    if added.turned > 0 {
        parts.push(format!("{} turned from {other}-link", added.turned));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("; {}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests;
