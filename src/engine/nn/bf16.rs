//! Matrix products with bf16 inputs and f32 accumulation on the CPU's AVX512-BF16 units
//! (`vdpbf16ps`): the mixed-precision path of training, as PyTorch's autocast does it.
//!
//! Why: a `vdpbf16ps` on a 512-bit register does 32 multiply-adds (16 lanes, each the
//! dot product of two bf16 pairs added to an f32 lane), where an f32 FMA does 16, and
//! its operands take half the memory. Master weights, optimizer state, losses, q/p and
//! k-means stay f32; only the operands of the products are rounded.
//!
//! # The maths
//! bf16 keeps f32's 8-bit exponent and 8 of its 24 significant bits. Rounding an f32 to
//! the nearest bf16 (ties to even) has a relative error of at most u = 2⁻⁸. The product
//! of two bf16 values has at most 16 significant bits, so it is exact in f32, and the
//! sums are f32 additions. For `c = Σₚ aₚ·bₚ` over `k` terms this gives
//!
//! ```text
//! |c_bf16 − c_exact| ≤ (2u + u² + k·2⁻²³) · Σₚ |aₚ|·|bₚ|
//! ```
//!
//! (`k·2⁻²³` bounds the f32 accumulation in any order; the tests check this bound on
//! random and MNIST-sized operands, and exactness on small integers, which bf16 holds
//! exactly).
//!
//! # The layout
//! `vdpbf16ps acc, a, b` computes, for each of the 16 f32 lanes `j`,
//! `acc[j] += a[2j]·b[2j] + a[2j+1]·b[2j+1]`. A micro-tile of `MR x NR` = 8 x 32 outputs
//! keeps 16 accumulators: for each pair of `k` (`p`), it loads the 32 columns of B as two
//! registers of (B[2p][j], B[2p+1][j]) pairs ("VNNI" packing), broadcasts the pair
//! (A[i][2p], A[i][2p+1]) of each of the 8 rows, and issues 16 `vdpbf16ps`. So A is
//! packed as 32-bit pairs along `k`, B as 32-column panels of pairs; both are converted
//! once per product (round to nearest even, `vcvtne2ps2bf16`), `k` padded to even and
//! rows and columns to the tile with zeros.
//!
//! Each output is summed in one fixed order (blocks of `KC` pairs, in order), whatever
//! the split over threads: same inputs, same result.
//!
//! Where the CPU also has AMX tiles, the same products run on them ([`amx`], the same
//! packing of B, the same bound); [`kernel`] says which kernel runs. Where AVX512-BF16 is
//! absent (other x86 CPUs, ARM), [`matmul`] runs the f32 product
//! ([`crate::engine::nn::linalg::matmul_on`]); [`available`] says which.

use std::sync::OnceLock;

use crate::engine::nn::linalg::{Threads, matmul_on};

/// Rows of one micro-tile.
const MR: usize = 8;
/// Columns of one micro-tile (two 16-lane registers).
const NR: usize = 32;
/// Pairs of `k` per block: a B micro-panel of `KC x NR` pairs is 16 KiB, inside L1.
const KC: usize = 128;
/// Below this many multiply-adds a product runs on one thread.
const PARALLEL_THRESHOLD: usize = 1 << 18;

/// The kernel that runs the bf16 products.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// `vdpbf16ps` on 512-bit registers (this module's micro-tiles).
    Avx512Bf16,
    /// `tdpbf16ps` on AMX tiles ([`amx`]).
    Amx,
}

impl Kernel {
    /// How reports and the bench name it.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Avx512Bf16 => "AVX512-BF16",
            Kernel::Amx => "AMX",
        }
    }
}

/// The kernel [`matmul`] uses on this CPU: AMX where [`amx::available`], else
/// AVX512-BF16 where [`available`]; `None` where the products run in f32.
pub fn kernel() -> Option<Kernel> {
    if !available() {
        None
    } else if amx::available() {
        Some(Kernel::Amx)
    } else {
        Some(Kernel::Avx512Bf16)
    }
}

/// Whether bf16 products were measured faster than f32 on CPUs like this one: what
/// `--precision auto` asks. Yes on AMX tiles (0.65x the f32 step on a 2-core Xeon) and
/// on AMD's AVX512-BF16 (0.65-0.77x on a 2-core EPYC); no on Intel's AVX512-BF16 without
/// AMX (1.64x the f32 step on that Xeon with `DECSCOPE_AMX=off`), nor without bf16 at
/// all. A rule by CPU, not a timing at start, so that a machine always takes one path
/// (docs/speed.md, "AMX tiles").
pub fn pays() -> bool {
    match kernel() {
        Some(Kernel::Amx) => true,
        Some(Kernel::Avx512Bf16) => !cpu_is_intel(),
        None => false,
    }
}

/// Whether CPUID's vendor string is `GenuineIntel`.
#[cfg(target_arch = "x86_64")]
fn cpu_is_intel() -> bool {
    let id = std::arch::x86_64::__cpuid(0);
    // The 12 bytes are EBX, EDX, ECX: "Genu" "ineI" "ntel".
    [id.ebx, id.edx, id.ecx] == [0x756e_6547, 0x4965_6e69, 0x6c65_746e]
}

#[cfg(not(target_arch = "x86_64"))]
fn cpu_is_intel() -> bool {
    false
}

/// The kernels this CPU can run (for tests and the bench to compare them).
pub fn kernels() -> Vec<Kernel> {
    [Kernel::Avx512Bf16, Kernel::Amx]
        .into_iter()
        .filter(|&k| runs(k))
        .collect()
}

/// Whether this CPU runs `kernel` (AMX is packed with the AVX512-BF16 instructions, so
/// it needs both).
fn runs(kernel: Kernel) -> bool {
    match kernel {
        Kernel::Avx512Bf16 => available(),
        Kernel::Amx => available() && amx::available(),
    }
}

/// Whether this CPU (and OS) runs the bf16 products: AVX512-F, -BW and -BF16, unless
/// the environment variable `DECSCOPE_BF16=off` says to act as a CPU without them (to
/// try or test the f32 fallback on a machine that has them).
pub fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(detect)
}

#[cfg(target_arch = "x86_64")]
fn detect() -> bool {
    std::env::var("DECSCOPE_BF16").map_or(true, |v| v != "off")
        && std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512bw")
        && std::arch::is_x86_feature_detected!("avx512bf16")
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> bool {
    false
}

/// Round an f32 to the nearest bf16 (ties to even), returned as f32: what the products
/// see of each operand. NaN stays NaN.
pub fn round_to_bf16(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    let bits = x.to_bits();
    let rounded = bits.wrapping_add(0x7fff + ((bits >> 16) & 1)) & 0xffff_0000;
    f32::from_bits(rounded)
}

/// `c = op(a) · op(b)` (or `c += ...`), as [`crate::engine::nn::linalg::matmul_on`] (same
/// shapes, transposes and use of threads), with the operands rounded to bf16 and the
/// sums in f32. Runs the f32 product where [`available`] is false.
///
/// # Panics
/// When a slice is shorter than its shape says (a programming error, never user data).
#[allow(clippy::too_many_arguments)]
pub fn matmul(
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
    match kernel() {
        Some(kernel) => {
            let p = Product {
                m,
                n,
                k,
                a,
                ta,
                b,
                tb,
            };
            matmul_with(kernel, threads, p, c, accumulate)
        }
        None => matmul_on(threads, m, n, k, a, ta, b, tb, c, accumulate),
    }
}

/// One product `c (+)= op(a) · op(b)`: `op(a)` is `m x k` (`a` is stored `k x m` when
/// `ta`), `op(b)` is `k x n` (`b` is stored `n x k` when `tb`).
#[derive(Clone, Copy, Debug)]
pub struct Product<'a> {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub a: &'a [f32],
    pub ta: bool,
    pub b: &'a [f32],
    pub tb: bool,
}

/// [`matmul`] on a chosen kernel, which must be one of [`kernels`].
///
/// # Panics
/// When a slice is shorter than its shape says, or the CPU lacks the kernel (both
/// programming errors, never user data).
pub fn matmul_with(kernel: Kernel, threads: Threads, p: Product, c: &mut [f32], accumulate: bool) {
    let Product {
        m,
        n,
        k,
        a,
        ta,
        b,
        tb,
    } = p;
    assert!(
        runs(kernel),
        "bf16 matmul: this CPU has no {}",
        kernel.name()
    );
    if m == 0 || n == 0 || k == 0 {
        matmul_on(threads, m, n, k, a, ta, b, tb, c, accumulate);
        return;
    }
    assert!(
        a.len() >= m * k,
        "bf16 matmul: lhs has {} < {m}x{k}",
        a.len()
    );
    assert!(
        b.len() >= k * n,
        "bf16 matmul: rhs has {} < {k}x{n}",
        b.len()
    );
    assert!(
        c.len() >= m * n,
        "bf16 matmul: dst has {} < {m}x{n}",
        c.len()
    );
    let parallel = match threads {
        Threads::Single => false,
        Threads::Auto | Threads::Rows => {
            m.saturating_mul(n).saturating_mul(k) >= PARALLEL_THRESHOLD
                && rayon::current_num_threads() > 1
        }
    };
    if kernel == Kernel::Amx {
        amx::matmul(parallel, p, c, accumulate);
        return;
    }
    let s = Shape { m, n, k, kq: 1 };
    // The thread's buffers are taken out for the product and put back after it: a
    // product started on this thread while it waits for the pool (rayon may run
    // another task here) gets fresh buffers instead of finding these borrowed.
    let mut packs = PACKS.take();
    {
        let (a_len, a_chunk) = if ta {
            (s.kp() * s.m_pad(), A_PAIRS * s.m_pad())
        } else {
            (s.m_pad() * s.kp(), A_ROWS * s.kp())
        };
        let ap = aligned(&mut packs.a, a_len);
        let bp = aligned(&mut packs.b, s.panels() * s.kp() * NR);
        // SAFETY (both closures): `available()` checked AVX512-F/BW/BF16 at run time;
        // the asserts above guarantee the slices hold the shapes.
        for_chunks(ap, a_chunk, parallel, |t, out| unsafe {
            pack_a(out, t, s, a, ta)
        });
        for_chunks(bp, s.kp() * NR, parallel, |t, out| unsafe {
            pack_b(out, t, s, b, tb)
        });
        let a_layout = if ta {
            Layout::PairMajor
        } else {
            Layout::RowMajor
        };
        run_tiles(parallel, s, ap, a_layout, bp, c, accumulate);
    }
    PACKS.set(packs);
}

#[derive(Clone, Copy, Debug)]
struct Shape {
    m: usize,
    n: usize,
    k: usize,
    /// Pairs of `k` are padded (with zeros) to a multiple of this: 1 for the
    /// AVX512-BF16 tiles, 16 for AMX's.
    kq: usize,
}

impl Shape {
    /// Pairs of `k`, padded to `kq`.
    fn kp(self) -> usize {
        self.k.div_ceil(2).next_multiple_of(self.kq)
    }
    /// Rows padded to whole tiles.
    fn m_pad(self) -> usize {
        self.m.div_ceil(MR) * MR
    }
    /// Column panels.
    fn panels(self) -> usize {
        self.n.div_ceil(NR)
    }
}

/// How packed A is laid out, as (row stride, pair stride) in 32-bit pairs.
#[derive(Clone, Copy, Debug)]
enum Layout {
    /// `pairs[i * kp + p]`: from A stored `m x k` (each row's pairs are adjacent).
    RowMajor,
    /// `pairs[p * m_pad + i]`: from A stored `k x m` (used transposed).
    PairMajor,
}

impl Layout {
    fn strides(self, s: Shape) -> (usize, usize) {
        match self {
            Layout::RowMajor => (s.kp(), 1),
            Layout::PairMajor => (1, s.m_pad()),
        }
    }
}

/// Rows of packed A per packing task (`RowMajor`).
const A_ROWS: usize = 32;
/// Pair rows of packed A per packing task (`PairMajor`).
const A_PAIRS: usize = 16;

/// Set the length of a packing buffer; its old contents are overwritten by the packers.
fn resize(buf: &mut Vec<u32>, len: usize) {
    if buf.len() != len {
        buf.clear();
        buf.resize(len, 0);
    }
}

/// `len` values of `buf` from a 64-byte boundary on (the buffer is resized to hold them).
///
/// Why: the kernels load the packed operands 64 bytes at a time (a register, or a tile
/// row); a load across two cache lines costs about twice one within a line. Measured on
/// the AMX tile loop: 0.85 TFLOP/s with the rows 16 bytes off a line, 2.2 TFLOP/s on it.
fn aligned(buf: &mut Vec<u32>, len: usize) -> &mut [u32] {
    resize(buf, len + 15);
    let off = buf.as_ptr().align_offset(64);
    &mut buf[off..off + len]
}

/// Run `f(t, chunk)` on each `size`-long chunk of `out`, on the pool when `parallel`.
fn for_chunks(out: &mut [u32], size: usize, parallel: bool, f: impl Fn(usize, &mut [u32]) + Sync) {
    if parallel {
        use rayon::prelude::*;
        out.par_chunks_mut(size)
            .enumerate()
            .for_each(|(t, c)| f(t, c));
    } else {
        out.chunks_mut(size).enumerate().for_each(|(t, c)| f(t, c));
    }
}

/// Packing buffers, reused by every product of a thread.
#[derive(Default)]
struct Packs {
    a: Vec<u32>,
    b: Vec<u32>,
}

thread_local! {
    static PACKS: std::cell::RefCell<Packs> = std::cell::RefCell::new(Packs::default());
}

/// Spread the row tiles over the threads and run them; each output's sum has one order.
fn run_tiles(
    parallel: bool,
    s: Shape,
    ap: &[u32],
    layout: Layout,
    bp: &[u32],
    c: &mut [f32],
    accumulate: bool,
) {
    let parts = if parallel {
        rayon::current_num_threads().max(1)
    } else {
        1
    };
    let rows = s.m.div_ceil(parts).div_ceil(MR) * MR;
    let c = &mut c[..s.m * s.n];
    if parts == 1 || rows >= s.m {
        tiles(s, 0, s.m, ap, layout, bp, c, accumulate);
        return;
    }
    use rayon::prelude::*;
    c.par_chunks_mut(rows * s.n)
        .enumerate()
        .for_each(|(t, cb)| {
            let i0 = t * rows;
            tiles(s, i0, cb.len() / s.n, ap, layout, bp, cb, accumulate);
        });
}

/// Rows `i0 .. i0 + rows` of `c` (`c` holds just those rows), every column, every `k`.
#[allow(clippy::too_many_arguments)]
fn tiles(
    s: Shape,
    i0: usize,
    rows: usize,
    ap: &[u32],
    layout: Layout,
    bp: &[u32],
    c: &mut [f32],
    accumulate: bool,
) {
    let (a_rs, a_cs) = layout.strides(s);
    let kp = s.kp();
    for pc in (0..kp).step_by(KC) {
        let kc = KC.min(kp - pc);
        for jp in 0..s.panels() {
            let cols = NR.min(s.n - jp * NR);
            let b_off = (jp * kp + pc) * NR;
            for ti in (0..rows).step_by(MR) {
                let tile_rows = MR.min(rows - ti);
                let a_off = (i0 + ti) * a_rs + pc * a_cs;
                let c_off = ti * s.n + jp * NR;
                // The last tile reads up to `MR` rows of A (padded) and `kc` pairs.
                let a_end = a_off + (MR - 1) * a_rs + (kc - 1) * a_cs + 1;
                assert!(a_end <= ap.len() && b_off + kc * NR <= bp.len());
                assert!(c_off + (tile_rows - 1) * s.n + cols <= c.len());
                #[cfg(target_arch = "x86_64")]
                // SAFETY: the asserts bound every read of `ap` / `bp` and every write
                // of `c`; `tiles` is only reached when `available()` is true.
                unsafe {
                    tile(
                        kc,
                        ap.as_ptr().add(a_off),
                        a_rs,
                        a_cs,
                        bp.as_ptr().add(b_off),
                        c.as_mut_ptr().add(c_off),
                        s.n,
                        tile_rows,
                        cols,
                        accumulate || pc > 0,
                    );
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{A_PAIRS, A_ROWS, MR, NR, Shape};

    /// Mask of the first `n` (≤ 16) lanes.
    fn lanes(n: usize) -> __mmask16 {
        if n >= 16 { 0xffff } else { (1u16 << n) - 1 }
    }

    /// 16 f32 from `src[..n]` (n ≤ 16), zeros after.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn load16(src: *const f32, n: usize) -> __m512 {
        // SAFETY: masked lanes are not read; the caller guarantees `n` readable values.
        unsafe { _mm512_maskz_loadu_ps(lanes(n), src) }
    }

    /// Round `lo` (elements 0..16) and `hi` (16..32) to bf16, in element order: as 16
    /// pairs, pair `j` holds elements `2j` (low half) and `2j + 1`.
    #[target_feature(enable = "avx512f,avx512bf16")]
    pub(super) fn to_pairs(lo: __m512, hi: __m512) -> __m512i {
        // dst.word[i] = i < 16 ? bf16(b[i]) : bf16(a[i - 16]) for cvtne2ps(a, b).
        let bh = _mm512_cvtne2ps_pbh(hi, lo);
        // SAFETY: both are 512 plain bits.
        unsafe { std::mem::transmute::<__m512bh, __m512i>(bh) }
    }

    /// Round two 16-value rows `r0`, `r1` to bf16 and interleave them: pair `j` is
    /// (r0[j], r1[j]).
    #[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
    pub(super) fn interleave(r0: __m512, r1: __m512) -> __m512i {
        // After to_pairs(r0, r1) word i is r0[i] (i < 16) or r1[i - 16]; gather words
        // 0, 16, 1, 17, ... so that pair j = (r0[j], r1[j]).
        let idx = _mm512_set_epi16(
            31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21, 5, 20,
            4, 19, 3, 18, 2, 17, 1, 16, 0,
        );
        _mm512_permutexvar_epi16(idx, to_pairs(r0, r1))
    }

    /// Store the first `n` (≤ 16) pairs of `v` at `dst`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn store_pairs(dst: *mut u32, v: __m512i, n: usize) {
        // SAFETY: masked lanes are not written; the caller guarantees `n` slots.
        unsafe { _mm512_mask_storeu_epi32(dst.cast(), lanes(n), v) }
    }

    /// Row `row` (`len` values) as `len.div_ceil(2)` pairs at `dst`.
    #[target_feature(enable = "avx512f,avx512bf16")]
    pub(super) unsafe fn row_to_pairs(row: &[f32], dst: *mut u32) {
        let len = row.len();
        for c0 in (0..len).step_by(32) {
            let n = len - c0;
            // SAFETY: `load16` reads `min(n, 16)` values from `c0` on, and the rest
            // from `c0 + 16` when n > 16; `dst` holds `len.div_ceil(2)` pairs.
            unsafe {
                let lo = load16(row.as_ptr().add(c0), n.min(16));
                let hi = if n > 16 {
                    load16(row.as_ptr().add(c0 + 16), (n - 16).min(16))
                } else {
                    _mm512_setzero_ps()
                };
                store_pairs(dst.add(c0 / 2), to_pairs(lo, hi), n.div_ceil(2).min(16));
            }
        }
    }

    /// Pairs of two rows of `len` values (`r1` may be absent: zeros) into `dst[..len]`.
    #[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
    unsafe fn rows_to_pairs(r0: &[f32], r1: Option<&[f32]>, dst: *mut u32) {
        let len = r0.len();
        for c0 in (0..len).step_by(16) {
            let n = (len - c0).min(16);
            // SAFETY: reads `n` values of each row from `c0`, writes `n` pairs.
            unsafe {
                let v0 = load16(r0.as_ptr().add(c0), n);
                let v1 = match r1 {
                    Some(r1) => load16(r1.as_ptr().add(c0), n),
                    None => _mm512_setzero_ps(),
                };
                store_pairs(dst.add(c0), interleave(v0, v1), n);
            }
        }
    }

    /// Pack part of A (`m x k`, or `k x m` when `ta`) as pairs along `k`, rows padded
    /// to `MR` with zeros. `out` is task `t`'s chunk: [`A_ROWS`] rows (`RowMajor`) or
    /// [`A_PAIRS`] pair rows (`PairMajor`) of the packed matrix.
    ///
    /// # Safety
    /// AVX512-F/BW/BF16 must be present; `a` holds `m * k` values.
    #[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
    pub(super) unsafe fn pack_a(out: &mut [u32], t: usize, s: Shape, a: &[f32], ta: bool) {
        let kp = s.kp();
        if !ta {
            // RowMajor: pairs[i * kp + p]; rows past m stay zero.
            for (r, dst) in out.chunks_exact_mut(kp).enumerate() {
                let i = t * A_ROWS + r;
                if i < s.m {
                    // SAFETY: `dst` holds row i's kp pairs.
                    unsafe { row_to_pairs(&a[i * s.k..(i + 1) * s.k], dst.as_mut_ptr()) };
                } else {
                    dst.fill(0);
                }
            }
            return;
        }
        // PairMajor: pairs[p * m_pad + i] = (a[2p][i], a[2p + 1][i]).
        for (r, dst) in out.chunks_exact_mut(s.m_pad()).enumerate() {
            let p = t * A_PAIRS + r;
            let r0 = &a[2 * p * s.m..(2 * p + 1) * s.m];
            let r1 = (2 * p + 1 < s.k).then(|| &a[(2 * p + 1) * s.m..(2 * p + 2) * s.m]);
            // SAFETY: `dst` holds m_pad pairs; the first m are written here.
            unsafe { rows_to_pairs(r0, r1, dst.as_mut_ptr()) };
            dst[s.m..].fill(0);
        }
    }

    /// Pack panel `panel` of B (`k x n`, or `n x k` when `tb`) into `out` (`kp * NR`
    /// pairs): `out[p * NR + j] = (B[2p][j0 + j], B[2p + 1][j0 + j])`, zero-padded.
    ///
    /// # Safety
    /// AVX512-F/BW/BF16 must be present; `b` holds `k * n` values.
    #[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
    pub(super) unsafe fn pack_b(out: &mut [u32], panel: usize, s: Shape, b: &[f32], tb: bool) {
        let (j0, j1) = (panel * NR, (panel * NR + NR).min(s.n));
        if j1 - j0 < NR {
            out.fill(0);
        } else {
            // Pair rows past `k` (padding to `kq`) are zero.
            out[s.k.div_ceil(2) * NR..].fill(0);
        }
        if tb {
            // Column j of op(b) is row j of `b`: its pairs are adjacent there.
            // SAFETY: as this function's.
            unsafe { super::transpose::pack_b_transposed(out, j0, j1, s, b) };
            return;
        }
        for (p, dst) in out.chunks_exact_mut(NR).take(s.k.div_ceil(2)).enumerate() {
            let r0 = &b[2 * p * s.n + j0..2 * p * s.n + j1];
            let r1 = (2 * p + 1 < s.k).then(|| &b[(2 * p + 1) * s.n + j0..(2 * p + 1) * s.n + j1]);
            // SAFETY: `dst` holds NR >= j1 - j0 pairs.
            unsafe { rows_to_pairs(r0, r1, dst.as_mut_ptr()) };
        }
    }

    /// One `MR x NR` tile over `kc` pairs: `c[r][j] (+)= Σₚ A-pair(r, p) · B-pair(p, j)`
    /// for `r < rows`, `j < cols`.
    ///
    /// # Safety
    /// AVX512-F/BF16 present; `a` readable at `r * a_rs + p * a_cs` for r < MR, p < kc;
    /// `b` at `p * NR + j`; `c` writable at `r * ldc + j` for r < rows, j < cols.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f,avx512bf16")]
    pub(super) unsafe fn tile(
        kc: usize,
        a: *const u32,
        a_rs: usize,
        a_cs: usize,
        b: *const u32,
        c: *mut f32,
        ldc: usize,
        rows: usize,
        cols: usize,
        load_c: bool,
    ) {
        let masks = [lanes(cols), lanes(cols.saturating_sub(16))];
        let mut acc = [_mm512_setzero_ps(); 2 * MR];
        if load_c {
            for r in 0..rows {
                for h in 0..2 {
                    // SAFETY: masked lanes beyond `cols` are not read.
                    acc[2 * r + h] =
                        unsafe { _mm512_maskz_loadu_ps(masks[h], c.add(r * ldc + 16 * h)) };
                }
            }
        }
        for p in 0..kc {
            // SAFETY: within the bounds the caller guarantees.
            unsafe {
                let b0: __m512bh = std::mem::transmute(_mm512_loadu_si512(b.add(p * NR).cast()));
                let b1: __m512bh =
                    std::mem::transmute(_mm512_loadu_si512(b.add(p * NR + 16).cast()));
                for r in 0..MR {
                    let pair = *a.add(r * a_rs + p * a_cs) as i32;
                    let av: __m512bh = std::mem::transmute(_mm512_set1_epi32(pair));
                    acc[2 * r] = _mm512_dpbf16_ps(acc[2 * r], av, b0);
                    acc[2 * r + 1] = _mm512_dpbf16_ps(acc[2 * r + 1], av, b1);
                }
            }
        }
        for r in 0..rows {
            for h in 0..2 {
                // SAFETY: masked lanes beyond `cols` are not written.
                unsafe { _mm512_mask_storeu_ps(c.add(r * ldc + 16 * h), masks[h], acc[2 * r + h]) };
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
use x86::{pack_a, pack_b, row_to_pairs, tile};

mod amx;
mod transpose;

#[cfg(test)]
mod tests;
