//! Steering a DEC run while it trains: hand edits of its clusters (merge, split,
//! remove, add, name), undo and redo of them, and new must-link / cannot-link pairs,
//! applied to the live state.
//!
//! Why: a user sees the 4/9 cluster form during a run and should not have to wait for
//! the end (or stop and start again) to fix it. The caller sends [`Steer`] commands
//! over the run's command channel; DEC takes them at its next P update, or at once
//! when the run is paused, applies them to its encoder's current Z through
//! [`Steering`], recomputes P from the edited state and goes on
//! (`pipeline::cluster::run_dec`). Each change is reported as a `LiveState` event and
//! kept in the report ([`SteerMark`]) and the model's curation ([`EditMark`]).
//!
//! Undo restores the centroids and names from just before the edit (the encoder goes on
//! from where it is: DEC trained it in between); redo applies the edit again on the
//! Z of the moment ([`UndoLog`]).

use crate::engine::cluster::constraints::Constraints;
use crate::engine::curation::edit::{ClusterState, Edit, renumbering};
use crate::engine::curation::record::{EditMark, SteerMark};
use crate::engine::curation::undo::UndoLog;

/// A change to a running DEC.
#[derive(Clone, Debug, PartialEq)]
pub enum Steer {
    /// A hand edit; cluster numbers are those of the run's state when it applies.
    Edit(Edit),
    /// Put back the clusters from before the last edit.
    Undo,
    /// Apply the last undone edit again.
    Redo,
    /// The must-link / cannot-link pairs from now on (replacing the run's).
    Pairs(Constraints),
}

/// The run's side of steering: names, the undo and redo stacks, the edits in force and
/// the log of every change.
#[derive(Debug, Default)]
pub struct Steering {
    pub names: Vec<Option<String>>,
    /// The edits made during the run, for undo and redo.
    undo: UndoLog,
    pub marks: Vec<EditMark>,
    pub log: Vec<SteerMark>,
    /// During [`Steering::apply`]: where each cluster from before it is now.
    moved: Vec<Option<usize>>,
}

/// What applying steering changed.
pub struct Applied {
    /// One line per change (or refusal).
    pub lines: Vec<String>,
    /// The number of clusters or the pairs changed: DEC's step buffers (and the
    /// batches of pairs) are rebuilt.
    pub reshaped: bool,
    /// Where each cluster from before is now (`None`: gone), so that the labels of the
    /// last update can be compared with the next under one numbering.
    pub renumber: Vec<Option<usize>>,
}

impl Steering {
    /// Start from `names` (one per cluster, or empty) and the edits of the state's past.
    pub fn new(names: Vec<Option<String>>, k: usize, marks: Vec<EditMark>) -> Steering {
        Steering {
            names: if names.len() == k {
                names
            } else {
                vec![None; k]
            },
            marks,
            ..Steering::default()
        }
    }

    pub fn can_undo(&self) -> bool {
        self.undo.can_undo()
    }

    pub fn can_redo(&self) -> bool {
        self.undo.can_redo()
    }

    /// Apply `cmds` in order to the centroids `mu` (`k x e`) and the names, with
    /// memberships from `z` (`n x e`, the encoder's Z now), and to `pairs`. A change
    /// that cannot be made leaves the state as it was and says why.
    #[allow(clippy::too_many_arguments)]
    pub fn apply(
        &mut self,
        cmds: Vec<Steer>,
        mu: &mut Vec<f32>,
        e: usize,
        z: &[f32],
        alpha: f32,
        step: usize,
        pairs: &mut Constraints,
    ) -> Applied {
        let k0 = self.names.len();
        self.moved = (0..k0).map(Some).collect();
        let mut new_pairs = false;
        let n = z.len() / e.max(1);
        let mut lines = Vec::new();
        for cmd in cmds {
            let line = match cmd {
                // A new edit clears the redo stack only when it is made: a refused
                // one changes nothing, the redo stack included.
                Steer::Edit(edit) => self.edit(Some(edit), mu, e, z, alpha, step),
                // A redo that cannot be made now stays on the stack for later.
                Steer::Redo => self.edit(None, mu, e, z, alpha, step),
                Steer::Undo => self.undo(mu, e),
                Steer::Pairs(c) => match c.pairs.iter().find(|p| p.i.max(p.j) >= n) {
                    Some(p) => format!(
                        "pairs refused: pair ({}, {}) names a sample past the data's {n}",
                        p.i, p.j
                    ),
                    None => {
                        new_pairs |= *pairs != c;
                        *pairs = c;
                        let (must, cannot) = pairs.counts();
                        format!("pairs now {must} must-link, {cannot} cannot-link")
                    }
                },
            };
            self.log.push(SteerMark {
                step,
                what: line.clone(),
                k: self.names.len(),
            });
            lines.push(line);
        }
        Applied {
            lines,
            reshaped: self.names.len() != k0 || new_pairs,
            renumber: std::mem::take(&mut self.moved),
        }
    }

    /// Make `edit`, or redo the last undone edit when `None`; what was done, or why
    /// not.
    fn edit(
        &mut self,
        edit: Option<Edit>,
        mu: &mut Vec<f32>,
        e: usize,
        z: &[f32],
        alpha: f32,
        step: usize,
    ) -> String {
        let mut state = self.clusters(mu, e);
        let k0 = state.k();
        let (edit, what) = match edit {
            Some(edit) => match self.undo.edit(&mut state, edit.clone(), z, alpha) {
                Ok(()) => (edit.clone(), edit.to_string()),
                Err(err) => return format!("cannot {edit}: {err}"),
            },
            None => match self.undo.redo(&mut state, z, alpha) {
                None => return "nothing to redo".into(),
                Some(Ok(edit)) => (edit.clone(), format!("redo: {edit}")),
                Some(Err((edit, err))) => return format!("redo refused: cannot {edit}: {err}"),
            },
        };
        (*mu, self.names) = state.into_parts();
        self.follow(&renumbering(&edit, k0));
        self.marks.push(EditMark { step, edit });
        what
    }

    fn undo(&mut self, mu: &mut Vec<f32>, e: usize) -> String {
        let mut state = self.clusters(mu, e);
        let Some(edit) = self.undo.undo(&mut state) else {
            return "nothing to undo".into();
        };
        // Back through the edit: each cluster now goes to the first one it came from
        // (a cluster the edit added has none).
        let forward = renumbering(&edit, state.k());
        let back: Vec<Option<usize>> = (0..self.names.len())
            .map(|j| forward.iter().position(|&f| f == Some(j)))
            .collect();
        self.follow(&back);
        (*mu, self.names) = state.into_parts();
        if let Some(i) = self.marks.iter().rposition(|m| m.edit == edit) {
            self.marks.remove(i);
        }
        format!("undo: {edit}")
    }

    /// Compose the clusters' moves so far with one more (`step`: old number -> new).
    fn follow(&mut self, step: &[Option<usize>]) {
        for m in &mut self.moved {
            *m = m.and_then(|j| step.get(j).copied().flatten());
        }
    }

    /// The state now, as an edit sees it.
    pub fn clusters(&self, mu: &[f32], e: usize) -> ClusterState {
        ClusterState::with_names(mu.to_vec(), e, &self.names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::cluster::constraints::{Constraint, Link};

    /// Where the clusters went: a split keeps the old numbers; merging 0 into 2 of 3
    /// sends 0 and 2 to 1 and 1 to 0, and its undo sends them back (each to the first
    /// it came from); a refused edit moves nothing.
    #[test]
    fn applied_steering_says_where_each_cluster_went() {
        let (mut s, mut mu, z) = setup();
        let mut pairs = Constraints::default();
        let split = split_cluster_1();
        let mut go = |s: &mut Steering, cmd: Steer, mu: &mut Vec<f32>| {
            s.apply(vec![cmd], mu, 1, &z, 1.0, 10, &mut pairs).renumber
        };
        assert_eq!(
            go(&mut s, Steer::Edit(split), &mut mu),
            vec![Some(0), Some(1)]
        );
        let merge = Steer::Edit(Edit::Merge { a: 2, b: 0 });
        assert_eq!(go(&mut s, merge, &mut mu), vec![Some(1), Some(0), Some(1)]);
        assert_eq!(go(&mut s, Steer::Undo, &mut mu), vec![Some(1), Some(0)]);
        let refused = Steer::Edit(Edit::Remove { cluster: 9 });
        assert_eq!(
            go(&mut s, refused, &mut mu),
            vec![Some(0), Some(1), Some(2)]
        );
    }

    /// A refused edit leaves the redo stack as it was, and a redo that cannot be made
    /// now (its cluster has too few members on this Z) stays there for later; before,
    /// the first cleared it and the second dropped the edit.
    #[test]
    fn refused_edits_and_redos_keep_the_redo_stack() {
        let (mut s, mut mu, z) = setup();
        let mut pairs = Constraints::default();
        let split = split_cluster_1();
        let mut go = |s: &mut Steering, cmd: Steer, z: &[f32], mu: &mut Vec<f32>| {
            s.apply(vec![cmd], mu, 1, z, 1.0, 10, &mut pairs).lines
        };
        go(&mut s, Steer::Edit(split), &z, &mut mu);
        go(&mut s, Steer::Undo, &z, &mut mu);
        let refused = go(&mut s, Steer::Edit(Edit::Merge { a: 0, b: 0 }), &z, &mut mu);
        assert!(refused[0].starts_with("cannot merge"), "{refused:?}");
        assert!(s.can_redo(), "a refused edit cleared the redo stack");
        // On this Z cluster 1 (at 9.5) holds one sample: the split cannot be redone.
        let lonely = [0.0, 1.0, 2.0, 10.0];
        let r = go(&mut s, Steer::Redo, &lonely, &mut mu);
        assert!(r[0].starts_with("redo refused: cannot split"), "{r:?}");
        assert!(s.can_redo(), "a refused redo dropped the edit");
        let r = go(&mut s, Steer::Redo, &z, &mut mu);
        assert_eq!(r, vec!["redo: split cluster 1 into 2"]);
        assert_eq!(mu.len(), 3);
    }

    /// Split cluster 1 in two (seed 0).
    fn split_cluster_1() -> Edit {
        Edit::Split {
            cluster: 1,
            into: 2,
            seed: 0,
        }
    }

    /// Four points on a line in 1-D Z and two clusters at 0 and 10.
    fn setup() -> (Steering, Vec<f32>, Vec<f32>) {
        let z = vec![0.0, 1.0, 9.0, 10.0];
        (Steering::new(Vec::new(), 2, Vec::new()), vec![0.5, 9.5], z)
    }

    /// A split then a merge, undone and redone: the centroids are those by hand, undo
    /// gives back exactly the ones before, and the edits in force follow.
    #[test]
    fn edits_undo_and_redo_on_the_live_state() {
        let (mut s, mut mu, z) = setup();
        let mut pairs = Constraints::default();
        let split = split_cluster_1();
        let a = s.apply(
            vec![Steer::Edit(split.clone())],
            &mut mu,
            1,
            &z,
            1.0,
            40,
            &mut pairs,
        );
        assert!(a.reshaped);
        assert_eq!(a.lines, vec!["split cluster 1 into 2"]);
        // Cluster 1's members are 9 and 10: k-means into two puts one at each.
        let mut tail = mu[1..].to_vec();
        tail.sort_by(f32::total_cmp);
        assert_eq!((mu[0], tail), (0.5, vec![9.0, 10.0]));
        let a = s.apply(
            vec![Steer::Undo, Steer::Undo, Steer::Redo],
            &mut mu,
            1,
            &z,
            1.0,
            80,
            &mut pairs,
        );
        assert_eq!(
            a.lines,
            vec![
                "undo: split cluster 1 into 2",
                "nothing to undo",
                "redo: split cluster 1 into 2"
            ]
        );
        assert_eq!(mu.len(), 3);
        assert_eq!(s.marks.len(), 1);
        assert_eq!(s.marks[0].step, 80);
        s.apply(vec![Steer::Undo], &mut mu, 1, &z, 1.0, 90, &mut pairs);
        assert_eq!(mu, vec![0.5, 9.5], "undo restores the centroids exactly");
        assert!(s.marks.is_empty() && s.can_redo() && !s.can_undo());
        assert_eq!(s.log.len(), 5);
        assert_eq!(s.log[0].k, 3);
    }

    /// An edit that cannot be made, and pairs naming a sample past the data, change
    /// nothing and say why.
    #[test]
    fn refused_changes_leave_the_state() {
        let (mut s, mut mu, z) = setup();
        let mut pairs = Constraints::default();
        let far = Constraints {
            pairs: vec![Constraint {
                i: 0,
                j: 4,
                link: Link::Must,
            }],
            weight: 1.0,
        };
        let a = s.apply(
            vec![Steer::Edit(Edit::Remove { cluster: 0 }), Steer::Pairs(far)],
            &mut mu,
            1,
            &z,
            1.0,
            0,
            &mut pairs,
        );
        assert!(!a.reshaped);
        assert!(a.lines[0].starts_with("cannot remove cluster 0: DEC needs at least 2"));
        assert!(a.lines[1].contains("pair (0, 4)"), "{}", a.lines[1]);
        assert_eq!(mu, vec![0.5, 9.5]);
        assert!(pairs.is_empty());
    }
    /// New pairs as many as the old ones still rebuild the step's pair batches: the
    /// run must train on the pairs it was sent, not on the count.
    #[test]
    fn pairs_replaced_by_as_many_others_reshape_the_step() {
        let (mut s, mut mu, z) = setup();
        let one = |i, j| Constraints {
            pairs: vec![Constraint {
                i,
                j,
                link: Link::Must,
            }],
            weight: 1.0,
        };
        let mut pairs = one(0, 1);
        let a = s.apply(
            vec![Steer::Pairs(one(2, 3))],
            &mut mu,
            1,
            &z,
            1.0,
            0,
            &mut pairs,
        );
        assert!(a.reshaped, "same count, other pairs");
        assert_eq!(pairs, one(2, 3));
    }
}
