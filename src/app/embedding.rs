//! The embedding view: PCA of Z for every sample, or t-SNE of a fixed balanced sample
//! (warm-started at every snapshot on its own thread), coloured by cluster or true
//! label, drawn as one image so 70,000 points stay cheap. Hover shows a sample's image;
//! dragging a box selects samples; the timeline replays every kept layout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{Color32, Pos2, Rect, RichText, Sense, TextureOptions, Vec2};

use super::steer::SteerAction;
use super::view::ViewCtx;
use super::{Frame, Method, palette};
use crate::engine::pipeline::Phase;

/// The Embedding view's own state: how points are coloured, the last scatter image,
/// and the replay position.
#[derive(Default)]
pub struct EmbeddingView {
    pub color_by_label: bool,
    /// In the t-SNE view, colour by k-means on the layout (manifold clustering).
    pub color_by_manifold: bool,
    /// The scatter's last image (a texture) and what it was drawn from: redrawn only
    /// when the points, colours or view change, not on every repaint.
    pub(crate) scatter_cache: Option<(ScatterKey, egui::TextureHandle)>,
    /// Replay position in the run's frames (`None`: follow the live run).
    pub replay: Option<usize>,
    pub playing: bool,
    last_play: Option<Instant>,
}

/// What the Embedding view sees of the app besides [`ViewCtx`]: the projection in
/// use, the raw input's PCA, and the box selection (which the Steer panel uses).
pub struct EmbeddingCtx<'a> {
    pub method: Method,
    pub raw_proj: &'a [[f32; 2]],
    pub selection: &'a mut Vec<usize>,
}

impl EmbeddingView {
    /// The view; the projection the user switched to, if any, and the edit picked
    /// from a cluster's menu in the legend (right-click: merge, split, remove).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        cx: &mut ViewCtx,
        e: EmbeddingCtx,
    ) -> (Option<Method>, Option<SteerAction>) {
        let mut sc = Scene {
            v: self,
            cx,
            method: e.method,
            raw_proj: e.raw_proj,
            selection: e.selection,
            new_method: None,
            action: None,
        };
        show(&mut sc, ui);
        (sc.new_method, sc.action)
    }

    /// Back to the live run (a new run, an edit).
    pub fn follow_live(&mut self) {
        self.replay = None;
        self.playing = false;
    }
}

/// Everything one frame of the view works with.
struct Scene<'a, 'b> {
    v: &'a mut EmbeddingView,
    cx: &'a mut ViewCtx<'b>,
    method: Method,
    raw_proj: &'a [[f32; 2]],
    selection: &'a mut Vec<usize>,
    /// Set when the user picks the other projection.
    new_method: Option<Method>,
    /// Set when the user picks an edit from a cluster's menu in the legend.
    action: Option<SteerAction>,
}

/// Bounds of the points with a small margin.
fn bounds(p: &[[f32; 2]]) -> Rect {
    let mut r = Rect::NOTHING;
    for q in p {
        r.extend_with(Pos2::new(q[0], q[1]));
    }
    if !r.is_finite() || r.width() <= 0.0 || r.height() <= 0.0 {
        return Rect::from_center_size(Pos2::ZERO, Vec2::splat(2.0));
    }
    r.expand2(r.size() * 0.03)
}

/// What the scatter's image was drawn from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScatterKey {
    points: u64,
    assignments: u64,
    manifold: u64,
    by_label: bool,
    highlight: u64,
    rect: [u32; 4],
    radius: u32,
    pixels_per_point: u32,
}

/// What to draw now: points, the sample each one is, the assignments, a caption.
fn current_frame(sc: &mut Scene) -> (Frame, String) {
    let method = sc.method;
    let kept: Vec<usize> = (0..sc.cx.run.frames.len())
        .filter(|&i| sc.cx.run.frames[i].method == method)
        .collect();
    if let Some(r) = sc.v.replay
        && let Some(&i) = kept.get(r)
    {
        let f = sc.cx.run.frames[i].clone();
        let cap = format!(
            "replay {}/{}: {:?} step {}",
            r + 1,
            kept.len(),
            f.phase,
            f.step
        );
        return (f, cap);
    }
    let live_assign = sc.cx.run.assignments().map(|a| Arc::new(a.to_vec()));
    let tsne = sc.cx.run.tsne.as_ref().filter(|_| method == Method::Tsne);
    if let Some(l) = tsne {
        let cap = format!(
            "t-SNE of Z on {} points (step {}, KL {:.3}, {:.2}s)",
            l.points.len(),
            l.step,
            l.kl.unwrap_or(f32::NAN),
            l.seconds
        );
        let frame = Frame {
            step: l.step,
            phase: crate::engine::pipeline::Phase::Done,
            method,
            points: Arc::new(l.points.clone()),
            indices: Some(l.indices.clone()),
            assignments: live_assign,
        };
        return (frame, cap);
    }
    let (pts, cap) = pca_points(sc);
    let cap = if method == Method::Tsne {
        format!("{cap}; t-SNE is being computed...")
    } else {
        cap
    };
    let frame = Frame {
        step: 0,
        phase: crate::engine::pipeline::Phase::Done,
        method: Method::Pca,
        points: Arc::new(pts),
        indices: None,
        assignments: live_assign,
    };
    (frame, cap)
}

/// The PCA layout to show and its caption: of Z once a run has one, else of the input.
fn pca_points(sc: &Scene) -> (Vec<[f32; 2]>, String) {
    if sc.cx.run.proj.len() != sc.cx.ds.n {
        return (sc.raw_proj.to_vec(), raw_caption(sc.cx.run));
    }
    let s = sc
        .cx
        .run
        .snapshot
        .as_ref()
        .map(|s| format!("{:?} step {}", s.phase, s.step))
        .unwrap_or_default();
    (
        sc.cx.run.proj.clone(),
        format!("PCA of the embedding Z ({s})"),
    )
}

/// What the raw input's PCA stands for: before a run, a hint to press Start; while a
/// run has not yet sent its first embedding (a large file: the first snapshot encodes
/// every row), what it is doing.
fn raw_caption(run: &super::state::RunView) -> String {
    match run.phase {
        Some(p) if run.finished.is_none() => format!(
            "PCA of the raw input: training runs ({} step {} of {}); Z is shown from its first snapshot",
            p.name(),
            run.step,
            run.total
        ),
        _ => "PCA of the raw input (press Start to train)".to_string(),
    }
}

fn show(sc: &mut Scene, ui: &mut egui::Ui) {
    controls(sc, ui);
    timeline(sc, ui);
    let (frame, caption) = current_frame(sc);
    ui.label(caption);
    // k-means on the layout, when this frame is the latest t-SNE layout.
    let manifold: Option<Vec<u32>> = sc
        .cx
        .run
        .tsne
        .as_ref()
        .filter(|l| {
            sc.v.color_by_manifold
                && frame.method == Method::Tsne
                && l.points.len() == frame.points.len()
                && sc.v.replay.is_none()
        })
        .and_then(|l| l.kmeans.clone());
    let by_label = sc.v.color_by_label && sc.cx.ds.labels.is_some() && manifold.is_none();
    let grid_h = if sc.selection.is_empty() { 0.0 } else { 130.0 };
    let size = ui.available_size() - Vec2::new(0.0, grid_h);
    let (resp, painter) = ui.allocate_painter(size.max(Vec2::splat(50.0)), Sense::click_and_drag());
    let rect = resp.rect;
    painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
    let view = View::fit(&frame, rect);
    draw_points(
        sc,
        ui,
        &painter,
        &frame,
        &view,
        manifold.as_deref(),
        by_label,
    );
    legend(
        sc,
        ui,
        &painter,
        rect,
        &frame,
        manifold.as_deref(),
        by_label,
    );
    box_select(sc, ui, &resp, &painter, &frame, &view);
    hover(sc, ui, &resp, &painter, &frame, &view);
    selection_strip(sc, ui);
}

/// PCA or t-SNE, and how to colour the points.
fn controls(sc: &mut Scene, ui: &mut egui::Ui) {
    let mut method = sc.method;
    ui.horizontal(|ui| {
        ui.selectable_value(&mut method, Method::Pca, "PCA");
        ui.selectable_value(&mut method, Method::Tsne, "t-SNE");
        ui.separator();
        ui.add_enabled(
            sc.cx.ds.labels.is_some(),
            egui::Checkbox::new(&mut sc.v.color_by_label, "colour by true label"),
        );
        let has_km = sc.cx.run.tsne.as_ref().is_some_and(|l| l.kmeans.is_some());
        if method == Method::Tsne {
            ui.add_enabled(
                has_km,
                egui::Checkbox::new(&mut sc.v.color_by_manifold, "colour by k-means on t-SNE"),
            )
            .on_hover_text(
                "Manifold clustering: k-means on this 2-D layout; its scores are in the side panel",
            );
        }
    });
    if method != sc.method {
        sc.new_method = Some(method);
    }
}

/// Where the frame's points land on the screen: the points' bounds fitted to `rect`.
struct View {
    rect: Rect,
    centre: Pos2,
    bounds_centre: Pos2,
    scale: f32,
    radius: f32,
}

impl View {
    fn fit(frame: &Frame, rect: Rect) -> View {
        let b = bounds(&frame.points);
        View {
            rect,
            centre: rect.center(),
            bounds_centre: b.center(),
            scale: (rect.width() / b.width()).min(rect.height() / b.height()),
            radius: if frame.points.len() > 20_000 {
                1.0
            } else {
                1.6
            },
        }
    }

    fn to_screen(&self, p: [f32; 2]) -> Pos2 {
        Pos2::new(
            self.centre.x + (p[0] - self.bounds_centre.x) * self.scale,
            self.centre.y - (p[1] - self.bounds_centre.y) * self.scale,
        )
    }
}

/// The sample behind point `i` of a frame (a t-SNE frame holds a sample of the rows).
fn sample_of(frame: &Frame, i: usize) -> usize {
    frame.indices.as_ref().map_or(i, |ix| ix[i])
}

/// The points as one image, redrawn only when something it depends on changed (drawing
/// 70,000 squares costs a few ms; hover and selection are drawn on top).
fn draw_points(
    sc: &mut Scene,
    ui: &egui::Ui,
    painter: &egui::Painter,
    frame: &Frame,
    view: &View,
    manifold: Option<&[u32]>,
    by_label: bool,
) {
    let labels = sc.cx.ds.labels.as_deref();
    let highlight = sc.cx.highlight;
    let colors = |i: usize| -> Color32 {
        let s = sample_of(frame, i);
        let cluster = frame.assignments.as_ref().and_then(|a| a.get(s).copied());
        let c = if let Some(m) = manifold {
            m.get(i).map_or(Color32::GRAY, |&c| palette(c as usize))
        } else if by_label {
            labels.map_or(Color32::GRAY, |l| palette(l[s] as usize))
        } else if let Some(c) = cluster {
            palette(c as usize)
        } else {
            Color32::from_gray(150)
        };
        picked_out(c, cluster, highlight)
    };
    let (points, rect) = (&frame.points, view.rect);
    let ppp = ui.ctx().pixels_per_point();
    let key = ScatterKey {
        points: fingerprint(points.iter().flat_map(|p| [p[0].to_bits(), p[1].to_bits()])),
        assignments: fingerprint(frame.assignments.iter().flat_map(|a| a.iter().copied())),
        manifold: fingerprint(manifold.iter().flat_map(|m| m.iter().copied())),
        by_label,
        highlight: fingerprint(highlight.iter().flat_map(|h| h.iter().map(|&c| c as u32))),
        rect: [rect.min.x, rect.min.y, rect.max.x, rect.max.y].map(f32::to_bits),
        radius: view.radius.to_bits(),
        pixels_per_point: ppp.to_bits(),
    };
    let size = [
        (rect.width() * ppp).round().max(1.0) as usize,
        (rect.height() * ppp).round().max(1.0) as usize,
    ];
    let tex = match &sc.v.scatter_cache {
        Some((k, t)) if *k == key => t.clone(),
        _ => {
            let to_screen = |p: [f32; 2]| view.to_screen(p);
            let img = point_image(
                points,
                &colors,
                &to_screen,
                view.radius,
                rect.min,
                size,
                ppp,
            );
            let t = match sc.v.scatter_cache.take() {
                Some((_, mut t)) => {
                    t.set(img, TextureOptions::NEAREST);
                    t
                }
                None => ui
                    .ctx()
                    .load_texture("scatter", img, TextureOptions::NEAREST),
            };
            sc.v.scatter_cache = Some((key, t.clone()));
            t
        }
    };
    let img_rect = Rect::from_min_size(rect.min, Vec2::new(size[0] as f32, size[1] as f32) / ppp);
    painter.image(
        tex.id(),
        img_rect,
        Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
        Color32::WHITE,
    );
}

/// One row per colour in the top right corner: cluster, true label or k-means on t-SNE.
fn legend(
    sc: &mut Scene,
    ui: &egui::Ui,
    painter: &egui::Painter,
    rect: Rect,
    frame: &Frame,
    manifold: Option<&[u32]>,
    by_label: bool,
) {
    let k = if let Some(m) = manifold {
        m.iter().max().map_or(0, |v| *v as usize + 1)
    } else if by_label {
        sc.cx.ds.n_classes().unwrap_or(0)
    } else {
        frame
            .assignments
            .as_ref()
            .map_or(0, |a| a.iter().max().map_or(0, |m| *m as usize + 1))
    };
    for j in 0..k.min(30) {
        let y = rect.top() + 10.0 + j as f32 * 16.0;
        painter.circle_filled(Pos2::new(rect.right() - 70.0, y), 5.0, palette(j));
        let name = if manifold.is_some() {
            format!("k-means {j}")
        } else if by_label {
            format!("label {}", sc.cx.ds.class_name(j as u32))
        } else {
            format!("cluster {j}")
        };
        let text = painter.text(
            Pos2::new(rect.right() - 60.0, y),
            egui::Align2::LEFT_CENTER,
            name,
            egui::FontId::proportional(12.0),
            ui.visuals().text_color(),
        );
        if manifold.is_none() && !by_label && sc.cx.steerable {
            legend_menu(sc, ui, text.expand(3.0), j, k);
        }
    }
}

/// Right-click on cluster `j`'s legend row: the clusters' menu (merge, split, remove),
/// as in the Clusters and Confusion views.
fn legend_menu(sc: &mut Scene, ui: &egui::Ui, row: Rect, j: usize, k: usize) {
    let r = ui
        .interact(row, ui.make_persistent_id(("legend", j)), Sense::click())
        .on_hover_text("right-click: merge, split, remove");
    r.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Button, true, format!("legend: cluster {j}"))
    });
    r.context_menu(|ui| {
        if let Some(a) = super::steer::cluster_menu(ui, j, k) {
            sc.action = Some(a);
            ui.close();
        }
    });
}

/// Drag a box to select the samples inside it; a click clears the selection.
fn box_select(
    sc: &mut Scene,
    ui: &mut egui::Ui,
    resp: &egui::Response,
    painter: &egui::Painter,
    frame: &Frame,
    view: &View,
) {
    let drag_id = ui.make_persistent_id("box-select");
    if resp.drag_started()
        && let Some(p) = resp.interact_pointer_pos()
    {
        ui.data_mut(|d| d.insert_temp(drag_id, p));
    }
    let start: Option<Pos2> = ui.data(|d| d.get_temp(drag_id));
    if let (Some(s), Some(p)) = (start, resp.interact_pointer_pos())
        && resp.dragged()
    {
        painter.rect_stroke(
            Rect::from_two_pos(s, p),
            0.0,
            (1.0, Color32::WHITE),
            egui::StrokeKind::Inside,
        );
    }
    if resp.drag_stopped()
        && let (Some(s), Some(p)) = (start, resp.interact_pointer_pos())
    {
        let r = Rect::from_two_pos(s, p);
        *sc.selection = (0..frame.points.len())
            .filter(|&i| r.contains(view.to_screen(frame.points[i])))
            .map(|i| sample_of(frame, i))
            .collect();
        ui.data_mut(|d| d.remove::<Pos2>(drag_id));
    }
    if resp.clicked() {
        sc.selection.clear();
    }
}

/// Hover: the nearest point within 8 px (a linear scan: 70,000 points take ~0.1 ms),
/// ringed, with the sample's image, title, label, cluster and confidence.
fn hover(
    sc: &mut Scene,
    ui: &mut egui::Ui,
    resp: &egui::Response,
    painter: &egui::Painter,
    frame: &Frame,
    view: &View,
) {
    let Some(h) = resp.hover_pos().filter(|_| !resp.dragged()) else {
        return;
    };
    let mut best = (usize::MAX, 64.0f32);
    for (i, p) in frame.points.iter().enumerate() {
        let d = view.to_screen(*p).distance_sq(h);
        if d < best.1 {
            best = (i, d);
        }
    }
    if best.0 == usize::MAX {
        return;
    }
    let i = best.0;
    let s = sample_of(frame, i);
    painter.circle_stroke(view.to_screen(frame.points[i]), 5.0, (2.0, Color32::WHITE));
    let conf = sc.cx.run.confidence().and_then(|c| c.get(s).copied());
    let cluster = frame.assignments.as_ref().and_then(|a| a.get(s).copied());
    let label = sc.cx.ds.labels.as_ref().map(|l| sc.cx.ds.class_name(l[s]));
    let tex = sc.cx.thumbs.texture(sc.cx.ds, ui.ctx(), s);
    let preview = sc.cx.ds.title(s).map(str::to_string);
    egui::Tooltip::always_open(
        ui.ctx().clone(),
        ui.layer_id(),
        ui.scope_id().with("pt-tip"),
        egui::PopupAnchor::Pointer,
    )
    .show(|ui| {
        if let Some(t) = tex {
            ui.image((t.id(), Vec2::splat(84.0)));
        }
        if let Some(p) = preview {
            ui.set_max_width(360.0);
            ui.label(egui::RichText::new(p).strong());
        }
        ui.label(format!("sample #{s}"));
        if let Some(l) = label {
            ui.label(format!("true label: {l}"));
        }
        if let Some(c) = cluster {
            ui.label(format!("cluster: {c}"));
        }
        if let Some(q) = conf {
            ui.label(format!("confidence q: {q:.3}"));
        }
    });
}

/// The selected samples' thumbnails under the plot.
fn selection_strip(sc: &mut Scene, ui: &mut egui::Ui) {
    if sc.selection.is_empty() {
        return;
    }
    ui.horizontal(|ui| {
        ui.label(format!(
            "{} selected (drag a box to select, click to clear)",
            sc.selection.len()
        ));
    });
    egui::ScrollArea::horizontal()
        .id_salt("selection")
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                for &i in sc.selection.clone().iter().take(200) {
                    sc.cx.thumb(ui, i, 36.0).on_hover_text(format!("#{i}"));
                }
            });
        });
}

/// The last change to the clusters (a hand edit, live steering, a round of
/// self-correction) at or before the DEC step of the frame at `pos` on the timeline.
fn timeline_mark(sc: &Scene, pos: usize) -> Option<String> {
    let run = &sc.cx.run;
    let frame = run
        .frames
        .iter()
        .filter(|f| f.method == sc.method)
        .nth(pos)?;
    if !matches!(frame.phase, Phase::Clustering | Phase::Done) {
        return None;
    }
    let (step, what) = run
        .edit_marks
        .iter()
        .filter(|(s, _)| *s <= frame.step)
        .max_by_key(|(s, _)| *s)?;
    Some(format!("since DEC step {step}: {what}"))
}

/// The replay timeline: scrub through kept layouts, play them forward, or follow live.
fn timeline(sc: &mut Scene, ui: &mut egui::Ui) {
    let n = sc
        .cx
        .run
        .frames
        .iter()
        .filter(|f| f.method == sc.method)
        .count();
    if n < 2 {
        return;
    }
    ui.horizontal(|ui| {
        let live = sc.v.replay.is_none();
        if ui.selectable_label(live, "live").clicked() {
            sc.v.replay = None;
            sc.v.playing = false;
        }
        let play_label = if sc.v.playing { "pause replay" } else { "play" };
        if ui.button(play_label).clicked() {
            sc.v.playing = !sc.v.playing;
            if sc.v.playing && sc.v.replay.is_none_or(|r| r + 1 >= n) {
                sc.v.replay = Some(0);
            }
        }
        let mut pos = sc.v.replay.unwrap_or(n - 1);
        let lab = ui.label("timeline");
        if ui
            .add(egui::Slider::new(&mut pos, 0..=n - 1).show_value(false))
            .labelled_by(lab.id)
            .changed()
        {
            sc.v.replay = Some(pos);
            sc.v.playing = false;
        }
        if let Some(mark) = timeline_mark(sc, pos) {
            ui.label(
                RichText::new(mark)
                    .small()
                    .color(Color32::from_rgb(240, 170, 60)),
            );
        }
    });
    if sc.v.playing {
        let now = Instant::now();
        if sc
            .v
            .last_play
            .is_none_or(|t| now.duration_since(t) >= Duration::from_millis(120))
        {
            sc.v.last_play = Some(now);
            let next = sc.v.replay.map_or(0, |r| r + 1);
            if next >= n {
                sc.v.playing = false;
            } else {
                sc.v.replay = Some(next);
            }
        }
        ui.ctx().request_repaint_after(Duration::from_millis(30));
    }
}

mod points;
pub use points::{fingerprint, picked_out, point_image};

#[cfg(test)]
mod tests;
