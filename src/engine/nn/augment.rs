//! Random affine augmentation of image rows (shifts and rotations), made on a second
//! thread ahead of the training step.
//!
//! Why: DEC-DA (Guo, Zhu, Liu & Yin, ACML 2018) trains the autoencoder and the
//! clustering step on randomly shifted and rotated copies of each batch, while the
//! target P comes from the clean data. The embedding then has to map a digit and its
//! small shifts to one place, which is what separates 4s from 9s; on MNIST the fully
//! connected variant goes from DEC's ~0.85 to ~0.98 ACC. The defaults are DEC-DA's
//! (Keras `ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1,
//! rotation_range=10)`): shifts drawn uniformly up to 10% of the width and height,
//! rotations up to 10 degrees, bilinear sampling, pixels outside the image taken from
//! the nearest edge ("nearest" fill).
//!
//! Speed: a [`BatchStream`] draws the batch order and the transforms on its own thread
//! from its own seeded generator, a few batches ahead of the step, so the step never
//! waits for them and the same seed gives the same batches.

use crossbeam_channel::{Receiver, Sender, bounded};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::{Dataset, ImageShape, Preprocessing};

/// DEC-DA's shift range: a fraction of the width (and of the height).
pub const DEFAULT_SHIFT: f32 = 0.1;
/// DEC-DA's rotation range in degrees.
pub const DEFAULT_ROTATION: f32 = 10.0;
/// Smallest image side for which augmentation is a default (the app's `augmented`
/// preset for images). DEC-DA's smallest images were USPS's 16x16 (ACC 0.987); on the
/// 8x8 digits stand-in (`benches/standins.py`, seed 0) DEC-DA drifted from its start
/// (AE + k-means 0.591) into a collapsed cluster at ACC 0.459, where DEC without
/// augmentation reached 0.592: shifts of under a pixel and bilinear resampling change
/// an 8x8 digit too much.
pub const DEFAULT_MIN_SIDE: usize = 16;
/// Batches the augmenting thread keeps ready ahead of the step.
const PREFETCH: usize = 3;

/// The ranges of the random affine transforms.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AugmentConfig {
    /// Largest shift as a fraction of the width (horizontal) and height (vertical);
    /// each shift is drawn uniformly from [-shift, shift].
    pub shift: f32,
    /// Largest rotation in degrees, drawn uniformly from [-rotation, rotation].
    pub rotation: f32,
}

impl Default for AugmentConfig {
    fn default() -> Self {
        AugmentConfig {
            shift: DEFAULT_SHIFT,
            rotation: DEFAULT_ROTATION,
        }
    }
}

/// Why augmentation cannot run on a dataset.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AugmentError {
    #[error(
        "augmentation needs images, but `{name}` has no image shape (its {d} features are not known to be pixels); give the shape with --image-shape HxW if its rows are images, or train without --augment"
    )]
    NoImageShape { name: String, d: usize },
    #[error(
        "augmentation shifts pixels, but `{name}` holds {what}, not pixels; train without --augment, or on the pixels (--features raw)"
    )]
    NotPixels { name: String, what: String },
    #[error(
        "augmentation moves pixels, but `{name}` was standardised per column, so each pixel position has its own scale; use --preprocess unit-range (or auto) with --augment"
    )]
    PerColumnScale { name: String },
    #[error(
        "image shape {shape} holds {want} values but the rows of `{name}` have {d}; fix --image-shape"
    )]
    ShapeMismatch {
        name: String,
        shape: ImageShape,
        want: usize,
        d: usize,
    },
    #[error("augment.{field} = {value}: {reason}")]
    Invalid {
        field: &'static str,
        value: f32,
        reason: &'static str,
    },
}

impl AugmentConfig {
    /// Check the ranges.
    pub fn validate(&self) -> Result<(), AugmentError> {
        if !(0.0..=0.5).contains(&self.shift) {
            return Err(AugmentError::Invalid {
                field: "shift",
                value: self.shift,
                reason: "a fraction of the image in [0, 0.5] (DEC-DA: 0.1)",
            });
        }
        if !(0.0..=180.0).contains(&self.rotation) {
            return Err(AugmentError::Invalid {
                field: "rotation",
                value: self.rotation,
                reason: "degrees in [0, 180] (DEC-DA: 10)",
            });
        }
        Ok(())
    }

    /// The augmenter for `ds`, or why its rows cannot be augmented.
    pub fn for_dataset(&self, ds: &Dataset) -> Result<Augmenter, AugmentError> {
        self.validate()?;
        let name = ds.name.clone();
        // Derived features (HOG) keep their pixels aside for display; the features
        // themselves are not an image. (A note alone, such as how an image array was
        // read, does not make features derived.)
        if ds.display.is_some() {
            return Err(AugmentError::NotPixels {
                name,
                what: ds
                    .features_note
                    .clone()
                    .unwrap_or_else(|| "features derived from images".into()),
            });
        }
        if ds.text.is_some() {
            return Err(AugmentError::NotPixels {
                name,
                what: "tf-idf features of text".into(),
            });
        }
        let Some(shape) = ds.image_shape else {
            return Err(AugmentError::NoImageShape { name, d: ds.d });
        };
        if shape.len() != ds.d {
            return Err(AugmentError::ShapeMismatch {
                name,
                shape,
                want: shape.len(),
                d: ds.d,
            });
        }
        if ds.preprocessing == Preprocessing::Standardize {
            return Err(AugmentError::PerColumnScale { name });
        }
        Ok(Augmenter { cfg: *self, shape })
    }
}

/// Whether augmentation should be on by default for `ds`: images whose sides are both
/// at least [`DEFAULT_MIN_SIDE`] pixels.
pub fn default_for(ds: &Dataset) -> bool {
    AugmentConfig::default()
        .for_dataset(ds)
        .is_ok_and(|a| a.shape.height.min(a.shape.width) >= DEFAULT_MIN_SIDE)
}

/// One affine transform: a rotation by `angle` radians about the image centre, then a
/// shift of (`dx`, `dy`) pixels (right, down).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine {
    pub dx: f32,
    pub dy: f32,
    pub angle: f32,
}

impl Affine {
    /// No change.
    pub const IDENTITY: Affine = Affine {
        dx: 0.0,
        dy: 0.0,
        angle: 0.0,
    };
}

/// Applies random affine transforms to rows of one image shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Augmenter {
    pub cfg: AugmentConfig,
    pub shape: ImageShape,
}

impl Augmenter {
    /// A transform drawn from the configured ranges.
    pub fn draw(&self, rng: &mut impl Rng) -> Affine {
        let (h, w) = (self.shape.height as f32, self.shape.width as f32);
        let s = self.cfg.shift;
        let r = self.cfg.rotation.to_radians();
        // Uniform in [-a, a]: one draw in [0, 1) scaled (`random_range` builds a
        // sampler each call, which cost more than the transform itself here).
        let uni = |rng: &mut dyn rand::RngCore, a: f32| {
            if a > 0.0 {
                a * (2.0 * rng.random::<f32>() - 1.0)
            } else {
                0.0
            }
        };
        Affine {
            dx: uni(rng, s * w),
            dy: uni(rng, s * h),
            angle: uni(rng, r),
        }
    }

    /// Write `t` applied to the image `src` into `out` (both `height x width x
    /// channels`, row-major). Output pixel (r, c) samples the source at
    /// `R(-angle) · ((r, c) - centre - shift) + centre` bilinearly, with coordinates
    /// outside the image clamped to the nearest edge pixel.
    ///
    /// Written for speed, as it runs for every sample of every batch: the source
    /// coordinate moves by a constant step along an output row, so it is advanced by
    /// addition; coordinates are clamped to be non-negative first, so truncation is the
    /// floor (`f32::floor` is a library call on baseline x86-64: with it and per-pixel
    /// rotation a batch of 256 MNIST digits took 7.6 ms on one thread and slowed the
    /// DEC step by half on 2 cores; now 1.6-2.4 ms, `examples/aug_profile`).
    pub fn apply(&self, src: &[f32], t: Affine, out: &mut [f32]) {
        let ImageShape {
            height: h,
            width: w,
            channels: ch,
        } = self.shape;
        let (cy, cx) = ((h as f32 - 1.0) / 2.0, (w as f32 - 1.0) / 2.0);
        let (sin, cos) = t.angle.sin_cos();
        let (maxr, maxc) = (h as f32 - 1.0, w as f32 - 1.0);
        let xr0 = -cx - t.dx;
        let (hi, wi) = (h as i32, w as i32);
        if ch == 1 {
            // Grey images (the common case) without the loop over channels: about
            // twice as fast.
            for (r, row) in out.chunks_exact_mut(w).enumerate().take(h) {
                let yr = r as f32 - cy - t.dy;
                let mut sy = cos * yr - sin * xr0 + cy;
                let mut sx = sin * yr + cos * xr0 + cx;
                for o in row.iter_mut() {
                    let y = sy.max(0.0).min(maxr);
                    let x = sx.max(0.0).min(maxc);
                    // 32-bit conversions: one instruction each, where f32 -> usize
                    // is a longer sequence.
                    let (y0, x0) = (y as i32, x as i32);
                    let (fy, fx) = (y - y0 as f32, x - x0 as f32);
                    let i = (y0 * wi + x0) as usize;
                    let down = if y0 + 1 < hi { w } else { 0 };
                    let right = usize::from(x0 + 1 < wi);
                    let (a, b) = (src[i], src[i + right]);
                    let (c, d) = (src[i + down], src[i + down + right]);
                    let top = a + fx * (b - a);
                    let bottom = c + fx * (d - c);
                    *o = top + fy * (bottom - top);
                    sy -= sin;
                    sx += cos;
                }
            }
            return;
        }
        for (r, row) in out.chunks_exact_mut(w * ch).enumerate().take(h) {
            let yr = r as f32 - cy - t.dy;
            // Source coordinates of the row's first pixel; each step right adds
            // (-sin, cos).
            let mut sy = cos * yr - sin * xr0 + cy;
            let mut sx = sin * yr + cos * xr0 + cx;
            for px in row.chunks_exact_mut(ch) {
                let y = sy.clamp(0.0, maxr);
                let x = sx.clamp(0.0, maxc);
                let (y0, x0) = (y as usize, x as usize);
                let (fy, fx) = (y - y0 as f32, x - x0 as f32);
                let (y1, x1) = ((y0 + 1).min(h - 1), (x0 + 1).min(w - 1));
                let (i00, i01) = ((y0 * w + x0) * ch, (y0 * w + x1) * ch);
                let (i10, i11) = ((y1 * w + x0) * ch, (y1 * w + x1) * ch);
                for (k, o) in px.iter_mut().enumerate() {
                    let (a, b) = (src[i00 + k], src[i01 + k]);
                    let (c, d) = (src[i10 + k], src[i11 + k]);
                    let top = a + fx * (b - a);
                    let bottom = c + fx * (d - c);
                    *o = top + fy * (bottom - top);
                }
                sy -= sin;
                sx += cos;
            }
        }
    }
}

/// One training batch: which rows, and their (possibly augmented) values.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// Row indices into the dataset.
    pub idx: Vec<usize>,
    /// `idx.len() x d` values.
    pub x: Vec<f32>,
}

/// Where a training loop takes its batches from: shuffled epochs of the rows as they
/// are (drawn with the loop's own generator, as before augmentation existed), or a
/// [`BatchStream`] of augmented batches.
pub enum Batches<'a> {
    Plain {
        x: &'a [f32],
        n: usize,
        d: usize,
        bsz: usize,
        order: Vec<usize>,
        pos: usize,
        batch: Batch,
    },
    Augmented {
        stream: BatchStream,
        batch: Batch,
    },
}

impl<'a> Batches<'a> {
    /// Epochs of `n` rows from `x` in batches of `bsz`; with `aug`, made on a thread of
    /// `scope` seeded with `seed`.
    pub fn new(
        scope: &'a std::thread::Scope<'a, '_>,
        x: &'a [f32],
        n: usize,
        bsz: usize,
        aug: Option<Augmenter>,
        seed: u64,
    ) -> Batches<'a> {
        let d = x.len() / n.max(1);
        match aug {
            None => Batches::Plain {
                x,
                n,
                d,
                bsz,
                order: (0..n).collect(),
                pos: n,
                batch: Batch::default(),
            },
            Some(a) => Batches::Augmented {
                stream: BatchStream::spawn(scope, x, n, bsz, a, seed),
                batch: Batch::default(),
            },
        }
    }

    /// The next batch. `rng` shuffles plain epochs; augmented batches come from the
    /// stream's own generator. `None` only if the augmenting thread died.
    pub fn next(&mut self, rng: &mut ChaCha8Rng) -> Option<&Batch> {
        match self {
            Batches::Plain {
                x,
                n,
                d,
                bsz,
                order,
                pos,
                batch,
            } => {
                if *pos >= *n {
                    order.shuffle(rng);
                    *pos = 0;
                }
                let b = (*bsz).min(*n - *pos);
                batch.idx.clear();
                batch.idx.extend_from_slice(&order[*pos..*pos + b]);
                batch.x.clear();
                for &i in &batch.idx {
                    batch.x.extend_from_slice(&x[i * *d..(i + 1) * *d]);
                }
                *pos += b;
                Some(batch)
            }
            Batches::Augmented { stream, batch } => {
                let used = std::mem::replace(batch, stream.rx.recv().ok()?);
                // Hand the used buffers back for reuse (dropped if the thread has
                // enough).
                let _ = stream.back.try_send(used);
                Some(batch)
            }
        }
    }
}

/// Augmented batches made on a scoped thread, [`PREFETCH`] ahead; used batches go
/// back to the thread, so it allocates no buffer after the first few. The thread ends
/// when the stream is dropped (its next send fails).
pub struct BatchStream {
    rx: Receiver<Batch>,
    back: Sender<Batch>,
}

impl BatchStream {
    /// Start the augmenting thread: shuffled epochs of `n` rows of `x`, each row
    /// transformed by a fresh random [`Affine`], all drawn from `seed`.
    pub fn spawn<'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        x: &'scope [f32],
        n: usize,
        bsz: usize,
        aug: Augmenter,
        seed: u64,
    ) -> BatchStream {
        let (tx, rx) = bounded(PREFETCH);
        let (back, returned) = bounded::<Batch>(PREFETCH + 1);
        let d = x.len() / n.max(1);
        scope.spawn(move || {
            lower_priority();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut order: Vec<usize> = (0..n).collect();
            let mut pos = n;
            loop {
                if pos >= n {
                    order.shuffle(&mut rng);
                    pos = 0;
                }
                let b = bsz.min(n - pos);
                let mut batch = returned.try_recv().unwrap_or_default();
                batch.idx.clear();
                batch.idx.extend_from_slice(&order[pos..pos + b]);
                pos += b;
                // Every value is written by `apply`; resize only sets the length.
                batch.x.resize(b * d, 0.0);
                for (out, &i) in batch.x.chunks_exact_mut(d).zip(&batch.idx) {
                    let t = aug.draw(&mut rng);
                    aug.apply(&x[i * d..(i + 1) * d], t, out);
                }
                if tx.send(batch).is_err() {
                    return;
                }
            }
        });
        BatchStream { rx, back }
    }
}

/// Give the calling thread the lowest scheduling priority (nice 19), so that the
/// augmenting thread runs in the gaps of the training step (its serial parts, the
/// optimizer update, the soft assignment) rather than taking cores from the GEMMs.
/// Measured with `decscope bench` on 2 cores: see docs/accuracy.md, "Beyond DEC". On Linux the
/// nice value is per thread; elsewhere this does nothing.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority takes plain integers and only changes this thread's nice
    // value (who = 0: the calling thread); a failure leaves the priority as it was.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 19);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey(h: usize, w: usize) -> Augmenter {
        Augmenter {
            cfg: AugmentConfig::default(),
            shape: ImageShape {
                height: h,
                width: w,
                channels: 1,
            },
        }
    }

    fn image(h: usize, w: usize) -> Vec<f32> {
        (0..h * w)
            .map(|i| ((i * 37 % 101) as f32) / 100.0)
            .collect()
    }

    #[test]
    fn identity_and_zero_rotation_keep_the_image() {
        let a = grey(9, 7);
        let x = image(9, 7);
        let mut out = vec![0.0; x.len()];
        a.apply(&x, Affine::IDENTITY, &mut out);
        assert_eq!(out, x);
        // A zero-range augmenter draws the identity.
        let none = Augmenter {
            cfg: AugmentConfig {
                shift: 0.0,
                rotation: 0.0,
            },
            ..a
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(none.draw(&mut rng), Affine::IDENTITY);
    }

    #[test]
    fn shifted_back_equals_the_original_inside_the_valid_region() {
        let (h, w) = (12, 10);
        let a = grey(h, w);
        let x = image(h, w);
        let (dx, dy) = (2.0, -3.0);
        let mut moved = vec![0.0; x.len()];
        a.apply(&x, Affine { dx, dy, angle: 0.0 }, &mut moved);
        // One pixel moved where the shift says.
        assert_eq!(moved[5 * w + 4], x[(5 + 3) * w + (4 - 2)]);
        let mut back = vec![0.0; x.len()];
        a.apply(
            &moved,
            Affine {
                dx: -dx,
                dy: -dy,
                angle: 0.0,
            },
            &mut back,
        );
        // Valid region: pixels whose round trip never left the image. back(r, c) =
        // moved(r - 3, c + 2) = x(r, c), so rows 3..h and columns 0..w-2.
        for r in 3..h {
            for c in 0..w - 2 {
                assert_eq!(back[r * w + c], x[r * w + c], "pixel ({r}, {c})");
            }
        }
        // Outside it the nearest edge was copied, so the image is not all equal.
        assert_ne!(back, x);
    }

    #[test]
    fn quarter_turn_moves_pixels_as_a_rotation() {
        // A 5x5 image rotated by 90 degrees: the centre stays, the corners cycle.
        let a = grey(5, 5);
        let mut x = vec![0.0; 25];
        x[0] = 1.0; // top-left
        let mut out = vec![0.0; 25];
        a.apply(
            &x,
            Affine {
                dx: 0.0,
                dy: 0.0,
                angle: std::f32::consts::FRAC_PI_2,
            },
            &mut out,
        );
        let hot: Vec<usize> = (0..25).filter(|&i| out[i] > 0.99).collect();
        assert_eq!(hot.len(), 1, "{out:?}");
        assert_ne!(hot[0], 0);
        assert!([4, 20].contains(&hot[0]), "{hot:?}");
        // The total ink is kept (no pixel left the image).
        assert!((out.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    }

    #[test]
    fn colour_channels_move_together() {
        let a = Augmenter {
            cfg: AugmentConfig::default(),
            shape: ImageShape {
                height: 4,
                width: 4,
                channels: 3,
            },
        };
        let x: Vec<f32> = (0..48).map(|i| (i % 3) as f32).collect();
        let mut out = vec![0.0; 48];
        a.apply(
            &x,
            Affine {
                dx: 1.3,
                dy: -0.4,
                angle: 0.2,
            },
            &mut out,
        );
        // Every pixel keeps its channel values (0, 1, 2): interpolation per channel.
        for px in out.chunks_exact(3) {
            assert!((px[0] - 0.0).abs() < 1e-5 && (px[1] - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn on_by_default_only_for_images_of_16_pixels_a_side() {
        let ds = |side: usize, shape: bool| {
            let d = side * side;
            let mut ds = Dataset::new("t", vec![0.5; 4 * d], d, None).unwrap();
            ds.image_shape = shape.then_some(ImageShape {
                height: side,
                width: side,
                channels: 1,
            });
            ds
        };
        assert!(default_for(&ds(28, true)));
        assert!(default_for(&ds(16, true)));
        assert!(!default_for(&ds(8, true)), "measured to hurt on 8x8 digits");
        assert!(!default_for(&ds(28, false)), "no image shape");
        let err = AugmentConfig::default()
            .for_dataset(&ds(28, false))
            .unwrap_err()
            .to_string();
        assert!(err.contains("--image-shape"), "{err}");
    }

    #[test]
    fn the_stream_is_seeded_and_covers_each_epoch() {
        let (n, h, w) = (10, 6, 6);
        let x: Vec<f32> = (0..n * h * w).map(|i| (i % 7) as f32).collect();
        let a = grey(h, w);
        let take = |seed: u64| {
            std::thread::scope(|s| {
                let mut b = Batches::new(s, &x, n, 4, Some(a), seed);
                let mut rng = ChaCha8Rng::seed_from_u64(0);
                (0..6)
                    .map(|_| b.next(&mut rng).cloned().unwrap_or_default())
                    .collect::<Vec<_>>()
            })
        };
        let (one, two, other) = (take(5), take(5), take(6));
        for (a, b) in one.iter().zip(&two) {
            assert_eq!((&a.idx, &a.x), (&b.idx, &b.x));
        }
        assert_ne!(one[0].x, other[0].x);
        // Batches of 4, 4, 2 cover each epoch once.
        let mut epoch: Vec<usize> = one[..3].iter().flat_map(|b| b.idx.clone()).collect();
        epoch.sort_unstable();
        assert_eq!(epoch, (0..n).collect::<Vec<_>>());
        assert_eq!(one[2].x.len(), 2 * h * w);
    }
}
