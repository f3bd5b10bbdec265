//! `decscope predict`: clusters and confidences of new data under a saved model.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use decscope::engine::model::DecModel;

use super::{DataArgs, fmt_scores};

#[derive(Args, Debug, Clone)]
pub struct PredictArgs {
    /// Model folder written by `train --save`.
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Output CSV: index,cluster,confidence[,label][,title] (label and title when the
    /// data have them).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the soft assignment q (n x k): float32 .npy when the name ends in
    /// .npy, else CSV.
    #[arg(long)]
    pub proba: Option<PathBuf>,
    /// Also write the embedding z (n x e): float32 .npy when the name ends in .npy,
    /// else CSV.
    #[arg(long)]
    pub embedding: Option<PathBuf>,
}

/// The model at `dir` (it must have clusters) and the data it is to assign, checked
/// against each other; `predict` and `edit` start here.
pub(super) fn model_and_data(
    dir: &std::path::Path,
    data: &DataArgs,
) -> Result<(DecModel, decscope::data::Dataset)> {
    let model = DecModel::load(dir)?;
    if model.n_clusters() == 0 {
        bail!(
            "{}: this model has no centroids (an autoencoder only); train it with `decscope train --save`",
            dir.display()
        );
    }
    let ds = data.load_for(&model, dir)?;
    model.check_input(ds.d, dir)?;
    Ok((model, ds))
}

pub fn predict(a: PredictArgs) -> Result<()> {
    let (model, ds) = model_and_data(&a.model, &a.data)?;
    let (labels, conf, z, q) = model.assign(&ds.x, ds.n);
    if let Some(path) = &a.proba {
        decscope::data::write_matrix(path, &q, model.n_clusters(), "q")?;
    }
    if let Some(path) = &a.embedding {
        decscope::data::write_matrix(path, &z, model.ae.encoder.n_out(), "z")?;
    }
    let names = &model.curation.names;
    let table = decscope::data::assignments_csv(&ds, &labels, &conf, names)?;
    std::fs::write(&a.out, table).with_context(|| format!("writing {}", a.out.display()))?;
    if let Some(t) = &ds.labels {
        let s = decscope::engine::cluster::metrics::scores(t, &labels);
        eprintln!("predicted {} samples: {}", ds.n, fmt_scores(&s));
    } else {
        eprintln!("predicted {} samples", ds.n);
    }
    println!("{}", a.out.display());
    Ok(())
}
