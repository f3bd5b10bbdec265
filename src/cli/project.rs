//! `decscope project`: 2-D layouts (t-SNE or PCA) of the data or of its embedding Z
//! under a saved model, for scripts and for comparing with openTSNE.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use decscope::engine::model::DecModel;

use super::{DataArgs, fmt_scores};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProjectMethod {
    Tsne,
    Pca,
}

#[derive(Args, Debug, Clone)]
pub struct ProjectArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Project the embedding Z of this saved model instead of the raw data.
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ProjectMethod::Tsne)]
    pub method: ProjectMethod,
    /// t-SNE on at most N points (spread evenly over the clusters/labels).
    #[arg(long, default_value_t = 10_000)]
    pub sample: usize,
    #[arg(long, default_value_t = 30.0)]
    pub perplexity: f32,
    /// t-SNE iterations (250 of them with early exaggeration).
    #[arg(long, default_value_t = 1200)]
    pub epochs: usize,
    /// After the fit, time this many warm updates (as the app does at each snapshot).
    #[arg(long, default_value_t = 0)]
    pub warm_updates: usize,
    /// Iterations of each warm update.
    #[arg(long, default_value_t = 100)]
    pub warm_epochs: usize,
    /// Barnes-Hut accuracy of warm updates (0: the FFT gradient of a full fit).
    #[arg(long, default_value_t = 0.5)]
    pub warm_theta: f32,
    /// Barnes-Hut accuracy of the fit from scratch (0: bhtsne's FFT gradient, as default).
    #[arg(long, default_value_t = 0.0)]
    pub fit_theta: f32,
    /// Search the neighbour table anew every K warm updates (between: refresh distances).
    #[arg(long, default_value_t = 5)]
    pub knn_refresh: usize,
    /// Also cluster the 2-D layout with k-means (k = classes or --clusters) and score it.
    #[arg(long)]
    pub kmeans: bool,
    #[arg(long)]
    pub clusters: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also write the projected input (Z or the data) of the sampled points as CSV, e.g. to compare with openTSNE.
    #[arg(long)]
    pub dump_input: Option<PathBuf>,
    /// Output CSV: index,x,y[,label][,cluster].
    #[arg(long)]
    pub out: PathBuf,
}

pub fn project(a: ProjectArgs) -> Result<()> {
    use decscope::projection::{TsneParams, WarmTsne, balanced_sample};
    let ds = a.data.load()?;
    let (z, e, clusters) = match &a.model {
        Some(dir) => {
            let m = DecModel::load(dir)?;
            m.check_input(ds.d, dir)?;
            let (c, _, z) = if m.n_clusters() > 0 {
                m.predict(&ds.x, ds.n)
            } else {
                (Vec::new(), Vec::new(), m.ae.encode(&ds.x, ds.n))
            };
            let e = m.ae.encoder.n_out();
            (z, e, (!c.is_empty()).then_some(c))
        }
        None => (ds.x.clone(), ds.d, None),
    };
    let groups = clusters.clone().or_else(|| ds.labels.clone());
    let idx: Vec<usize> = match a.method {
        ProjectMethod::Tsne => balanced_sample(ds.n, groups.as_deref(), a.sample.max(1), a.seed),
        ProjectMethod::Pca => (0..ds.n).collect(),
    };
    let x: Vec<f32> = idx
        .iter()
        .flat_map(|&i| z[i * e..(i + 1) * e].iter().copied())
        .collect();
    if let Some(p) = &a.dump_input {
        let mut w =
            BufWriter::new(File::create(p).with_context(|| format!("creating {}", p.display()))?);
        for row in x.chunks_exact(e) {
            writeln!(
                w,
                "{}",
                row.iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            )?;
        }
        w.flush()?;
    }
    let t0 = std::time::Instant::now();
    let params = TsneParams {
        perplexity: a.perplexity,
        epochs: a.epochs,
        warm_epochs: a.warm_epochs,
        warm_theta: a.warm_theta,
        fit_theta: a.fit_theta,
        knn_refresh: a.knn_refresh,
        sample: a.sample,
        seed: a.seed,
        ..Default::default()
    };
    let mut warm = WarmTsne::new();
    let (y, kl) = match a.method {
        ProjectMethod::Tsne => {
            let (y, kl, _) = warm.update(&x, e, &params);
            (y, kl)
        }
        ProjectMethod::Pca => (
            decscope::projection::pca::Pca::fit(&x, e, 2).transform(&x),
            f32::NAN,
        ),
    };
    let secs = t0.elapsed().as_secs_f64();
    match a.method {
        ProjectMethod::Tsne => eprintln!(
            "t-SNE of {} points x {e} dims: {secs:.2}s, KL {kl:.4}",
            idx.len()
        ),
        ProjectMethod::Pca => eprintln!("PCA of {} points x {e} dims: {secs:.2}s", idx.len()),
    }
    if a.method == ProjectMethod::Tsne {
        for k in 0..a.warm_updates {
            // As the app: between snapshots, the neighbour search when it is due.
            let prep = warm.prepare(&x, e, &params);
            if prep > 0.0 {
                eprintln!("between updates: neighbour table searched in {prep:.3}s");
            }
            let t = std::time::Instant::now();
            let (_, kl2, info) = warm.update(&x, e, &params);
            eprintln!(
                "warm update {}: {} iterations in {:.3}s (neighbour distances {} in {:.3}s), KL {kl2:.4}",
                k + 1,
                a.warm_epochs,
                t.elapsed().as_secs_f64(),
                if info.searched {
                    "searched"
                } else {
                    "refreshed"
                },
                info.knn_seconds,
            );
        }
    }
    if a.kmeans
        && let Some(t) = &ds.labels
    {
        let k = a.clusters.unwrap_or_else(|| ds.n_classes().unwrap_or(10));
        let km = decscope::projection::manifold_kmeans(&y, k, a.seed);
        let truth: Vec<u32> = idx.iter().map(|&i| t[i]).collect();
        let s = decscope::engine::metrics::scores(&truth, &km);
        eprintln!("k-means on the 2-D layout: {}", fmt_scores(&s));
        if let Some(c) = &clusters {
            let dec: Vec<u32> = idx.iter().map(|&i| c[i]).collect();
            eprintln!(
                "DEC clusters on the same points: {}",
                fmt_scores(&decscope::engine::metrics::scores(&truth, &dec))
            );
        }
    }
    let mut w = BufWriter::new(
        File::create(&a.out).with_context(|| format!("creating {}", a.out.display()))?,
    );
    write!(w, "index,x,y")?;
    if ds.labels.is_some() {
        write!(w, ",label")?;
    }
    if clusters.is_some() {
        write!(w, ",cluster")?;
    }
    writeln!(w)?;
    for (r, &i) in idx.iter().enumerate() {
        write!(w, "{i},{},{}", y[2 * r], y[2 * r + 1])?;
        if let Some(l) = &ds.labels {
            write!(w, ",{}", ds.class_name(l[i]))?;
        }
        if let Some(c) = &clusters {
            write!(w, ",{}", c[i])?;
        }
        writeln!(w)?;
    }
    w.flush()?;
    println!("{}", a.out.display());
    Ok(())
}
