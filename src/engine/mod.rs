//! The DEC engine: everything that trains, clusters and scores, with no user interface.
//!
//! Why one layer: the command line, the app and the benchmarks all drive the same
//! [`pipeline`], so a figure from one is a figure from the others. From the bottom up:
//! [`linalg`] (GEMM on our buffers), [`bf16`] (the same products with bf16 operands on
//! AVX512-BF16), [`plan`] (which use of the threads each layer's products get, timed on
//! this machine), [`autoencoder`] (layers with hand-written
//! backward passes), [`optim`] (SGD with momentum, Adam), [`kmeans`], [`spectral`] (DEC's start from Z's neighbour graph), [`dec`] (soft
//! assignment, target distribution, KL and its gradients), [`metrics`] (ACC, NMI, ARI),
//! [`config`] (presets and validation), [`pipeline`] (the phases of a run and its
//! events), [`report`] (the JSON record of a run), [`model`] (saved models) and [`sweep`]
//! (DEC over a range of k or of class imbalance); [`augment`] makes the randomly shifted
//! and rotated batches of DEC-DA. [`edit`] changes a clustering by hand (merge, split,
//! remove, add, name, with undo), [`suggest`] finds the merges and splits a clustering
//! looks like it needs, and [`constraints`] holds must-link and cannot-link pairs with
//! their loss on Q, which DEC adds to KL when given. [`streams`] derives each phase's random generator from the
//! seed, so a phase draws the same numbers whether or not the phases before it ran.

pub mod augment;
pub mod autoencoder;
pub mod bf16;
pub mod config;
pub mod constraints;
pub mod dec;
pub mod edit;
pub mod kmeans;
pub mod linalg;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod pipeline;
pub mod plan;
pub mod report;
pub mod settings;
pub mod spectral;
pub mod streams;
pub mod suggest;
pub mod sweep;
