//! How long DEC-DA's augmentation takes per batch, by part: drawing the transforms,
//! the transform itself, and a plain copy of the same rows for scale.
//! `cargo run --release --example aug_profile`

use std::time::Instant;

use decscope::data::ImageShape;
use decscope::engine::nn::augment::{Affine, AugmentConfig, Augmenter};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn main() {
    let shape = ImageShape {
        height: 28,
        width: 28,
        channels: 1,
    };
    let a = Augmenter {
        cfg: AugmentConfig::default(),
        shape,
    };
    let (b, d) = (256usize, 784usize);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let x: Vec<f32> = (0..b * d).map(|_| rng.random::<f32>()).collect();
    let mut out = vec![0.0f32; b * d];
    let reps = 200;
    let time = |name: &str, f: &mut dyn FnMut()| {
        f();
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        println!(
            "{name:<40} {:8.3} ms a batch of {b}",
            t.elapsed().as_secs_f64() * 1e3 / reps as f64
        );
    };
    let ts: Vec<Affine> = (0..b).map(|_| a.draw(&mut rng)).collect();
    time("copy", &mut || out.copy_from_slice(&x));
    time("draw 256 transforms", &mut || {
        for _ in 0..b {
            std::hint::black_box(a.draw(&mut rng));
        }
    });
    time("apply, identity", &mut || {
        for (o, s) in out.chunks_exact_mut(d).zip(x.chunks_exact(d)) {
            a.apply(s, Affine::IDENTITY, o);
        }
    });
    time("apply, random transforms", &mut || {
        for ((o, s), t) in out.chunks_exact_mut(d).zip(x.chunks_exact(d)).zip(&ts) {
            a.apply(s, *t, o);
        }
    });
}
