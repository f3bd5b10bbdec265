use decscope::engine::nn::autoencoder::Autoencoder;
use decscope::engine::nn::bf16;
use decscope::engine::nn::linalg::{Threads, flush_subnormals, matmul_on};
use decscope::engine::nn::optim::{Optimizer, OptimizerConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

fn med(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
fn t(n: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    med((0..n)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect())
}
/// One product in f32 or (with `BF16=1` in the environment) bf16.
#[allow(clippy::too_many_arguments)]
fn matmul(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    ta: bool,
    b: &[f32],
    tb: bool,
    c: &mut [f32],
    acc: bool,
) {
    if use_bf16() {
        bf16::matmul(Threads::Auto, m, n, k, a, ta, b, tb, c, acc);
    } else {
        matmul_on(Threads::Auto, m, n, k, a, ta, b, tb, c, acc);
    }
}

fn use_bf16() -> bool {
    std::env::var("BF16").is_ok_and(|v| v == "1")
}

/// Where a training step's time goes, product by product and phase by phase:
/// `cargo run --release --example step_profile` (f32), `BF16=1 ...` (bf16).
fn main() {
    flush_subnormals();
    let dims = [784, 500, 500, 2000, 10];
    let b = 256;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let x: Vec<f32> = (0..b * 784).map(|_| rng.random::<f32>()).collect();
    let mut ae = Autoencoder::new(&dims, 1);
    let mlp = ae.joined();
    let mut tot = 0.0;
    for l in &mlp.layers {
        let (ni, no) = (l.n_in, l.n_out);
        let a: Vec<f32> = (0..b * ni).map(|_| rng.random::<f32>()).collect();
        let d: Vec<f32> = (0..b * no).map(|_| rng.random::<f32>()).collect();
        let mut o = vec![0.0; b * no];
        let mut dw = vec![0.0; ni * no];
        let mut dx = vec![0.0; b * ni];
        let f = t(40, || {
            matmul(b, no, ni, &a, false, &l.w, false, &mut o, false)
        });
        let g = t(40, || {
            matmul(ni, no, b, &a, true, &d, false, &mut dw, false)
        });
        let h = t(40, || {
            matmul(b, ni, no, &d, false, &l.w, true, &mut dx, false)
        });
        let fl = 2.0 * (b * ni * no) as f64 / 1e6;
        println!(
            "{ni:5}->{no:5}: fwd {f:.3} ms ({:.0} GF/s)  dW {g:.3} ({:.0})  dX {h:.3} ({:.0})",
            fl / f,
            fl / g,
            fl / h
        );
        tot += f + g + h;
    }
    println!("sum of GEMMs {tot:.2} ms");
    for cfg in [
        OptimizerConfig::Sgd {
            lr: 0.01,
            momentum: 0.9,
        },
        OptimizerConfig::adam(1e-3),
    ] {
        let mut m = mlp.clone();
        let mut ws = m.workspace(b);
        ws.set_bf16(use_bf16());
        let mut opt = Optimizer::new(cfg);
        let mut r = ChaCha8Rng::seed_from_u64(1);
        let mut grad = vec![0.0; b * 784];
        let step = t(40, || {
            m.reconstruction_step(&x, b, &[], &mut ws, &mut opt, &mut grad, &mut r);
        });
        let fwd = t(40, || {
            m.forward(&x, b, &[], &mut r, &mut ws);
        });
        let bwd = t(40, || {
            m.backward(&x, b, &[], &grad, &mut ws, false);
        });
        let upd = t(40, || {
            opt.begin_step();
            m.apply_grads(&ws, &mut opt, 0);
        });
        println!("{cfg:?}: step {step:.2} fwd {fwd:.2} bwd {bwd:.2} upd {upd:.2}");
    }
}
