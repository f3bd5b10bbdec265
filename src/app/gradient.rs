//! The Gradient view: where DEC's gradient pulls (the paper's figure 5), live. For a
//! chosen cluster j, each sample's soft assignment q_ij against the magnitude of its
//! gradient |∂L/∂z_i| ([`GradientField`], eq. 4), coloured by true label when there is
//! one, with the cluster's most and least confident samples beside it.
//!
//! Why: DEC learns from its own high-confidence assignments; samples between two
//! clusters (the 4/9 border on MNIST) get small pulls and move last. Seeing that on
//! one's own data explains which mistakes DEC keeps.

use std::sync::Arc;

use egui::RichText;
use egui_plot::{Legend, Plot, PlotPoint, PlotPoints, Points};

use super::palette;
use super::view::ViewCtx;
use crate::engine::cluster::dec::GradientField;

/// The field of the snapshot it was computed from.
pub struct GradientCache {
    /// (snapshots seen, finished): the state of the run it describes.
    pub key: (usize, bool),
    pub field: Arc<GradientField>,
    /// Hard cluster of each sample (argmax q).
    pub assignments: Vec<u32>,
}

/// At most this many points are drawn (an even stride over the eligible samples).
const MAX_POINTS: usize = 5000;

/// The cluster whose members are most mixed: the largest count of a second true
/// label (on MNIST usually the cluster holding both 4s and 9s).
pub fn most_mixed_cluster(assignments: &[u32], labels: &[u32], k: usize) -> Option<usize> {
    let n_labels = labels.iter().max().map_or(0, |m| *m as usize + 1);
    let mut counts = vec![vec![0usize; n_labels]; k];
    for (&a, &l) in assignments.iter().zip(labels) {
        if (a as usize) < k {
            counts[a as usize][l as usize] += 1;
        }
    }
    (0..k).max_by_key(|&j| {
        let mut c = counts[j].clone();
        c.sort_unstable_by(|a, b| b.cmp(a));
        (c.get(1).copied().unwrap_or(0), std::cmp::Reverse(j))
    })
}

/// The Gradient view: the field of the run's latest state, and the cluster picked.
#[derive(Default)]
pub struct GradientView {
    pub cache: Option<GradientCache>,
    /// The cluster shown (`None`: the most mixed one).
    pub cluster: Option<usize>,
}

impl GradientView {
    /// The clusters changed (an edit, a new run): compute again, most mixed first.
    pub fn reset(&mut self) {
        *self = GradientView::default();
    }

    /// The gradient field of the latest snapshot (or the finished run), recomputed
    /// only when the run has moved on.
    fn field(&mut self, cx: &ViewCtx) -> Option<&GradientCache> {
        let run = cx.run;
        let key = (run.snapshots_seen, run.finished.is_some());
        if self.cache.as_ref().is_none_or(|g| g.key != key) {
            let (z, mu, e) = if let Some(f) = &run.finished {
                (&f.z, &f.model.centroids, f.model.ae.encoder.n_out())
            } else {
                let s = run.snapshot.as_ref()?;
                (&s.z, s.centroids.as_ref()?, s.e)
            };
            let field = GradientField::compute(z, mu, e, cx.alpha);
            let assignments = crate::engine::cluster::assign::hard_labels(&field.q, field.k).0;
            self.cache = Some(GradientCache {
                key,
                field: Arc::new(field),
                assignments,
            });
        }
        self.cache.as_ref()
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewCtx) {
        show(self, cx, ui);
    }
}

fn show(view: &mut GradientView, cx: &mut ViewCtx, ui: &mut egui::Ui) {
    let Some(cache) = view.field(cx) else {
        ui.label("The gradient view fills once k-means has placed the centroids: for a cluster j, each sample's q_ij against the size of its gradient |dL/dz_i|.");
        return;
    };
    let field = cache.field.clone();
    let assignments = cache.assignments.clone();
    let k = field.k;
    let labels = cx.ds.labels.clone();
    let auto = labels
        .as_deref()
        .and_then(|l| most_mixed_cluster(&assignments, l, k))
        .unwrap_or(0);
    let j = view.cluster.filter(|&j| j < k).unwrap_or(auto);
    let has_labels = labels.is_some();
    cluster_picker(&mut view.cluster, has_labels, ui, j, auto, &assignments, k);
    // Members of j and samples with some weight on j, thinned to MAX_POINTS.
    let eligible: Vec<usize> = (0..assignments.len())
        .filter(|&i| assignments[i] as usize == j || field.q_of(i, j) > 0.05)
        .collect();
    let stride = eligible.len().div_ceil(MAX_POINTS).max(1);
    let shown: Vec<usize> = eligible.iter().copied().step_by(stride).collect();
    let mut members: Vec<usize> = (0..assignments.len())
        .filter(|&i| assignments[i] as usize == j)
        .collect();
    members.sort_by(|&a, &b| {
        field
            .q_of(b, j)
            .total_cmp(&field.q_of(a, j))
            .then(a.cmp(&b))
    });
    let side = 230.0;
    ui.horizontal_top(|ui| {
        let plot_w = (ui.available_width() - side - 10.0).max(200.0);
        ui.vertical(|ui| {
            ui.set_width(plot_w);
            let colour_of: Vec<u32> = shown
                .iter()
                .map(|&i| labels.as_ref().map_or(assignments[i], |l| l[i]))
                .collect();
            plot(
                cx,
                ui,
                &field,
                j,
                &shown,
                &colour_of,
                labels.is_some(),
                plot_w,
            );
        });
        ui.vertical(|ui| {
            ui.set_width(side);
            extremes(cx, ui, &field, j, &members);
        });
    });
}

/// The cluster whose gradients are shown (the most mixed one until the user picks).
fn cluster_picker(
    chosen: &mut Option<usize>,
    has_labels: bool,
    ui: &mut egui::Ui,
    j: usize,
    auto: usize,
    assignments: &[u32],
    k: usize,
) {
    ui.horizontal(|ui| {
        let lab = ui.label("cluster");
        let mut pick = j;
        egui::ComboBox::from_id_salt("gradient-cluster")
            .selected_text(format!("cluster {pick}"))
            .show_ui(ui, |ui| {
                for c in 0..k {
                    let size = assignments.iter().filter(|&&a| a as usize == c).count();
                    let note = if c == auto && has_labels {
                        " (most mixed)"
                    } else {
                        ""
                    };
                    ui.selectable_value(&mut pick, c, format!("cluster {c}: {size} samples{note}"));
                }
            })
            .response
            .labelled_by(lab.id);
        if pick != j {
            *chosen = Some(pick);
        }
        ui.label(
            RichText::new("x: q_ij, y: |dL/dz_i| with P as the next update sets it (eq. 3); colour: true label")
                .weak(),
        );
    });
}

/// q_ij against |dL/dz_i| for the `shown` samples, one colour group per label (or
/// cluster, `colour_of[n]` for `shown[n]`); the sample under the pointer gets a tooltip.
#[allow(clippy::too_many_arguments)]
fn plot(
    cx: &mut ViewCtx,
    ui: &mut egui::Ui,
    field: &GradientField,
    j: usize,
    shown: &[usize],
    colour_of: &[u32],
    by_label: bool,
    width: f32,
) {
    let resp = Plot::new("gradient")
        .width(width)
        .height((ui.available_height() - 10.0).max(200.0))
        .legend(Legend::default())
        .x_axis_label(format!("q_i{j} (soft assignment to cluster {j})"))
        .y_axis_label("|dL/dz_i|")
        .include_x(0.0)
        .include_x(1.0)
        .include_y(0.0)
        .show(ui, |p| {
            let mut groups: std::collections::BTreeMap<u32, Vec<[f64; 2]>> = Default::default();
            for (&i, &g) in shown.iter().zip(colour_of) {
                groups
                    .entry(g)
                    .or_default()
                    .push([field.q_of(i, j) as f64, field.norm[i] as f64]);
            }
            for (g, pts) in groups {
                let name = if by_label {
                    format!("label {}", cx.ds.class_name(g))
                } else {
                    format!("in cluster {g}")
                };
                p.points(
                    Points::new(name, PlotPoints::from(pts))
                        .color(palette(g as usize))
                        .radius(1.8),
                );
            }
            // The sample under the pointer (within 8 pixels).
            let pointer = p.pointer_coordinate()?;
            let at = p.screen_from_plot(pointer);
            shown
                .iter()
                .map(|&i| {
                    let s = p.screen_from_plot(PlotPoint::new(
                        field.q_of(i, j) as f64,
                        field.norm[i] as f64,
                    ));
                    (i, s.distance(at))
                })
                .filter(|(_, d)| *d < 8.0)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(i, _)| i)
        });
    if let Some(i) = resp.inner {
        let text = sample_text(cx, field, i, j);
        resp.response.on_hover_ui(|ui| {
            cx.thumb(ui, i, 64.0);
            ui.label(text);
        });
    }
}

/// The cluster's most and least confident members, and their mean gradients.
fn extremes(
    cx: &mut ViewCtx,
    ui: &mut egui::Ui,
    field: &GradientField,
    j: usize,
    members: &[usize],
) {
    ui.label(RichText::new(format!("cluster {j}: {} samples", members.len())).strong());
    ui.label("most confident (largest q)");
    strip(cx, ui, field, j, members.iter().take(8));
    ui.label("least confident (smallest q)");
    strip(cx, ui, field, j, members.iter().rev().take(8));
    let mean =
        |v: &[usize]| v.iter().map(|&i| field.norm[i] as f64).sum::<f64>() / v.len().max(1) as f64;
    let tenth = (members.len() / 10).max(1);
    if members.len() >= 2 {
        ui.label(format!(
            "mean |dL/dz|: top 10% {:.4}, bottom 10% {:.4}",
            mean(&members[..tenth.min(members.len())]),
            mean(&members[members.len().saturating_sub(tenth)..])
        ));
    }
}

/// One sample's label, q and gradient, for tooltips.
fn sample_text(cx: &ViewCtx, field: &GradientField, i: usize, j: usize) -> String {
    format!(
        "#{i}{}  q_i{j} = {:.3}  |dL/dz| = {:.4}",
        cx.ds
            .labels
            .as_ref()
            .map(|l| format!("  label {}", cx.ds.class_name(l[i])))
            .unwrap_or_default(),
        field.q_of(i, j),
        field.norm[i]
    )
}

fn strip<'a>(
    cx: &mut ViewCtx,
    ui: &mut egui::Ui,
    field: &GradientField,
    j: usize,
    items: impl Iterator<Item = &'a usize>,
) {
    ui.horizontal_wrapped(|ui| {
        for &i in items {
            let text = sample_text(cx, field, i, j);
            cx.thumb(ui, i, 48.0).on_hover_text(text);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_mixed_cluster_has_the_largest_second_label() {
        // cluster 0: 5 x label 0; cluster 1: 3 x label 4 and 3 x label 9; cluster 2:
        // 4 x label 1 and 1 x label 7.
        let a = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2];
        let l = [0, 0, 0, 0, 0, 4, 9, 4, 9, 4, 9, 1, 1, 1, 1, 7];
        assert_eq!(most_mixed_cluster(&a, &l, 3), Some(1));
    }
}
