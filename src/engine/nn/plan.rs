//! How each product of a training step uses the threads on this machine: chosen by
//! timing the candidates on the layer's own shape the first time a run meets it (a few
//! milliseconds a shape), then kept for the life of the process.
//!
//! Why not a fixed rule: the fastest split differs between CPUs of the same kind. On a
//! 3+ GHz 2-core machine row blocks beat the gemm crate's own split on the forward
//! `256x2000 · 2000x500` and the two backward products of a layer ran fastest side by
//! side, one thread each; on a 2.5 GHz one the forward 2000->500 ran at 88 GFLOP/s with
//! the crate's split against 60 with row blocks, and backward 784->500 at 85 one after
//! the other against 167 side by side (`examples/gemm_shapes`). A candidate is chosen
//! only when it gives the same bits as the gemm crate's own split on the layer's shape
//! (checked on the timing's operands): mostly every candidate does, but the crate
//! blocks some shapes by their row count (the 2000 -> 10 forward on 115 rows, in row
//! blocks of 58 and 57), and a choice by timing alone then changed results from run to
//! run. So the choice changes only the speed, never a result.
//!
//! The candidates, for a layer `n_in -> n_out` at batch `b`:
//! - forward `b x n_in · n_in x n_out`: the gemm crate's own split ([`Threads::Auto`])
//!   or one row block per thread ([`Threads::Rows`]);
//! - backward `dW = inputᵀ · delta` and `dX = delta · Wᵀ`: one after the other, each
//!   split ([`Backward::Sequential`]), or side by side on one thread each
//!   ([`Backward::Join`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::engine::nn::bf16;
use crate::engine::nn::linalg::{Threads, matmul_on};

/// How the two backward products of a layer share the threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backward {
    /// `dW`, then `dX`, each split over the pool.
    Sequential,
    /// `dW` and `dX` side by side (`rayon::join`), each on one thread.
    Join,
}

/// A layer's shape in one precision: what a plan is chosen for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shape {
    pub batch: usize,
    pub n_in: usize,
    pub n_out: usize,
    /// The products run in bf16 ([`product`]'s rule applied).
    pub bf16: bool,
}

/// The chosen use of threads for one layer shape, with the timings it was chosen by
/// (best of a few runs, ms; empty when the shape was too small to be worth timing).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerPlan {
    pub forward: Threads,
    pub backward: Backward,
    /// (candidate, ms) for each candidate timed.
    pub timings: Vec<(String, f64)>,
}

/// Below this many multiply-adds a product runs on one thread (as the gemm crate's
/// split does), and nothing is timed.
const TIMED_FROM: usize = 1 << 20;

/// Timed runs of each candidate (after one warm-up); the best counts.
const RUNS: usize = 3;

static PLANS: Mutex<Option<HashMap<Shape, LayerPlan>>> = Mutex::new(None);

/// The plan for a layer `n_in -> n_out` at batch `b` (in bf16 when `bf16`), timed on
/// first use.
pub fn layer(b: usize, n_in: usize, n_out: usize, bf16: bool) -> (Threads, Backward) {
    let shape = Shape {
        batch: b,
        n_in,
        n_out,
        bf16: bf16 && uses_bf16(b, n_in, n_out),
    };
    if let Some(p) = lock().as_ref().and_then(|m| m.get(&shape)) {
        return (p.forward, p.backward);
    }
    let plan = choose(shape);
    let out = (plan.forward, plan.backward);
    lock().get_or_insert_with(HashMap::new).insert(shape, plan);
    out
}

/// Every plan chosen so far in this process, largest shapes first.
pub fn chosen() -> Vec<(Shape, LayerPlan)> {
    let mut v: Vec<_> = lock()
        .as_ref()
        .map(|m| m.iter().map(|(s, p)| (*s, p.clone())).collect())
        .unwrap_or_default();
    v.sort_by_key(|(s, _)| std::cmp::Reverse((s.batch * s.n_in * s.n_out, s.n_in, s.bf16)));
    v
}

fn lock() -> std::sync::MutexGuard<'static, Option<HashMap<Shape, LayerPlan>>> {
    PLANS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether a product `m x k · k x n` runs in bf16 when bf16 is asked: every side at
/// least 32. The 10-wide embedding layers (about 1% of a step's multiply-adds) stay
/// f32: padded to the bf16 tile (8 x 32) they ran slower than in f32 (`BF16=1 cargo
/// run --release --example step_profile`).
fn uses_bf16(m: usize, n: usize, k: usize) -> bool {
    m.min(n).min(k) >= 32 && bf16::available()
}

/// One product of a training step (`c = op(a) · op(b)`), in bf16 when `bf16` and
/// [`uses_bf16`] says so, else f32.
#[allow(clippy::too_many_arguments)]
pub fn product(
    bf16: bool,
    threads: Threads,
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    ta: bool,
    b: &[f32],
    tb: bool,
    c: &mut [f32],
) {
    if bf16 && uses_bf16(m, n, k) {
        bf16::matmul(threads, m, n, k, a, ta, b, tb, c, false);
    } else {
        matmul_on(threads, m, n, k, a, ta, b, tb, c, false);
    }
}

/// Time the candidates on operands of the layer's shape and keep the fastest.
fn choose(s: Shape) -> LayerPlan {
    let (b, ni, no) = (s.batch, s.n_in, s.n_out);
    if b * ni * no < TIMED_FROM || rayon::current_num_threads() < 2 {
        return LayerPlan {
            forward: Threads::Auto,
            backward: Backward::Sequential,
            timings: Vec::new(),
        };
    }
    // Operands with values like a layer's (the timing does not depend on them).
    let fill = |n: usize, s: usize| -> Vec<f32> {
        (0..n)
            .map(|i| ((i * s) % 1000) as f32 / 1000.0 - 0.5)
            .collect()
    };
    let (x, w, d) = (fill(b * ni, 7919), fill(ni * no, 104_729), fill(b * no, 31));
    let out = |m: usize| (vec![0.0; m], vec![0.0; m]);
    let ((mut o_auto, mut o_rows), (mut dw1, mut dw2), (mut dx1, mut dx2)) =
        (out(b * no), out(ni * no), out(b * ni));
    let fwd = |t, o: &mut [f32]| best(|| product(s.bf16, t, b, no, ni, &x, false, &w, false, o));
    let auto = fwd(Threads::Auto, &mut o_auto);
    // bf16 products split their rows over the pool either way: one forward candidate.
    let rows = if s.bf16 {
        f64::INFINITY
    } else {
        fwd(Threads::Rows, &mut o_rows)
    };
    let dw_of = |t, dw: &mut [f32]| product(s.bf16, t, ni, no, b, &x, true, &d, false, dw);
    let dx_of = |t, dx: &mut [f32]| product(s.bf16, t, b, ni, no, &d, false, &w, true, dx);
    let seq = best(|| {
        dw_of(Threads::Auto, &mut dw1);
        dx_of(Threads::Auto, &mut dx1);
    });
    let join = best(|| {
        rayon::join(
            || dw_of(Threads::Single, &mut dw2),
            || dx_of(Threads::Single, &mut dx2),
        );
    });
    // A candidate whose bits differ from the gemm crate's own split is never chosen,
    // so the timing cannot change a result (the crate blocks some shapes by their row
    // count: the 2000 -> 10 layer's forward on a last batch of 115 rows, split in row
    // blocks, gave other bits, and runs of one seed differed in DEC's fourth digit).
    let rows_same = s.bf16 || same_bits(&o_auto, &o_rows);
    let join_same = same_bits(&dw1, &dw2) && same_bits(&dx1, &dx2);
    LayerPlan {
        forward: if rows_same && rows < auto {
            Threads::Rows
        } else {
            Threads::Auto
        },
        backward: if join_same && join < seq {
            Backward::Join
        } else {
            Backward::Sequential
        },
        timings: [
            ("forward, split", auto, true),
            ("forward, row blocks", rows, rows_same),
            ("backward, one after the other", seq, true),
            ("backward, side by side", join, join_same),
        ]
        .into_iter()
        .filter(|(_, ms, _)| ms.is_finite())
        .map(|(what, ms, same)| {
            let note = if same { "" } else { " (other bits: not used)" };
            (format!("{what}{note}"), ms)
        })
        .collect(),
    }
}

/// Whether two results are the same to the bit.
fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Best of [`RUNS`] runs of `f` after one warm-up, in ms.
fn best(mut f: impl FnMut()) -> f64 {
    f();
    (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every candidate of a plan gives the same bits, in f32 and bf16, on the
    /// autoencoder's shapes and on ragged ones: the choice is a matter of speed only.
    #[test]
    fn every_candidate_gives_the_same_bits() {
        let fill = |n: usize, s: usize| -> Vec<f32> {
            (0..n)
                .map(|i| ((i * s) % 1013) as f32 / 997.0 - 0.5)
                .collect()
        };
        for (b, ni, no) in [
            (256, 784, 500),
            (256, 500, 500),
            (256, 500, 2000),
            (256, 2000, 10),
            (256, 2000, 500),
            (256, 500, 784),
            (256, 10, 2000),
            (256, 256, 500),
            (77, 301, 45),
            (115, 784, 500),
            (115, 500, 500),
            (115, 500, 2000),
            (115, 2000, 500),
            (115, 500, 784),
        ] {
            let (x, w, d) = (fill(b * ni, 7919), fill(ni * no, 104_729), fill(b * no, 31));
            for bf16 in [false, true] {
                let run = |t: Threads, m, n, k, a: &[f32], ta, bb: &[f32], tb| {
                    let mut c = vec![0.0; m * n];
                    product(bf16, t, m, n, k, a, ta, bb, tb, &mut c);
                    c
                };
                let all = [Threads::Auto, Threads::Rows, Threads::Single];
                let fwd = all.map(|t| run(t, b, no, ni, &x, false, &w, false));
                let dw = all.map(|t| run(t, ni, no, b, &x, true, &d, false));
                let dx = all.map(|t| run(t, b, ni, no, &d, false, &w, true));
                for v in [fwd, dw, dx] {
                    assert!(v[0] == v[1] && v[1] == v[2], "{b}x{ni}x{no} bf16 {bf16}");
                }
            }
        }
    }

    /// The gemm crate sums the 2000 -> 10 forward in another order when it gets row
    /// blocks of a batch of 97, 100, 115 or 128 rows (not 256): that candidate is timed
    /// but never chosen, so the plan (and the run) is the same whichever is faster.
    /// 115 rows is DEC's last batch of an epoch on the imbalanced stand-in; 128 is
    /// `--batch-size 128`.
    #[test]
    fn a_candidate_with_other_bits_is_not_chosen() {
        if rayon::current_num_threads() < 2 {
            return; // one thread: nothing is timed, the crate's split is the plan
        }
        let (ni, no) = (2000, 10);
        for b in [97, 100, 115, 128] {
            let x: Vec<f32> = (0..b * ni)
                .map(|i| ((i * 7919) % 1013) as f32 / 997.0 - 0.5)
                .collect();
            let w: Vec<f32> = (0..ni * no)
                .map(|i| ((i * 31) % 1013) as f32 / 997.0 - 0.5)
                .collect();
            let run = |t| {
                let mut c = vec![0.0; b * no];
                product(false, t, b, no, ni, &x, false, &w, false, &mut c);
                c
            };
            assert!(
                !same_bits(&run(Threads::Auto), &run(Threads::Rows)),
                "{b} rows: the crate now sums row blocks alike: this test needs another shape"
            );
            assert_eq!(layer(b, ni, no, false).0, Threads::Auto, "{b} rows");
            let plan = chosen()
                .into_iter()
                .find(|(s, _)| (s.batch, s.n_in, s.n_out, s.bf16) == (b, ni, no, false));
            let timings = plan.map(|(_, p)| p.timings).unwrap_or_default();
            assert!(
                timings
                    .iter()
                    .any(|(what, _)| what == "forward, row blocks (other bits: not used)"),
                "{b} rows: {timings:?}"
            );
        }
    }

    #[test]
    fn a_plan_is_chosen_once_per_shape_and_small_shapes_are_not_timed() {
        let (f, bk) = layer(256, 500, 500, false);
        assert_eq!(layer(256, 500, 500, false), (f, bk));
        let small = layer(8, 10, 10, false);
        assert_eq!(small, (Threads::Auto, Backward::Sequential));
        let plans = chosen();
        let big = plans
            .iter()
            .find(|(s, _)| (s.batch, s.n_in, s.n_out) == (256, 500, 500));
        assert_eq!(big.map(|(_, p)| p.timings.len()), Some(4));
        // In bf16 both forward candidates are the same row split: timed once.
        if bf16::available() {
            layer(256, 500, 500, true);
            let b = chosen()
                .into_iter()
                .find(|(s, _)| s.bf16 && s.n_in == 500 && s.batch == 256);
            assert_eq!(b.map(|(_, p)| p.timings.len()), Some(3));
        }
        let tiny = plans
            .iter()
            .find(|(s, _)| (s.batch, s.n_in, s.n_out) == (8, 10, 10));
        assert!(tiny.is_some_and(|(_, p)| p.timings.is_empty()));
    }
}
