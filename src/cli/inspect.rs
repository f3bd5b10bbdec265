//! `decscope inspect`: describe a dataset before training on it.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use decscope::data::{self, LoadOptions, Preprocessing};

use super::data_args::LoadArgs;

#[derive(Args, Debug, Clone)]
pub struct InspectArgs {
    /// File or folder to describe.
    pub path: PathBuf,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Warn when more clusters than this are impossible.
    #[arg(long)]
    pub clusters: Option<usize>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn inspect(a: InspectArgs) -> Result<()> {
    let t0 = std::time::Instant::now();
    let format = data::detect(&a.path)?;
    let opts = LoadOptions {
        // Describe the values as stored; report what preprocessing would be applied.
        preprocessing: Preprocessing::None,
        allow_non_finite: true,
        ..a.load.options()
    };
    let ds = data::load(&a.path, &opts)?;
    let load_s = t0.elapsed().as_secs_f64();
    let r = decscope::data::inspect::describe(&ds, format, a.clusters, a.load.preprocess);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print!("{}", r.text());
        println!("loaded in {load_s:.2}s");
    }
    Ok(())
}
