//! The command line: `decscope` (the app) and the headless commands, one file each.
//!
//! Thin on purpose: every command parses its arguments, calls the library and prints.
//! Errors become one line on stderr and exit status 2 (see `main.rs`).
//!
//! May use: the library (`decscope::*`); the library never uses it.

mod bench;
mod data_args;
mod edit;
mod gui;
mod inspect;
mod predict;
mod progress;
mod project;
mod sweep;
mod train;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

pub use data_args::DataArgs;
use project::ProjectMethod;

#[derive(Parser, Debug)]
#[command(
    name = "decscope",
    version,
    about = "Deep Embedded Clustering: train, inspect and watch it live"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub app: AppArgs,
}

/// The app's arguments (no subcommand).
#[derive(clap::Args, Debug, Clone)]
pub struct AppArgs {
    /// Dataset to open in the app (default: the bundled MNIST test set).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// How to read it (the same options as `train`); the app's "Load options" can
    /// change them later.
    #[command(flatten)]
    pub load: data_args::LoadArgs,
    /// Start training as soon as the app opens.
    #[arg(long)]
    pub autostart: bool,
    /// Close the app after this many seconds and print frame-time statistics.
    #[arg(long)]
    pub exit_after: Option<f64>,
    /// Projection shown at start: pca or tsne.
    #[arg(long, value_enum)]
    pub view: Option<ProjectMethod>,
    /// Tab shown at start (with --autostart, choose-k starts the k sweep).
    #[arg(long, value_enum)]
    pub tab: Option<TabArg>,
    /// The Choose-k view's range, e.g. 5..15.
    #[arg(long)]
    pub sweep_k: Option<String>,
    /// Press Stop (on the sweep, else the run) this many seconds after the app opens
    /// and print how long the worker took to end (for scripted checks).
    #[arg(long)]
    pub stop_after: Option<f64>,
    /// Precision of the training products in the side panel at start: f32, bf16 or
    /// auto (bf16 where it is faster than f32 here: AMX, or AMD's AVX512-BF16).
    #[arg(long, value_enum)]
    pub precision: Option<decscope::engine::config::Precision>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TabArg {
    Embedding,
    Curves,
    Clusters,
    Confusion,
    Gradient,
    ChooseK,
    Compare,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train DEC on a dataset and report ACC/NMI/ARI against the paper's baselines.
    Train(Box<train::TrainArgs>),
    /// Assign clusters to new data with a saved model.
    Predict(predict::PredictArgs),
    /// Edit a saved model's clusters by hand (merge, split, remove, add, name) or by
    /// the suggested edits, and save it for `train --init-from DIR --resume`.
    Edit(Box<edit::EditArgs>),
    /// Measure training speed on this machine (GEMM, autoencoder and DEC steps).
    Bench(bench::BenchArgs),
    /// Describe a dataset: size, type, labels, value range, preprocessing and warnings.
    Inspect(inspect::InspectArgs),
    /// Project data (or its embedding Z under a saved model) to 2-D with t-SNE or PCA.
    Project(project::ProjectArgs),
    /// DEC over a range of k scored by generalizability (--k 5..15), or over class
    /// imbalance (--retain-min 0.1,0.3,0.5,0.7): the paper's tables for your data.
    Sweep(Box<sweep::SweepArgs>),
}

pub fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Some(Command::Train(a)) => train::train(*a),
        Some(Command::Predict(a)) => predict::predict(a),
        Some(Command::Edit(a)) => edit::edit(*a),
        Some(Command::Bench(a)) => bench::bench(a),
        Some(Command::Inspect(a)) => inspect::inspect(a),
        Some(Command::Project(a)) => project::project(a),
        Some(Command::Sweep(a)) => sweep::sweep(*a),
        None => gui::gui(cli.app),
    }
}

/// ACC, NMI and ARI on one line.
fn fmt_scores(s: &decscope::engine::cluster::metrics::Scores) -> String {
    format!("ACC {:.4}  NMI {:.4}  ARI {:.4}", s.acc, s.nmi, s.ari)
}
