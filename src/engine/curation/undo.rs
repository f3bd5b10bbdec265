//! One undo log for every place a clustering is edited: the command line's `edit`, the
//! app's finished run and a live DEC run.
//!
//! Why one: the app edited a finished run through a list of states (redo went back to
//! the stored state) and a live run through a stack of edits (redo made the edit again
//! on the Z of the moment), so "redo" meant two things. Here it means one: the log
//! keeps, for each edit made, the state from before it, and redo makes the undone edit
//! again on the Z it is given. On a finished run Z does not change and every edit is
//! seeded, so redo gives back exactly the state undo left; on a live run it gives the
//! edit's result on the Z DEC has trained to since.

use crate::engine::curation::edit::{ClusterState, Edit, EditError, apply};

/// Edits made to a clustering, with undo and redo.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UndoLog {
    /// Each edit in force, oldest first, with the state from just before it.
    done: Vec<(ClusterState, Edit)>,
    /// Undone edits, the last undone on top.
    undone: Vec<Edit>,
}

impl UndoLog {
    /// Make `edit` on `state`, with memberships from `z` (`n x e`) under `alpha`. On
    /// success the redo stack is cleared; an edit that cannot be made changes nothing,
    /// the redo stack included.
    pub fn edit(
        &mut self,
        state: &mut ClusterState,
        edit: Edit,
        z: &[f32],
        alpha: f32,
    ) -> Result<(), EditError> {
        self.make(state, edit, z, alpha)?;
        self.undone.clear();
        Ok(())
    }

    /// Put back the state from before the last edit in force; the edit undone, or
    /// `None` when there is none.
    pub fn undo(&mut self, state: &mut ClusterState) -> Option<Edit> {
        let (before, edit) = self.done.pop()?;
        *state = before;
        self.undone.push(edit.clone());
        Some(edit)
    }

    /// Make the last undone edit again on `state` with `z`: `None` when nothing was
    /// undone; an edit that cannot be made now stays on the redo stack for later.
    pub fn redo(
        &mut self,
        state: &mut ClusterState,
        z: &[f32],
        alpha: f32,
    ) -> Option<Result<Edit, (Edit, EditError)>> {
        let edit = self.undone.pop()?;
        Some(match self.make(state, edit.clone(), z, alpha) {
            Ok(()) => Ok(edit),
            Err(err) => {
                self.undone.push(edit.clone());
                Err((edit, err))
            }
        })
    }

    fn make(
        &mut self,
        state: &mut ClusterState,
        edit: Edit,
        z: &[f32],
        alpha: f32,
    ) -> Result<(), EditError> {
        let after = apply(state, &edit, z, alpha)?;
        let before = std::mem::replace(state, after);
        self.done.push((before, edit));
        Ok(())
    }

    /// The edits in force, in the order they were made.
    pub fn edits(&self) -> impl Iterator<Item = &Edit> {
        self.done.iter().map(|(_, e)| e)
    }

    pub fn can_undo(&self) -> bool {
        !self.done.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.undone.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1-D Z: two points at 0 and 1, two at 9 and 10; clusters at 0.5 and 9.5.
    fn setup() -> (ClusterState, Vec<f32>) {
        (
            ClusterState::new(vec![0.5, 9.5], 1),
            vec![0.0, 1.0, 9.0, 10.0],
        )
    }

    fn split_1() -> Edit {
        Edit::Split {
            cluster: 1,
            into: 2,
            seed: 0,
        }
    }

    /// Undo gives back the centroids from before bit for bit; redo on the same Z gives
    /// back the ones after; a new edit clears the redo stack, a refused one does not.
    #[test]
    fn undo_restores_and_redo_on_the_same_z_repeats() {
        let (mut s, z) = setup();
        let start = s.clone();
        let mut log = UndoLog::default();
        log.edit(&mut s, split_1(), &z, 1.0).unwrap();
        let after = s.clone();
        // Cluster 1's members are 9 and 10: split in two, one centroid at each.
        let mut tail = after.centroids()[1..].to_vec();
        tail.sort_by(f32::total_cmp);
        assert_eq!(tail, vec![9.0, 10.0]);
        assert_eq!(log.undo(&mut s), Some(split_1()));
        assert_eq!(s, start);
        assert_eq!(log.undo(&mut s), None, "nothing left to undo");
        let refused = log.edit(&mut s, Edit::Merge { a: 0, b: 0 }, &z, 1.0);
        assert_eq!(refused, Err(EditError::SameCluster(0)));
        assert!(log.can_redo(), "a refused edit cleared the redo stack");
        assert_eq!(log.redo(&mut s, &z, 1.0), Some(Ok(split_1())));
        assert_eq!(s, after);
        assert_eq!(log.edits().collect::<Vec<_>>(), vec![&split_1()]);
        log.undo(&mut s);
        let name = Edit::Name {
            cluster: 1,
            name: Some("far".into()),
        };
        log.edit(&mut s, name, &z, 1.0).unwrap();
        assert!(!log.can_redo(), "a new edit keeps an old redo");
        assert_eq!(s.names(), &[None, Some("far".to_string())]);
    }

    /// A redo that cannot be made on the Z of the moment stays for later.
    #[test]
    fn a_redo_refused_now_stays_on_the_stack() {
        let (mut s, z) = setup();
        let mut log = UndoLog::default();
        log.edit(&mut s, split_1(), &z, 1.0).unwrap();
        log.undo(&mut s);
        // Here cluster 1 (at 9.5) holds one sample: it cannot be split.
        let lonely = [0.0, 1.0, 2.0, 10.0];
        let r = log.redo(&mut s, &lonely, 1.0);
        assert!(
            matches!(r, Some(Err((_, EditError::TooFewToSplit { .. })))),
            "{r:?}"
        );
        assert!(log.can_redo() && !log.can_undo());
        assert_eq!(log.redo(&mut s, &z, 1.0), Some(Ok(split_1())));
    }

    /// Three clusters in 1-D (0.2, 15, -10); a remove and an add, undone, redone and
    /// replaced by a name.
    #[test]
    fn history_undoes_and_redoes_and_forgets_undone_edits() {
        let z = vec![0.0, 0.0, 0.0, 1.0, 10.0, 10.0, 20.0, 20.0, -10.0];
        let s = ClusterState::new(vec![0.2, 15.0, -10.0], 1);
        let (mut h, mut log) = (s.clone(), UndoLog::default());
        log.edit(&mut h, Edit::Remove { cluster: 2 }, &z, 1.0)
            .unwrap();
        log.edit(&mut h, Edit::Add { samples: vec![8] }, &z, 1.0)
            .unwrap();
        assert_eq!(h.centroids(), vec![0.2, 15.0, -10.0]);
        assert_eq!(log.edits().count(), 2);
        assert!(log.undo(&mut h).is_some() && log.undo(&mut h).is_some());
        assert!(log.undo(&mut h).is_none());
        assert_eq!(h, s);
        assert!(matches!(log.redo(&mut h, &z, 1.0), Some(Ok(_))));
        assert_eq!(h.centroids(), vec![0.2, 15.0]);
        // A new edit after an undo drops the undone one.
        let name = Edit::Name {
            cluster: 0,
            name: Some("a".into()),
        };
        log.edit(&mut h, name, &z, 1.0).unwrap();
        assert!(log.redo(&mut h, &z, 1.0).is_none());
        let edits: Vec<&Edit> = log.edits().collect();
        assert_eq!(edits.len(), 2);
        assert!(matches!(edits[1], Edit::Name { .. }));
    }
}
