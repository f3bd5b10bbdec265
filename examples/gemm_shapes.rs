//! Throughput of every product of an autoencoder training step (batch 256), under each
//! way of using the threads, to back the choices in `src/engine/linalg.rs` and
//! `Mlp::backward`: `cargo run --release --example gemm_shapes`.

use std::time::Instant;

use decscope::engine::nn::bf16;
use decscope::engine::nn::linalg::{Threads, flush_subnormals, matmul_on};

fn median_ms(mut f: impl FnMut()) -> f64 {
    for _ in 0..5 {
        f();
    }
    let mut v: Vec<f64> = (0..60)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    flush_subnormals();
    let bf = bf16::available();
    println!(
        "layer        forward: auto / rows / bf16      dW+dX: auto,auto / join(single,single) / bf16 join{}",
        if bf {
            ""
        } else {
            " (no AVX512-BF16: bf16 columns run f32)"
        }
    );
    for shape in [
        (784, 500),
        (500, 500),
        (500, 2000),
        (2000, 10),
        (10, 2000),
        (2000, 500),
        (500, 784),
    ] {
        layer(shape);
    }
}

/// Deterministic operands in [0, 1).
fn fill(n: usize, s: usize) -> Vec<f32> {
    (0..n).map(|i| ((i * s) % 1000) as f32 / 1000.0).collect()
}

/// One layer `ni -> no` at batch 256: its forward product and its two backward
/// products under each use of the threads, in GFLOP/s.
fn layer((ni, no): (usize, usize)) {
    let b = 256;
    let (x, w, d) = (fill(b * ni, 7919), fill(ni * no, 104_729), fill(b * no, 31));
    let (mut o, mut dw, mut dx) = (vec![0.0; b * no], vec![0.0; ni * no], vec![0.0; b * ni]);
    let gf = 2.0 * (b * ni * no) as f64 / 1e6;
    let mut fwd = |t| median_ms(|| matmul_on(t, b, no, ni, &x, false, &w, false, &mut o, false));
    let (fa, fr) = (fwd(Threads::Auto), fwd(Threads::Rows));
    let fb = median_ms(|| {
        bf16::matmul(
            Threads::Auto,
            b,
            no,
            ni,
            &x,
            false,
            &w,
            false,
            &mut o,
            false,
        )
    });
    // The two backward products of the layer, with a given use of threads and precision.
    type Product = fn(Threads, usize, usize, usize, &[f32], bool, &[f32], bool, &mut [f32], bool);
    let dw_of = |f: Product, t, dw: &mut [f32]| f(t, ni, no, b, &x, true, &d, false, dw, false);
    let dx_of = |f: Product, t, dx: &mut [f32]| f(t, b, ni, no, &d, false, &w, true, dx, false);
    let seq = median_ms(|| {
        dw_of(matmul_on, Threads::Auto, &mut dw);
        dx_of(matmul_on, Threads::Auto, &mut dx);
    });
    let mut join = |f: Product| {
        median_ms(|| {
            rayon::join(
                || dw_of(f, Threads::Single, &mut dw),
                || dx_of(f, Threads::Single, &mut dx),
            );
        })
    };
    let (join_f32, join_bf) = (join(matmul_on), join(bf16::matmul));
    println!(
        "{ni:4}->{no:4}   {:5.0} / {:5.0} / {:5.0} GFLOP/s    {:5.0} / {:5.0} / {:5.0} GFLOP/s",
        gf / fa,
        gf / fr,
        gf / fb,
        2.0 * gf / seq,
        2.0 * gf / join_f32,
        2.0 * gf / join_bf
    );
}
