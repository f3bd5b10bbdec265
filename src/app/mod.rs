//! The desktop app: load a dataset, press Start, watch DEC reorganise the embedded
//! space while curves climb and galleries fill, then inspect what got mixed up.
//!
//! The GUI thread only draws and reacts: training runs in a [`worker::Worker`] thread,
//! file dialogs and data loading on their own short-lived threads, and results come
//! back over channels that are drained without blocking once per frame.

pub mod confusion;
pub mod curves;
pub mod embedding;
pub mod gallery;
pub mod worker;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, TryRecvError};
use egui::{Color32, RichText, TextureHandle};

use crate::autoencoder::Autoencoder;
use crate::config::{DecConfig, Preset};
use crate::data::{self, Dataset, LoadOptions, Preprocessing};
use crate::metrics::Scores;
use crate::model::DecModel;
use crate::pca::pca_2d;
use crate::pipeline::{Event, Phase, RunOutput, Snapshot};
use crate::report::HistoryEntry;
use worker::{Worker, WorkerMsg};

/// The bundled autoencoder pretrained on the default dataset (see assets/README.md).
pub fn bundled_model_dir() -> PathBuf {
    let here = PathBuf::from("assets/pretrained-mnist-test");
    if here.exists() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/pretrained-mnist-test")
}

/// The four views of the central panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Embedding,
    Curves,
    Clusters,
    Confusion,
}

/// Which projection the embedding view shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Pca,
    Tsne,
}

/// One kept frame of the embedding view, for replay.
#[derive(Clone)]
pub struct Frame {
    pub step: usize,
    pub phase: Phase,
    pub method: Method,
    pub points: Arc<Vec<[f32; 2]>>,
    /// Sample index of each point (`None`: all samples in order).
    pub indices: Option<Arc<Vec<usize>>>,
    pub assignments: Option<Arc<Vec<u32>>>,
}

/// At most this many frames are kept for replay (oldest thinned out first).
pub const MAX_FRAMES: usize = 300;

/// Live state of the current run, rebuilt from the worker's events.
#[derive(Default)]
pub struct RunView {
    pub phase: Option<Phase>,
    pub step: usize,
    pub total: usize,
    pub loss: f32,
    pub phase_started: Option<Instant>,
    pub history: Vec<HistoryEntry>,
    pub baselines: Vec<(&'static str, Scores)>,
    pub snapshot: Option<Arc<Snapshot>>,
    /// 2-D PCA of the snapshot's Z.
    pub proj: Vec<[f32; 2]>,
    pub snapshots_seen: usize,
    /// Kept layouts for the timeline (PCA and t-SNE).
    pub frames: Vec<Frame>,
    /// The latest t-SNE layout.
    pub tsne: Option<crate::projection::Layout>,
    /// Manifold clustering on the latest t-SNE layout, scored against the true labels:
    /// (k-means on the 2-D layout, DEC's clusters on the same points).
    pub manifold_scores: Option<(Scores, Option<Scores>)>,
    pub paused: bool,
    pub finished: Option<Box<RunOutput>>,
    pub messages: Vec<String>,
}

impl RunView {
    /// Cluster of each sample, once known.
    pub fn assignments(&self) -> Option<&[u32]> {
        if let Some(f) = &self.finished {
            return Some(&f.assignments);
        }
        self.snapshot.as_ref()?.assignments.as_deref()
    }

    /// Confidence (max q) of each sample, once known.
    pub fn confidence(&self) -> Option<&[f32]> {
        if let Some(f) = &self.finished {
            return Some(&f.confidence);
        }
        self.snapshot.as_ref()?.confidence.as_deref()
    }

    /// Estimated seconds left in the current phase.
    pub fn eta_s(&self) -> Option<f64> {
        let t = self.phase_started?.elapsed().as_secs_f64();
        (self.step > 0 && self.total > self.step)
            .then(|| t / self.step as f64 * (self.total - self.step) as f64)
    }
}

/// Editable settings of the next run.
pub struct Settings {
    pub preset: Preset,
    pub cfg: DecConfig,
    /// Pretraining length in epochs.
    pub epochs: usize,
    /// Skip pretraining with the bundled or cached autoencoder when one matches.
    pub reuse_pretrained: bool,
}

/// The decscope window.
pub struct DecApp {
    pub ds: Arc<Dataset>,
    pub raw_proj: Vec<[f32; 2]>,
    pub settings: Settings,
    pub worker: Option<Worker>,
    pub run: RunView,
    pub tab: Tab,
    pub color_by_label: bool,
    /// In the t-SNE view, colour by k-means on the layout (manifold clustering).
    pub color_by_manifold: bool,
    /// The scatter's last mesh and what it was built from: rebuilt only when the
    /// points, colours or view change, not on every repaint.
    pub(crate) mesh_cache: Option<(embedding::MeshKey, Arc<egui::Mesh>)>,
    pub error: Option<String>,
    pub status: String,
    loading: Option<(PathBuf, Receiver<Result<Dataset, String>>)>,
    dialog: Option<Receiver<DialogResult>>,
    pub recent: Vec<PathBuf>,
    pub textures: HashMap<usize, TextureHandle>,
    pub selected_cell: Option<(usize, usize)>,
    pub frame_ms: VecDeque<f32>,
    last_frame: Option<Instant>,
    pub preprocess: Preprocessing,
    /// CSV label column for the next load (see `--label-col`).
    pub label_col: String,
    pub method: Method,
    pub tsne_worker: Option<crate::projection::TsneWorker>,
    pub tsne_params: crate::projection::TsneParams,
    /// Replay position in `run.frames` (`None`: follow the live run).
    pub replay: Option<usize>,
    pub playing: bool,
    last_play: Option<Instant>,
    /// Samples selected with a box in the embedding view.
    pub selection: Vec<usize>,
    /// The GUI context, to wake the window from other threads.
    repaint: Option<egui::Context>,
    /// eframe's CPU time of each frame (ms).
    pub frame_cpu_ms: VecDeque<f32>,
    /// Close the window after this many seconds and print frame statistics.
    pub exit_after: Option<(Instant, f64)>,
}

enum DialogResult {
    OpenData(Option<PathBuf>),
    LoadModel(Option<PathBuf>),
}

fn recent_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("decscope").join("recent.json"))
}

impl DecApp {
    /// The app with `ds` loaded.
    pub fn new(ds: Dataset) -> DecApp {
        let recent = recent_path()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        let mut app = DecApp {
            raw_proj: Vec::new(),
            ds: Arc::new(ds),
            settings: Settings {
                preset: Preset::Fast,
                cfg: DecConfig::default(),
                epochs: 200,
                reuse_pretrained: true,
            },
            worker: None,
            run: RunView::default(),
            tab: Tab::Embedding,
            color_by_label: false,
            color_by_manifold: false,
            mesh_cache: None,
            error: None,
            status: String::new(),
            loading: None,
            dialog: None,
            recent,
            textures: HashMap::new(),
            selected_cell: None,
            frame_ms: VecDeque::new(),
            last_frame: None,
            preprocess: Preprocessing::Auto,
            label_col: "auto".into(),
            method: Method::Pca,
            tsne_worker: None,
            // A first live picture sooner: openTSNE's 750 iterations rather than 1200.
            tsne_params: crate::projection::TsneParams {
                epochs: 500,
                // A first picture in seconds on the one t-SNE thread; the warm updates
                // that follow at each snapshot keep refining it.
                fit_theta: 0.5,
                ..Default::default()
            },
            replay: None,
            playing: false,
            last_play: None,
            selection: Vec::new(),
            repaint: None,
            frame_cpu_ms: VecDeque::new(),
            exit_after: None,
        };
        app.on_new_dataset();
        app
    }

    /// Open the bundled MNIST test set, or an empty placeholder with the reason.
    pub fn with_default_dataset() -> DecApp {
        match data::load(&data::default_dataset_path(), &LoadOptions::default()) {
            Ok(ds) => DecApp::new(ds),
            Err(e) => {
                let mut app = DecApp::new(
                    Dataset::new("(no data)", vec![0.0; 2], 2, None)
                        .unwrap_or_else(|_| unreachable!()),
                );
                app.error = Some(format!("could not open the bundled dataset: {e}"));
                app
            }
        }
    }

    fn on_new_dataset(&mut self) {
        self.raw_proj = pca_2d(&self.ds.x, self.ds.d);
        self.run = RunView::default();
        self.tsne_worker = None;
        self.replay = None;
        self.selection.clear();
        self.textures.clear();
        self.selected_cell = None;
        self.color_by_label = self.ds.labels.is_some();
        self.settings.cfg.n_clusters = 0;
        self.status = format!(
            "{}: {} samples x {} features",
            self.ds.name, self.ds.n, self.ds.d
        );
    }

    /// The configuration the next run uses.
    pub fn run_config(&self) -> DecConfig {
        let mut c = self.settings.cfg.clone();
        c.preset = self.settings.preset;
        if self.settings.preset == Preset::Fast {
            c.pretrain.finetune_epochs = Some(self.settings.epochs);
            c.pretrain.finetune_iters = c
                .pretrain
                .finetune_iters
                .max(self.settings.epochs * self.ds.n.div_ceil(c.pretrain.batch_size.max(1)));
        }
        c
    }

    /// A pretrained autoencoder to reuse for this data, if one matches.
    fn reusable_autoencoder(&self, cfg: &DecConfig) -> Option<(Autoencoder, String)> {
        if !self.settings.reuse_pretrained {
            return None;
        }
        let mut dims = vec![self.ds.d];
        dims.extend(&cfg.hidden);
        if let Some(dir) = worker::cache_dir(&self.ds, cfg)
            && let Ok(m) = DecModel::load(&dir)
            && m.ae.dims() == dims
        {
            return Some((m.ae, format!("cache {}", dir.display())));
        }
        // The bundled model was pretrained on the bundled dataset.
        let bundled = bundled_model_dir();
        if let Ok(m) = DecModel::load(&bundled)
            && m.ae.dims() == dims
            && m.dataset.n == self.ds.n
            && m.dataset.d == self.ds.d
            && m.dataset.name == self.ds.name
        {
            return Some((m.ae, "bundled pretrained autoencoder (assets/)".into()));
        }
        None
    }

    /// Start training with the current settings.
    pub fn start(&mut self, ctx: &egui::Context) {
        if self.worker.as_ref().is_some_and(|w| !w.is_finished()) {
            return;
        }
        let cfg = self.run_config();
        if let Err(e) = cfg.validate(self.ds.n, self.ds.n_classes()) {
            self.error = Some(e.to_string());
            return;
        }
        self.error = None;
        let init = self.reusable_autoencoder(&cfg);
        let cache = if init.is_none() && self.settings.reuse_pretrained {
            worker::cache_dir(&self.ds, &cfg)
        } else {
            None
        };
        self.run = RunView::default();
        self.selected_cell = None;
        self.tsne_worker = None;
        self.replay = None;
        self.selection.clear();
        let ctx2 = ctx.clone();
        self.worker = Some(Worker::spawn(
            self.ds.clone(),
            cfg,
            init,
            cache,
            move || ctx2.request_repaint(),
        ));
        self.status = "training...".into();
    }

    pub fn pause(&mut self) {
        if let Some(w) = &self.worker {
            w.controller.pause();
            self.run.paused = true;
        }
    }

    pub fn resume(&mut self) {
        if let Some(w) = &self.worker {
            w.controller.resume();
            self.run.paused = false;
        }
    }

    pub fn stop(&mut self) {
        if let Some(w) = &self.worker {
            w.controller.stop();
            self.run.paused = false;
        }
    }

    /// Whether a run is in progress.
    pub fn is_running(&self) -> bool {
        self.worker.as_ref().is_some_and(|w| !w.is_finished()) && self.run.finished.is_none()
    }

    /// Load a dataset from `path` on a background thread.
    pub fn open(&mut self, path: PathBuf) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let opts = LoadOptions {
            preprocessing: self.preprocess,
            ..Default::default()
        };
        let p = path.clone();
        std::thread::spawn(move || {
            let r = std::panic::catch_unwind(|| data::load(&p, &opts).map_err(|e| e.to_string()))
                .unwrap_or_else(|_| {
                    Err(format!(
                        "{}: the loader crashed; please report this file",
                        p.display()
                    ))
                });
            let _ = tx.send(r);
        });
        self.status = format!("loading {}...", path.display());
        self.loading = Some((path, rx));
    }

    /// Drain the worker's and loaders' channels (never blocks).
    pub fn poll(&mut self) {
        self.poll_tsne();
        if let Some((path, rx)) = &self.loading {
            match rx.try_recv() {
                Ok(Ok(ds)) => {
                    let path = path.clone();
                    self.loading = None;
                    self.stop();
                    self.worker = None;
                    self.ds = Arc::new(ds);
                    self.error = None;
                    self.on_new_dataset();
                    self.remember(&path);
                }
                Ok(Err(e)) => {
                    self.loading = None;
                    self.error = Some(e);
                    self.status = format!("kept {}", self.ds.name);
                }
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => self.loading = None,
            }
        }
        if let Some(rx) = &self.dialog
            && let Ok(r) = rx.try_recv()
        {
            self.dialog = None;
            match r {
                DialogResult::OpenData(Some(p)) => self.open(p),
                DialogResult::LoadModel(Some(p)) => self.load_model(&p),
                _ => {}
            }
        }
        let Some(w) = &self.worker else { return };
        let mut latest = None;
        while let Ok(s) = w.snapshots.try_recv() {
            latest = Some(s);
        }
        let mut msgs = Vec::new();
        while let Ok(m) = w.events.try_recv() {
            msgs.push(m);
        }
        if let Some(s) = latest {
            self.set_snapshot(s);
        }
        for m in msgs {
            self.on_msg(m);
        }
    }

    fn set_snapshot(&mut self, s: Arc<Snapshot>) {
        self.run.proj = pca_2d(&s.z, s.e);
        let assignments = s.assignments.clone().map(Arc::new);
        self.push_frame(Frame {
            step: s.step,
            phase: s.phase,
            method: Method::Pca,
            points: Arc::new(self.run.proj.clone()),
            indices: None,
            assignments: assignments.clone(),
        });
        if self.method == Method::Tsne {
            self.request_tsne(&s);
        }
        self.run.snapshot = Some(s);
        self.run.snapshots_seen += 1;
    }

    fn push_frame(&mut self, f: Frame) {
        let frames = &mut self.run.frames;
        frames.push(f);
        if frames.len() > MAX_FRAMES {
            // Thin out: drop every other frame of the older half.
            let half = frames.len() / 2;
            let mut i = 0;
            frames.retain(|_| {
                i += 1;
                i > half || i % 2 == 0
            });
        }
    }

    /// Switch the embedding view between PCA and t-SNE (t-SNE starts computing at once,
    /// on Z when a run has produced one, else on the raw input).
    pub fn set_method(&mut self, m: Method) {
        if m == self.method {
            return;
        }
        self.method = m;
        self.replay = None;
        // While a run is going, its next snapshot brings Z; t-SNE of the raw input
        // would only delay that.
        if m == Method::Tsne && (self.run.snapshot.is_some() || !self.is_running()) {
            let snap = self.run.snapshot.clone().unwrap_or_else(|| {
                Arc::new(Snapshot {
                    phase: Phase::Done,
                    step: 0,
                    z: self.ds.x.clone(),
                    e: self.ds.d,
                    assignments: None,
                    confidence: None,
                    centroids: None,
                    scores: None,
                })
            });
            self.request_tsne(&snap);
        }
    }

    /// Ask the t-SNE thread for a layout of this snapshot's Z.
    pub fn request_tsne(&mut self, s: &Snapshot) {
        let ctx_wake = self.repaint.clone();
        let params = self.tsne_params.clone();
        let w = self.tsne_worker.get_or_insert_with(|| {
            crate::projection::TsneWorker::spawn(params, move || {
                if let Some(c) = &ctx_wake {
                    c.request_repaint();
                }
            })
        });
        let groups = s.assignments.clone().or_else(|| self.ds.labels.clone());
        // Manifold clustering uses DEC's number of clusters (the classes before DEC).
        let clusters = s
            .centroids
            .as_ref()
            .map(|c| c.len() / s.e.max(1))
            .filter(|&k| k > 0)
            .or_else(|| (self.settings.cfg.n_clusters > 0).then_some(self.settings.cfg.n_clusters))
            .or_else(|| self.ds.n_classes())
            .unwrap_or(0);
        w.offer(crate::projection::ProjectRequest {
            z: Arc::new(s.z.clone()),
            e: s.e,
            step: s.step,
            groups,
            clusters,
        });
    }

    /// Take finished t-SNE layouts.
    fn poll_tsne(&mut self) {
        let Some(w) = &self.tsne_worker else { return };
        let mut got = Vec::new();
        while let Ok(l) = w.layouts.try_recv() {
            got.push(l);
        }
        for l in got {
            if let Some((t0, _)) = self.exit_after {
                println!(
                    "[{:6.2}s] t-SNE layout of step {}: {:.2}s, KL {:.4}",
                    t0.elapsed().as_secs_f64(),
                    l.step,
                    l.seconds,
                    l.kl.unwrap_or(f32::NAN)
                );
            }
            let assignments = self
                .run
                .snapshot
                .as_ref()
                .and_then(|s| s.assignments.clone())
                .map(Arc::new);
            let phase = self.run.snapshot.as_ref().map_or(Phase::Done, |s| s.phase);
            self.push_frame(Frame {
                step: l.step,
                phase,
                method: Method::Tsne,
                points: Arc::new(l.points.clone()),
                indices: Some(l.indices.clone()),
                assignments,
            });
            self.run.manifold_scores = match (&l.kmeans, &self.ds.labels) {
                (Some(km), Some(truth)) => {
                    let t: Vec<u32> = l.indices.iter().map(|&i| truth[i]).collect();
                    let dec = self.run.assignments().map(|a| {
                        let d: Vec<u32> = l.indices.iter().map(|&i| a[i]).collect();
                        crate::metrics::scores(&t, &d)
                    });
                    Some((crate::metrics::scores(&t, km), dec))
                }
                _ => None,
            };
            self.run.tsne = Some(l);
        }
    }

    fn on_msg(&mut self, m: WorkerMsg) {
        match m {
            WorkerMsg::Event(Event::Phase { phase, total }) => {
                if let Some((t0, _)) = self.exit_after {
                    println!("[{:6.2}s] phase {phase:?}", t0.elapsed().as_secs_f64());
                }
                self.run.phase = Some(phase);
                self.run.total = total;
                self.run.step = 0;
                self.run.phase_started = Some(Instant::now());
            }
            WorkerMsg::Event(Event::Step {
                step, total, loss, ..
            }) => {
                self.run.step = step;
                self.run.total = total;
                self.run.loss = loss;
            }
            WorkerMsg::Event(Event::History(h)) => self.run.history.push(h),
            WorkerMsg::Event(Event::Baseline { name, scores }) => {
                self.run.baselines.push((name, scores))
            }
            WorkerMsg::Event(Event::Snapshot(s)) => self.set_snapshot(s),
            WorkerMsg::Event(Event::Message(m)) => self.run.messages.push(m),
            WorkerMsg::Event(Event::Pretrained(_)) => {}
            WorkerMsg::Finished(out) => {
                self.set_snapshot(Arc::new(Snapshot {
                    phase: Phase::Done,
                    step: out.report.final_.iterations,
                    z: out.z.clone(),
                    e: out.model.ae.encoder.n_out(),
                    assignments: Some(out.assignments.clone()),
                    confidence: Some(out.confidence.clone()),
                    centroids: Some(out.model.centroids.clone()),
                    scores: None,
                }));
                self.status = match out.report.final_.acc {
                    Some(a) => format!("done: ACC {a:.4} in {:.0}s", out.report.timing.total_s),
                    None => format!("done in {:.0}s", out.report.timing.total_s),
                };
                if let Some((t0, _)) = self.exit_after {
                    println!("[{:6.2}s] {}", t0.elapsed().as_secs_f64(), self.status);
                }
                self.run.phase = Some(Phase::Done);
                self.run.finished = Some(out);
            }
            WorkerMsg::Failed(e) => {
                if e == "stopped" {
                    self.status = "stopped".into();
                } else {
                    self.error = Some(e);
                    self.status = "training failed".into();
                }
                self.run.phase = None;
            }
        }
    }

    fn remember(&mut self, path: &Path) {
        let p = path.to_path_buf();
        self.recent.retain(|r| r != &p);
        self.recent.insert(0, p);
        self.recent.truncate(8);
        if let Some(f) = recent_path() {
            let _ = f.parent().map(std::fs::create_dir_all);
            let _ = std::fs::write(f, serde_json::to_string(&self.recent).unwrap_or_default());
        }
    }

    fn load_model(&mut self, dir: &Path) {
        match DecModel::load(dir).and_then(|m| m.check_input(self.ds.d, dir).map(|_| m)) {
            Ok(m) if m.n_clusters() > 0 => {
                let (assignments, confidence, z) = m.predict(&self.ds.x, self.ds.n);
                self.run = RunView::default();
                let e = m.ae.encoder.n_out();
                self.set_snapshot(Arc::new(Snapshot {
                    phase: Phase::Done,
                    step: 0,
                    z,
                    e,
                    assignments: Some(assignments),
                    confidence: Some(confidence),
                    centroids: Some(m.centroids.clone()),
                    scores: None,
                }));
                self.status = format!("model {} applied", dir.display());
            }
            Ok(_) => {
                self.error = Some(format!(
                    "{}: an autoencoder without centroids; train it first",
                    dir.display()
                ))
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    /// `decscope-export/<what>-<unix time>`.
    fn export_path(what: &str) -> PathBuf {
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        PathBuf::from("decscope-export").join(format!("{what}-{ts}"))
    }

    /// Write assignments CSV, report JSON, model and gallery PNG of the finished run.
    pub fn export(&mut self) -> Result<PathBuf, String> {
        let Some(out) = &self.run.finished else {
            return Err("nothing to export yet: finish a run first".into());
        };
        let dir = Self::export_path("run");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut csv = String::from("index,cluster,confidence,label\n");
        for i in 0..self.ds.n {
            let label = self
                .ds
                .labels
                .as_ref()
                .map(|l| self.ds.class_name(l[i]))
                .unwrap_or_default();
            csv += &format!(
                "{i},{},{:.6},{label}\n",
                out.assignments[i], out.confidence[i]
            );
        }
        let w = |name: &str, bytes: &[u8]| {
            std::fs::write(dir.join(name), bytes)
                .map_err(|e| format!("{}: {e}", dir.join(name).display()))
        };
        w("assignments.csv", csv.as_bytes())?;
        w("report.json", out.report.to_json().as_bytes())?;
        out.model
            .save(&dir.join("model"))
            .map_err(|e| e.to_string())?;
        gallery::write_png(
            &self.ds,
            &out.assignments,
            &out.confidence,
            &dir.join("gallery.png"),
        )?;
        Ok(dir)
    }

    fn spawn_dialog(&mut self, pick_folder_for_model: bool, folder: bool) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        std::thread::spawn(move || {
            let d = rfd::FileDialog::new();
            let r = if pick_folder_for_model {
                DialogResult::LoadModel(d.pick_folder())
            } else if folder {
                DialogResult::OpenData(d.pick_folder())
            } else {
                DialogResult::OpenData(d.pick_file())
            };
            let _ = tx.send(r);
        });
        self.dialog = Some(rx);
    }

    /// Draw the whole window.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        if self.repaint.is_none() {
            self.repaint = Some(ui.ctx().clone());
        }
        let now = Instant::now();
        if let Some(t) = self.last_frame.replace(now) {
            self.frame_ms
                .push_back(now.duration_since(t).as_secs_f32() * 1e3);
            if self.frame_ms.len() > 600 {
                self.frame_ms.pop_front();
            }
        }
        self.poll();
        let ctx = ui.ctx().clone();
        // Files dropped on the window.
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if let Some(p) = dropped.into_iter().next() {
            self.open(p);
        }
        egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        egui::Panel::left("controls")
            .default_size(270.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| self.controls(ui));
            });
        egui::CentralPanel::default().show(ui, |ui| {
            ui.horizontal(|ui| {
                for (t, name) in [
                    (Tab::Embedding, "Embedding"),
                    (Tab::Curves, "Curves"),
                    (Tab::Clusters, "Clusters"),
                    (Tab::Confusion, "Confusion"),
                ] {
                    ui.selectable_value(&mut self.tab, t, name);
                }
            });
            ui.separator();
            match self.tab {
                Tab::Embedding => embedding::show(self, ui),
                Tab::Curves => curves::show(self, ui),
                Tab::Clusters => gallery::show(self, ui),
                Tab::Confusion => confusion::show(self, ui),
            }
        });
        if self.is_running() || self.loading.is_some() || self.dialog.is_some() || self.playing {
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
    }

    fn menu_bar(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open file...").clicked() {
                    self.spawn_dialog(false, false);
                    ui.close();
                }
                if ui.button("Open folder...").clicked() {
                    self.spawn_dialog(false, true);
                    ui.close();
                }
                ui.menu_button("Open recent", |ui| {
                    if self.recent.is_empty() {
                        ui.label("(none yet)");
                    }
                    for p in self.recent.clone() {
                        if ui.button(p.display().to_string()).clicked() {
                            self.open(p);
                            ui.close();
                        }
                    }
                });
                if ui.button("Open bundled MNIST test set").clicked() {
                    self.open(data::default_dataset_path());
                    ui.close();
                }
                ui.separator();
                if ui.button("Load model...").clicked() {
                    self.spawn_dialog(true, true);
                    ui.close();
                }
                if ui
                    .add_enabled(
                        self.run.finished.is_some(),
                        egui::Button::new("Export results"),
                    )
                    .clicked()
                {
                    match self.export() {
                        Ok(d) => {
                            self.status = format!(
                                "exported assignments, report, model and gallery to {}",
                                d.display()
                            )
                        }
                        Err(e) => self.error = Some(e),
                    }
                    ui.close();
                }
            });
            ui.menu_button("View", |ui| {
                ui.checkbox(&mut self.color_by_label, "Colour points by true label");
            });
        });
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.label(&self.status);
            let src = if self.frame_cpu_ms.is_empty() {
                &self.frame_ms
            } else {
                &self.frame_cpu_ms
            };
            if let Some(p) = percentile(src, 0.95) {
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.label(RichText::new(format!("frame time p95 {p:.1} ms")).weak());
                });
            }
        });
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        ui.heading("Dataset");
        ui.label(RichText::new(&self.ds.name).strong());
        ui.label(format!(
            "{} samples × {} features{}",
            self.ds.n,
            self.ds.d,
            self.ds
                .n_classes()
                .map(|c| format!(", {c} classes"))
                .unwrap_or_default()
        ));
        ui.label(RichText::new(format!("preprocessing: {:?}", self.ds.preprocessing)).weak());
        if self.loading.is_some() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("loading...");
            });
        }
        ui.label(
            RichText::new("Drop a file or folder here, or use File > Open.")
                .weak()
                .small(),
        );
        if let Some(e) = self.error.clone() {
            ui.add_space(4.0);
            egui::Frame::new()
                .fill(Color32::from_rgb(90, 30, 30))
                .inner_margin(6.0)
                .corner_radius(4.0)
                .show(ui, |ui| {
                    ui.colored_label(Color32::from_rgb(255, 200, 200), e.to_string());
                    if ui.small_button("dismiss").clicked() {
                        self.error = None;
                    }
                });
        }
        ui.separator();
        ui.heading("Training");
        let running = self.is_running();
        ui.add_enabled_ui(!running, |ui| self.parameters(ui));
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            if !running {
                if ui.button("Start").clicked() {
                    let ctx = ui.ctx().clone();
                    self.start(&ctx);
                }
            } else {
                if self.run.paused {
                    if ui.button("Resume").clicked() {
                        self.resume();
                    }
                } else if ui.button("Pause").clicked() {
                    self.pause();
                }
                if ui.button("Stop").clicked() {
                    self.stop();
                }
            }
        });
        self.progress(ui);
        if !self.run.baselines.is_empty() || self.run.finished.is_some() {
            ui.separator();
            ui.heading("Scores");
            egui::Grid::new("scores").striped(true).show(ui, |ui| {
                ui.label("");
                ui.label("ACC");
                ui.label("NMI");
                ui.label("ARI");
                ui.end_row();
                for (name, s) in &self.run.baselines {
                    ui.label(*name);
                    ui.label(format!("{:.3}", s.acc));
                    ui.label(format!("{:.3}", s.nmi));
                    ui.label(format!("{:.3}", s.ari));
                    ui.end_row();
                }
                let last = self.run.history.iter().rev().find(|h| h.acc.is_some());
                if let Some(h) = last {
                    ui.label(RichText::new("DEC").strong());
                    ui.label(RichText::new(format!("{:.3}", h.acc.unwrap_or(0.0))).strong());
                    ui.label(format!("{:.3}", h.nmi.unwrap_or(0.0)));
                    ui.label(format!("{:.3}", h.ari.unwrap_or(0.0)));
                    ui.end_row();
                }
                if let Some((km, dec)) = &self.run.manifold_scores {
                    let n = self.run.tsne.as_ref().map_or(0, |l| l.points.len());
                    let rows = [
                        (format!("k-means on t-SNE ({n} pts)"), Some(km)),
                        ("DEC on the same points".to_string(), dec.as_ref()),
                    ];
                    for (name, s) in rows {
                        if let Some(s) = s {
                            ui.label(name).on_hover_text(
                                "Manifold clustering: k-means on the 2-D t-SNE layout of Z \
                                 (as N2D does with UMAP), scored on the t-SNE sample",
                            );
                            ui.label(format!("{:.3}", s.acc));
                            ui.label(format!("{:.3}", s.nmi));
                            ui.label(format!("{:.3}", s.ari));
                            ui.end_row();
                        }
                    }
                }
            });
        }
        for m in &self.run.messages {
            ui.label(RichText::new(m).weak().small());
        }
    }

    fn parameters(&mut self, ui: &mut egui::Ui) {
        let s = &mut self.settings;
        egui::Grid::new("params").num_columns(2).show(ui, |ui| {
            let lab = ui.label("preset");
            let before = s.preset;
            let combo = egui::ComboBox::from_id_salt("preset")
                .selected_text(format!("{:?}", s.preset))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut s.preset, Preset::Fast, "Fast");
                    ui.selectable_value(&mut s.preset, Preset::Paper, "Paper");
                });
            combo.response.labelled_by(lab.id);
            if s.preset != before {
                let seed = s.cfg.seed;
                s.cfg = DecConfig::preset(s.preset).with_seed(seed);
            }
            ui.end_row();
            let lab = ui.label("clusters (0 = classes)");
            ui.add(egui::DragValue::new(&mut s.cfg.n_clusters).range(0..=100))
                .labelled_by(lab.id);
            ui.end_row();
            let lab = ui.label("seed");
            ui.add(egui::DragValue::new(&mut s.cfg.seed))
                .labelled_by(lab.id);
            ui.end_row();
            if s.preset == Preset::Fast {
                let lab = ui.label("pretrain epochs");
                ui.add(egui::DragValue::new(&mut s.epochs).range(1..=1000))
                    .labelled_by(lab.id);
            } else {
                let lab = ui.label("layer-wise iters");
                ui.add(
                    egui::DragValue::new(&mut s.cfg.pretrain.layerwise_iters).range(0..=200_000),
                )
                .labelled_by(lab.id);
                ui.end_row();
                let lab = ui.label("fine-tune iters");
                ui.add(egui::DragValue::new(&mut s.cfg.pretrain.finetune_iters).range(0..=500_000))
                    .labelled_by(lab.id);
            }
            ui.end_row();
            let lab = ui.label("batch size");
            if ui
                .add(egui::DragValue::new(&mut s.cfg.pretrain.batch_size).range(1..=4096))
                .labelled_by(lab.id)
                .changed()
            {
                s.cfg.cluster.batch_size = s.cfg.pretrain.batch_size;
            }
            ui.end_row();
            let lab = ui.label("update interval");
            ui.add(egui::DragValue::new(&mut s.cfg.cluster.update_interval).range(1..=10_000))
                .labelled_by(lab.id);
            ui.end_row();
            let lab = ui.label("tol");
            ui.add(
                egui::DragValue::new(&mut s.cfg.cluster.tol)
                    .range(0.0..=0.5)
                    .speed(0.0005)
                    .max_decimals(4),
            )
            .labelled_by(lab.id);
            ui.end_row();
            let lab = ui.label("alpha");
            ui.add(
                egui::DragValue::new(&mut s.cfg.cluster.alpha)
                    .range(0.01..=100.0)
                    .speed(0.05),
            )
            .labelled_by(lab.id);
            ui.end_row();
            let lab = ui.label("max DEC iters");
            ui.add(egui::DragValue::new(&mut s.cfg.cluster.max_iter).range(0..=1_000_000))
                .labelled_by(lab.id);
            ui.end_row();
        });
        ui.checkbox(&mut s.reuse_pretrained, "reuse a pretrained autoencoder")
            .on_hover_text("Skip pretraining with the bundled autoencoder (MNIST test set) or one cached from an earlier run on the same data and settings. Untick to pretrain from scratch.");
    }

    fn progress(&mut self, ui: &mut egui::Ui) {
        let Some(phase) = self.run.phase else { return };
        let name = phase.label();
        ui.label(RichText::new(name).strong());
        if self.run.total > 0 && phase != Phase::Done {
            let f = self.run.step as f32 / self.run.total as f32;
            let eta = self
                .run
                .eta_s()
                .map(|s| format!(", ETA {s:.0}s"))
                .unwrap_or_default();
            ui.add(
                egui::ProgressBar::new(f)
                    .text(format!("{}/{}{eta}", self.run.step, self.run.total)),
            );
            ui.label(RichText::new(format!("loss {:.4}", self.run.loss)).weak());
        } else if phase != Phase::Done {
            ui.spinner();
        }
        if self.run.paused {
            ui.label("paused");
        }
    }
}

fn percentile(v: &VecDeque<f32>, q: f64) -> Option<f32> {
    if v.len() < 10 {
        return None;
    }
    let mut s: Vec<f32> = v.iter().copied().collect();
    s.sort_by(f32::total_cmp);
    Some(s[((s.len() - 1) as f64 * q) as usize])
}

impl eframe::App for DecApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        // Frame time as eframe measures it: the app's ui plus rendering, without vsync.
        if let Some(cpu) = frame.info().cpu_usage {
            self.frame_cpu_ms.push_back(cpu * 1e3);
            if self.frame_cpu_ms.len() > 20_000 {
                self.frame_cpu_ms.pop_front();
            }
        }
        self.show(ui);
        if self.exit_after.is_some() {
            // Keep frames coming so the deadline is noticed even when nothing changes.
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(50));
        }
        if let Some((t0, secs)) = self.exit_after
            && t0.elapsed().as_secs_f64() >= secs
        {
            println!("{}", self.frame_stats());
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            self.exit_after = None;
        }
    }
}

impl DecApp {
    /// Frame-time statistics (from eframe's per-frame CPU time) as one line.
    pub fn frame_stats(&self) -> String {
        let v = &self.frame_cpu_ms;
        match (percentile(v, 0.5), percentile(v, 0.95), percentile(v, 1.0)) {
            (Some(a), Some(b), Some(c)) => format!(
                "frames {}: frame time p50 {a:.2} ms, p95 {b:.2} ms, max {c:.2} ms; points drawn {}; phase {:?}; snapshots {}",
                v.len(),
                self.ds.n,
                self.run.phase,
                self.run.snapshots_seen
            ),
            _ => "too few frames to measure".into(),
        }
    }
}

/// The colour of cluster or class `i` (matplotlib's tab10, then a golden-angle walk).
pub fn palette(i: usize) -> Color32 {
    const TAB10: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    if i < 10 {
        let (r, g, b) = TAB10[i];
        return Color32::from_rgb(r, g, b);
    }
    let h = (i as f32 * 0.618_034).fract();
    egui::ecolor::Hsva::new(h, 0.65, 0.9, 1.0).into()
}
