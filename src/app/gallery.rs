//! The clusters view (the paper's figure 3): for each cluster the 10 samples with the
//! highest soft assignment q, with the cluster's size and majority true label; also the
//! sample thumbnails used by every view, and the gallery PNG export.

use std::path::Path;

use egui::{Color32, RichText, Vec2};

use super::steer::SteerAction;
use super::view::{ViewCtx, pixels};
use super::{DecApp, palette};
use crate::data::Dataset;

/// A thumbnail of sample `i` (see [`Thumbs::show`](super::view::Thumbs::show)).
pub fn thumb(app: &mut DecApp, ui: &mut egui::Ui, i: usize, size: f32) -> egui::Response {
    app.thumbs.show(&app.ds, ui, i, size)
}

/// For each cluster: (members sorted by confidence descending).
pub fn members_by_confidence(assignments: &[u32], confidence: &[f32], k: usize) -> Vec<Vec<usize>> {
    let mut m = vec![Vec::new(); k];
    for (i, &a) in assignments.iter().enumerate() {
        if (a as usize) < k {
            m[a as usize].push(i);
        }
    }
    for c in &mut m {
        c.sort_by(|&a, &b| confidence[b].total_cmp(&confidence[a]).then(a.cmp(&b)));
    }
    m
}

/// The Clusters view (all it shows comes from the run's latest assignment).
#[derive(Default)]
pub struct ClustersView;

impl ClustersView {
    /// The view; a cluster heading's menu may return an edit.
    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewCtx) -> Option<SteerAction> {
        show(cx, ui)
    }
}

fn show(cx: &mut ViewCtx, ui: &mut egui::Ui) -> Option<SteerAction> {
    let (Some(a), Some(c)) = (
        cx.run.assignments().map(<[u32]>::to_vec),
        cx.run.confidence().map(<[f32]>::to_vec),
    ) else {
        ui.label("The galleries fill once k-means has placed the centroids: each row shows a cluster's 10 most confident samples.");
        return None;
    };
    if let Some(s) = cx
        .run
        .snapshot
        .as_ref()
        .filter(|s| s.phase == crate::engine::pipeline::Phase::Finetune)
    {
        ui.label(
            RichText::new(format!(
                "Preview while pretraining (step {}): each sample at its nearest centroid of the last settle check's k-means on Z; DEC's clusters take over when it begins.",
                s.step
            ))
            .color(Color32::from_rgb(240, 170, 60)),
        );
    }
    let k = a.iter().max().map_or(0, |m| *m as usize + 1);
    let members = members_by_confidence(&a, &c, k);
    let labels = cx.ds.labels.clone();
    if let Some(l) = &labels {
        recall_table(cx.ds, ui, l, &a);
    }
    if cx.ds.text.is_some() {
        return text_clusters(cx, ui, &a, &c, &members);
    }
    let mut action = None;
    egui::ScrollArea::vertical().show(ui, |ui| {
        for (j, m) in members.iter().enumerate() {
            ui.horizontal(|ui| {
                let (rect, _) = ui.allocate_exact_size(Vec2::new(8.0, 44.0), egui::Sense::hover());
                ui.painter().rect_filled(rect, 2.0, palette(j));
                ui.vertical(|ui| {
                    ui.set_width(150.0);
                    if let Some(a) =
                        cluster_heading(cx.name(j), cx.steerable, ui, j, k, format!("cluster {j}"))
                    {
                        action = Some(a);
                    }
                    ui.label(format!("{} samples", m.len()));
                    if let Some(t) = majority_text(cx.ds, labels.as_deref(), m) {
                        ui.label(t);
                    }
                });
                for &i in m.iter().take(10) {
                    cx.thumb(ui, i, 44.0).on_hover_text(format!(
                        "#{i}  q={:.3}{}",
                        c[i],
                        labels
                            .as_ref()
                            .map(|l| format!("  label {}", cx.ds.class_name(l[i])))
                            .unwrap_or_default()
                    ));
                }
            });
            ui.separator();
        }
    });
    action
}

/// A cluster's heading (with its name, when it has one) whose right-click menu holds
/// the steering edits (merge with, split into, remove, cannot-link); what was chosen.
pub fn cluster_heading(
    name: Option<String>,
    steerable: bool,
    ui: &mut egui::Ui,
    j: usize,
    k: usize,
    text: String,
) -> Option<super::steer::SteerAction> {
    let text = match name {
        Some(n) => format!("{text} \"{n}\""),
        None => text,
    };
    let r = ui
        .add(egui::Label::new(RichText::new(text).strong()).sense(egui::Sense::click()))
        .on_hover_text("right-click: merge, split, remove");
    let mut out = None;
    if steerable {
        r.context_menu(|ui| {
            out = super::steer::cluster_menu(ui, j, k);
            if out.is_some() {
                ui.close();
            }
        });
    }
    out
}

/// The clusters of text data: each cluster's most characteristic terms (highest mean
/// tf-idf) and the titles or first lines of its 10 most confident documents.
fn text_clusters(
    cx: &mut ViewCtx,
    ui: &mut egui::Ui,
    assignments: &[u32],
    confidence: &[f32],
    members: &[Vec<usize>],
) -> Option<SteerAction> {
    cx.ds.text.as_ref()?;
    let k = members.len();
    let terms = crate::data::text::top_terms(cx.ds, assignments, k, 10);
    let labels = cx.ds.labels.clone();
    let labels = labels.as_deref();
    let mut action = None;
    egui::ScrollArea::vertical().show(ui, |ui| {
        for (j, m) in members.iter().enumerate() {
            ui.horizontal(|ui| {
                let (rect, _) = ui.allocate_exact_size(Vec2::new(8.0, 16.0), egui::Sense::hover());
                ui.painter().rect_filled(rect, 2.0, palette(j));
                let text = format!("cluster {j}: {} documents", m.len());
                if let Some(a) = cluster_heading(cx.name(j), cx.steerable, ui, j, k, text) {
                    action = Some(a);
                }
                if let Some(t) = majority_text(cx.ds, labels, m) {
                    ui.label(t);
                }
            });
            ui.label(
                RichText::new(
                    terms[j]
                        .iter()
                        .map(|(t, _)| t.as_str())
                        .collect::<Vec<_>>()
                        .join("  "),
                )
                .monospace()
                .color(palette(j)),
            );
            for &i in m.iter().take(10) {
                ui.label(format!(
                    "  {:.2}  {}{}",
                    confidence[i],
                    cx.ds.title(i).unwrap_or_default(),
                    labels
                        .map(|l| format!("  [{}]", cx.ds.class_name(l[i])))
                        .unwrap_or_default()
                ));
            }
            ui.separator();
        }
    });
    action
}

/// "mostly <label> (<share>%)" for a cluster's members, when there are labels.
fn majority_text(ds: &Dataset, labels: Option<&[u32]>, members: &[usize]) -> Option<String> {
    let l = labels.filter(|_| !members.is_empty())?;
    let mut counts = std::collections::BTreeMap::new();
    members
        .iter()
        .for_each(|&i| *counts.entry(l[i]).or_insert(0usize) += 1);
    let (lab, cnt) = counts
        .iter()
        .max_by_key(|(l, c)| (**c, std::cmp::Reverse(**l)))?;
    Some(format!(
        "mostly {} ({:.0}%)",
        ds.class_name(*lab),
        100.0 * *cnt as f64 / members.len() as f64
    ))
}

/// Each true class's size and recall under the Hungarian map (the cluster matched to
/// it), so that small classes that DEC absorbed stand out (the paper's imbalanced
/// data, section 5.4).
fn recall_table(ds: &Dataset, ui: &mut egui::Ui, labels: &[u32], assignments: &[u32]) {
    let per_class =
        crate::engine::cluster::metrics::Confusion::new(labels, assignments).per_class_recall();
    egui::CollapsingHeader::new("Per-class recall")
        .default_open(true)
        .show(ui, |ui| {
            egui::Grid::new("recall").striped(true).show(ui, |ui| {
                ui.label(RichText::new("class").strong());
                for c in &per_class {
                    ui.label(ds.class_name(c.class as u32));
                }
                ui.end_row();
                ui.label(RichText::new("size").strong());
                for c in &per_class {
                    ui.label(c.size.to_string());
                }
                ui.end_row();
                ui.label(RichText::new("recall").strong());
                for c in &per_class {
                    let t = RichText::new(format!("{:.2}", c.recall));
                    ui.label(if c.recall < 0.5 {
                        t.color(Color32::from_rgb(220, 80, 60))
                    } else {
                        t
                    })
                    .on_hover_text(match c.cluster {
                        Some(j) => {
                            format!("share of the class in cluster {j}, the cluster matched to it")
                        }
                        None => "no cluster is matched to this class".into(),
                    });
                }
                ui.end_row();
            });
        });
    ui.separator();
}

/// Write the gallery (10 most confident samples per cluster, one row each) as a PNG.
pub fn write_png(
    ds: &Dataset,
    assignments: &[u32],
    confidence: &[f32],
    path: &Path,
) -> Result<(), String> {
    let k = assignments.iter().max().map_or(0, |m| *m as usize + 1);
    let members = members_by_confidence(assignments, confidence, k);
    let Some(shape) = ds.image_shape.filter(|s| s.len() == ds.d) else {
        return Ok(()); // Not image data: no gallery picture.
    };
    let (h, w, pad) = (shape.height as u32, shape.width as u32, 2u32);
    let mut img = image::RgbImage::from_pixel(
        10 * (w + pad) + pad,
        k as u32 * (h + pad) + pad,
        image::Rgb([255, 255, 255]),
    );
    for (r, m) in members.iter().enumerate() {
        for (c, &i) in m.iter().take(10).enumerate() {
            if let Some((_, _, rgb)) = pixels(ds, i) {
                for y in 0..h {
                    for x in 0..w {
                        let o = ((y * w + x) * 3) as usize;
                        img.put_pixel(
                            pad + c as u32 * (w + pad) + x,
                            pad + r as u32 * (h + pad) + y,
                            image::Rgb([rgb[o], rgb[o + 1], rgb[o + 2]]),
                        );
                    }
                }
            }
        }
    }
    img.save(path)
        .map_err(|e| format!("{}: {e}", path.display()))
}
