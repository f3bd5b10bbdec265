//! The DEC engine: everything that trains, clusters and scores, with no user interface.
//!
//! Why one layer: the command line, the app, the Python binding and the benchmarks all
//! drive the same [`pipeline`], so a figure from one is a figure from the others.
//!
//! Three rooms, each using only those below it, then the run itself:
//! - [`nn`]: the network and its arithmetic (GEMM, bf16, thread plans, layers,
//!   optimizers, augmentation). Uses nothing else of the engine.
//! - [`cluster`]: clustering on Z (soft assignment, k-means, neighbours, spectral
//!   start, DEC's loss and step, pairwise constraints, metrics). Uses `nn`.
//! - [`curation`]: what a person does to a clustering (the clustering state, edits,
//!   undo, suggestions, live steering's log). Uses `cluster`.
//! - The run: [`config`] (presets and validation), [`settings`] (what a user stated),
//!   [`streams`] (a random generator per phase), [`report`] (the JSON record),
//!   [`model`] (saved models), [`pipeline`] (the phases of a run and its events) and
//!   [`sweep`] (DEC over a range of k or of class imbalance). They may use every room;
//!   no room uses them, except that the rooms' types are stored by `config`.

pub mod cluster;
pub mod config;
pub mod curation;
pub mod model;
pub mod nn;
pub mod pipeline;
pub mod report;
pub mod settings;
pub mod streams;
pub mod sweep;
