//! `decscope inspect`: describe a dataset before training on it.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use decscope::data::{self, LoadOptions, Preprocessing};
use decscope::engine::model::DecModel;

use super::data_args::LoadArgs;

#[derive(Args, Debug, Clone)]
pub struct InspectArgs {
    /// File or folder to describe (with --model: read as that model reads new data).
    #[arg(required_unless_present = "model")]
    pub path: Option<PathBuf>,
    /// A model folder (`train --save`): describe it and the preprocessing it applies
    /// to new data.
    #[arg(long)]
    pub model: Option<PathBuf>,
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
    let model = match &a.model {
        Some(dir) => Some((DecModel::load(dir)?, dir.as_path())),
        None => None,
    };
    if let Some((m, dir)) = &model {
        describe_model(m, dir, a.json)?;
    }
    let Some(path) = &a.path else {
        return Ok(());
    };
    let t0 = std::time::Instant::now();
    let format = data::detect(path)?;
    let opts = LoadOptions {
        // Describe the values as stored; report what preprocessing would be applied.
        preprocessing: Preprocessing::None,
        allow_non_finite: true,
        ..a.load.options()
    };
    let opts = match &model {
        // As the model reads new data: its scaling applied, mismatches refused.
        Some((m, dir)) => m.load_options(&a.load.options(), dir)?,
        None => opts,
    };
    let ds = data::load(path, &opts)?;
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

/// What a model folder holds and the preprocessing it applies to new data.
fn describe_model(m: &DecModel, dir: &Path, json: bool) -> Result<()> {
    if json {
        let v = serde_json::json!({
            "model": dir.display().to_string(),
            "dims": m.ae.dims(),
            "n_clusters": m.n_clusters(),
            "dataset": m.dataset,
            "preprocess": m.preprocess.as_deref(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let dims: Vec<String> = m.ae.dims().iter().map(usize::to_string).collect();
    println!(
        "model {}: autoencoder {}, {} clusters, trained on {} ({} x {}), preset {}, seed {}",
        dir.display(),
        dims.join("-"),
        m.n_clusters(),
        m.dataset.name,
        m.dataset.n,
        m.dataset.d,
        m.config.preset.name(),
        m.config.seed
    );
    match &m.preprocess {
        Some(f) => println!(
            "  preprocessing of new data: {}
  chosen at fit time because: {}",
            f.summary(),
            f.reason
        ),
        None => println!(
            "  preprocessing of new data: none saved (a model from before decscope kept it); predict refuses it: train it again with --save"
        ),
    }
    Ok(())
}
