//! What a view of the central panel sees of the app ([`ViewCtx`]), and the sample
//! thumbnails the views share ([`Thumbs`]).
//!
//! Why: each view is a struct with its own state and a `ui` method, as in egui's demo
//! app; like rerun's viewer, it reads the app through a narrow context (the data, the
//! run, the clusters' names, whether they can be steered now) and asks for changes
//! only through what it returns ([`super::steer::SteerAction`]), so it can be read
//! without the rest of [`super::DecApp`].

use std::collections::HashMap;

use egui::{Color32, ColorImage, RichText, TextureHandle, TextureOptions, Vec2};

use super::state::RunView;
use crate::data::Dataset;

/// The thumbnail textures made so far, by sample (cleared past 4,000, and for new data).
#[derive(Default)]
pub struct Thumbs(HashMap<usize, TextureHandle>);

impl Thumbs {
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// The thumbnail texture of sample `i` of `ds` (cached); `None` for data without
    /// an image shape.
    pub fn texture(
        &mut self,
        ds: &Dataset,
        ctx: &egui::Context,
        i: usize,
    ) -> Option<TextureHandle> {
        if let Some(t) = self.0.get(&i) {
            return Some(t.clone());
        }
        let (h, w, rgb) = pixels(ds, i)?;
        let img = ColorImage::from_rgb([w, h], &rgb);
        let t = ctx.load_texture(format!("sample-{i}"), img, TextureOptions::NEAREST);
        if self.0.len() > 4000 {
            self.0.clear();
        }
        self.0.insert(i, t.clone());
        Some(t)
    }

    /// A thumbnail of sample `i`: its image, its title (a document's first line, a
    /// table's name column), or a strip of its features.
    pub fn show(&mut self, ds: &Dataset, ui: &mut egui::Ui, i: usize, size: f32) -> egui::Response {
        if let Some(t) = self.texture(ds, ui.ctx(), i) {
            return ui
                .add(egui::Image::new((t.id(), Vec2::splat(size))).sense(egui::Sense::hover()));
        }
        if let Some(p) = ds.title(i) {
            let p = p.to_string();
            let short: String = p.chars().take(40).collect();
            return ui
                .add(
                    egui::Label::new(RichText::new(short).small())
                        .truncate()
                        .sense(egui::Sense::hover()),
                )
                .on_hover_text(p);
        }
        feature_strip(ds.row(i), ui, size)
    }
}

/// A row of features as a strip of greys, scaled to the row's range.
fn feature_strip(row: &[f32], ui: &mut egui::Ui, size: f32) -> egui::Response {
    let (rect, resp) =
        ui.allocate_exact_size(Vec2::new(size * 2.0, size * 0.5), egui::Sense::hover());
    let (lo, hi) = row
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let span = if hi > lo { hi - lo } else { 1.0 };
    let n = row.len().min(rect.width() as usize).max(1);
    let w = rect.width() / n as f32;
    for (c, v) in row.iter().take(n).enumerate() {
        let g = (((v - lo) / span) * 255.0) as u8;
        let r = egui::Rect::from_min_size(
            rect.min + Vec2::new(c as f32 * w, 0.0),
            Vec2::new(w.max(1.0), rect.height()),
        );
        ui.painter().rect_filled(r, 0.0, Color32::from_gray(g));
    }
    resp
}

/// What a view may read of the app, and the thumbnails it may draw.
pub struct ViewCtx<'a> {
    pub ds: &'a Dataset,
    pub run: &'a RunView,
    pub thumbs: &'a mut Thumbs,
    /// Name of each cluster shown (finished run or live state), or empty.
    pub names: Vec<Option<String>>,
    /// Whether the clusters can be edited now (a finished run, or a run in DEC).
    pub steerable: bool,
    /// The soft assignment's degrees of freedom α of the run shown.
    pub alpha: f32,
    /// IDEC's γ of the run shown (the Curves view scales L_r by it).
    pub idec_gamma: f32,
    /// Clusters to pick out (a suggestion under the pointer in the Steer panel): the
    /// Embedding view dims every other cluster's points.
    pub highlight: Option<&'a [usize]>,
}

impl ViewCtx<'_> {
    /// Name of cluster `j`, if it has one.
    pub fn name(&self, j: usize) -> Option<String> {
        self.names.get(j).cloned().flatten()
    }

    /// A thumbnail of sample `i` (see [`Thumbs::show`]).
    pub fn thumb(&mut self, ui: &mut egui::Ui, i: usize, size: f32) -> egui::Response {
        self.thumbs.show(self.ds, ui, i, size)
    }
}

/// Sample `i` as RGB pixels (h, w, bytes), grey or colour, scaled to 0..255 per image.
/// `None` for data without an image shape.
pub fn pixels(ds: &Dataset, i: usize) -> Option<(usize, usize, Vec<u8>)> {
    let s = ds.image_shape?;
    if s.len() != ds.display_d() || s.is_empty() {
        return None;
    }
    let row = ds.display_row(i);
    let (lo, hi) = row
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let span = if hi > lo { hi - lo } else { 1.0 };
    let to8 = |v: f32| (((v - lo) / span) * 255.0).round().clamp(0.0, 255.0) as u8;
    let mut rgb = Vec::with_capacity(s.height * s.width * 3);
    for p in 0..s.height * s.width {
        if s.channels >= 3 {
            (0..3).for_each(|c| rgb.push(to8(row[p * s.channels + c])));
        } else {
            let g = to8(row[p * s.channels]);
            rgb.extend([g, g, g]);
        }
    }
    Some((s.height, s.width, rgb))
}
