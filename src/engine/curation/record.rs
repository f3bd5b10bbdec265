//! The records curation leaves: each hand edit with the DEC step it was made at, each
//! change a live run took, and what a saved model keeps of them.
//!
//! Why apart: the report and the model files store these, and the live run and the
//! app write them; none of them should need the others' code to do so.

use serde::{Deserialize, Serialize};

use crate::engine::curation::edit::Edit;
use crate::engine::curation::suggest::SplitAndMerge;

/// One change made to a run while it trained, as the report keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SteerMark {
    /// The DEC step it applied at.
    pub step: usize,
    /// What was done ("merge cluster 3 into 0", "undo: ...", "12 pairs"), or why not.
    pub what: String,
    /// Clusters after it.
    pub k: usize,
}

/// What happened to a model's clusters besides training: their names, the hand edits
/// (each with the DEC step it was made at), and how many DEC steps have run, so that a
/// resumed run's history goes on from there.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Curation {
    /// One per cluster, or empty when none is named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<Option<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<EditMark>,
    #[serde(default)]
    pub dec_steps: usize,
}

/// A hand edit and the DEC step it was made at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EditMark {
    pub step: usize,
    pub edit: Edit,
}

impl Curation {
    /// The edits made since DEC last ran (at the current step).
    pub fn pending(&self) -> Vec<Edit> {
        self.edits
            .iter()
            .filter(|m| m.step == self.dec_steps)
            .map(|m| m.edit.clone())
            .collect()
    }

    /// Name of cluster `j`, if it has one.
    pub fn name(&self, j: usize) -> Option<&str> {
        self.names.get(j).and_then(|n| n.as_deref())
    }
}

/// One round of self-correction (`pipeline::correct`), as the report keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CorrectionRound {
    pub round: usize,
    /// The DEC step after which it was made (the history's numbering).
    pub step: usize,
    #[serde(flatten)]
    pub found: SplitAndMerge,
    /// The sizes of the two halves of the split cluster in the pretrained Z.
    pub halves: [usize; 2],
    /// With labels: ACC before the round (labels only score, they choose nothing).
    pub acc_before: Option<f64>,
    /// With labels: the confusion matrix of DEC's labels the round judged (clusters x
    /// classes), so the failures by the labels can be set beside what was found
    /// (`benches/failures.py`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confusion_before: Option<crate::engine::cluster::metrics::Confusion>,
    /// The check after the round found a failure at least as strong, so the state
    /// from before the round was kept.
    #[serde(default)]
    pub taken_back: bool,
}
