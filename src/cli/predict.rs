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
    let (labels, conf, _) = model.predict(&ds.x, ds.n);
    let names = &model.curation.names;
    let table = decscope::data::assignments_csv(&ds, &labels, &conf, names)?;
    std::fs::write(&a.out, table).with_context(|| format!("writing {}", a.out.display()))?;
    if let Some(t) = &ds.labels {
        let s = decscope::engine::metrics::scores(t, &labels);
        eprintln!("predicted {} samples: {}", ds.n, fmt_scores(&s));
    } else {
        eprintln!("predicted {} samples", ds.n);
    }
    println!("{}", a.out.display());
    Ok(())
}
