//! Throughput of every product of an autoencoder training step (batch 256), under each
//! way of using the threads, to back the choices in `src/engine/linalg.rs` and
//! `Mlp::backward`: `cargo run --release --example gemm_shapes`.

use std::time::Instant;

use decscope::engine::bf16;
use decscope::engine::linalg::{Threads, flush_subnormals, matmul_on};

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
    let b = 256;
    let fill = |n: usize, s: usize| -> Vec<f32> {
        (0..n).map(|i| ((i * s) % 1000) as f32 / 1000.0).collect()
    };
    let bf = bf16::available();
    println!(
        "layer        forward: auto / rows / bf16      dW+dX: auto,auto / join(single,single) / bf16 join{}",
        if bf {
            ""
        } else {
            " (no AVX512-BF16: bf16 columns run f32)"
        }
    );
    for (ni, no) in [
        (784, 500),
        (500, 500),
        (500, 2000),
        (2000, 10),
        (10, 2000),
        (2000, 500),
        (500, 784),
    ] {
        let (x, w, d) = (fill(b * ni, 7919), fill(ni * no, 104_729), fill(b * no, 31));
        let (mut o, mut dw, mut dx) = (vec![0.0; b * no], vec![0.0; ni * no], vec![0.0; b * ni]);
        let gf = 2.0 * (b * ni * no) as f64 / 1e6;
        let mut fwd =
            |t| median_ms(|| matmul_on(t, b, no, ni, &x, false, &w, false, &mut o, false));
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
        // The two backward products of the layer, with a given use of threads.
        let (dw_of, dx_of) = (
            |t, dw: &mut [f32]| matmul_on(t, ni, no, b, &x, true, &d, false, dw, false),
            |t, dx: &mut [f32]| matmul_on(t, b, ni, no, &d, false, &w, true, dx, false),
        );
        let seq = median_ms(|| {
            dw_of(Threads::Auto, &mut dw);
            dx_of(Threads::Auto, &mut dx);
        });
        let join = median_ms(|| {
            rayon::join(
                || dw_of(Threads::Single, &mut dw),
                || dx_of(Threads::Single, &mut dx),
            );
        });
        let join_bf = median_ms(|| {
            rayon::join(
                || {
                    bf16::matmul(
                        Threads::Single,
                        ni,
                        no,
                        b,
                        &x,
                        true,
                        &d,
                        false,
                        &mut dw,
                        false,
                    )
                },
                || {
                    bf16::matmul(
                        Threads::Single,
                        b,
                        ni,
                        no,
                        &d,
                        false,
                        &w,
                        true,
                        &mut dx,
                        false,
                    )
                },
            );
        });
        println!(
            "{ni:4}->{no:4}   {:5.0} / {:5.0} / {:5.0} GFLOP/s    {:5.0} / {:5.0} / {:5.0} GFLOP/s",
            gf / fa,
            gf / fr,
            gf / fb,
            2.0 * gf / seq,
            2.0 * gf / join,
            2.0 * gf / join_bf
        );
    }
}
