//! The Choose-k view: the paper's "number of clusters" analysis (section 5.5) on the
//! loaded data. It runs [`crate::engine::sweep::sweep_k`] on the training thread,
//! plots the generalizability G = L_train / L_validation and (with labels) NMI
//! against k as each k finishes, and starts a run with the k the user picks.

use std::time::Instant;

use egui::RichText;
use egui_plot::{Legend, Line, Plot, PlotPoints, Points, VLine};

use super::worker::{Worker, WorkerMsg};
use super::{DecApp, Tab, palette};
use crate::engine::pipeline::{Event, Phase, SweepEvent};
use crate::engine::sweep::{KPoint, KSweep, KSweepReport};

/// The sweep's form, progress and results.
#[derive(Default)]
pub struct SweepView {
    /// The k range to try (both ends included) and the held-out fraction.
    pub from: usize,
    pub to: usize,
    pub holdout: f64,
    /// The runs of the sweep, as announced.
    pub values: Vec<String>,
    /// Index and name of the run in progress.
    pub current: Option<(usize, String)>,
    pub phase: Option<Phase>,
    pub step: usize,
    pub total: usize,
    pub points: Vec<KPoint>,
    pub report: Option<KSweepReport>,
    /// The k the user picked for the next run.
    pub picked: Option<usize>,
    pub started: Option<Instant>,
    /// When Stop was pressed, and how long the worker took to end.
    pub stop_requested: Option<Instant>,
    pub stop_latency_ms: Option<f64>,
    pub status: String,
    /// Where the sweep's autoencoder came from.
    pub ae_note: String,
}

impl SweepView {
    /// A form around the number of classes (or 2..=15 without labels).
    pub fn for_classes(n_classes: Option<usize>) -> SweepView {
        let (from, to) = match n_classes {
            Some(c) => (c.saturating_sub(5).max(2), c + 5),
            None => (2, 15),
        };
        SweepView {
            from,
            to,
            holdout: 0.2,
            ..Default::default()
        }
    }
}

impl DecApp {
    /// Whether a sweep is in progress.
    pub fn is_sweeping(&self) -> bool {
        self.sweep_worker.as_ref().is_some_and(|w| !w.is_finished())
            && self.sweep.report.is_none()
            && self.sweep.started.is_some()
    }

    /// Start the choose-k sweep with the form's range and the current settings.
    pub fn start_sweep(&mut self, ctx: &egui::Context) {
        if self.is_sweeping() || self.is_running() {
            return;
        }
        let params = KSweep {
            ks: (self.sweep.from..=self.sweep.to.max(self.sweep.from)).collect(),
            holdout: self.sweep.holdout,
            split_seed: 0,
        };
        if let Err(e) = params.validate(self.ds.n) {
            self.error = Some(e.to_string());
            return;
        }
        let cfg = self.run_config();
        let init = self.reusable_autoencoder(&cfg);
        let ae_note = match &init {
            Some((_, label)) => format!(
                "autoencoder: {label} (pretrained on all rows, the held-out ones included; untick \"reuse\" to pretrain on the training split only)"
            ),
            None => format!(
                "autoencoder: pretrained once on the {}-sample training split",
                params.sizes(self.ds.n).0
            ),
        };
        self.error = None;
        let (from, to, holdout) = (self.sweep.from, self.sweep.to, self.sweep.holdout);
        self.sweep = SweepView {
            from,
            to,
            holdout,
            started: Some(Instant::now()),
            status: "sweep running".into(),
            ae_note,
            ..Default::default()
        };
        let ctx2 = ctx.clone();
        self.sweep_worker = Some(Worker::spawn_sweep(
            self.ds.clone(),
            cfg,
            params,
            init,
            move || ctx2.request_repaint(),
        ));
    }

    /// Ask the sweep to stop (it ends within a batch).
    pub fn stop_sweep(&mut self) {
        if let Some(w) = &self.sweep_worker {
            w.controller.stop();
            self.sweep.stop_requested = Some(Instant::now());
        }
    }

    /// Drain the sweep worker's channel (never blocks).
    pub(super) fn poll_sweep(&mut self) {
        let Some(w) = &self.sweep_worker else { return };
        let msgs: Vec<WorkerMsg> = w.events.try_iter().collect();
        for m in msgs {
            let v = &mut self.sweep;
            match m {
                WorkerMsg::Event(Event::Phase { phase, total }) => {
                    v.phase = Some(phase);
                    v.total = total;
                    v.step = 0;
                }
                WorkerMsg::Event(Event::Step { step, total, .. }) => {
                    v.step = step;
                    v.total = total;
                }
                WorkerMsg::Event(Event::Sweep(SweepEvent::Started { values })) => v.values = values,
                WorkerMsg::Event(Event::Sweep(SweepEvent::RunStarted { index, value })) => {
                    v.current = Some((index, value))
                }
                WorkerMsg::Event(Event::Sweep(SweepEvent::KPoint(p))) => v.points.push(p),
                WorkerMsg::Event(_) => {}
                WorkerMsg::SweepFinished(r) => {
                    v.status = format!(
                        "sweep done in {:.0} s{}",
                        r.total_s,
                        r.suggested_k
                            .map(|k| format!("; G suggests k = {k}"))
                            .unwrap_or_default()
                    );
                    v.picked = r.suggested_k;
                    v.current = None;
                    v.report = Some(*r);
                    if let Some((t0, _)) = self.exit_after {
                        println!("[{:6.2}s] {}", t0.elapsed().as_secs_f64(), v.status);
                    }
                }
                WorkerMsg::Finished(_) => {}
                WorkerMsg::Failed(e) => {
                    v.current = None;
                    v.started = None;
                    if e == "stopped" {
                        let ms = v.stop_requested.map(|t| t.elapsed().as_secs_f64() * 1e3);
                        v.stop_latency_ms = ms;
                        v.status = match ms {
                            Some(ms) => format!("sweep stopped ({ms:.0} ms after Stop)"),
                            None => "sweep stopped".into(),
                        };
                        if let Some((t0, _)) = self.exit_after {
                            println!("[{:6.2}s] {}", t0.elapsed().as_secs_f64(), v.status);
                        }
                    } else {
                        v.status = "sweep failed".into();
                        self.error = Some(e);
                    }
                }
            }
        }
    }
}

/// What the Choose-k view asks of the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepAction {
    Start,
    Stop,
    /// Start a training run with this k (picked in the table).
    RunWithK(usize),
}

/// What the Choose-k view sees of the app.
#[derive(Clone, Copy, Debug)]
pub struct SweepCtx {
    pub sweeping: bool,
    /// A training run is in progress.
    pub running: bool,
    /// The data's number of classes, if labelled.
    pub n_classes: Option<usize>,
}

impl SweepView {
    /// Draw the view; what it asks the app to do.
    pub fn ui(&mut self, ui: &mut egui::Ui, cx: SweepCtx) -> Option<SweepAction> {
        ui.label("Train DEC for each k on a training split and compare G = L_train / L_validation (KL(P||Q) per sample on each split): G stays high while k is at most the true number of clusters and drops sharply past it (the paper, section 5.5). With labels, NMI is plotted too.");
        let mut act = self.form(ui, cx);
        self.progress(ui, cx.sweeping);
        if self.points.is_empty() {
            return act;
        }
        self.plots(ui, cx.n_classes);
        if let Some(k) = self.table(ui, cx) {
            act = Some(SweepAction::RunWithK(k));
        }
        act
    }

    /// The range of k, the share held out, and Run / Stop.
    fn form(&mut self, ui: &mut egui::Ui, cx: SweepCtx) -> Option<SweepAction> {
        let sweeping = cx.sweeping;
        let mut act = None;
        ui.horizontal(|ui| {
            let lab = ui.label("k from");
            ui.add_enabled(
                !sweeping,
                egui::DragValue::new(&mut self.from).range(2..=100),
            )
            .labelled_by(lab.id);
            let lab = ui.label("to");
            ui.add_enabled(!sweeping, egui::DragValue::new(&mut self.to).range(2..=100))
                .labelled_by(lab.id);
            let lab = ui.label("held out");
            ui.add_enabled(
                !sweeping,
                egui::DragValue::new(&mut self.holdout)
                    .range(0.05..=0.5)
                    .speed(0.01)
                    .max_decimals(2),
            )
            .labelled_by(lab.id);
            if sweeping {
                if ui.button("Stop sweep").clicked() {
                    act = Some(SweepAction::Stop);
                }
            } else if ui
                .add_enabled(!cx.running, egui::Button::new("Run sweep"))
                .on_disabled_hover_text("a training run is in progress")
                .clicked()
            {
                act = Some(SweepAction::Start);
            }
        });
        act
    }

    /// Where the sweep is, or how it ended.
    fn progress(&self, ui: &mut egui::Ui, sweeping: bool) {
        let v = self;
        if !v.ae_note.is_empty() {
            ui.label(RichText::new(&v.ae_note).weak().small());
        }
        if sweeping {
            let run = v
                .current
                .as_ref()
                .map(|(i, name)| format!("run {} of {} ({name})", i + 1, v.values.len()))
                .unwrap_or_else(|| "pretraining the shared autoencoder".into());
            let phase = v.phase.map(|p| p.label()).unwrap_or_default();
            let f = if v.total > 0 {
                v.step as f32 / v.total as f32
            } else {
                0.0
            };
            ui.add(
                egui::ProgressBar::new(f)
                    .text(format!("{run}: {phase} {}/{}", v.step, v.total))
                    .desired_width(500.0),
            );
        } else if !v.status.is_empty() {
            ui.label(&v.status);
        }
    }
    /// G, and NMI and ACC when labelled, against k.
    fn plots(&self, ui: &mut egui::Ui, n_classes: Option<usize>) {
        let v = self;
        let suggested = v.report.as_ref().and_then(|r| r.suggested_k);
        let h = ((ui.available_height() - 200.0) / 2.0).max(110.0);
        let series = |f: &dyn Fn(&KPoint) -> Option<f64>| -> Vec<[f64; 2]> {
            v.points
                .iter()
                .filter_map(|p| f(p).map(|y| [p.k as f64, y]))
                .collect()
        };
        let g = series(&|p| p.g.is_finite().then_some(p.g));
        Plot::new("sweep-g")
            .height(h)
            .legend(Legend::default())
            .x_axis_label("k")
            .include_x(v.from as f64)
            .include_x(v.to as f64)
            .show(ui, |p| {
                p.line(
                    Line::new("G = L_train / L_val", PlotPoints::from(g.clone()))
                        .color(palette(0))
                        .width(2.0),
                );
                p.points(
                    Points::new("G = L_train / L_val", PlotPoints::from(g))
                        .color(palette(0))
                        .radius(4.0),
                );
                if let Some(k) = suggested {
                    p.vline(VLine::new(format!("G suggests k = {k}"), k as f64).color(palette(3)));
                }
            });
        let nmi = series(&|p| p.scores.map(|s| s.nmi));
        if !nmi.is_empty() {
            let acc = series(&|p| p.scores.map(|s| s.acc));
            Plot::new("sweep-nmi")
                .height(h)
                .legend(Legend::default())
                .x_axis_label("k")
                .include_x(v.from as f64)
                .include_x(v.to as f64)
                .include_y(0.0)
                .include_y(1.0)
                .show(ui, |p| {
                    p.line(
                        Line::new("NMI", PlotPoints::from(nmi.clone()))
                            .color(palette(1))
                            .width(2.0),
                    );
                    p.points(
                        Points::new("NMI", PlotPoints::from(nmi))
                            .color(palette(1))
                            .radius(4.0),
                    );
                    p.line(Line::new("ACC", PlotPoints::from(acc)).color(palette(2)));
                    if let Some(k) = n_classes {
                        p.vline(VLine::new(format!("{k} classes"), k as f64).color(palette(7)));
                    }
                });
        }
    }
    /// Each k's row, with a pick; the k to start a run with, when asked.
    fn table(&mut self, ui: &mut egui::Ui, cx: SweepCtx) -> Option<usize> {
        let done = self.report.is_some();
        let mut start_with = None;
        egui::ScrollArea::vertical()
            .max_height(170.0)
            .show(ui, |ui| {
                egui::Grid::new("sweep-table").striped(true).show(ui, |ui| {
                    for h in [
                        "k", "G", "L_train", "L_val", "NMI", "ACC", "iters", "time", "",
                    ] {
                        ui.label(RichText::new(h).strong());
                    }
                    ui.end_row();
                    let points = self.points.clone();
                    for p in &points {
                        ui.label(p.k.to_string());
                        ui.label(format!("{:.4}", p.g));
                        ui.label(format!("{:.5}", p.l_train));
                        ui.label(format!("{:.5}", p.l_val));
                        let f = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.4}"));
                        ui.label(f(p.scores.map(|s| s.nmi)));
                        ui.label(f(p.scores.map(|s| s.acc)));
                        ui.label(p.iterations.to_string());
                        ui.label(format!("{:.0} s", p.seconds));
                        if ui
                            .radio(self.picked == Some(p.k), "pick")
                            .on_hover_text("use this k for the next run")
                            .clicked()
                        {
                            self.picked = Some(p.k);
                        }
                        ui.end_row();
                    }
                });
            });
        if let Some(k) = self.picked {
            ui.horizontal(|ui| {
                let ok = done && !cx.running && !cx.sweeping;
                if ui
                    .add_enabled(ok, egui::Button::new(format!("Start a run with k = {k}")))
                    .on_disabled_hover_text("when the sweep has finished")
                    .clicked()
                {
                    start_with = Some(k);
                }
            });
        }
        start_with
    }
}

/// Draw the view and carry out what it asks.
pub fn show(app: &mut DecApp, ui: &mut egui::Ui) {
    let cx = SweepCtx {
        sweeping: app.is_sweeping(),
        running: app.is_running(),
        n_classes: app.ds.n_classes(),
    };
    let ctx = ui.ctx().clone();
    match app.sweep.ui(ui, cx) {
        Some(SweepAction::Start) => app.start_sweep(&ctx),
        Some(SweepAction::Stop) => app.stop_sweep(),
        Some(SweepAction::RunWithK(k)) => {
            app.settings.cfg.n_clusters = k;
            app.tab = Tab::Embedding;
            app.start(&ctx);
        }
        None => {}
    }
}
