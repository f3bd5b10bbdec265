//! decscope: Deep Embedded Clustering (Xie, Girshick & Farhadi, ICML 2016) as a
//! library, a command line and a live desktop app.
//!
//! The library holds everything that computes, one folder a layer:
//!
//! | layer | what |
//! |---|---|
//! | [`data`] | the dataset type, one loader per format, preprocessing, `inspect` |
//! | [`engine`] | autoencoder, optimizers, k-means, the DEC layer, metrics, config, the one training [`engine::pipeline`], reports, saved models |
//! | [`projection`] | PCA, t-SNE (fit, warm updates, alignment) and the projection thread |
//! | [`bench`] | `decscope bench` and the plain candle-nn yardstick |
//! | `app` | the desktop app (feature `gui`), a thin client of the pipeline |
//!
//! The command line (`src/cli/`) and the app both drive [`engine::pipeline::run`] through
//! typed [`Event`]s and commands; no library module imports the app or the CLI.

#[cfg(feature = "gui")]
pub mod app;
pub mod bench;
pub mod data;
pub mod engine;
pub mod projection;

pub use data::Dataset;
pub use engine::config::{DecConfig, Preset};
pub use engine::pipeline::{AeSource, Control, Event, Sink, run};
