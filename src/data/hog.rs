//! HOG features for images (`--features hog`): histograms of oriented gradients over
//! 8x8-pixel cells with 2x2-cell block normalisation (L2-Hys), plus, for colour
//! images, the paper's 8x8 colour map.
//!
//! Why: the paper clusters STL-10 photographs by HOG and a colour map, not by raw
//! pixels (section 4.1); pixel distances say little about what a photograph shows.
//!
//! Owned code, following Dalal & Triggs as scikit-image's `hog` does
//! (`orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2),
//! block_norm="L2-Hys"`): centred differences (zero on the border), unsigned
//! orientations in 9 bins of 20 degrees, each pixel's magnitude added to its bin, cell
//! histograms averaged over the cell, blocks of 2x2 cells at a stride of one cell,
//! each block L2-normalised, clipped at 0.2 and normalised again. The only crate with
//! HOG (imageproc) pulls nalgebra and a second `rand` into the build for 60 lines of
//! arithmetic. scikit-image was not available on the machine that wrote this, so the
//! tests check hand-computed cases instead of its output. When the image is not a
//! multiple of 8 pixels, the cells are centred and the margin dropped (MNIST's 28x28:
//! 3x3 cells over the central 24x24 pixels).

use super::{DataError, Dataset, ImageShape};

/// Pixels per cell side.
pub const CELL: usize = 8;
/// Orientation bins over 0..180 degrees.
pub const BINS: usize = 9;
/// Side of the colour map for colour images.
pub const COLOUR_MAP: usize = 8;

/// The number of HOG features of an image of `h x w` pixels (0 if under 2x2 cells).
pub fn hog_len(h: usize, w: usize) -> usize {
    let (cy, cx) = (h / CELL, w / CELL);
    if cy < 2 || cx < 2 {
        return 0;
    }
    (cy - 1) * (cx - 1) * 4 * BINS
}

/// HOG of one grey image (`h x w`, row-major).
pub fn hog(img: &[f32], h: usize, w: usize) -> Vec<f32> {
    let (cy, cx) = (h / CELL, w / CELL);
    if cy < 2 || cx < 2 {
        return Vec::new();
    }
    let (oy, ox) = ((h - cy * CELL) / 2, (w - cx * CELL) / 2);
    let px = |y: usize, x: usize| img[y * w + x];
    let mut cells = vec![0.0f32; cy * cx * BINS];
    for y in oy..oy + cy * CELL {
        for x in ox..ox + cx * CELL {
            let gx = if x > 0 && x + 1 < w {
                px(y, x + 1) - px(y, x - 1)
            } else {
                0.0
            };
            let gy = if y > 0 && y + 1 < h {
                px(y + 1, x) - px(y - 1, x)
            } else {
                0.0
            };
            let mag = (gx * gx + gy * gy).sqrt();
            if mag == 0.0 {
                continue;
            }
            // Unsigned orientation in [0, 180), as scikit-image's `arctan2(...) % 180`:
            // an edge and its reverse (gx -> -gx, gy -> -gy) share a bin. `atan2`
            // gives 180 (not 0) for gy = +0 and gx < 0, so fold the whole circle.
            let deg = orientation_deg(gy, gx);
            let bin = ((deg / (180.0 / BINS as f32)) as usize).min(BINS - 1);
            let c = ((y - oy) / CELL) * cx + (x - ox) / CELL;
            cells[c * BINS + bin] += mag;
        }
    }
    let area = (CELL * CELL) as f32;
    cells.iter_mut().for_each(|v| *v /= area);
    let mut out = Vec::with_capacity(hog_len(h, w));
    let eps = 1e-5f32;
    for by in 0..cy - 1 {
        for bx in 0..cx - 1 {
            let start = out.len();
            for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                let c = (by + dy) * cx + bx + dx;
                out.extend_from_slice(&cells[c * BINS..(c + 1) * BINS]);
            }
            let block = &mut out[start..];
            let norm = |b: &[f32]| (b.iter().map(|v| v * v).sum::<f32>() + eps * eps).sqrt();
            let n1 = norm(block);
            block.iter_mut().for_each(|v| *v = (*v / n1).min(0.2));
            let n2 = norm(block);
            block.iter_mut().for_each(|v| *v /= n2);
        }
    }
    out
}

/// Each channel averaged over a `COLOUR_MAP x COLOUR_MAP` grid (the paper's colour
/// map), in [0, 1] for pixels in [0, `max`].
pub fn colour_map(img: &[f32], s: ImageShape, max: f32) -> Vec<f32> {
    let mut out = vec![0.0f32; COLOUR_MAP * COLOUR_MAP * s.channels];
    let mut counts = vec![0usize; COLOUR_MAP * COLOUR_MAP];
    for y in 0..s.height {
        for x in 0..s.width {
            let g = (y * COLOUR_MAP / s.height) * COLOUR_MAP + x * COLOUR_MAP / s.width;
            counts[g] += 1;
            for c in 0..s.channels {
                out[g * s.channels + c] += img[(y * s.width + x) * s.channels + c];
            }
        }
    }
    for (g, &cnt) in counts.iter().enumerate() {
        for c in 0..s.channels {
            out[g * s.channels + c] /= cnt.max(1) as f32 * max.max(f32::MIN_POSITIVE);
        }
    }
    out
}

/// Replace the pixels of an image dataset by HOG features (plus the colour map for
/// colour images); the pixels stay on the dataset for galleries and thumbnails.
/// `max` is the pixel maximum that scales the colour map: a model's (so that a new
/// image is scaled as the training images were), else these images' own. Returns the
/// features and the maximum used.
pub fn to_hog(mut ds: Dataset, max: Option<f32>) -> Result<(Dataset, f32), DataError> {
    let path = ds.source.clone().unwrap_or_else(|| ds.name.clone().into());
    let Some(s) = ds.image_shape.filter(|s| s.len() == ds.d) else {
        return Err(DataError::Invalid {
            path,
            reason: "--features hog needs images: an IDX file, a folder of images, or an array/table with --image-shape HxW[xC]".into(),
        });
    };
    let len = hog_len(s.height, s.width);
    if len == 0 {
        return Err(DataError::Invalid {
            path,
            reason: format!(
                "images of {}x{} pixels are too small for HOG over 8x8-pixel cells (at least 16x16); use raw pixels",
                s.height, s.width
            ),
        });
    }
    let colour = s.channels >= 3;
    let max = max.unwrap_or_else(|| ds.x.iter().copied().fold(0.0f32, f32::max).max(1.0));
    let cm = if colour {
        COLOUR_MAP * COLOUR_MAP * s.channels
    } else {
        0
    };
    let d = len + cm;
    let mut x = Vec::with_capacity(ds.n * d);
    let mut grey = vec![0.0f32; s.height * s.width];
    for i in 0..ds.n {
        let row = ds.row(i);
        for (p, g) in grey.iter_mut().enumerate() {
            *g = if colour {
                // ITU-R 601 luma, as scikit-image's rgb2gray.
                0.2125 * row[p * s.channels]
                    + 0.7154 * row[p * s.channels + 1]
                    + 0.0721 * row[p * s.channels + 2]
            } else {
                row[p * s.channels]
            };
        }
        x.extend(hog(&grey, s.height, s.width));
        if colour {
            x.extend(colour_map(row, s, max));
        }
    }
    ds.features_note = Some(format!(
        "HOG: {len} values ({}x{} cells of 8x8 pixels, 9 orientations, 2x2-cell blocks, L2-Hys){}",
        s.height / CELL,
        s.width / CELL,
        if colour {
            format!(" + {cm}-value 8x8 colour map")
        } else {
            String::new()
        }
    ));
    ds.display = Some(std::mem::take(&mut ds.x));
    ds.x = x;
    ds.d = d;
    Ok((ds, max))
}

/// The unsigned gradient orientation in degrees, in [0, 180).
fn orientation_deg(gy: f32, gx: f32) -> f32 {
    let deg = gy.atan2(gx).to_degrees().rem_euclid(180.0);
    // rem_euclid can round up to exactly 180 for tiny negative angles.
    if deg >= 180.0 { 0.0 } else { deg }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vertical step edge (left half 0, right half 1) in a 16x16 image: only the
    /// horizontal gradient is non-zero, so every block's energy sits in bin 0 (0 to 20
    /// degrees). By hand: columns 7 and 8 have gx = 1 - 0 = 1 in every row; column 7
    /// lies in the left cells and column 8 in the right ones, so each of the 4 cells
    /// holds 8 x 1 / 64 = 0.125 in bin 0. The one block [0.125; 4] normalises to 0.5
    /// each, clips to 0.2 and renormalises to 0.5.
    #[test]
    fn a_vertical_edge_is_all_in_the_first_bin() {
        let (h, w) = (16, 16);
        let img: Vec<f32> = (0..h * w)
            .map(|p| if p % w >= 8 { 1.0 } else { 0.0 })
            .collect();
        let f = hog(&img, h, w);
        assert_eq!(f.len(), hog_len(h, w));
        assert_eq!(f.len(), 36);
        assert_all_half_in_bin_0(&f);
    }

    /// Every cell of every block: 0.5 in bin 0, nothing elsewhere.
    fn assert_all_half_in_bin_0(f: &[f32]) {
        for (c, chunk) in f.chunks(BINS).enumerate() {
            for (b, v) in chunk.iter().enumerate() {
                let want = if b == 0 { 0.5 } else { 0.0 };
                assert!((v - want).abs() < 1e-4, "cell {c} bin {b}: {v}");
            }
        }
    }

    /// The same edge with its polarity reversed (left half 1, right half 0): gx = -1,
    /// gy = 0, so atan2 gives 180 degrees, which is the orientation 0 of an unsigned
    /// histogram (scikit-image: `np.rad2deg(np.arctan2(0, -1)) % 180` is 0.0). Every
    /// block must match the 0 -> 1 edge's exactly: bin 0 holds 0.5, the rest nothing.
    #[test]
    fn a_reversed_vertical_edge_falls_in_the_same_first_bin() {
        let (h, w) = (16, 16);
        let img: Vec<f32> = (0..h * w)
            .map(|p| if p % w >= 8 { 0.0 } else { 1.0 })
            .collect();
        assert_all_half_in_bin_0(&hog(&img, h, w));
        // Orientations by hand: a quarter turn either way is 90; 45 and -135 agree.
        assert_eq!(orientation_deg(0.0, -1.0), 0.0);
        assert!((orientation_deg(-1.0, 0.0) - 90.0).abs() < 1e-4);
        assert!((orientation_deg(-1.0, -1.0) - 45.0).abs() < 1e-4);
        // A tiny negative angle stays inside [0, 180).
        assert!((0.0..180.0).contains(&orientation_deg(-1e-30, 1.0)));
    }

    #[test]
    fn a_flat_image_has_no_gradient_and_a_transposed_edge_moves_to_90_degrees() {
        assert!(hog(&[0.5; 256], 16, 16).iter().all(|v| *v == 0.0));
        let img: Vec<f32> = (0..256)
            .map(|p| if p / 16 >= 8 { 1.0 } else { 0.0 })
            .collect();
        let f = hog(&img, 16, 16);
        // 90 degrees falls in bin 4 (80 to 100 degrees).
        assert!(
            f.chunks(BINS)
                .all(|c| c.iter().enumerate().all(|(b, v)| b == 4 || *v == 0.0))
        );
        assert!(f.iter().any(|v| (*v - 0.5).abs() < 1e-4));
    }

    #[test]
    fn mnist_sized_images_use_the_central_cells_and_colour_adds_a_map() {
        assert_eq!(hog_len(28, 28), 144);
        assert_eq!(hog_len(96, 96), 11 * 11 * 36);
        assert_eq!(hog_len(15, 40), 0);
        let s = ImageShape {
            height: 16,
            width: 16,
            channels: 3,
        };
        let img: Vec<f32> = (0..16 * 16 * 3)
            .map(|i| if i % 3 == 0 { 255.0 } else { 0.0 })
            .collect();
        let cm = colour_map(&img, s, 255.0);
        assert_eq!(cm.len(), 192);
        assert!(
            cm.chunks(3)
                .all(|p| (p[0] - 1.0).abs() < 1e-6 && p[1] == 0.0 && p[2] == 0.0)
        );
    }
}
