//! The confusion view: clusters x true labels as a heat map, rows ordered by the
//! Hungarian matching used for ACC; clicking a cell lists the samples in it (e.g. the
//! 4s that landed in the 9 cluster). Right-click a cluster's row to merge, split or
//! remove it (see [`super::steer`]).

use egui::{Color32, RichText, Sense, Vec2};

use super::gallery;
use super::steer::SteerAction;
use super::view::ViewCtx;
use crate::engine::cluster::metrics::Confusion;

/// The Confusion view: the cell whose samples are listed.
#[derive(Default)]
pub struct ConfusionView {
    /// (cluster, true label) of the selected cell.
    pub selected: Option<(usize, usize)>,
}

impl ConfusionView {
    /// The clusters changed (an edit, a new run): no cell is selected.
    pub fn reset(&mut self) {
        self.selected = None;
    }

    /// The view; a cluster row's menu may return an edit.
    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewCtx) -> Option<SteerAction> {
        let Some(truth) = cx.ds.labels.clone() else {
            ui.label(
                "This dataset has no labels, so there is nothing to compare the clusters with.",
            );
            return None;
        };
        let Some(a) = cx.run.assignments().map(<[u32]>::to_vec) else {
            ui.label("The confusion matrix appears once k-means has assigned clusters.");
            return None;
        };
        let conf = Confusion::new(&truth, &a);
        let map = conf.hungarian();
        ui.label("Rows: clusters (matched label in brackets). Columns: true labels. Click a cell to see its samples.");
        if let Some(action) = self.matrix(cx, ui, &conf, &map) {
            return Some(action);
        }
        self.most_mixed(cx, ui, &conf, &map);
        ui.separator();
        if let Some((c, l)) = self.selected {
            cell_samples(cx, ui, &a, &truth, c, l);
        }
        None
    }
}

impl ConfusionView {
    /// The matrix, rows in the order of their matched label (unmatched clusters last);
    /// a cluster heading's menu may return an edit.
    fn matrix(
        &mut self,
        cx: &ViewCtx,
        ui: &mut egui::Ui,
        conf: &Confusion,
        map: &[Option<usize>],
    ) -> Option<SteerAction> {
        let mut rows: Vec<usize> = (0..conf.n_clusters).collect();
        rows.sort_by_key(|&c| (map[c].unwrap_or(usize::MAX), c));
        let mut action = None;
        egui::Grid::new("confusion")
            .spacing(Vec2::splat(2.0))
            .show(ui, |ui| {
                ui.label("");
                for l in 0..conf.n_labels {
                    ui.label(RichText::new(cx.ds.class_name(l as u32)).strong());
                }
                ui.end_row();
                for &c in &rows {
                    let matched = map[c]
                        .map(|l| cx.ds.class_name(l as u32))
                        .unwrap_or_else(|| "-".into());
                    let text = format!("cluster {c} [{matched}]");
                    let name = cx.name(c);
                    if let Some(a) =
                        gallery::cluster_heading(name, cx.steerable, ui, c, conf.n_clusters, text)
                    {
                        action = Some(a);
                    }
                    let total: u64 = conf.counts[c].iter().sum::<u64>().max(1);
                    for l in 0..conf.n_labels {
                        let v = conf.counts[c][l];
                        let f = v as f32 / total as f32;
                        self.cell(ui, (c, l), v, f, map[c] == Some(l));
                    }
                    ui.end_row();
                }
            });
        action
    }

    /// One cell: green on the matched label, red off it, brighter the larger its share of
    /// the cluster; a click selects it.
    fn cell(&mut self, ui: &mut egui::Ui, at: (usize, usize), v: u64, f: f32, diag: bool) {
        let base = if diag {
            Color32::from_rgb(40, 140, 70)
        } else {
            Color32::from_rgb(200, 60, 50)
        };
        let fill = Color32::from_rgb(
            (30.0 + (base.r() as f32 - 30.0) * f.sqrt()) as u8,
            (30.0 + (base.g() as f32 - 30.0) * f.sqrt()) as u8,
            (35.0 + (base.b() as f32 - 35.0) * f.sqrt()) as u8,
        );
        let (rect, resp) = ui.allocate_exact_size(Vec2::splat(34.0), Sense::click());
        ui.painter().rect_filled(rect, 3.0, fill);
        if self.selected == Some(at) {
            ui.painter()
                .rect_stroke(rect, 3.0, (2.0, Color32::WHITE), egui::StrokeKind::Inside);
        }
        if v > 0 {
            ui.painter().text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                v.to_string(),
                egui::FontId::proportional(11.0),
                Color32::WHITE,
            );
        }
        if resp.clicked() {
            self.selected = Some(at);
        }
    }

    /// The biggest confusions, to point at what got mixed; each a link to its cell.
    fn most_mixed(
        &mut self,
        cx: &ViewCtx,
        ui: &mut egui::Ui,
        conf: &Confusion,
        map: &[Option<usize>],
    ) {
        let mut off: Vec<(u64, usize, usize)> = (0..conf.n_clusters)
            .flat_map(|c| (0..conf.n_labels).map(move |l| (c, l)))
            .filter(|&(c, l)| map[c] != Some(l))
            .map(|(c, l)| (conf.counts[c][l], c, l))
            .filter(|x| x.0 > 0)
            .collect();
        off.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        ui.horizontal_wrapped(|ui| {
            ui.label("Most mixed:");
            for &(v, c, l) in off.iter().take(4) {
                let matched = map[c]
                    .map(|m| cx.ds.class_name(m as u32))
                    .unwrap_or_else(|| "-".into());
                if ui
                    .link(format!(
                        "{v} × label {} in cluster {c} [{matched}]",
                        cx.ds.class_name(l as u32)
                    ))
                    .clicked()
                {
                    self.selected = Some((c, l));
                }
            }
        });
    }
}

/// The samples of label `l` in cluster `c`, most confident first.
fn cell_samples(cx: &mut ViewCtx, ui: &mut egui::Ui, a: &[u32], truth: &[u32], c: usize, l: usize) {
    let conf_q = cx.run.confidence().map(<[f32]>::to_vec);
    let mut idx: Vec<usize> = (0..a.len())
        .filter(|&i| a[i] as usize == c && truth[i] as usize == l)
        .collect();
    if let Some(q) = &conf_q {
        idx.sort_by(|&x, &y| q[y].total_cmp(&q[x]).then(x.cmp(&y)));
    }
    ui.label(format!(
        "{} samples of label {} in cluster {c} (most confident first)",
        idx.len(),
        cx.ds.class_name(l as u32)
    ));
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            for &i in idx.iter().take(120) {
                cx.thumb(ui, i, 40.0).on_hover_text(format!("#{i}"));
            }
        });
    });
}
