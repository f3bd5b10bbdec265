//! `decscope project`: 2-D layouts (t-SNE or PCA) of the data or of its embedding Z
//! under a saved model, for scripts and for comparing with openTSNE.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use decscope::data::Dataset;
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
    let model = match &a.model {
        Some(dir) => Some((DecModel::load(dir)?, dir.as_path())),
        None => None,
    };
    let ds = match &model {
        Some((m, dir)) => a.data.load_for(m, dir)?,
        None => a.data.load()?,
    };
    let (z, e, clusters) = embedding(model.as_ref(), &ds)?;
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
        dump_input(p, &x, e)?;
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
        warm_updates(&mut warm, &x, e, &params, a.warm_updates);
    }
    if a.kmeans {
        layout_scores(&a, &ds, &y, &idx, clusters.as_deref());
    }
    write_layout(&a.out, &ds, &y, &idx, clusters.as_deref())?;
    println!("{}", a.out.display());
    Ok(())
}

/// What is projected: Z of the model's encoder (and its clusters), or the input.
fn embedding(
    model: Option<&(DecModel, &std::path::Path)>,
    ds: &Dataset,
) -> Result<(Vec<f32>, usize, Option<Vec<u32>>)> {
    let Some((m, dir)) = model else {
        return Ok((ds.x.clone(), ds.d, None));
    };
    m.check_input(ds.d, dir)?;
    let (c, _, z) = if m.n_clusters() > 0 {
        m.predict(&ds.x, ds.n)
    } else {
        (Vec::new(), Vec::new(), m.ae.encode(&ds.x, ds.n))
    };
    let e = m.ae.encoder.n_out();
    Ok((z, e, (!c.is_empty()).then_some(c)))
}

/// The points projected, one CSV row each (for comparing with other t-SNE codes).
fn dump_input(p: &std::path::Path, x: &[f32], e: usize) -> Result<()> {
    let mut w =
        BufWriter::new(File::create(p).with_context(|| format!("creating {}", p.display()))?);
    for row in x.chunks_exact(e) {
        let line: Vec<String> = row.iter().map(|v| v.to_string()).collect();
        writeln!(w, "{}", line.join(","))?;
    }
    w.flush()?;
    Ok(())
}

/// `n` warm-started t-SNE updates as the app makes them between snapshots, timed.
fn warm_updates(
    warm: &mut decscope::projection::WarmTsne,
    x: &[f32],
    e: usize,
    params: &decscope::projection::TsneParams,
    n: usize,
) {
    for k in 0..n {
        // As the app: between snapshots, the neighbour search when it is due.
        let prep = warm.prepare(x, e, params);
        if prep > 0.0 {
            eprintln!("between updates: neighbour table searched in {prep:.3}s");
        }
        let t = std::time::Instant::now();
        let (_, kl2, info) = warm.update(x, e, params);
        eprintln!(
            "warm update {}: {} iterations in {:.3}s (neighbour distances {} in {:.3}s), KL {kl2:.4}",
            k + 1,
            params.warm_epochs,
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

/// k-means on the 2-D layout scored against the labels (manifold clustering), and
/// DEC's clusters on the same points.
fn layout_scores(
    a: &ProjectArgs,
    ds: &Dataset,
    y: &[f32],
    idx: &[usize],
    clusters: Option<&[u32]>,
) {
    let Some(t) = &ds.labels else { return };
    let k = a.clusters.unwrap_or_else(|| ds.n_classes().unwrap_or(10));
    let km = decscope::projection::manifold_kmeans(y, k, a.seed);
    let truth: Vec<u32> = idx.iter().map(|&i| t[i]).collect();
    let s = decscope::engine::cluster::metrics::scores(&truth, &km);
    eprintln!("k-means on the 2-D layout: {}", fmt_scores(&s));
    if let Some(c) = clusters {
        let dec: Vec<u32> = idx.iter().map(|&i| c[i]).collect();
        eprintln!(
            "DEC clusters on the same points: {}",
            fmt_scores(&decscope::engine::cluster::metrics::scores(&truth, &dec))
        );
    }
}

/// The layout as CSV: index, x, y, and the label and cluster when known.
fn write_layout(
    out: &std::path::Path,
    ds: &Dataset,
    y: &[f32],
    idx: &[usize],
    clusters: Option<&[u32]>,
) -> Result<()> {
    let mut w =
        BufWriter::new(File::create(out).with_context(|| format!("creating {}", out.display()))?);
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
        if let Some(c) = clusters {
            write!(w, ",{}", c[i])?;
        }
        writeln!(w)?;
    }
    w.flush()?;
    Ok(())
}
