//! What a person does to a clustering: its state, hand edits with undo, suggestions,
//! and the log of a live run's steering.
//!
//! Holds: [`edit`] (the clustering state and the edits: merge, split, remove, add,
//! name), [`record`] (the records edits and steering leave in reports and models),
//! [`undo`] (one undo log for the command line, the app and a live run),
//! [`suggest`] (the merges and splits a clustering looks like it needs) and [`steering`]
//! (the changes a running DEC takes, and their record). May use:
//! [`crate::engine::cluster`] and [`crate::engine::nn`].

pub mod edit;
pub mod record;
pub mod steering;
pub mod suggest;
pub mod undo;
