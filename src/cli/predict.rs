//! `decscope predict`: clusters and confidences of new data under a saved model.

use std::fs::File;
use std::io::{BufWriter, Write};
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
    /// Output CSV: index,cluster,confidence[,label].
    #[arg(long)]
    pub out: PathBuf,
}

pub fn predict(a: PredictArgs) -> Result<()> {
    let model = DecModel::load(&a.model)?;
    if model.n_clusters() == 0 {
        bail!(
            "{}: this model has no centroids (an autoencoder only); train it with `decscope train --save`",
            a.model.display()
        );
    }
    let ds = a.data.load()?;
    model.check_input(ds.d, &a.model)?;
    let (labels, conf, _) = model.predict(&ds.x, ds.n);
    let f = File::create(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let mut w = BufWriter::new(f);
    let has_truth = ds.labels.is_some();
    writeln!(
        w,
        "index,cluster,confidence{}",
        if has_truth { ",label" } else { "" }
    )?;
    for i in 0..ds.n {
        write!(w, "{i},{},{:.6}", labels[i], conf[i])?;
        if let Some(t) = &ds.labels {
            write!(w, ",{}", ds.class_name(t[i]))?;
        }
        writeln!(w)?;
    }
    w.flush()?;
    if let Some(t) = &ds.labels {
        let s = decscope::engine::metrics::scores(t, &labels);
        eprintln!("predicted {} samples: {}", ds.n, fmt_scores(&s));
    } else {
        eprintln!("predicted {} samples", ds.n);
    }
    println!("{}", a.out.display());
    Ok(())
}
