//! `decscope train`: DEC on a dataset with progress bars, then ACC/NMI/ARI next to
//! the paper's baselines, the report and the saved model.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use decscope::data::Dataset;
use decscope::engine::cluster::constraints::{Constraints, DEFAULT_WEIGHT, read_file};
use decscope::engine::cluster::metrics::Scores;
use decscope::engine::config::{DecConfig, LrSchedule, Method, OnCollapse, Precision, Preset};
use decscope::engine::model::DecModel;
use decscope::engine::pipeline::{AeSource, Control, Resume, RunOutput, run};
use decscope::engine::report::{RunSummary, time_to_accuracy_line};
use decscope::engine::settings::{PretrainOptimizer, Settings};
use indicatif::MultiProgress;

use super::DataArgs;
use super::progress::BarSink;

#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Starting configuration: fast (default), the paper's schedule, or augmented
    /// (fast with DEC-DA's augmentation and 400 pretraining epochs: the best accuracy
    /// on images).
    #[arg(long, value_enum, default_value_t = Preset::Fast)]
    pub preset: Preset,
    /// Clustering objective: dec (KL only) or idec (KL plus the decoder's
    /// reconstruction loss).
    #[arg(long, value_enum)]
    pub method: Option<Method>,
    /// IDEC's γ: L = L_r + γ·KL (default 0.1).
    #[arg(long)]
    pub idec_gamma: Option<f32>,
    /// Randomly shift and rotate every pretraining and clustering batch (DEC-DA);
    /// needs images.
    #[arg(long, conflicts_with = "no_augment")]
    pub augment: bool,
    /// Turn off the augmentation of a preset that has it.
    #[arg(long)]
    pub no_augment: bool,
    /// Largest shift, as a fraction of the width and height (default 0.1); implies
    /// --augment.
    #[arg(long)]
    pub shift: Option<f32>,
    /// Largest rotation in degrees (default 10); implies --augment.
    #[arg(long)]
    pub rotation: Option<f32>,
    /// Append the run's summary line to this CSV (header written when it is new).
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Number of clusters (default: number of classes, else 10).
    #[arg(long)]
    pub clusters: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write the JSON report here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Save the trained model (weights, centroids, configuration, the fitted
    /// preprocessing) into this folder.
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Write the assignments as CSV: index,cluster[,cluster_name],confidence[,label][,title]
    /// (as `predict --out`, without a second pass).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write the embedding z of every sample: float32 .npy when the name ends in .npy,
    /// else CSV (z0,z1,...).
    #[arg(long)]
    pub embedding: Option<PathBuf>,
    /// Also save the autoencoder as it is right after pretraining (before DEC changes
    /// the encoder), for `--init-from` and the app's bundled model.
    #[arg(long)]
    pub save_pretrained: Option<PathBuf>,
    /// Start from the autoencoder of a saved model and skip pretraining.
    #[arg(long)]
    pub init_from: Option<PathBuf>,
    /// With --init-from: go on from the model's DEC state (its encoder and its
    /// perhaps edited centroids, see `decscope edit`) instead of new k-means centroids.
    #[arg(long, requires = "init_from")]
    pub resume: bool,
    /// Must-link / cannot-link pairs added to DEC's loss: a CSV of i,j,must|cannot
    /// (0-based sample rows).
    #[arg(long, value_name = "FILE")]
    pub constraints: Option<PathBuf>,
    /// Weight of the constraints' loss against KL (default 1).
    #[arg(long, requires = "constraints")]
    pub constraint_weight: Option<f32>,
    /// Encoder widths after the input, e.g. 500,500,2000,10.
    #[arg(long, value_delimiter = ',')]
    pub dims: Option<Vec<usize>>,
    /// Layer-wise pretraining iterations per layer (0 skips the layer-wise stage).
    #[arg(long)]
    pub layerwise_iters: Option<usize>,
    /// End-to-end fine-tuning iterations of the autoencoder.
    #[arg(long)]
    pub finetune_iters: Option<usize>,
    /// Same as --finetune-iters, in epochs over the data.
    #[arg(long, conflicts_with = "finetune_iters")]
    pub finetune_epochs: Option<usize>,
    /// Dropout rate of the layer-wise stage.
    #[arg(long)]
    pub dropout: Option<f32>,
    /// Pretraining optimizer: adam or sgd.
    #[arg(long, value_enum)]
    pub pretrain_optimizer: Option<PretrainOptimizer>,
    /// Pretraining learning rate.
    #[arg(long)]
    pub pretrain_lr: Option<f32>,
    /// Divide the pretraining learning rate by 10 every N iterations (0: never).
    #[arg(long)]
    pub lr_step: Option<usize>,
    /// Shape of the pretraining learning rate: step (as --lr-step says) or cosine
    /// (linear warm-up over --lr-warmup of each phase, then cosine decay to --lr-floor).
    #[arg(long, value_enum)]
    pub lr_schedule: Option<ScheduleKind>,
    /// Warm-up share of each pretraining phase with --lr-schedule cosine.
    #[arg(long, default_value_t = 0.0, requires = "lr_schedule")]
    pub lr_warmup: f32,
    /// With --lr-schedule cosine: decay to this share of the peak rate, not to 0.
    #[arg(long, default_value_t = 0.0, requires = "lr_schedule")]
    pub lr_floor: f32,
    /// Mini-batch size of pretraining and of DEC (default 256).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// DEC learning rate (SGD with momentum 0.9).
    #[arg(long)]
    pub dec_lr: Option<f32>,
    /// Recompute the target distribution every N batches.
    #[arg(long)]
    pub update_interval: Option<usize>,
    /// Stop when fewer than this fraction of labels change between updates.
    #[arg(long)]
    pub tol: Option<f32>,
    /// Cap on DEC iterations.
    #[arg(long)]
    pub max_iter: Option<usize>,
    /// Student's t degrees of freedom.
    #[arg(long)]
    pub alpha: Option<f32>,
    /// k-means restarts.
    #[arg(long)]
    pub kmeans_n_init: Option<usize>,
    /// Settle checks of end-to-end pretraining: off (the default), watch (every few
    /// epochs k-means on Z of a 2,000-row sample, its agreement with the last check
    /// printed and reported) or stop (also end pretraining once the partition stops
    /// drifting: 4 checks in a row that differ from 5 checks back no more than 1.5x
    /// as much as neighbouring checks differ, never before a quarter of its steps)
    #[arg(long, value_enum)]
    pub settle: Option<decscope::engine::config::Settle>,
    /// Where DEC's centroids start: kmeans (k-means on Z, the paper's), spectral (the
    /// clusters of Z's nearest-neighbour graph: keeps apart classes that touch in Z) or
    /// auto (the default: with self-correction on non-text data, DEC runs from both and
    /// keeps the outcome that the pretrained Z's neighbour graph agrees with more, the
    /// start check; else kmeans)
    #[arg(long, value_enum)]
    pub start: Option<decscope::engine::config::Start>,
    /// After DEC converges, look for its own split-and-merge failure without labels (a
    /// pair of clusters that look like one class cut in two, a cluster far above the
    /// median size), mend it in the pretrained Z and run DEC again (up to 3 rounds).
    /// On by default in the fast and augmented presets, off in paper
    #[arg(long, conflicts_with = "no_self_correct")]
    pub self_correct: bool,
    /// Turn self-correction off: DEC as the paper runs it, from k-means on Z (with
    /// --start auto) and without rounds
    #[arg(long)]
    pub no_self_correct: bool,
    /// What a collapsed cluster does: stop (end DEC with the last healthy state) or warn.
    #[arg(long, value_enum)]
    pub on_collapse: Option<OnCollapse>,
    /// A cluster collapses below this fraction of min(its size after k-means, n/k).
    #[arg(long)]
    pub collapse_fraction: Option<f32>,
    /// Skip the k-means-on-input baseline.
    #[arg(long)]
    pub no_baseline: bool,
    /// Precision of the training products: f32, bf16 (bf16 operands, f32 sums, on
    /// CPUs with AVX512-BF16; on AMX tiles where the CPU has them) or auto (bf16 where
    /// it is faster than f32 here: AMX, or AMD's AVX512-BF16). Default f32.
    #[arg(long, value_enum)]
    pub precision: Option<Precision>,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `--lr-schedule`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ScheduleKind {
    Step,
    Cosine,
}

/// The preset fitted to `n` rows ([`DecConfig::scaled_to`]), then the command-line
/// overrides.
pub fn build_config(a: &TrainArgs, n: usize) -> Result<DecConfig> {
    Ok(a.settings().config(n)?)
}

impl TrainArgs {
    /// The run's settings as the library states them (the Python estimator builds the
    /// same from its keyword arguments).
    pub fn settings(&self) -> Settings {
        let augment = if self.no_augment {
            Some(false)
        } else if self.augment {
            Some(true)
        } else {
            None
        };
        Settings {
            preset: self.preset,
            seed: self.seed,
            method: self.method,
            idec_gamma: self.idec_gamma,
            augment,
            shift: self.shift,
            rotation: self.rotation,
            clusters: self.clusters,
            dims: self.dims.clone(),
            layerwise_iters: self.layerwise_iters,
            finetune_iters: self.finetune_iters,
            finetune_epochs: self.finetune_epochs,
            dropout: self.dropout,
            pretrain_optimizer: self.pretrain_optimizer,
            pretrain_lr: self.pretrain_lr,
            lr_step: self.lr_step,
            lr_schedule: self.lr_schedule.map(|k| match k {
                ScheduleKind::Step => LrSchedule::Step,
                ScheduleKind::Cosine => LrSchedule::Cosine {
                    warmup: self.lr_warmup,
                    floor: self.lr_floor,
                },
            }),
            batch_size: self.batch_size,
            dec_lr: self.dec_lr,
            update_interval: self.update_interval,
            tol: self.tol,
            max_iter: self.max_iter,
            alpha: self.alpha,
            kmeans_n_init: self.kmeans_n_init,
            start: self.start,
            settle: self.settle,
            self_correct: if self.no_self_correct {
                Some(false)
            } else {
                self.self_correct.then_some(true)
            },
            on_collapse: self.on_collapse,
            collapse_fraction: self.collapse_fraction,
            baselines: self.no_baseline.then_some(false),
            precision: self.precision,
        }
    }
}

/// The model of `--init-from`, if any, and the data read for it: with the model's
/// fitted preprocessing, so its autoencoder sees values scaled as in its training. A
/// folder saved before models kept their preprocessing is read with the data's own,
/// as then, and a line says so.
pub(super) fn init_and_data(a: &TrainArgs) -> Result<(Option<DecModel>, Dataset)> {
    let Some(dir) = &a.init_from else {
        return Ok((None, a.data.load()?));
    };
    let m = DecModel::load(dir)?;
    let ds = if m.preprocess.is_some() {
        a.data.load_for(&m, dir)?
    } else {
        let ds = a.data.load()?;
        eprintln!(
            "decscope: note: {} was saved without its preprocessing; assuming this data's own ({}), as decscope did before",
            dir.display(),
            ds.preprocessing.name()
        );
        ds
    };
    Ok((Some(m), ds))
}

/// The autoencoder of `--init-from` (with `--resume`, its whole DEC state), checked
/// against `d` features, or pretraining.
pub(super) fn ae_source(a: &TrainArgs, init: Option<DecModel>, d: usize) -> Result<AeSource> {
    Ok(match (&a.init_from, init) {
        (Some(dir), Some(m)) => {
            m.check_input(d, dir)?;
            let label = format!("init-from {}", dir.display());
            if a.resume {
                if m.n_clusters() == 0 {
                    bail!(
                        "{}: --resume needs a model with clusters (written by `train --save` or `edit --save`); this one is an autoencoder only: drop --resume to start DEC from k-means",
                        dir.display()
                    );
                }
                AeSource::Resume(Box::new(Resume::from_model(&m, label)))
            } else {
                AeSource::Given(m.ae, label)
            }
        }
        _ => AeSource::Pretrain,
    })
}

/// `--out` (the assignments table) and `--embedding` (z), when asked for.
fn write_outputs(a: &TrainArgs, ds: &Dataset, out: &RunOutput) -> Result<()> {
    if let Some(path) = &a.out {
        let names = &out.model.curation.names;
        let table = decscope::data::assignments_csv(ds, &out.assignments, &out.confidence, names)?;
        std::fs::write(path, table).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("  assignments written to {}", path.display());
    }
    if let Some(path) = &a.embedding {
        decscope::data::write_matrix(path, &out.z, out.model.ae.encoder.n_out(), "z")?;
        eprintln!("  embedding written to {}", path.display());
    }
    Ok(())
}

/// The pairs of `--constraints` for data of `n` samples, with their weight.
fn constraints(a: &TrainArgs, n: usize) -> Result<Constraints> {
    let Some(path) = &a.constraints else {
        return Ok(Constraints::default());
    };
    Ok(Constraints {
        pairs: read_file(path, n)?,
        weight: a.constraint_weight.unwrap_or(DEFAULT_WEIGHT),
    })
}

pub fn train(a: TrainArgs) -> Result<()> {
    let t0 = std::time::Instant::now();
    let (init, ds) = init_and_data(&a)?;
    let load_s = t0.elapsed().as_secs_f64();
    let mut cfg = build_config(&a, ds.n)?;
    cfg.constraints = constraints(&a, ds.n)?;
    cfg.validate(ds.n, ds.n_classes())?;
    let source = ae_source(&a, init, ds.d)?;
    // Before any baseline runs: can these rows be augmented, if asked?
    decscope::engine::pipeline::augmenter(&ds, &cfg)?;
    eprintln!(
        "decscope: {}, loaded in {load_s:.2}s\n  preprocessing {}: {}{}",
        dataset_line(&ds),
        ds.preprocessing.name(),
        ds.preprocessing_reason.as_deref().unwrap_or("-"),
        ds.label_note
            .iter()
            .chain(&ds.notes)
            .map(|n| format!("\n  {n}"))
            .collect::<String>()
    );
    let mut sink = BarSink {
        multi: MultiProgress::new(),
        bar: None,
        quiet: a.quiet,
        save_pretrained: a
            .save_pretrained
            .clone()
            .map(|d| (d, cfg.clone(), ds.info(), ds.fitted.clone())),
        error: None,
        history: true,
    };
    eprintln!(
        "  method {}, {}, augmentation {}, preset {}, seed {}, {} products{}",
        cfg.method_label(),
        k_label(&cfg, ds.n_classes()),
        cfg.augment_label(),
        cfg.preset.name(),
        cfg.seed,
        products_label(&cfg),
        start_label(&cfg, &ds, a.resume)
    );
    let mut out = run(&ds, &cfg, source, &mut sink, &Control::default())?;
    out.model.settings = Some(a.settings());
    if let Some(e) = sink.error.take() {
        return Err(e);
    }
    if let Some(b) = sink.bar.take() {
        b.finish_and_clear();
    }
    let r = &out.report;
    if let Some(path) = &a.report {
        std::fs::write(path, r.to_json())
            .with_context(|| format!("writing report {}", path.display()))?;
    }
    if let Some(dir) = &a.save {
        out.model.save(dir)?;
    }
    write_outputs(&a, &ds, &out)?;
    print_scores(r);
    print_details(r, &ds, &out.assignments);
    let t = &r.timing;
    println!(
        "time: baseline {:.1}s, pretrain {:.1}s, finetune {:.1}s, k-means {:.1}s, DEC {:.1}s, total {:.1}s",
        t.baseline_s, t.pretrain_s, t.finetune_s, t.kmeans_s, t.dec_s, t.total_s
    );
    if let Some(p) = &a.report {
        println!("report: {}", p.display());
    }
    if let Some(p) = &a.save {
        println!("model: {}", p.display());
    }
    if let Some(p) = &a.log {
        append_log(p, &RunSummary::of(r))?;
        println!("run appended to {}", p.display());
    }
    Ok(())
}

/// The k of a run and where it came from: `--clusters`, the labels' classes, or the
/// default of 10 when there are no labels to count (said, so that nobody reads ten
/// clusters of unlabelled data as something the data chose).
fn k_label(cfg: &DecConfig, n_classes: Option<usize>) -> String {
    if cfg.n_clusters > 0 {
        return format!("k {}", cfg.n_clusters);
    }
    match DecConfig::unset_clusters(n_classes) {
        (k, true) => format!("k {k} (the labels' classes)"),
        (k, false) => format!("k {k} (no labels to count classes; --clusters K sets it)"),
    }
}

/// What self-correction did: each round with its evidence, or that it found nothing
/// (nothing on a resumed run, where it does not run).
fn print_corrections(r: &decscope::engine::report::Report) {
    if let Some(c) = &r.start_check {
        let acc = |a: Option<f64>| a.map(|a| format!(", ACC {a:.4}")).unwrap_or_default();
        println!(
            "start check: DEC from the spectral start ended at modularity {:.4} on the pretrained Z's neighbour graph (step {}{}), from k-means at {:.4} (step {}{}){}; kept the {} start's outcome",
            c.spectral.modularity,
            c.spectral.last_step,
            acc(c.spectral.acc),
            c.kmeans.modularity,
            c.kmeans.last_step,
            acc(c.kmeans.acc),
            c.early_clause(),
            c.kept_name()
        );
    }
    if r.self_correction_found_nothing() {
        println!("{}", decscope::engine::report::NOTHING_TO_MEND);
    }
    for c in &r.self_correct {
        let before = c
            .acc_before
            .map(|a| format!(" (ACC before it {a:.4})"))
            .unwrap_or_default();
        println!(
            "self-correction round {} after DEC step {}: {}; merged {} into {}, split {} in the pretrained Z ({} + {} samples), DEC ran again{before}{}",
            c.round,
            c.step,
            c.found.evidence,
            c.found.merge.1,
            c.found.merge.0,
            c.found.split,
            c.halves[0],
            c.halves[1],
            if c.taken_back {
                "; taken back (the next check found a failure as strong), the state before it kept"
            } else {
                ""
            }
        );
    }
}

/// The summary table (baselines and the method), how DEC ended, the constraints and
/// the clusters' names.
fn print_scores(r: &decscope::engine::report::Report) {
    println!();
    println!("{:<28} {:>8} {:>8} {:>8}", "method", "ACC", "NMI", "ARI");
    let row = |name: &str, s: Option<Scores>| match s {
        Some(s) => println!("{name:<28} {:>8.4} {:>8.4} {:>8.4}", s.acc, s.nmi, s.ari),
        None => println!("{name:<28} {:>8} {:>8} {:>8}", "-", "-", "-"),
    };
    row("k-means on input", r.baselines.kmeans_input);
    let kept_kmeans =
        r.start_check.as_ref().map(|c| c.kept) == Some(decscope::engine::config::Start::Kmeans);
    if kept_kmeans {
        row("AE + k-means (DEC's start)", r.baselines.ae_kmeans);
    } else {
        row("AE + k-means", r.baselines.ae_kmeans);
    }
    if r.baselines.ae_spectral.is_some() && !kept_kmeans {
        row("AE + spectral (DEC's start)", r.baselines.ae_spectral);
    } else if r.baselines.ae_spectral.is_some() {
        row("AE + spectral", r.baselines.ae_spectral);
    }
    let fin = r.final_.acc.map(|acc| Scores {
        acc,
        nmi: r.final_.nmi.unwrap_or(0.0),
        nmi_geometric: r.final_.nmi_geometric.unwrap_or(0.0),
        ari: r.final_.ari.unwrap_or(0.0),
    });
    row(&r.config.method_label(), fin);
    println!(
        "\n{}: {} iterations, {}; cluster sizes {:?}",
        r.config.method_label(),
        r.final_.iterations,
        if r.final_.stopped_on_collapse {
            "stopped on a collapsed cluster (kept the last healthy state)"
        } else if r.final_.converged {
            "converged (label changes below tol)"
        } else {
            "stopped at max_iter"
        },
        r.final_.cluster_sizes
    );
    print_corrections(r);
    if let Some(sat) = r.final_.constraints_satisfied {
        let (must, cannot) = r.config.constraints.counts();
        println!(
            "constraints: {:.1}% of {must} must-link and {cannot} cannot-link pairs satisfied",
            100.0 * sat
        );
    }
    for (j, name) in r.final_.cluster_names.iter().enumerate() {
        if let Some(name) = name {
            println!(
                "cluster {j} is \"{name}\" ({} samples)",
                r.final_.cluster_sizes[j]
            );
        }
    }
}

/// Time to accuracy, the clusters' terms (text), per-class recall and the warnings.
fn print_details(
    r: &decscope::engine::report::Report,
    ds: &decscope::data::Dataset,
    assignments: &[u32],
) {
    if let Some(line) = time_to_accuracy_line(&r.history) {
        println!("time to accuracy: {line}");
    }
    if let (Some(h), Some(acc)) = (r.time_to_fraction_of_final(0.99), r.final_.acc) {
        println!(
            "time to accuracy: ACC {:.4} (99% of the final {acc:.4}) first at DEC step {}, {:.0} s into the run (of {:.0} s)",
            h.acc.unwrap_or(0.0),
            h.step,
            h.elapsed_s,
            r.timing.total_s
        );
    }
    if ds.text.is_some() {
        println!("cluster terms (highest mean tf-idf):");
        let k = r.final_.n_clusters;
        for (j, terms) in decscope::data::text::top_terms(ds, assignments, k, 10)
            .iter()
            .enumerate()
        {
            let words: Vec<&str> = terms.iter().map(|(t, _)| t.as_str()).collect();
            println!(
                "  cluster {j} ({}): {}",
                r.final_.cluster_sizes[j],
                words.join(" ")
            );
        }
    }
    if !r.per_class.is_empty() {
        println!(
            "per-class recall (Hungarian map): {}",
            recall_line(&r.per_class)
        );
    }
    for w in &r.warnings {
        println!("warning: {}", w.message);
    }
}

/// Append `s` to the CSV at `path`, with the header first when the file is new or
/// empty.
pub(super) fn append_log(path: &std::path::Path, s: &RunSummary) -> Result<()> {
    let fresh = std::fs::metadata(path).map_or(true, |m| m.len() == 0);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening the run log {} to append", path.display()))?;
    let mut w = csv::Writer::from_writer(file);
    if fresh {
        w.write_record(RunSummary::CSV_HEADER)?;
    }
    w.write_record(s.csv_fields())?;
    w.flush()
        .with_context(|| format!("writing the run log {}", path.display()))?;
    Ok(())
}

/// "name (n samples x d features, K classes)", the first line commands print.
pub(super) fn dataset_line(ds: &decscope::data::Dataset) -> String {
    format!(
        "{} ({} samples x {} features{})",
        ds.name,
        ds.n,
        ds.d,
        ds.n_classes()
            .map(|c| format!(", {c} classes"))
            .unwrap_or_default()
    )
}

/// Each class's recall as `class (size) recall`, for one line of the summary.
pub(super) fn recall_line(per_class: &[decscope::engine::cluster::metrics::ClassRecall]) -> String {
    per_class
        .iter()
        .map(|c| {
            let name = c.name.clone().unwrap_or_else(|| c.class.to_string());
            format!("{name} ({}) {:.3}", c.size, c.recall)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// ", spectral and k-means starts, the start check keeps one" and the like for the run's first
/// line; empty on a resume (no start) and for the default k-means start.
fn start_label(cfg: &DecConfig, ds: &Dataset, resume: bool) -> String {
    use decscope::engine::config::Start;
    let asked = cfg.cluster.start;
    let used = asked.resolved(cfg.cluster.self_correct, ds.text.is_some());
    match (resume, asked, used) {
        (true, _, _) | (false, Start::Auto, Start::Kmeans) => String::new(),
        (false, Start::Auto, _) => {
            ", spectral and k-means starts, the start check keeps one (auto: with self-correction)"
                .into()
        }
        (false, _, Start::Spectral) => ", spectral start".into(),
        (false, _, _) => ", k-means start".into(),
    }
}

/// `f32`, or `bf16` with the kernel that runs it (`bf16 (AMX)`).
fn products_label(cfg: &DecConfig) -> String {
    let p = cfg.precision.resolved();
    match decscope::engine::nn::bf16::kernel() {
        Some(k) if p == Precision::Bf16 => format!("bf16 ({})", k.name()),
        _ => p.name().to_owned(),
    }
}
