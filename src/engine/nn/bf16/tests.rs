//! Tests of the bf16 products (`bf16`) against f64 references: rounding to nearest even,
//! exact small integers, the hardware's rounding, the error bound on ragged shapes,
//! accumulation, threads and nested products, each on every kernel this CPU has
//! (AVX512-BF16, and AMX where it exists), and which kernel runs where.
//!
//! Apart from the code so that each reads in one file; they see its private items.

use super::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

struct Case {
    m: usize,
    n: usize,
    k: usize,
    ta: bool,
    tb: bool,
}

/// Exact f64 sums of the bf16-rounded operands, and Σ |a|·|b| of the originals.
fn reference(s: &Case, a: &[f32], b: &[f32]) -> (Vec<f64>, Vec<f64>) {
    let at = |i: usize, p: usize| if s.ta { a[p * s.m + i] } else { a[i * s.k + p] };
    let bt = |p: usize, j: usize| if s.tb { b[j * s.k + p] } else { b[p * s.n + j] };
    let mut rounded = vec![0.0; s.m * s.n];
    let mut mag = vec![0.0; s.m * s.n];
    for i in 0..s.m {
        for j in 0..s.n {
            for p in 0..s.k {
                let (x, y) = (at(i, p), bt(p, j));
                rounded[i * s.n + j] += round_to_bf16(x) as f64 * round_to_bf16(y) as f64;
                mag[i * s.n + j] += (x as f64 * y as f64).abs();
            }
        }
    }
    (rounded, mag)
}

fn run(kernel: Kernel, s: &Case, a: &[f32], b: &[f32], threads: Threads) -> Vec<f32> {
    let mut c = vec![f32::NAN; s.m * s.n];
    matmul_with(kernel, threads, product(s, a, b), &mut c, false);
    c
}

/// The product of a case's operands.
fn product<'a>(s: &Case, a: &'a [f32], b: &'a [f32]) -> Product<'a> {
    Product {
        m: s.m,
        n: s.n,
        k: s.k,
        a,
        ta: s.ta,
        b,
        tb: s.tb,
    }
}

/// Uniform operands in [-1, 1) for a case.
fn operands(rng: &mut ChaCha8Rng, s: &Case) -> (Vec<f32>, Vec<f32>) {
    let u = |r: &mut ChaCha8Rng| r.random_range(-1.0..1.0);
    (draw(rng, s.m * s.k, u), draw(rng, s.k * s.n, u))
}

fn draw(rng: &mut ChaCha8Rng, len: usize, f: impl Fn(&mut ChaCha8Rng) -> f32) -> Vec<f32> {
    (0..len).map(|_| f(rng)).collect()
}

/// Odd `k`, `m` not a multiple of the tile's 8 rows (nor of AMX's 32-row strips), `n`
/// not of its 32 columns, more than one block of `k` (and more than one AMX step of 16
/// pairs), each transpose.
fn ragged_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (m, n, k) in [
        (1, 1, 1),
        (13, 45, 7),
        (8, 32, 2),
        (37, 70, 301),
        (70, 17, 513),
    ] {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            cases.push(Case { m, n, k, ta, tb });
        }
    }
    cases
}

#[test]
fn rounding_is_to_nearest_even() {
    // 1 + 2⁻⁸ lies halfway between bf16 1 and 1 + 2⁻⁷: ties go to the even (1).
    assert_eq!(round_to_bf16(1.0 + 2f32.powi(-8)), 1.0);
    // 1 + 3·2⁻⁸ lies halfway between 1 + 2⁻⁷ (odd) and 1 + 2⁻⁶: up.
    assert_eq!(
        round_to_bf16(1.0 + 3.0 * 2f32.powi(-8)),
        1.0 + 2f32.powi(-6)
    );
    // Just above a tie rounds up; values with 8 significant bits stay.
    assert_eq!(
        round_to_bf16(1.0 + 2f32.powi(-8) + 2f32.powi(-20)),
        1.0 + 2f32.powi(-7)
    );
    assert_eq!(round_to_bf16(-3.140625), -3.140625);
    assert!(round_to_bf16(f32::NAN).is_nan());
}

/// Small integers are exact in bf16 and their sums exact in f32: any packing or
/// indexing slip shows as a wrong value.
#[test]
fn small_integers_give_the_exact_product() {
    if !available() {
        eprintln!("no AVX512-BF16 here: the f32 path runs (checked elsewhere)");
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for s in ragged_cases() {
        let a = draw(&mut rng, s.m * s.k, |r| r.random_range(-8..=8) as f32);
        let b = draw(&mut rng, s.k * s.n, |r| r.random_range(-8..=8) as f32);
        let (want, _) = reference(&s, &a, &b);
        for (kernel, threads) in each_kernel([Threads::Single, Threads::Auto]) {
            let got = run(kernel, &s, &a, &b, threads);
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(
                    *g as f64, *w,
                    "{kernel:?} {}x{}x{} ta {} tb {}",
                    s.m, s.n, s.k, s.ta, s.tb
                );
            }
        }
    }
}

/// The hardware rounding (`vcvtne2ps2bf16`) against [`round_to_bf16`]: the product
/// of x and 1 must be x rounded, for values across the exponent range.
#[test]
fn hardware_rounding_matches_the_scalar_rounding() {
    if !available() {
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let k = 1000;
    let a = draw(&mut rng, k, |r| {
        let e = r.random_range(-60..60);
        r.random_range(-1.0f32..1.0) * 2f32.powi(e)
    });
    let s = Case {
        m: k,
        n: 1,
        k: 1,
        ta: false,
        tb: false,
    };
    for kernel in kernels() {
        let got = run(kernel, &s, &a, &[1.0], Threads::Single);
        for (g, x) in got.iter().zip(&a) {
            assert_eq!(
                g.to_bits(),
                round_to_bf16(*x).to_bits(),
                "{kernel:?}: x = {x:e}"
            );
        }
    }
}

/// Random operands in the autoencoder's shapes (batch 256): every product of a
/// layer's forward and backward pass, within the bound of the module docs of the
/// exact product, and so close to the f32 path.
#[test]
fn random_operands_stay_within_the_bound() {
    if !available() {
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let u = 2f64.powi(-8);
    let b = 256;
    for (ni, no) in [(784, 500), (2000, 10)] {
        let cases = [
            Case {
                m: b,
                n: no,
                k: ni,
                ta: false,
                tb: false,
            },
            Case {
                m: ni,
                n: no,
                k: b,
                ta: true,
                tb: false,
            },
            Case {
                m: b,
                n: ni,
                k: no,
                ta: false,
                tb: true,
            },
        ];
        for s in cases {
            let a = draw(&mut rng, s.m * s.k, |r| r.random_range(-1.0..1.0));
            let bm = draw(&mut rng, s.k * s.n, |r| r.random_range(-1.0..1.0));
            let mut f32c = vec![0.0; s.m * s.n];
            matmul_on(
                Threads::Auto,
                s.m,
                s.n,
                s.k,
                &a,
                s.ta,
                &bm,
                s.tb,
                &mut f32c,
                false,
            );
            // Exact product of the originals, in f64 from the f32 path's output
            // bound: compare both paths to the rounded-operand sums.
            let (rounded, mag) = reference(&s, &a, &bm);
            let bound = |i: usize| (2.0 * u + u * u + s.k as f64 * 2f64.powi(-23)) * mag[i];
            for kernel in kernels() {
                let got = run(kernel, &s, &a, &bm, Threads::Auto);
                for i in 0..got.len() {
                    let err = (got[i] as f64 - rounded[i]).abs();
                    assert!(
                        err <= s.k as f64 * 2f64.powi(-23) * mag[i] + 1e-30,
                        "{kernel:?}: accumulation at {i}"
                    );
                    let vs_f32 = (got[i] as f64 - f32c[i] as f64).abs();
                    assert!(
                        vs_f32 <= 2.0 * bound(i),
                        "{kernel:?} {}x{}x{}: {vs_f32} > {}",
                        s.m,
                        s.n,
                        s.k,
                        bound(i)
                    );
                }
            }
        }
    }
}

#[test]
fn accumulate_adds_to_the_output_and_threads_do_not_change_it() {
    if !available() {
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let s = Case {
        m: 300,
        n: 200,
        k: 700,
        ta: true,
        tb: false,
    };
    let (a, b) = operands(&mut rng, &s);
    for kernel in kernels() {
        let single = run(kernel, &s, &a, &b, Threads::Single);
        assert_eq!(single, run(kernel, &s, &a, &b, Threads::Auto));
        assert_eq!(single, run(kernel, &s, &a, &b, Threads::Rows));
        let mut c = vec![0.5; s.m * s.n];
        matmul_with(kernel, Threads::Auto, product(&s, &a, &b), &mut c, true);
        for (x, y) in c.iter().zip(&single) {
            // One extra rounding at most: 0.5 + y is formed at the start (AVX512-BF16)
            // or at the end (AMX) of the sum.
            assert!(
                (x - (0.5 + y)).abs() <= 1e-4 * (1.0 + y.abs()),
                "{kernel:?}: {x} vs 0.5 + {y}"
            );
        }
    }
}

/// Products started side by side in pool tasks, each splitting over the pool: a
/// thread waiting inside one may run the other, which must then use buffers of its
/// own; both results are the one-thread result.
#[test]
fn nested_products_in_pool_tasks_keep_their_buffers_apart() {
    if !available() {
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let s = Case {
        m: 260,
        n: 150,
        k: 530,
        ta: false,
        tb: true,
    };
    let (a, b) = operands(&mut rng, &s);
    for kernel in kernels() {
        let want = run(kernel, &s, &a, &b, Threads::Single);
        for _ in 0..20 {
            let (x, y) = rayon::join(
                || run(kernel, &s, &a, &b, Threads::Auto),
                || {
                    rayon::join(
                        || run(kernel, &s, &a, &b, Threads::Rows),
                        || run(kernel, &s, &a, &b, Threads::Auto),
                    )
                },
            );
            assert!(x == want && y.0 == want && y.1 == want, "{kernel:?}");
        }
    }
}

/// Every kernel this CPU has, with each of `threads`.
fn each_kernel(threads: [Threads; 2]) -> Vec<(Kernel, Threads)> {
    kernels()
        .into_iter()
        .flat_map(|k| threads.map(|t| (k, t)))
        .collect()
}

/// The flags Linux lists for this CPU, where `/proc/cpuinfo` exists.
fn cpuinfo_flags() -> Option<Vec<String>> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("flags"))?;
    Some(line.split_whitespace().map(str::to_owned).collect())
}

/// `--precision auto`'s rule against `/proc/cpuinfo`'s vendor and flags: bf16 where the
/// kernel is AMX, or AVX512-BF16 on a CPU that is not Intel's; f32 elsewhere.
#[test]
fn auto_takes_bf16_where_it_was_measured_faster() {
    let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") else {
        eprintln!("no /proc/cpuinfo here: nothing to compare CPUID with");
        return;
    };
    let intel = info
        .lines()
        .find(|l| l.starts_with("vendor_id"))
        .is_some_and(|l| l.contains("GenuineIntel"));
    let want = match kernel() {
        Some(Kernel::Amx) => true,
        Some(Kernel::Avx512Bf16) => !intel,
        None => false,
    };
    assert_eq!(pays(), want, "intel {intel}, kernel {:?}", kernel());
}

/// CPUID's answer against the kernel's own list of this CPU's flags (an independent
/// reading): AMX runs the products exactly where Linux lists `amx_tile` and `amx_bf16`
/// (and the environment does not turn it off), and otherwise AVX512-BF16 or f32 does.
#[test]
fn amx_runs_exactly_where_the_cpu_lists_it() {
    let Some(flags) = cpuinfo_flags() else {
        eprintln!("no /proc/cpuinfo here: nothing to compare CPUID with");
        return;
    };
    let listed = |f: &str| flags.iter().any(|x| x == f);
    let has_amx = listed("amx_tile") && listed("amx_bf16");
    assert_eq!(amx::cpu_has_amx(), has_amx, "CPUID against /proc/cpuinfo");
    let has_bf16 = listed("avx512f") && listed("avx512bw") && listed("avx512_bf16");
    let off = |var: &str| std::env::var(var).is_ok_and(|v| v == "off");
    let want = match (
        has_bf16 && !off("DECSCOPE_BF16"),
        has_amx && !off("DECSCOPE_AMX"),
    ) {
        (false, _) => None,
        (true, false) => Some(Kernel::Avx512Bf16),
        (true, true) => Some(Kernel::Amx),
    };
    assert_eq!(
        kernel(),
        want,
        "flags: amx {has_amx}, avx512_bf16 {has_bf16}"
    );
}

/// The two kernels on one product, where both exist: each output within the bound's
/// accumulation term of the other (they add the same exact products in other orders),
/// on shapes with several strips, steps and panels and each transpose.
#[test]
fn amx_and_avx512_kernels_agree_within_the_bound() {
    if !kernels().contains(&Kernel::Amx) {
        eprintln!("no AMX here: only the AVX512-BF16 kernel runs (compared above)");
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for s in ragged_cases() {
        let (a, b) = operands(&mut rng, &s);
        let (_, mag) = reference(&s, &a, &b);
        let x = run(Kernel::Avx512Bf16, &s, &a, &b, Threads::Auto);
        let y = run(Kernel::Amx, &s, &a, &b, Threads::Auto);
        for i in 0..x.len() {
            let tol = 2.0 * s.k as f64 * 2f64.powi(-23) * mag[i] + 1e-30;
            assert!(
                ((x[i] - y[i]) as f64).abs() <= tol,
                "{}x{}x{} ta {} tb {} at {i}: {} vs {}",
                s.m,
                s.n,
                s.k,
                s.ta,
                s.tb,
                x[i],
                y[i]
            );
        }
    }
}

/// A product whose `k` ends inside a step of 16 pairs, right after one of the same
/// buffer sizes whose operands were infinite: the pairs past `k` must be zero again, or
/// infinity times B's zero padding turns the sums into NaN.
#[test]
fn stale_infinities_in_reused_buffers_do_not_reach_the_next_product() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let full = Case {
        m: 40,
        n: 40,
        k: 32,
        ta: false,
        tb: false,
    };
    let cut = Case { k: 30, ..full };
    let (a, b) = operands(&mut rng, &cut);
    let (want, _) = reference(&cut, &a, &b);
    for kernel in kernels() {
        for threads in [Threads::Single, Threads::Auto] {
            let inf = vec![f32::INFINITY; full.m * full.k];
            let ones = vec![1.0; full.k * full.n];
            let _ = run(kernel, &full, &inf, &ones, threads);
            let got = run(kernel, &cut, &a, &b, threads);
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (*g as f64 - w).abs() <= 1e-5,
                    "{kernel:?} {threads:?}: {g} vs {w}"
                );
            }
        }
    }
}
