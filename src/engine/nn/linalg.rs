//! Dense row-major matrix products on `f32` slices, on top of the `gemm` crate.
//!
//! Why not candle tensors here: every training step of DEC is a handful of matrix
//! products plus cheap elementwise passes. Calling the same GEMM kernels that candle
//! uses, on buffers we own and reuse, with transposes expressed as strides (no
//! contiguous copies), removes the allocation and graph overhead that made a candle
//! autograd step about 2x slower than PyTorch on this machine (see `decscope bench`).

use gemm::{Parallelism, gemm};

/// Make the current thread and every thread of rayon's pool flush subnormal floats to
/// zero (FTZ) and treat subnormal inputs as zero (DAZ).
///
/// Why: late in training, Adam's second moments and some gradients decay into the
/// subnormal range, where x86 arithmetic takes a slow microcode path; measured here,
/// an autoencoder step on MNIST slowed from 36 ms to over 60 ms after ~700 steps.
/// Values below 1.2e-38 do not matter to training. No effect on other architectures.
pub fn flush_subnormals() {
    fn set() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: reads and writes this thread's MXCSR register only, setting the FTZ
        // (bit 15) and DAZ (bit 6) flags, which every x86-64 CPU supports.
        unsafe {
            let mut csr: u32 = 0;
            std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack));
            csr |= 0x8040;
            std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack));
        }
    }
    set();
    rayon::broadcast(|_| set());
}

/// Below this many multiply-adds a product runs on one thread: spawning costs more.
const PARALLEL_THRESHOLD: usize = 1 << 18;

fn parallelism(m: usize, n: usize, k: usize) -> Parallelism {
    if m.saturating_mul(n).saturating_mul(k) >= PARALLEL_THRESHOLD {
        Parallelism::Rayon(0)
    } else {
        Parallelism::None
    }
}

/// How a product uses the threads of rayon's pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Threads {
    /// The gemm crate splits the product across the pool (small products: one thread).
    Auto,
    /// One thread, the caller's. For running two independent products side by side
    /// with `rayon::join` (a layer's weight and input gradients).
    Single,
    /// Split the rows of `c` into one block per pool thread, each a single-threaded
    /// product (see [`matmul_rows`]).
    Rows,
}

/// `c = op(a) · op(b)` (or `c += ...` when `accumulate`), all row-major.
///
/// `op(a)` is `m x k`: `a` is stored `m x k`, or `k x m` when `ta` (then used transposed).
/// `op(b)` is `k x n`: `b` is stored `k x n`, or `n x k` when `tb`. `c` is `m x n`.
///
/// # Panics
/// When a slice is shorter than its shape says (a programming error, never user data).
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    ta: bool,
    b: &[f32],
    tb: bool,
    c: &mut [f32],
    accumulate: bool,
) {
    matmul_on(Threads::Auto, m, n, k, a, ta, b, tb, c, accumulate);
}

/// [`Threads::Rows`] for a product `m x k · k x n` (not transposed on the left) where
/// row blocks measured faster than the gemm crate's own split, else [`Threads::Auto`].
///
/// Why: on the autoencoder's shapes at batch 256 (2 threads, AVX-512), the gemm
/// crate's own split reached 210-220 GFLOP/s on `256x784·784x500`, `256x2000·2000x500`
/// and `256x500·500x500`, and row blocks 250-285; but on `256x500·500x2000` its own
/// split was faster (293 vs 253). Measured with `cargo run --release --example
/// gemm_shapes`. The rule keeps the gemm crate's split where `op(b)` is much wider
/// than deep.
pub fn row_split(m: usize, n: usize, k: usize) -> Threads {
    let wide = n >= 2 * k && k >= 64;
    if wide || m < 32 || rayon::current_num_threads() < 2 {
        Threads::Auto
    } else {
        Threads::Rows
    }
}

/// Panics unless `a` (m x k), `b` (k x n) and `c` (m x n) hold their sizes: the
/// unsafe GEMM below relies on it.
fn check_sizes((m, n, k): (usize, usize, usize), a: usize, b: usize, c: usize) {
    assert!(a >= m * k, "matmul: lhs has {a} < {m}x{k}");
    assert!(b >= k * n, "matmul: rhs has {b} < {k}x{n}");
    assert!(c >= m * n, "matmul: dst has {c} < {m}x{n}");
}

/// [`Threads::Rows`]: each thread multiplies its own block of a's rows (a not
/// transposed) on one thread.
fn matmul_rows(
    (m, n, k): (usize, usize, usize),
    a: &[f32],
    b: &[f32],
    tb: bool,
    c: &mut [f32],
    accumulate: bool,
) {
    use rayon::prelude::*;
    let rows = m.div_ceil(rayon::current_num_threads().max(1));
    c[..m * n]
        .par_chunks_mut(rows * n)
        .zip(a[..m * k].par_chunks(rows * k))
        .for_each(|(cb, ab)| {
            let mb = cb.len() / n;
            matmul_on(Threads::Single, mb, n, k, ab, false, b, tb, cb, accumulate);
        });
}

/// [`matmul`] with an explicit use of threads.
#[allow(clippy::too_many_arguments)]
pub fn matmul_on(
    threads: Threads,
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    ta: bool,
    b: &[f32],
    tb: bool,
    c: &mut [f32],
    accumulate: bool,
) {
    check_sizes((m, n, k), a.len(), b.len(), c.len());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    let par = match threads {
        Threads::Auto => parallelism(m, n, k),
        Threads::Single => Parallelism::None,
        Threads::Rows if !ta => return matmul_rows((m, n, k), a, b, tb, c, accumulate),
        Threads::Rows => parallelism(m, n, k),
    };
    let (a_rs, a_cs) = if ta { (1, m as isize) } else { (k as isize, 1) };
    let (b_rs, b_cs) = if tb { (1, k as isize) } else { (n as isize, 1) };
    // SAFETY: the asserts above guarantee every index the strides reach lies inside
    // the slices; `c` is uniquely borrowed and does not alias `a` or `b`.
    unsafe {
        gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        );
    }
}

/// Squared Euclidean norm of each row of an `n x d` matrix.
pub fn row_sq_norms(x: &[f32], d: usize) -> Vec<f32> {
    x.chunks_exact(d.max(1))
        .map(|r| r.iter().map(|v| v * v).sum())
        .collect()
}

/// Squared distances between every row of `x` (`n x d`) and every row of `c` (`k x d`),
/// written into `out` (`n x k`), as `|x|^2 - 2 x.c + |c|^2` with one GEMM.
/// Negative round-off is clamped to zero.
pub fn sq_distances(x: &[f32], x_norms: &[f32], c: &[f32], d: usize, out: &mut [f32]) {
    let n = x_norms.len();
    let k = c.len() / d.max(1);
    matmul(n, k, d, x, false, c, true, out, false);
    let c_norms = row_sq_norms(c, d);
    for (row, xn) in out.chunks_exact_mut(k).zip(x_norms) {
        for (v, cn) in row.iter_mut().zip(&c_norms) {
            *v = (xn - 2.0 * *v + cn).max(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, n: usize, k: usize, a: &[f32], ta: bool, b: &[f32], tb: bool) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0;
                for p in 0..k {
                    let av = if ta { a[p * m + i] } else { a[i * k + p] };
                    let bv = if tb { b[j * k + p] } else { b[p * n + j] };
                    s += av * bv;
                }
                c[i * n + j] = s;
            }
        }
        c
    }

    #[test]
    fn matmul_matches_naive_for_all_transposes() {
        let (m, n, k) = (7, 5, 9);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        for ta in [false, true] {
            for tb in [false, true] {
                let want = naive(m, n, k, &a, ta, &b, tb);
                let mut got = vec![1.0; m * n];
                matmul(m, n, k, &a, ta, &b, tb, &mut got, false);
                for (g, w) in got.iter().zip(&want) {
                    assert!((g - w).abs() < 1e-4, "ta={ta} tb={tb}: {g} vs {w}");
                }
                let mut acc = want.clone();
                matmul(m, n, k, &a, ta, &b, tb, &mut acc, true);
                for (g, w) in acc.iter().zip(&want) {
                    assert!((g - 2.0 * w).abs() < 1e-4);
                }
            }
        }
    }

    #[test]
    fn every_thread_split_gives_the_same_product() {
        let (m, n, k) = (67, 33, 41);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        for tb in [false, true] {
            let want = naive(m, n, k, &a, false, &b, tb);
            for threads in [Threads::Auto, Threads::Single, Threads::Rows] {
                let mut got = vec![0.0; m * n];
                matmul_on(threads, m, n, k, &a, false, &b, tb, &mut got, false);
                for (g, w) in got.iter().zip(&want) {
                    assert!((g - w).abs() < 1e-4, "{threads:?} tb={tb}: {g} vs {w}");
                }
            }
        }
    }

    #[test]
    fn sq_distances_match_direct() {
        let x = [0.0, 0.0, 1.0, 2.0, -1.0, 3.0];
        let c = [1.0, 1.0, 0.0, -2.0];
        let mut out = vec![0.0; 6];
        sq_distances(&x, &row_sq_norms(&x, 2), &c, 2, &mut out);
        assert_eq!(out, vec![2.0, 4.0, 1.0, 17.0, 8.0, 26.0]);
    }
}
