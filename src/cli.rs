//! Command-line arguments and the headless commands.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use decscope::config::{DecConfig, Preset};
use decscope::data::{self, LoadOptions, Preprocessing};
use decscope::metrics::Scores;
use decscope::model::DecModel;
use decscope::optim::OptimizerConfig;
use decscope::pipeline::{AeSource, Control, Event, Phase, Sink, run};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

#[derive(Parser, Debug)]
#[command(
    name = "decscope",
    version,
    about = "Deep Embedded Clustering: train, inspect and watch it live"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Dataset to open in the app (default: the bundled MNIST test set).
    #[arg(long, global = false)]
    pub data: Option<PathBuf>,
    /// Start training as soon as the app opens.
    #[arg(long)]
    pub autostart: bool,
    /// Close the app after this many seconds and print frame-time statistics.
    #[arg(long)]
    pub exit_after: Option<f64>,
    /// Projection shown at start: pca or tsne.
    #[arg(long, value_enum)]
    pub view: Option<ProjectMethod>,
    /// Tab shown at start.
    #[arg(long, value_enum)]
    pub tab: Option<TabArg>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TabArg {
    Embedding,
    Curves,
    Clusters,
    Confusion,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train DEC on a dataset and report ACC/NMI/ARI against the paper's baselines.
    Train(Box<TrainArgs>),
    /// Assign clusters to new data with a saved model.
    Predict(PredictArgs),
    /// Measure training speed on this machine (GEMM, autoencoder and DEC steps).
    Bench(BenchArgs),
    /// Describe a dataset: size, type, labels, value range, preprocessing and warnings.
    Inspect(InspectArgs),
    /// Project data (or its embedding Z under a saved model) to 2-D with t-SNE or PCA.
    Project(ProjectArgs),
}

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

#[derive(Args, Debug, Clone)]
pub struct InspectArgs {
    /// File or folder to describe.
    pub path: PathBuf,
    #[arg(long)]
    pub labels: Option<PathBuf>,
    #[arg(long, default_value = "auto")]
    pub label_col: String,
    #[arg(long, value_enum, default_value_t = Preprocessing::Auto)]
    pub preprocess: Preprocessing,
    /// Warn when more clusters than this are impossible.
    #[arg(long)]
    pub clusters: Option<usize>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Also write the figures as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Timed steps per measurement.
    #[arg(long, default_value_t = 40)]
    pub steps: usize,
    /// Batch size.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Skip the candle-nn reference.
    #[arg(long)]
    pub no_reference: bool,
}

#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Data file or folder (IDX/MNIST files or a folder of them).
    #[arg(long, default_value = "datasets/mnist-test")]
    pub data: PathBuf,
    /// Label file, when not found next to the data.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Feature preprocessing (auto: pixels to [0,1], tf-idf to unit rows, tables standardised).
    #[arg(long, value_enum, default_value_t = Preprocessing::Auto)]
    pub preprocess: Preprocessing,
    /// Use only the first N samples.
    #[arg(long)]
    pub limit: Option<usize>,
    /// CSV/TSV label column: a name, a 0-based index, first, last, none or auto
    /// (a column called label, class, target or y).
    #[arg(long, default_value = "auto")]
    pub label_col: String,
    /// Bring every image of an image folder to WxH pixels.
    #[arg(long, value_parser = parse_size)]
    pub image_size: Option<(usize, usize)>,
    /// Shape of one sample as HxW or HxWxC (for galleries), when it cannot be guessed.
    #[arg(long, value_parser = parse_shape)]
    pub image_shape: Option<decscope::data::ImageShape>,
}

fn parse_size(s: &str) -> Result<(usize, usize), String> {
    let (w, h) = s
        .split_once('x')
        .ok_or_else(|| format!("'{s}': expected WxH, e.g. 28x28"))?;
    let w = w
        .parse()
        .map_err(|_| format!("'{s}': width is not a number"))?;
    let h = h
        .parse()
        .map_err(|_| format!("'{s}': height is not a number"))?;
    Ok((w, h))
}

fn parse_shape(s: &str) -> Result<decscope::data::ImageShape, String> {
    let p: Vec<usize> = s
        .split('x')
        .map(|v| {
            v.parse()
                .map_err(|_| format!("'{s}': expected HxW or HxWxC"))
        })
        .collect::<Result<_, _>>()?;
    match p[..] {
        [h, w] => Ok(decscope::data::ImageShape {
            height: h,
            width: w,
            channels: 1,
        }),
        [h, w, c] => Ok(decscope::data::ImageShape {
            height: h,
            width: w,
            channels: c,
        }),
        _ => Err(format!("'{s}': expected HxW or HxWxC")),
    }
}

#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Starting configuration: fast (default) or the paper's schedule.
    #[arg(long, value_enum, default_value_t = Preset::Fast)]
    pub preset: Preset,
    /// Number of clusters (default: number of classes, else 10).
    #[arg(long)]
    pub clusters: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write the JSON report here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Save the trained model (weights, centroids, configuration) into this folder.
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Also save the autoencoder as it is right after pretraining (before DEC changes
    /// the encoder), for `--init-from` and the app's bundled model.
    #[arg(long)]
    pub save_pretrained: Option<PathBuf>,
    /// Start from the autoencoder of a saved model and skip pretraining.
    #[arg(long)]
    pub init_from: Option<PathBuf>,
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
    #[arg(long)]
    pub pretrain_optimizer: Option<String>,
    /// Pretraining learning rate.
    #[arg(long)]
    pub pretrain_lr: Option<f32>,
    /// Divide the pretraining learning rate by 10 every N iterations (0: never).
    #[arg(long)]
    pub lr_step: Option<usize>,
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
    /// Skip the k-means-on-input baseline.
    #[arg(long)]
    pub no_baseline: bool,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
}

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

pub fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Some(Command::Train(a)) => train(*a),
        Some(Command::Predict(a)) => predict(a),
        Some(Command::Bench(a)) => bench(a),
        Some(Command::Inspect(a)) => inspect(a),
        Some(Command::Project(a)) => project(a),
        None => gui(cli.data, cli.autostart, cli.exit_after, cli.view, cli.tab),
    }
}

pub fn load_options(a: &DataArgs) -> LoadOptions {
    LoadOptions {
        labels: a.labels.clone(),
        preprocessing: a.preprocess,
        limit: a.limit,
        label_col: a.label_col.parse().unwrap_or_default(),
        image_size: a.image_size,
        image_shape: a.image_shape,
        allow_non_finite: false,
    }
}

pub fn load_data(a: &DataArgs) -> Result<data::Dataset> {
    Ok(data::load(&a.data, &load_options(a))?)
}

/// Apply the command-line overrides to the preset.
pub fn build_config(a: &TrainArgs, n: usize) -> Result<DecConfig> {
    let mut c = DecConfig::preset(a.preset).with_seed(a.seed);
    if let Some(k) = a.clusters {
        c = c.with_clusters(k);
    }
    if let Some(d) = &a.dims {
        c = c.with_hidden(d.clone());
    }
    let p = &mut c.pretrain;
    if let Some(v) = a.layerwise_iters {
        p.layerwise_iters = v;
    }
    if let Some(v) = a.batch_size {
        p.batch_size = v;
        c.cluster.batch_size = v;
    }
    let p = &mut c.pretrain;
    if let Some(v) = a.finetune_iters {
        p.finetune_iters = v;
        p.finetune_epochs = None;
    }
    if let Some(e) = a.finetune_epochs {
        p.finetune_epochs = Some(e);
        p.finetune_iters = p.finetune_iters.max(e * n.div_ceil(p.batch_size.max(1)));
    }
    if let Some(v) = a.dropout {
        p.dropout = v;
    }
    if let Some(o) = &a.pretrain_optimizer {
        let lr = a.pretrain_lr.unwrap_or(match o.as_str() {
            "sgd" => 0.1,
            _ => 1e-3,
        });
        p.optimizer = match o.as_str() {
            "adam" => OptimizerConfig::adam(lr),
            "sgd" => OptimizerConfig::Sgd { lr, momentum: 0.9 },
            other => bail!("--pretrain-optimizer {other}: unknown; use adam or sgd"),
        };
    } else if let Some(lr) = a.pretrain_lr {
        p.optimizer = match p.optimizer {
            OptimizerConfig::Sgd { momentum, .. } => OptimizerConfig::Sgd { lr, momentum },
            OptimizerConfig::Adam {
                beta1, beta2, eps, ..
            } => OptimizerConfig::Adam {
                lr,
                beta1,
                beta2,
                eps,
            },
        };
    }
    if let Some(v) = a.lr_step {
        p.lr_step = v;
    }
    let cl = &mut c.cluster;
    if let Some(lr) = a.dec_lr {
        cl.optimizer = OptimizerConfig::Sgd { lr, momentum: 0.9 };
    }
    if let Some(v) = a.update_interval {
        cl.update_interval = v;
    }
    if let Some(v) = a.tol {
        cl.tol = v;
    }
    if let Some(v) = a.max_iter {
        cl.max_iter = v;
    }
    if let Some(v) = a.alpha {
        cl.alpha = v;
    }
    if let Some(v) = a.kmeans_n_init {
        cl.kmeans_n_init = v;
    }
    if a.no_baseline {
        c.baselines = false;
    }
    Ok(c)
}

/// Progress bars for the terminal.
struct BarSink {
    multi: MultiProgress,
    bar: Option<ProgressBar>,
    quiet: bool,
    /// Where to save the pretrained autoencoder, with what to record beside it.
    save_pretrained: Option<(PathBuf, DecConfig, decscope::data::DatasetInfo)>,
    error: Option<anyhow::Error>,
}

impl BarSink {
    fn line(&self, s: String) {
        if self.quiet {
            eprintln!("{s}");
        } else {
            let _ = self.multi.println(s);
        }
    }
}

fn fmt_scores(s: &Scores) -> String {
    format!("ACC {:.4}  NMI {:.4}  ARI {:.4}", s.acc, s.nmi, s.ari)
}

impl Sink for BarSink {
    fn event(&mut self, e: Event) {
        match e {
            Event::Phase { phase, total } => {
                if let Some(b) = self.bar.take() {
                    b.finish();
                }
                if phase == Phase::Done {
                    return;
                }
                let what = phase.label();
                if self.quiet {
                    eprintln!("[{what}]");
                    return;
                }
                let bar = if total > 0 {
                    let b = self.multi.add(ProgressBar::new(total as u64));
                    b.set_style(
                        ProgressStyle::with_template(
                            "{prefix:>18} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                    );
                    b
                } else {
                    let b = self.multi.add(ProgressBar::new_spinner());
                    b.enable_steady_tick(Duration::from_millis(120));
                    b
                };
                bar.set_prefix(what);
                self.bar = Some(bar);
            }
            Event::Step { step, loss, .. } => {
                if let Some(b) = &self.bar
                    && (step % 20 == 0)
                {
                    b.set_position(step as u64);
                    b.set_message(format!("loss {loss:.4}"));
                }
            }
            Event::History(h) => {
                if h.phase == "dec" {
                    let m = match h.acc {
                        Some(a) => format!(
                            "ACC {a:.4}  NMI {:.4}  ARI {:.4}  ",
                            h.nmi.unwrap_or(0.0),
                            h.ari.unwrap_or(0.0)
                        ),
                        None => String::new(),
                    };
                    self.line(format!(
                        "  dec step {:>6}: {m}KL {:.5}  changed {:.3}%",
                        h.step,
                        h.loss,
                        100.0 * h.changed.unwrap_or(0.0)
                    ));
                }
            }
            Event::Baseline { name, scores } => {
                self.line(format!("  baseline {name}: {}", fmt_scores(&scores)))
            }
            Event::Message(m) => self.line(format!("  {m}")),
            Event::Pretrained(ae) => {
                if let Some((dir, cfg, info)) = &self.save_pretrained {
                    let m = DecModel::autoencoder_only((*ae).clone(), cfg, info);
                    match m.save(dir) {
                        Ok(()) => self.line(format!(
                            "  pretrained autoencoder saved to {}",
                            dir.display()
                        )),
                        Err(e) => self.error = Some(e.into()),
                    }
                }
            }
            Event::Snapshot(_) => {}
        }
    }
}

fn train(a: TrainArgs) -> Result<()> {
    let t0 = std::time::Instant::now();
    let ds = load_data(&a.data)?;
    let load_s = t0.elapsed().as_secs_f64();
    let cfg = build_config(&a, ds.n)?;
    cfg.validate(ds.n, ds.n_classes())?;
    eprintln!(
        "decscope: {} ({} samples x {} features{}), preprocessing {:?}, loaded in {load_s:.2}s",
        ds.name,
        ds.n,
        ds.d,
        ds.n_classes()
            .map(|c| format!(", {c} classes"))
            .unwrap_or_default(),
        ds.preprocessing
    );
    let source = match &a.init_from {
        Some(dir) => {
            let m = DecModel::load(dir)?;
            m.check_input(ds.d, dir)?;
            AeSource::Given(m.ae, format!("init-from {}", dir.display()))
        }
        None => AeSource::Pretrain,
    };
    let mut sink = BarSink {
        multi: MultiProgress::new(),
        bar: None,
        quiet: a.quiet,
        save_pretrained: a
            .save_pretrained
            .clone()
            .map(|d| (d, cfg.clone(), ds.info())),
        error: None,
    };
    let out = run(&ds, &cfg, source, &mut sink, &Control::default())?;
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
    // Summary table.
    println!();
    println!("{:<28} {:>8} {:>8} {:>8}", "method", "ACC", "NMI", "ARI");
    let row = |name: &str, s: Option<Scores>| match s {
        Some(s) => println!("{name:<28} {:>8.4} {:>8.4} {:>8.4}", s.acc, s.nmi, s.ari),
        None => println!("{name:<28} {:>8} {:>8} {:>8}", "-", "-", "-"),
    };
    row("k-means on input", r.baselines.kmeans_input);
    row("AE + k-means", r.baselines.ae_kmeans);
    let fin = r.final_.acc.map(|acc| Scores {
        acc,
        nmi: r.final_.nmi.unwrap_or(0.0),
        nmi_geometric: r.final_.nmi_geometric.unwrap_or(0.0),
        ari: r.final_.ari.unwrap_or(0.0),
    });
    row("DEC", fin);
    println!(
        "\nDEC: {} iterations, {}; cluster sizes {:?}",
        r.final_.iterations,
        if r.final_.converged {
            "converged (label changes below tol)"
        } else {
            "stopped at max_iter"
        },
        r.final_.cluster_sizes
    );
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
    Ok(())
}

fn predict(a: PredictArgs) -> Result<()> {
    let model = DecModel::load(&a.model)?;
    if model.n_clusters() == 0 {
        bail!(
            "{}: this model has no centroids (an autoencoder only); train it with `decscope train --save`",
            a.model.display()
        );
    }
    let ds = load_data(&a.data)?;
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
        let s = decscope::metrics::scores(t, &labels);
        eprintln!("predicted {} samples: {}", ds.n, fmt_scores(&s));
    } else {
        eprintln!("predicted {} samples", ds.n);
    }
    println!("{}", a.out.display());
    Ok(())
}

fn bench(a: BenchArgs) -> Result<()> {
    let opts = decscope::bench::BenchOptions {
        steps: a.steps.max(3),
        batch: a.batch.max(1),
        reference: !a.no_reference,
        ..Default::default()
    };
    let r = decscope::bench::run(&opts, |what| eprintln!("  measuring {what}..."));
    print!("{}", r.table());
    if let Some(p) = &a.json {
        std::fs::write(p, serde_json::to_string_pretty(&r)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

/// Open the desktop app.
#[cfg(feature = "gui")]
fn gui(
    data: Option<PathBuf>,
    autostart: bool,
    exit_after: Option<f64>,
    view: Option<ProjectMethod>,
    tab: Option<TabArg>,
) -> Result<()> {
    let mut app = match &data {
        Some(p) => decscope::app::DecApp::new(data::load(p, &LoadOptions::default())?),
        None => decscope::app::DecApp::with_default_dataset(),
    };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1280.0, 820.0])
            .with_title("decscope: Deep Embedded Clustering"),
        ..Default::default()
    };
    eframe::run_native(
        "decscope",
        options,
        Box::new(move |cc| {
            app.exit_after = exit_after.map(|s| (std::time::Instant::now(), s));
            use decscope::app::Tab;
            app.tab = match tab {
                Some(TabArg::Curves) => Tab::Curves,
                Some(TabArg::Clusters) => Tab::Clusters,
                Some(TabArg::Confusion) => Tab::Confusion,
                _ => Tab::Embedding,
            };
            if autostart {
                app.start(&cc.egui_ctx);
            }
            if view == Some(ProjectMethod::Tsne) {
                app.set_method(decscope::app::Method::Tsne);
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "could not open the window: {e}. Is a display available (DISPLAY or WAYLAND_DISPLAY)?"
        )
    })
}

fn inspect(a: InspectArgs) -> Result<()> {
    let t0 = std::time::Instant::now();
    let format = data::detect(&a.path)?;
    let opts = LoadOptions {
        labels: a.labels.clone(),
        // Describe the values as stored; report what preprocessing would be applied.
        preprocessing: Preprocessing::None,
        label_col: a.label_col.parse().unwrap_or_default(),
        allow_non_finite: true,
        ..Default::default()
    };
    let ds = data::load(&a.path, &opts)?;
    let load_s = t0.elapsed().as_secs_f64();
    let chosen = a.preprocess.resolve(Some(data::kind_of(format, &ds.dtype)));
    let mut r = decscope::data::inspect::describe(&ds, format, a.clusters);
    r.preprocessing = format!(
        "{chosen:?}{}",
        if a.preprocess == Preprocessing::Auto {
            " (auto)"
        } else {
            ""
        }
    );
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print!("{}", r.text());
        println!("loaded in {load_s:.2}s");
    }
    Ok(())
}

fn project(a: ProjectArgs) -> Result<()> {
    use decscope::projection::{TsneParams, WarmTsne, balanced_sample};
    let ds = load_data(&a.data)?;
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
        ProjectMethod::Pca => (decscope::pca::Pca::fit(&x, e, 2).transform(&x), f32::NAN),
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
        let s = decscope::metrics::scores(&truth, &km);
        eprintln!("k-means on the 2-D layout: {}", fmt_scores(&s));
        if let Some(c) = &clusters {
            let dec: Vec<u32> = idx.iter().map(|&i| c[i]).collect();
            eprintln!(
                "DEC clusters on the same points: {}",
                fmt_scores(&decscope::metrics::scores(&truth, &dec))
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

#[cfg(not(feature = "gui"))]
fn gui(
    _: Option<PathBuf>,
    _: bool,
    _: Option<f64>,
    _: Option<ProjectMethod>,
    _: Option<TabArg>,
) -> Result<()> {
    bail!(
        "this decscope was built without the desktop app (feature `gui`); use `decscope train --help`"
    )
}
