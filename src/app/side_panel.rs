//! The side panel, top to bottom: the dataset, the training settings and buttons with
//! the progress of the run, the scores table, and the pipeline's messages.

use egui::{Color32, RichText};

use super::DecApp;
use super::state::Settings;
use crate::engine::config::{DecConfig, Method, Precision, Preset};
use crate::engine::nn::augment::AugmentConfig;
use crate::engine::pipeline::Phase;

impl DecApp {
    /// The whole side panel.
    pub(super) fn controls(&mut self, ui: &mut egui::Ui) {
        self.dataset_section(ui);
        ui.separator();
        self.training_section(ui);
        if !self.run.baselines.is_empty() || self.run.finished.is_some() {
            ui.separator();
            self.scores_section(ui);
        }
        for w in &self.run.warnings {
            ui.colored_label(
                Color32::from_rgb(240, 170, 60),
                RichText::new(format!("warning: {}", w.message)).small(),
            );
        }
        for m in &self.run.messages {
            ui.label(RichText::new(m).weak().small());
        }
    }

    /// The dataset's name, size, preprocessing, load state and last error.
    pub(super) fn dataset_section(&mut self, ui: &mut egui::Ui) {
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
        let pre = ui.label(
            RichText::new(format!(
                "preprocessing: {}",
                super::load_options::preprocessing_name(self.ds.preprocessing)
            ))
            .weak(),
        );
        if let Some(r) = &self.ds.preprocessing_reason {
            pre.on_hover_text(r.clone());
            ui.label(RichText::new(r).weak().small());
        }
        if let Some(n) = &self.ds.label_note {
            ui.label(RichText::new(n).weak().small());
        }
        if let Some(f) = &self.ds.features_note {
            ui.label(RichText::new(f).weak().small());
        }
        for n in &self.ds.notes {
            ui.label(RichText::new(n).weak().small());
        }
        if let Some(t) = &self.ds.text {
            ui.label(format!(
                "text: {} documents, vocabulary {} of {} stems",
                self.ds.n, self.ds.d, t.distinct_stems
            ));
            ui.label(RichText::new(format!("top terms: {}", t.top_terms.join(", "))).small());
        }
        if ui
            .small_button("Load options...")
            .on_hover_text("Label column, preprocessing and image shape; reload with them")
            .clicked()
        {
            self.load.open = true;
        }
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
    }

    /// The settings of the next run, Start/Pause/Resume/Stop and the progress.
    pub(super) fn training_section(&mut self, ui: &mut egui::Ui) {
        ui.heading("Training");
        let running = self.is_running();
        ui.add_enabled_ui(!running, |ui| self.parameters(ui));
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            if !running {
                let sweeping = self.is_sweeping();
                if ui
                    .add_enabled(!sweeping, egui::Button::new("Start"))
                    .on_disabled_hover_text("the Choose-k sweep is running; stop it or wait for it")
                    .clicked()
                {
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
    }

    /// ACC/NMI/ARI of the baselines, DEC and the manifold clustering.
    pub(super) fn scores_section(&mut self, ui: &mut egui::Ui) {
        {
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
                    let name = if self.run.method_label.is_empty() {
                        "DEC"
                    } else {
                        self.run.method_label.as_str()
                    };
                    ui.label(RichText::new(name).strong());
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
    }

    pub(super) fn parameters(&mut self, ui: &mut egui::Ui) {
        let (n, classes) = (self.ds.n, self.ds.n_classes());
        let augmentable = AugmentConfig::default()
            .for_dataset(&self.ds)
            .map(|_| ())
            .map_err(|e| e.to_string());
        let s = &mut self.settings;
        egui::Grid::new("params").num_columns(2).show(ui, |ui| {
            model_rows(ui, s, (n, classes), &augmentable);
            settle_row(ui, &mut s.cfg.pretrain.settle);
            start_rows(ui, &mut s.cfg.cluster);
            schedule_rows(ui, s);
        });
        if let Some(sc) = &s.cfg.scaled {
            ui.label(
                RichText::new(format!("schedule fitted to n = {}", sc.n))
                    .weak()
                    .small(),
            )
            .on_hover_text(&sc.rule);
        }
        ui.checkbox(&mut s.reuse_pretrained, "reuse a pretrained autoencoder")
            .on_hover_text("Skip pretraining with the bundled autoencoder (MNIST test set) or one cached from an earlier run on the same data and settings. Untick to pretrain from scratch.");
    }

    pub(super) fn progress(&mut self, ui: &mut egui::Ui) {
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

/// The precision of the training products: f32, or bf16 where the CPU has AVX512-BF16
/// (on AMX tiles where it has those too).
fn precision_row(ui: &mut egui::Ui, p: &mut Precision) {
    let lab = ui.label("precision");
    let bf16 = crate::engine::nn::bf16::available();
    egui::ComboBox::from_id_salt("precision")
        .selected_text(p.name())
        .show_ui(ui, |ui| {
            ui.selectable_value(p, Precision::F32, "f32")
                .on_hover_text("Every product in f32: the reference results");
            ui.add_enabled_ui(bf16, |ui| {
                ui.selectable_value(p, Precision::Bf16, "bf16")
                    .on_hover_text(format!(
                        "bf16 operands, f32 sums ({}): faster steps, weights and optimizer in f32",
                        crate::engine::nn::bf16::kernel().map_or("AVX512-BF16", |k| k.name())
                    ))
            })
            .response
            .on_disabled_hover_text("This CPU has no AVX512-BF16");
            ui.selectable_value(p, Precision::Auto, "auto")
                .on_hover_text("bf16 where it is faster than f32 on this CPU (AMX tiles, or AMD's AVX512-BF16), else f32");
        })
        .response
        .labelled_by(lab.id);
    ui.end_row();
}

/// Pretraining's settle checks: watch (a preview of the clusters while it runs), stop
/// when Z has settled, or off.
fn settle_row(ui: &mut egui::Ui, s: &mut crate::engine::config::Settle) {
    use crate::engine::config::Settle;
    let name = |s: Settle| match s {
        Settle::Off => "off",
        Settle::Watch => "watch",
        Settle::Stop => "stop when settled",
    };
    let lab = ui.label("pretraining checks");
    egui::ComboBox::from_id_salt("settle")
        .selected_text(name(*s))
        .show_ui(ui, |ui| {
            ui.selectable_value(s, Settle::Watch, name(Settle::Watch))
                .on_hover_text("Every few epochs, k-means on Z of 2,000 samples: the Clusters view previews them and the Curves view plots how much each check agrees with the last");
            ui.selectable_value(s, Settle::Stop, name(Settle::Stop))
                .on_hover_text("Also end pretraining once the sample's k-means partition stops drifting: four checks in a row that differ from five checks back no more than neighbouring checks differ (never before a quarter of its steps)");
            ui.selectable_value(s, Settle::Off, name(Settle::Off))
                .on_hover_text("No checks: pretraining runs all its steps, the Clusters view waits for DEC");
        })
        .response
        .labelled_by(lab.id);
    ui.end_row();
}

/// Where DEC starts (k-means or spectral) and whether it corrects itself after.
fn start_rows(ui: &mut egui::Ui, c: &mut crate::engine::config::ClusterConfig) {
    use crate::engine::config::Start;
    let lab = ui.label("start");
    egui::ComboBox::from_id_salt("start")
        .selected_text(match c.start {
            Start::Auto => "auto",
            Start::Kmeans => "k-means",
            Start::Spectral => "spectral",
        })
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut c.start, Start::Auto, "auto")
                .on_hover_text("With self-correct on (and data that is not text): DEC from the spectral start and from k-means, keeping the outcome the pretrained Z's neighbour graph agrees with more (the start check; the log says which); else k-means");
            ui.selectable_value(&mut c.start, Start::Kmeans, "k-means")
                .on_hover_text("k-means on the pretrained Z (the paper's)");
            ui.selectable_value(&mut c.start, Start::Spectral, "spectral")
                .on_hover_text("The clusters of Z's nearest-neighbour graph: keeps apart classes that touch in Z (MNIST 4s and 9s)");
        })
        .response
        .labelled_by(lab.id);
    ui.end_row();
    ui.label("");
    ui.checkbox(&mut c.self_correct, "self-correct")
        .on_hover_text("After DEC converges: find a class cut in two and two classes in one cluster (no labels needed), mend them in the pretrained Z and run DEC again (up to 3 rounds; the log says what was done)");
    ui.end_row();
}

/// The k row's label: what 0 stands for on this data (the labels' classes, or 10 when
/// there are no labels to count).
fn k_row_label(classes: Option<usize>) -> String {
    match DecConfig::unset_clusters(classes) {
        (c, true) => format!("clusters (0 = the {c} classes)"),
        (k, false) => format!("clusters (0 = {k}, no labels)"),
    }
}

/// Preset, method, augmentation, k, seed and precision, for data of `n` samples and
/// perhaps labels of `classes` classes.
fn model_rows(
    ui: &mut egui::Ui,
    s: &mut Settings,
    (n, classes): (usize, Option<usize>),
    augmentable: &Result<(), String>,
) {
    let lab = ui.label("preset");
    let before = s.preset;
    let combo = egui::ComboBox::from_id_salt("preset")
                .selected_text(format!("{:?}", s.preset))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut s.preset, Preset::Fast, "Fast");
                    ui.selectable_value(&mut s.preset, Preset::Paper, "Paper");
                    ui.add_enabled_ui(augmentable.is_ok(), |ui| {
                        ui.selectable_value(&mut s.preset, Preset::Augmented, "Augmented")
                    })
                    .response
                    .on_hover_text("Fast with DEC-DA's random shifts and rotations and 400 pretraining epochs: the best accuracy on images.");
                });
    combo.response.labelled_by(lab.id);
    if s.preset != before {
        s.fit_to(n);
    }
    ui.end_row();
    let lab = ui.label("method");
    egui::ComboBox::from_id_salt("method")
        .selected_text(s.cfg.method.name().to_uppercase())
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut s.cfg.method, Method::Dec, "DEC")
                .on_hover_text("KL(P‖Q) on the encoder and centroids (Xie et al. 2016)");
            ui.selectable_value(&mut s.cfg.method, Method::Idec, "IDEC")
                .on_hover_text("Keeps the decoder: L = L_r + γ·KL(P‖Q) (Guo et al. 2017)");
        })
        .response
        .labelled_by(lab.id);
    ui.end_row();
    if s.cfg.method == Method::Idec {
        let lab = ui.label("IDEC γ");
        ui.add(
            egui::DragValue::new(&mut s.cfg.cluster.idec_gamma)
                .range(0.001..=100.0)
                .speed(0.01),
        )
        .labelled_by(lab.id)
        .on_hover_text("Weight of KL(P‖Q) against the reconstruction loss (IDEC: 0.1)");
        ui.end_row();
    }
    ui.label("augmentation");
    let mut on = s.cfg.augment.is_some();
    let r = ui.add_enabled(
        augmentable.is_ok(),
        egui::Checkbox::new(&mut on, "shift ±10%, rotate ±10°"),
    );
    match &augmentable {
                Ok(()) => r.on_hover_text("DEC-DA: every pretraining and clustering batch randomly shifted and rotated; P from the clean data"),
                Err(e) => r.on_disabled_hover_text(e.as_str()),
            };
    if on != s.cfg.augment.is_some() {
        s.cfg.augment = on.then(AugmentConfig::default);
    }
    ui.end_row();
    let lab = ui.label(k_row_label(classes));
    ui.add(egui::DragValue::new(&mut s.cfg.n_clusters).range(0..=100))
        .labelled_by(lab.id);
    ui.end_row();
    let lab = ui.label("seed");
    ui.add(egui::DragValue::new(&mut s.cfg.seed))
        .labelled_by(lab.id);
    ui.end_row();
    precision_row(ui, &mut s.cfg.precision);
}

/// The schedule: pretraining length, batches, P updates, tol, alpha, DEC iterations.
fn schedule_rows(ui: &mut egui::Ui, s: &mut Settings) {
    if s.preset != Preset::Paper {
        let lab = ui.label("pretrain epochs");
        ui.add(egui::DragValue::new(&mut s.epochs).range(1..=1000))
            .labelled_by(lab.id);
    } else {
        let lab = ui.label("layer-wise iters");
        ui.add(egui::DragValue::new(&mut s.cfg.pretrain.layerwise_iters).range(0..=200_000))
            .labelled_by(lab.id);
        ui.end_row();
        let lab = ui.label("fine-tune iters");
        ui.add(egui::DragValue::new(&mut s.cfg.pretrain.finetune_iters).range(0..=500_000))
            .labelled_by(lab.id);
    }
    ui.end_row();
    let lab = ui.label("pretrain batch");
    ui.add(egui::DragValue::new(&mut s.cfg.pretrain.batch_size).range(1..=4096))
        .labelled_by(lab.id);
    ui.end_row();
    let lab = ui.label("DEC batch");
    ui.add(egui::DragValue::new(&mut s.cfg.cluster.batch_size).range(1..=4096))
        .labelled_by(lab.id);
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
}
