//! `decscope sweep`: DEC over a range of k, scored by the paper's generalizability
//! (`--k 5..15`), or over retention rates of the imbalanced subsample
//! (`--retain-min 0.1,0.3,0.5,0.7`), printed as the paper's tables.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use decscope::data::Dataset;
use decscope::engine::cluster::metrics::Scores;
use decscope::engine::model::DecModel;
use decscope::engine::pipeline::Control;
use decscope::engine::sweep::{KSweep, KSweepReport, parse_ks, sweep_k, sweep_retain};
use indicatif::MultiProgress;

use super::progress::BarSink;
use super::train::{TrainArgs, ae_source, build_config, dataset_line, init_and_data, recall_line};

#[derive(Args, Debug, Clone)]
pub struct SweepArgs {
    /// The numbers of clusters to try: 5..15 (both ends included) or a list 4,6,10.
    #[arg(long)]
    pub k: Option<String>,
    /// Fraction of the data held out to compute L_validation for G.
    #[arg(long, default_value_t = 0.2)]
    pub holdout: f64,
    /// Seed of the training/validation split.
    #[arg(long, default_value_t = 0)]
    pub split_seed: u64,
    /// Every run's settings, as for `train` (`--report` writes the sweep's JSON).
    #[command(flatten)]
    pub train: TrainArgs,
}

pub fn sweep(a: SweepArgs) -> Result<()> {
    let a = paper_method(a);
    let ks = check_args(&a)?;
    let rates = a.train.data.load.retain_min.clone();
    let mut t = a.train.clone();
    t.data.load.retain_min.clear();
    let (init, ds) = init_and_data(&t)?;
    eprintln!(
        "decscope sweep: {}, preprocessing {}",
        dataset_line(&ds),
        ds.preprocessing.name()
    );
    let mut sink = BarSink {
        multi: MultiProgress::new(),
        bar: None,
        quiet: t.quiet,
        save_pretrained: None,
        error: None,
        history: false,
    };
    let json = match ks {
        Some(ks) => k_sweep(&a, ks, &ds, init, &mut sink)?,
        None => retain_sweep(&t, &rates, &ds, &mut sink)?,
    };
    if let Some(path) = &t.report {
        std::fs::write(path, json).with_context(|| format!("writing report {}", path.display()))?;
        println!("report: {}", path.display());
    }
    Ok(())
}

/// The sweeps reproduce the paper's analyses (choose k, its section 5.5; imbalanced
/// data, 5.4), which run DEC from k-means on Z: self-correction, the default of
/// `train`, only when `--self-correct` asks for it (docs/accuracy.md).
fn paper_method(mut a: SweepArgs) -> SweepArgs {
    if !a.train.self_correct {
        a.train.no_self_correct = true;
    }
    a
}

/// The flags a sweep refuses, and which sweep was asked for: the values of k, or
/// `None` for the retention sweep.
fn check_args(a: &SweepArgs) -> Result<Option<Vec<usize>>> {
    let t = &a.train;
    if t.save.is_some()
        || t.save_pretrained.is_some()
        || t.log.is_some()
        || t.out.is_some()
        || t.embedding.is_some()
    {
        bail!(
            "sweep trains many models and saves none; drop --save/--save-pretrained/--log/--out/--embedding (--report writes the sweep's table)"
        );
    }
    match (&a.k, t.data.load.retain_min.is_empty()) {
        (Some(_), false) => bail!(
            "give either --k (choose the number of clusters) or --retain-min (the imbalance table), not both"
        ),
        (None, true) => bail!(
            "nothing to sweep: give --k 5..15 (choose the number of clusters) or --retain-min 0.1,0.3,0.5,0.7 (the imbalance table)"
        ),
        _ => {}
    }
    a.k.as_deref()
        .map(parse_ks)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--k {e}"))
}

/// Choose k (section 5.5): DEC for each k, the table printed; the report's JSON.
fn k_sweep(
    a: &SweepArgs,
    ks: Vec<usize>,
    ds: &Dataset,
    init: Option<DecModel>,
    sink: &mut BarSink,
) -> Result<String> {
    let t = &a.train;
    let params = KSweep {
        ks,
        holdout: a.holdout,
        split_seed: a.split_seed,
    };
    params.validate(ds.n)?;
    let cfg = build_config(t, params.sizes(ds.n).0)?;
    let source = ae_source(t, init, ds.d)?;
    let r = sweep_k(ds, &cfg, &params, source, sink, &Control::default())?;
    if let Some(b) = sink.bar.take() {
        b.finish_and_clear();
    }
    print_k_table(&r, ds);
    Ok(serde_json::to_string_pretty(&r)?)
}

fn print_k_table(r: &KSweepReport, ds: &Dataset) {
    println!(
        "\nchoose k: DEC trained on {} samples, G = L_train / L_validation on {} held out",
        r.n_train, r.n_val
    );
    println!(
        "{:>4} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7}",
        "k", "L_train", "L_val", "G", "ACC", "NMI", "ARI", "iters", "time"
    );
    for p in &r.points {
        let s = p.scores;
        let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
        println!(
            "{:>4} {:>10.5} {:>10.5} {:>8.4} {:>8} {:>8} {:>8} {:>7} {:>6.0}s",
            p.k,
            p.l_train,
            p.l_val,
            p.g,
            f(s.map(|s| s.acc)),
            f(s.map(|s| s.nmi)),
            f(s.map(|s| s.ari)),
            p.iterations,
            p.seconds
        );
    }
    if let Some(k) = r.suggested_k {
        println!("\nG suggests k = {k} (the last k before G's largest drop)");
    }
    if let Some(best) = r
        .points
        .iter()
        .filter_map(|p| p.scores.map(|s| (p.k, s.nmi)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
    {
        println!(
            "highest NMI: k = {} ({:.4}); the data has {} classes",
            best.0,
            best.1,
            ds.n_classes().map_or("no".into(), |c| c.to_string())
        );
    }
    println!(
        "time: {:.0} s in all ({}), {:.0} s of DEC runs",
        r.total_s,
        if r.pretrain_s > 0.0 {
            format!("autoencoder pretrained once in {:.0} s", r.pretrain_s)
        } else {
            "autoencoder given".into()
        },
        r.points.iter().map(|p| p.seconds).sum::<f64>()
    );
}

/// The imbalance table (section 5.4): DEC at each retention rate; the report's JSON.
fn retain_sweep(t: &TrainArgs, rates: &[f64], ds: &Dataset, sink: &mut BarSink) -> Result<String> {
    let t0 = Instant::now();
    let cfg_for = |n: usize| build_config(t, n).unwrap_or_default();
    // The flags are checked once here, so the closure above cannot fail on them.
    build_config(t, ds.n)?;
    let rows = sweep_retain(
        ds,
        rates,
        t.data.load.retain_seed,
        &cfg_for,
        sink,
        &Control::default(),
    )?;
    if let Some(b) = sink.bar.take() {
        b.finish_and_clear();
    }
    println!(
        "\nimbalanced data (each sample of class c kept with probability r_min + (1 - r_min) c/(K-1)): ACC"
    );
    println!(
        "{:>6} {:>7} {:>10} {:>13} {:>8} {:>16}",
        "r_min", "n", "k-means", "AE + k-means", "DEC", "DEC NMI"
    );
    let f = |s: Option<Scores>| s.map_or("-".to_string(), |s| format!("{:.4}", s.acc));
    for r in &rows {
        println!(
            "{:>6} {:>7} {:>10} {:>13} {:>8} {:>16}",
            r.r_min,
            r.n,
            f(r.kmeans),
            f(r.ae_kmeans),
            f(r.dec),
            r.dec.map_or("-".into(), |s| format!("{:.4}", s.nmi))
        );
    }
    println!("\nper-class recall of DEC (class (size) recall):");
    for r in &rows {
        println!("  r_min {}: {}", r.r_min, recall_line(&r.per_class));
        for w in &r.warnings {
            println!("    warning: {w}");
        }
    }
    println!("time: {:.0} s", t0.elapsed().as_secs_f64());
    Ok(serde_json::to_string_pretty(&rows)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn sweep_args(extra: &[&str]) -> SweepArgs {
        let argv = [&["decscope", "sweep", "--k", "5..6"][..], extra].concat();
        match crate::cli::Cli::try_parse_from(argv).unwrap().command {
            Some(crate::cli::Command::Sweep(a)) => *a,
            other => panic!("{other:?}"),
        }
    }

    /// A sweep runs the paper's DEC (k-means start, no self-correction) unless
    /// `--self-correct` is given, while `train` with the same flags self-corrects.
    #[test]
    fn a_sweep_runs_the_papers_method_unless_asked_to_self_correct() {
        let n = 1000;
        let plain = paper_method(sweep_args(&[]));
        assert!(!build_config(&plain.train, n).unwrap().cluster.self_correct);
        assert!(
            build_config(&sweep_args(&[]).train, n)
                .unwrap()
                .cluster
                .self_correct
        );
        let asked = paper_method(sweep_args(&["--self-correct"]));
        assert!(build_config(&asked.train, n).unwrap().cluster.self_correct);
    }
}
