//! decscope: Deep Embedded Clustering (Xie, Girshick & Farhadi, ICML 2016) as a
//! library, a command line and a live desktop app.
//!
//! The library holds everything that computes: [`data`] loading, the
//! [`autoencoder`], [`optim`]izers, [`kmeans`], the [`dec`] clustering layer,
//! [`metrics`], [`pca`], the run [`config`], and the one training [`pipeline`] that the
//! command line and the app both drive through typed events.

#[cfg(feature = "gui")]
pub mod app;
pub mod autoencoder;
pub mod bench;
pub mod config;
pub mod data;
pub mod dec;
pub mod kmeans;
pub mod linalg;
pub mod metrics;
pub mod model;
pub mod neighbors;
pub mod optim;
pub mod pca;
pub mod pipeline;
pub mod projection;
pub mod reference;
pub mod report;
pub mod tsne;

pub use config::{DecConfig, Preset};
pub use data::Dataset;
pub use pipeline::{AeSource, Control, Event, Sink, run};
