//! The menu bar (File, View) and the status bar.

use egui::RichText;

use super::DecApp;
use super::file_browser::Purpose;
use super::frame_stats::percentile;
use crate::data;

impl DecApp {
    /// File (open, recent, models, export) and View.
    pub(super) fn menu_bar(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open file...").clicked() {
                    self.spawn_dialog(Purpose::OpenData, false);
                    ui.close();
                }
                if ui.button("Open folder...").clicked() {
                    self.spawn_dialog(Purpose::OpenData, true);
                    ui.close();
                }
                if ui
                    .button("Browse files in the app...")
                    .on_hover_text(
                        "decscope's own file browser, when the system dialog does not suit",
                    )
                    .clicked()
                {
                    self.open_browser(Purpose::OpenData, None);
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
                    self.spawn_dialog(Purpose::LoadModel, true);
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
                ui.checkbox(
                    &mut self.embedding.color_by_label,
                    "Colour points by true label",
                );
            });
        });
    }

    /// The status line and the frame-time p95.
    pub(super) fn status_bar(&mut self, ui: &mut egui::Ui) {
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
}
