//! The Embedding view's points as one image: each point a small square, blended in
//! order, with a suggestion's clusters picked out.
//!
//! Why apart: the rasteriser and the colour rules are pure functions of points and
//! colours, tested without a window (`embedding/tests.rs`).

use egui::{Color32, ColorImage, Pos2};

/// A quick digest of a sequence (multiply-xor fold): tells whether a frame's points or
/// colours changed, at ~0.1 ms for 70,000 points, against a few ms to redraw them.
pub fn fingerprint(v: impl Iterator<Item = u32>) -> u64 {
    v.fold(0xcbf2_9ce4_8422_2325u64, |h, x| {
        (h ^ x as u64).wrapping_mul(0x0100_0000_01b3).rotate_left(5)
    })
}

/// All points as small squares of half-side `radius` (in points), drawn in order into
/// an image of `size` physical pixels whose top-left corner is the screen position
/// `origin`; `ppp` is pixels per point. A pixel belongs to a square when its centre
/// lies inside it, as a GPU rasterises the two triangles of a quad, and colours are
/// blended "over" in premultiplied alpha, so the picture is the one a 70,000-quad mesh
/// gave. Why an image: the mesh had to be uploaded and drawn by the renderer on every
/// frame (under software OpenGL, 20 ms of each frame with 70,000 points), the image
/// only when the points change (see docs/build.md).
pub fn point_image(
    points: &[[f32; 2]],
    colors: &dyn Fn(usize) -> Color32,
    to_screen: &dyn Fn([f32; 2]) -> Pos2,
    radius: f32,
    origin: Pos2,
    size: [usize; 2],
    ppp: f32,
) -> ColorImage {
    let [w, h] = size;
    let mut img = ColorImage::filled(size, Color32::TRANSPARENT);
    // Pixels whose centre (i + 0.5) lies in [lo, hi).
    let span = |lo: f32, hi: f32, n: usize| {
        let a = (lo - 0.5).ceil().max(0.0) as usize;
        let b = ((hi - 0.5).ceil().max(0.0) as usize).min(n);
        a..b
    };
    for (i, p) in points.iter().enumerate() {
        let c = to_screen(*p);
        let (x, y) = ((c.x - origin.x) * ppp, (c.y - origin.y) * ppp);
        let r = radius * ppp;
        let col = colors(i);
        for py in span(y - r, y + r, h) {
            let row = &mut img.pixels[py * w..(py + 1) * w];
            for px in span(x - r, x + r, w) {
                row[px] = over(col, row[px]);
            }
        }
    }
    img
}

/// `src` over `dst`, both premultiplied: dst·(1 - src.a) + src.
pub(super) fn over(src: Color32, dst: Color32) -> Color32 {
    let a = src.a();
    if a == 255 {
        return src;
    }
    let keep =
        |s: u8, d: u8| s.saturating_add(((u16::from(d) * u16::from(255 - a) + 127) / 255) as u8);
    Color32::from_rgba_premultiplied(
        keep(src.r(), dst.r()),
        keep(src.g(), dst.g()),
        keep(src.b(), dst.b()),
        keep(a, dst.a()),
    )
}

/// A point's colour `c` with clusters `highlight` picked out: a point of another
/// cluster (or of none) is drawn faint, so a suggestion's clusters stand out.
pub fn picked_out(c: Color32, cluster: Option<u32>, highlight: Option<&[usize]>) -> Color32 {
    match highlight {
        Some(h) if !cluster.is_some_and(|j| h.contains(&(j as usize))) => c.gamma_multiply(0.12),
        _ => c,
    }
}
