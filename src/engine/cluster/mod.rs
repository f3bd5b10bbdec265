//! Clustering on the embedding Z: DEC's soft assignment and loss, and what starts,
//! constrains and scores it.
//!
//! Holds: [`assign`] (Student's t soft assignment, target distribution, hard labels),
//! [`neighbors`] (exact k nearest neighbours), [`graph`] (the symmetric
//! kNN graph and the modularity of a partition on it), [`kmeans`], [`spectral`] (DEC's start
//! from Z's neighbour graph), [`dec`] (KL and its gradients, DEC's step),
//! [`constraints`] (must-link / cannot-link pairs and their loss on Q) and [`metrics`]
//! (ACC, NMI, ARI). May use: [`crate::engine::nn`].

pub mod assign;
pub mod constraints;
pub mod dec;
pub mod graph;
pub mod kmeans;
pub mod metrics;
pub mod neighbors;
pub mod spectral;
