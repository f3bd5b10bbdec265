//! The desktop app: load a dataset, press Start, watch DEC reorganise the embedded
//! space while curves climb and galleries fill, then inspect what got mixed up.
//!
//! The GUI thread only draws and reacts: training runs in a [`worker::Worker`] thread,
//! file dialogs and data loading on their own short-lived threads, and results come
//! back over channels that are drained without blocking once per frame.
//!
//! May use: the engine, the data and the projections; nothing in the library uses it.

//!
//! One file a part: [`state`] (what is shown and the run's live view), [`worker`] (the
//! training thread), [`live`] (draining channels into the view), [`files`] (open,
//! export, models), [`menu`] and [`side_panel`], and one file per view of the central
//! panel: [`embedding`], [`curves`], [`gallery`] (Clusters), [`confusion`],
//! [`gradient`] (where DEC's gradient pulls), [`choose_k`] (the k sweep) and
//! [`compare`] (the session's finished runs side by side).

pub mod choose_k;
pub mod compare;
pub mod confusion;
pub mod curves;
pub mod embedding;
mod file_browser;
mod files;
mod frame_stats;
pub mod gallery;
pub mod gradient;
mod live;
pub mod load_options;
mod menu;
mod side_panel;
pub mod state;
pub mod steer;
mod steer_actions;
pub mod view;
pub mod window;
pub mod worker;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::Receiver;
use egui::Color32;

use crate::data::{self, Dataset, LoadOptions};
use crate::engine::config::{DecConfig, Preset};
use crate::engine::model::DecModel;
use crate::engine::nn::autoencoder::Autoencoder;
use crate::projection::pca::pca_2d;
pub use state::{Frame, MAX_FRAMES, Method, RunView, Settings, Tab};

use worker::Worker;

/// The bundled autoencoders pretrained on the default dataset (see assets/README.md):
/// with augmentation (the `augmented` preset) and without (the `fast` preset).
pub fn bundled_model_dirs() -> Vec<PathBuf> {
    ["pretrained-mnist-test-augmented", "pretrained-mnist-test"]
        .iter()
        .map(|name| {
            let here = PathBuf::from("assets").join(name);
            if here.exists() {
                here
            } else {
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("assets")
                    .join(name)
            }
        })
        .collect()
}

/// The decscope window.
pub struct DecApp {
    pub ds: Arc<Dataset>,
    pub raw_proj: Vec<[f32; 2]>,
    pub settings: Settings,
    pub worker: Option<Worker>,
    pub run: RunView,
    pub tab: Tab,
    /// The Embedding view (colouring, scatter image, replay).
    pub embedding: embedding::EmbeddingView,
    pub error: Option<String>,
    pub status: String,
    loading: Option<(PathBuf, Receiver<Result<Dataset, String>>)>,
    dialog: Option<Receiver<DialogResult>>,
    /// The in-app file browser, when open.
    pub browser: Option<file_browser::FileBrowser>,
    /// Why the system file dialog cannot open here (`None`: try it). Probed at start
    /// ([`file_browser::native_dialog_unavailable`]); tests set it.
    pub native_dialog_blocked: Option<String>,
    /// The file whose last load failed: Reload in Load options tries it again.
    pub failed: Option<PathBuf>,
    pub recent: Vec<PathBuf>,
    /// Where the recent list and the autoencoder cache live (see [`AppDirs`]).
    pub dirs: AppDirs,
    /// Sample thumbnails, shared by the views.
    pub thumbs: view::Thumbs,
    pub frame_ms: VecDeque<f32>,
    last_frame: Option<Instant>,
    /// How the next file is read (label column, preprocessing, image shape).
    pub load: load_options::LoadForm,
    pub method: Method,
    pub tsne_worker: Option<crate::projection::TsneWorker>,
    pub tsne_params: crate::projection::TsneParams,
    /// Samples selected with a box in the embedding view.
    pub selection: Vec<usize>,
    /// The GUI context, to wake the window from other threads.
    repaint: Option<egui::Context>,
    /// eframe's CPU time of each frame (ms).
    pub frame_cpu_ms: VecDeque<f32>,
    /// Close the window after this many seconds and print frame statistics.
    pub exit_after: Option<(Instant, f64)>,
    /// Press Stop (on the sweep, else the run) after this many seconds.
    pub stop_after: Option<(Instant, f64)>,
    /// Asked every frame, and at least every 100 ms: when it answers true the window
    /// closes (Python's `decscope.show` checks for Ctrl-C with it).
    pub interrupt: Option<Box<dyn FnMut() -> bool + Send>>,
    /// The Choose-k view's form and results, and its sweep's worker.
    pub sweep: choose_k::SweepView,
    pub sweep_worker: Option<Worker>,
    /// The Gradient view's field and chosen cluster (`None`: the most mixed one).
    /// The Gradient view (its field and chosen cluster).
    pub gradient: gradient::GradientView,
    /// The Confusion view (its selected cell).
    pub confusion: confusion::ConfusionView,
    pub curves: curves::CurvesView,
    pub clusters: gallery::ClustersView,
    /// The runs finished in this session, oldest first (the Compare runs view).
    pub compare: compare::CompareView,
    /// Hand edits, pairs and suggestions of the finished run (the Steer panel).
    pub steer_view: steer::SteerView,
}

/// What the system file dialog gave, and how long it was open.
struct DialogResult {
    purpose: file_browser::Purpose,
    path: Option<PathBuf>,
    open_for: std::time::Duration,
}

/// Where the app keeps the user's files between sessions: the recent-files list in its
/// config folder and pretrained autoencoders in its cache folder. [`AppDirs::user`]
/// follows the XDG variables; tests point both at a temporary folder
/// ([`AppDirs::under`]) so that they never touch the user's files.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AppDirs {
    /// `$XDG_CONFIG_HOME/decscope` (else `~/.config/decscope`); `None`: write nothing.
    pub config: Option<PathBuf>,
    /// `$XDG_CACHE_HOME/decscope` (else `~/.cache/decscope`); `None`: cache nothing.
    pub cache: Option<PathBuf>,
}

impl AppDirs {
    /// The user's folders, from the environment.
    pub fn user() -> AppDirs {
        let xdg = |var: &str, fallback: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(fallback)))
                .map(|b| b.join("decscope"))
        };
        AppDirs {
            config: xdg("XDG_CONFIG_HOME", ".config"),
            cache: xdg("XDG_CACHE_HOME", ".cache"),
        }
    }

    /// Both folders inside `dir` (`dir/config`, `dir/cache`).
    pub fn under(dir: &Path) -> AppDirs {
        AppDirs {
            config: Some(dir.join("config")),
            cache: Some(dir.join("cache")),
        }
    }

    /// The recent-files list.
    pub fn recent_file(&self) -> Option<PathBuf> {
        self.config.as_ref().map(|c| c.join("recent.json"))
    }

    /// The recent-files list saved in these folders (empty when none).
    fn read_recent(&self) -> Vec<PathBuf> {
        self.recent_file()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default()
    }
}

impl DecApp {
    /// The app with `ds` loaded.
    pub fn new(ds: Dataset) -> DecApp {
        let dirs = AppDirs::user();
        let recent = dirs.read_recent();
        let mut app = DecApp {
            raw_proj: Vec::new(),
            ds: Arc::new(ds),
            settings: Settings {
                preset: Preset::Fast,
                // The app watches pretraining settle (its checks fill the Clusters
                // view with a preview and cost a few milliseconds each); figures are
                // those of `decscope train`, which does not.
                cfg: {
                    let mut c = DecConfig::default();
                    c.pretrain.settle = crate::engine::config::Settle::Watch;
                    c
                },
                epochs: 200,
                derived_epochs: 200,
                reuse_pretrained: true,
            },
            worker: None,
            run: RunView::default(),
            tab: Tab::Embedding,
            embedding: embedding::EmbeddingView::default(),
            error: None,
            status: String::new(),
            loading: None,
            dialog: None,
            browser: None,
            native_dialog_blocked: file_browser::native_dialog_unavailable(),
            failed: None,
            recent,
            dirs,
            thumbs: view::Thumbs::default(),
            frame_ms: VecDeque::new(),
            last_frame: None,
            load: load_options::LoadForm::default(),
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
            selection: Vec::new(),
            repaint: None,
            frame_cpu_ms: VecDeque::new(),
            exit_after: None,
            stop_after: None,
            interrupt: None,
            sweep: choose_k::SweepView::default(),
            sweep_worker: None,
            gradient: gradient::GradientView::default(),
            confusion: confusion::ConfusionView::default(),
            curves: curves::CurvesView,
            clusters: gallery::ClustersView,
            compare: compare::CompareView::default(),
            steer_view: steer::SteerView::default(),
        };
        app.on_new_dataset();
        app
    }

    /// The app keeping its recent list and autoencoder cache in `dirs` instead of the
    /// user's folders (the recent list is read from there).
    pub fn with_dirs(mut self, dirs: AppDirs) -> DecApp {
        self.recent = dirs.read_recent();
        self.dirs = dirs;
        self
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
        self.embedding.follow_live();
        self.selection.clear();
        self.thumbs.clear();
        self.confusion.reset();
        self.embedding.color_by_label = self.ds.labels.is_some();
        // Images of at least 16 pixels a side get DEC-DA's augmentation by default (the
        // best accuracy); other data the fast preset. A chosen paper preset stays.
        if self.settings.preset != Preset::Paper {
            let images = crate::engine::nn::augment::default_for(&self.ds);
            self.settings.preset = if images {
                Preset::Augmented
            } else {
                Preset::Fast
            };
        }
        self.settings.fit_to(self.ds.n);
        self.sweep_worker = None;
        self.sweep = choose_k::SweepView::for_classes(self.ds.n_classes());
        self.clusters_changed();
        self.steer_view.reset();
        self.status = format!(
            "{}: {} samples x {} features",
            self.ds.name, self.ds.n, self.ds.d
        );
    }

    /// The configuration the next run uses.
    pub fn run_config(&self) -> DecConfig {
        let mut c = self.settings.cfg.clone();
        c.preset = self.settings.preset;
        // Pretraining epochs as the panel shows them, unless left at the derived value
        // (then the derived step count stands, as `decscope train` would use it).
        if self.settings.preset != Preset::Paper
            && self.settings.epochs != self.settings.derived_epochs
        {
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
        if let Some(dir) = worker::cache_dir(&self.dirs, &self.ds, cfg)
            && let Ok(m) = DecModel::load(&dir)
            && m.ae.dims() == dims
        {
            return Some((m.ae, format!("cache {}", dir.display())));
        }
        // The bundled models were pretrained on the bundled dataset, one with
        // augmentation and one without; only one pretrained exactly as this run would
        // pretrain (seed, schedule, augmentation) is reused, so that Start gives what
        // `decscope train` with the same settings gives, and comparing runs with and
        // without augmentation stays fair.
        for dir in bundled_model_dirs() {
            if let Ok(m) = DecModel::load(&dir)
                && m.ae.dims() == dims
                && m.dataset.n == self.ds.n
                && m.dataset.d == self.ds.d
                && m.dataset.name == self.ds.name
                && m.config.pretraining_key(m.dataset.n) == cfg.pretraining_key(self.ds.n)
            {
                let name = dir
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                return Some((
                    m.ae,
                    format!("bundled pretrained autoencoder (assets/{name})"),
                ));
            }
        }
        None
    }

    /// Start training with the current settings.
    pub fn start(&mut self, ctx: &egui::Context) {
        if self.worker.as_ref().is_some_and(|w| !w.is_finished()) || self.is_sweeping() {
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
            worker::cache_dir(&self.dirs, &self.ds, &cfg)
        } else {
            None
        };
        self.run = RunView {
            method_label: cfg.method_label(),
            ..RunView::default()
        };
        // The last run's live state (its names, its edits) is not this run's.
        self.steer_view.live = None;
        self.clusters_changed();
        self.tsne_worker = None;
        self.embedding.follow_live();
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
            self.run.set_paused(true, Instant::now());
            self.status = "paused".into();
        }
    }

    pub fn resume(&mut self) {
        if let Some(w) = &self.worker {
            w.controller.resume();
            self.run.set_paused(false, Instant::now());
            self.status = "training...".into();
        }
    }

    pub fn stop(&mut self) {
        if let Some(w) = &self.worker {
            w.controller.stop();
            self.run.paused = false;
        }
    }

    /// The tabs and the view chosen.
    fn central_panel(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            for (t, name) in [
                (Tab::Embedding, "Embedding"),
                (Tab::Curves, "Curves"),
                (Tab::Clusters, "Clusters"),
                (Tab::Confusion, "Confusion"),
                (Tab::Gradient, "Gradient"),
                (Tab::ChooseK, "Choose k"),
                (Tab::Compare, "Compare runs"),
            ] {
                ui.selectable_value(&mut self.tab, t, name);
            }
        });
        ui.separator();
        match self.tab {
            Tab::ChooseK => choose_k::show(self, ui),
            _ => self.show_view(ui),
        }
    }

    /// The clusters shown changed (an edit, a new run, new data): the views that keep
    /// something computed from them start again.
    pub fn clusters_changed(&mut self) {
        self.gradient.reset();
        self.confusion.reset();
    }

    /// Whether the clusters shown can be edited now: a finished run, or one in DEC.
    pub fn steerable(&self) -> bool {
        self.run.finished.is_some() || self.live_run().is_some()
    }

    /// The names of the clusters shown (finished run or live state), or empty.
    fn cluster_names(&self) -> Vec<Option<String>> {
        match (&self.run.finished, &self.steer_view.live) {
            (Some(o), _) => o.model.curation.names.clone(),
            (None, Some(l)) => l.clusters.names().to_vec(),
            (None, None) => Vec::new(),
        }
    }

    /// One of the views reached through a [`view::ViewCtx`]; a steering action it
    /// returns is carried out.
    fn show_view(&mut self, ui: &mut egui::Ui) {
        let (alpha, idec_gamma) = match &self.run.finished {
            Some(f) => (f.model.alpha, f.report.config.cluster.idec_gamma),
            None => {
                let c = &self.settings.cfg.cluster;
                (c.alpha, c.idec_gamma)
            }
        };
        let mut cx = view::ViewCtx {
            names: self.cluster_names(),
            steerable: self.steerable(),
            ds: &self.ds,
            run: &self.run,
            thumbs: &mut self.thumbs,
            alpha,
            idec_gamma,
            highlight: self.steer_view.hovered.as_deref(),
        };
        let action = match self.tab {
            Tab::Embedding => {
                let e = embedding::EmbeddingCtx {
                    method: self.method,
                    raw_proj: &self.raw_proj,
                    selection: &mut self.selection,
                };
                let (method, action) = self.embedding.ui(ui, &mut cx, e);
                if let Some(m) = method {
                    self.set_method(m);
                }
                action
            }
            Tab::Curves => {
                self.curves.ui(ui, &cx);
                None
            }
            Tab::Clusters => self.clusters.ui(ui, &mut cx),
            Tab::Confusion => self.confusion.ui(ui, &mut cx),
            Tab::Gradient => {
                self.gradient.ui(ui, &mut cx);
                None
            }
            Tab::Compare => {
                self.compare.ui(ui);
                None
            }
            _ => None,
        };
        if let Some(a) = action {
            let ctx = ui.ctx().clone();
            self.steer(a, &ctx);
        }
    }

    /// Whether a run is in progress.
    pub fn is_running(&self) -> bool {
        self.worker.as_ref().is_some_and(|w| !w.is_finished()) && self.run.finished.is_none()
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
        self.load_options_window(&ctx);
        self.file_browser_window(&ctx);
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        egui::Panel::left("controls")
            .default_size(270.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| self.controls(ui));
            });
        let live = self.live_run();
        if self.steer_view.state().is_some() || live.is_some() {
            egui::Panel::right("steer")
                .default_size(280.0)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| {
                        let running = self.is_running();
                        let actions = self.steer_view.ui(ui, self.selection.len(), running, live);
                        for a in actions {
                            self.steer(a, &ctx);
                        }
                    });
                });
        }
        egui::CentralPanel::default().show(ui, |ui| self.central_panel(ui));
        if let Some((t0, secs)) = self.stop_after
            && t0.elapsed().as_secs_f64() >= secs
        {
            self.stop_after = None;
            if self.is_sweeping() {
                self.stop_sweep();
            } else {
                self.stop();
            }
            if let Some((t, _)) = self.exit_after {
                println!("[{:6.2}s] Stop pressed", t.elapsed().as_secs_f64());
            }
        }
        if self.is_running()
            || self.is_sweeping()
            || self.loading.is_some()
            || self.dialog.is_some()
            || self.embedding.playing
            || self.stop_after.is_some()
            || self.steer_view.is_finding()
        {
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
    }
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
        if let Some(interrupted) = &mut self.interrupt {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
            if interrupted() {
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                self.interrupt = None;
            }
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
