//! The curves view: ACC, NMI, ARI over DEC updates with the two baselines as
//! horizontal lines, and the losses (reconstruction per pretraining epoch, KL and
//! label changes per DEC update, and IDEC's reconstruction term beside KL).

use egui_plot::{HLine, Legend, Line, Plot, PlotPoints};

use crate::engine::report::HistoryEntry;

use super::palette;
use super::view::ViewCtx;

/// The Curves view (all it shows comes from the run's history).
#[derive(Default)]
pub struct CurvesView;

impl CurvesView {
    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &ViewCtx) {
        show(cx, ui);
    }
}

fn show(cx: &ViewCtx, ui: &mut egui::Ui) {
    let h = &cx.run.history;
    if h.is_empty() {
        ui.label("Curves appear once training runs: reconstruction loss per pretraining epoch, then ACC/NMI/ARI and KL at every update of P.");
    }
    let dec: Vec<_> = h.iter().filter(|e| e.phase == "dec").collect();
    let pre: Vec<_> = h.iter().filter(|e| e.phase != "dec").collect();
    let settle = &cx.run.settle;
    let parts = if settle.is_empty() { 2.0 } else { 3.0 };
    let half = (ui.available_height() - 20.0 * parts) / parts;
    match crate::engine::report::time_to_accuracy_line(h) {
        Some(t) => ui.label(format!(
            "Clustering quality against true labels (x: DEC iteration); since Start: {t}"
        )),
        None => ui.label("Clustering quality against true labels (x: DEC iteration)"),
    };
    Plot::new("metrics")
        .height(half.max(120.0))
        .legend(Legend::default())
        .include_y(0.0)
        .include_y(1.0)
        .x_axis_label("DEC iteration")
        .show(ui, |p| {
            for (i, (name, f)) in [
                (
                    "ACC",
                    (|e: &HistoryEntry| e.acc) as fn(&HistoryEntry) -> Option<f64>,
                ),
                ("NMI", |e| e.nmi),
                ("ARI", |e| e.ari),
            ]
            .into_iter()
            .enumerate()
            {
                let pts: Vec<[f64; 2]> = dec
                    .iter()
                    .filter_map(|e| f(e).map(|v| [e.step as f64, v]))
                    .collect();
                if !pts.is_empty() {
                    p.line(
                        Line::new(name, PlotPoints::from(pts))
                            .color(palette(i))
                            .width(2.0),
                    );
                }
            }
            for (step, what) in &cx.run.edit_marks {
                p.vline(
                    egui_plot::VLine::new(what.clone(), *step as f64)
                        .color(egui::Color32::from_rgb(240, 170, 60)),
                );
            }
            for (i, (name, s)) in cx.run.baselines.iter().enumerate() {
                p.hline(
                    HLine::new(format!("{name} (ACC)"), s.acc)
                        .color(palette(3 + i))
                        .style(egui_plot::LineStyle::dashed_loose()),
                );
            }
        });
    ui.label("Losses");
    losses(cx.idec_gamma, ui, &pre, &dec, half);
    if !settle.is_empty() {
        ui.label("Pretraining settle checks: k-means on Z of a sample, against the last check");
        settle_plot(ui, settle, half);
    }
}

/// Each settle check's agreement with the last (and, with labels, the ACC of its
/// partition of the sample) against the pretraining step.
fn settle_plot(ui: &mut egui::Ui, checks: &[crate::engine::report::SettleCheck], h: f32) {
    let agree: Vec<[f64; 2]> = checks
        .iter()
        .filter_map(|c| c.agreement.map(|a| [c.step as f64, a]))
        .collect();
    let acc: Vec<[f64; 2]> = checks
        .iter()
        .filter_map(|c| c.acc.map(|a| [c.step as f64, a]))
        .collect();
    Plot::new("settle")
        .height(h.max(100.0))
        .legend(Legend::default())
        .include_y(0.0)
        .include_y(1.0)
        .x_axis_label("pretraining step")
        .show(ui, |p| {
            p.line(
                Line::new("agreement with the last check", PlotPoints::from(agree))
                    .color(palette(2)),
            );
            if !acc.is_empty() {
                p.line(
                    Line::new(
                        "ACC of the check's clusters (labels)",
                        PlotPoints::from(acc),
                    )
                    .color(palette(0))
                    .style(egui_plot::LineStyle::dashed_loose()),
                );
            }
        });
}

/// Reconstruction MSE per pretraining epoch; KL, IDEC's reconstruction term and the
/// share of labels changed per DEC update.
fn losses(gamma: f32, ui: &mut egui::Ui, pre: &[&HistoryEntry], dec: &[&HistoryEntry], half: f32) {
    Plot::new("losses")
        .height(half.max(120.0))
        .legend(Legend::default())
        .x_axis_label("pretraining epoch / DEC update")
        .show(ui, |p| {
            let rec: Vec<[f64; 2]> = pre
                .iter()
                .enumerate()
                .map(|(i, e)| [i as f64 + 1.0, e.loss as f64])
                .collect();
            if !rec.is_empty() {
                p.line(Line::new("reconstruction MSE", PlotPoints::from(rec)).color(palette(5)));
            }
            let kl: Vec<[f64; 2]> = dec
                .iter()
                .enumerate()
                .map(|(i, e)| [i as f64, e.loss as f64])
                .collect();
            if !kl.is_empty() {
                p.line(Line::new("KL(P||Q)", PlotPoints::from(kl)).color(palette(6)));
            }
            // IDEC: the reconstruction term of the clustering loss, as weighted in the
            // step (L/γ = KL + L_r/γ).
            let rec: Vec<[f64; 2]> = dec
                .iter()
                .enumerate()
                .filter_map(|(i, e)| e.rec_loss.map(|r| [i as f64, (r / gamma) as f64]))
                .collect();
            if !rec.is_empty() {
                p.line(
                    Line::new("IDEC reconstruction L_r/γ", PlotPoints::from(rec)).color(palette(8)),
                );
            }
            let ch: Vec<[f64; 2]> = dec
                .iter()
                .enumerate()
                .filter_map(|(i, e)| e.changed.map(|c| [i as f64, c]))
                .collect();
            if !ch.is_empty() {
                p.line(
                    Line::new("fraction of labels changed", PlotPoints::from(ch)).color(palette(7)),
                );
            }
        });
}
