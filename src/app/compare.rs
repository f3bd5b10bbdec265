//! The Compare runs view: every run finished in this session in one table (method,
//! augmentation, seed, final ACC/NMI/ARI, time) with their ACC curves overlaid.
//!
//! Why: whether augmentation or IDEC pays depends on the data; running DEC, then
//! DEC-DA or IDEC on the same data and reading the two rows side by side answers it
//! for the user's own data, not for MNIST.

use egui::RichText;
use egui_plot::{Legend, Line, Plot, PlotPoints};

use super::palette;
use crate::engine::pipeline::RunOutput;
use crate::engine::report::RunSummary;

/// A finished run as the table keeps it.
#[derive(Clone, Debug)]
pub struct FinishedRun {
    pub summary: RunSummary,
    /// (DEC iteration, ACC) at each P update, if the data has labels.
    pub acc: Vec<[f64; 2]>,
}

impl FinishedRun {
    /// The row of a finished run.
    pub fn of(out: &RunOutput) -> FinishedRun {
        let r = &out.report;
        FinishedRun {
            summary: RunSummary::of(r),
            acc: r
                .history
                .iter()
                .filter(|h| h.phase == "dec")
                .filter_map(|h| h.acc.map(|a| [h.step as f64, a]))
                .collect(),
        }
    }

    /// "#2 DEC-DA seed 0" (1-based number in the session).
    pub fn label(&self, i: usize) -> String {
        format!(
            "#{} {} seed {}",
            i + 1,
            self.summary.method,
            self.summary.seed
        )
    }
}

/// The Compare runs view: the session's finished runs, oldest first.
#[derive(Default)]
pub struct CompareView {
    pub runs: Vec<FinishedRun>,
}

impl CompareView {
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        show(&self.runs, ui);
    }
}

fn show(runs: &[FinishedRun], ui: &mut egui::Ui) {
    if runs.is_empty() {
        ui.label("Finished runs of this session are listed here with their final scores, and their ACC curves are drawn on one plot. Run DEC, then change the method or tick augmentation in the side panel and run again to see what it buys on this data.");
        return;
    }
    let fmt = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.4}"));
    egui::ScrollArea::vertical()
        .id_salt("runs-table")
        .max_height(ui.available_height() * 0.4)
        .show(ui, |ui| {
            egui::Grid::new("runs")
                .striped(true)
                .num_columns(11)
                .show(ui, |ui| {
                    for h in [
                        "#",
                        "data",
                        "method",
                        "augmentation",
                        "preset",
                        "seed",
                        "AE + k-means",
                        "ACC",
                        "NMI",
                        "ARI",
                        "time",
                    ] {
                        ui.label(RichText::new(h).strong());
                    }
                    ui.end_row();
                    for (i, r) in runs.iter().enumerate() {
                        let s = &r.summary;
                        ui.label(RichText::new(format!("{}", i + 1)).color(palette(i)));
                        ui.label(format!("{} ({})", s.dataset, s.n));
                        let method = match s.gamma {
                            Some(g) => format!("{} (γ {g})", s.method),
                            None => s.method.clone(),
                        };
                        ui.label(method);
                        ui.label(&s.augment);
                        ui.label(&s.preset);
                        ui.label(s.seed.to_string());
                        ui.label(fmt(s.ae_kmeans_acc));
                        ui.label(RichText::new(fmt(s.acc)).strong());
                        ui.label(fmt(s.nmi));
                        ui.label(fmt(s.ari));
                        ui.label(format!("{:.0} s", s.seconds))
                            .on_hover_text(format!("autoencoder: {}", s.autoencoder));
                        ui.end_row();
                    }
                });
        });
    if runs.iter().all(|r| r.acc.is_empty()) {
        ui.label("These data have no labels, so there is no ACC curve to compare.");
        return;
    }
    ui.label("ACC at each update of P (x: DEC iteration)");
    Plot::new("compare-acc")
        .legend(Legend::default())
        .include_y(0.0)
        .include_y(1.0)
        .x_axis_label("DEC iteration")
        .y_axis_label("ACC")
        .show(ui, |p| {
            for (i, r) in runs.iter().enumerate() {
                if !r.acc.is_empty() {
                    p.line(
                        Line::new(r.label(i), PlotPoints::from(r.acc.clone()))
                            .color(palette(i))
                            .width(2.0),
                    );
                }
            }
        });
}
