//! The bf16 products on Intel's AMX tile units (`tdpbf16ps`), chosen at run time beside
//! the AVX512-BF16 kernel of [`super`] where the CPU and the OS have them.
//!
//! Why: one `tdpbf16ps` multiplies a 16 x 32 bf16 tile by a 32 x 16 one into 16 x 16 f32
//! sums, 8,192 multiply-adds, where one `vdpbf16ps` does 32. On this project's 2-core
//! Xeon with AMX, `decscope bench` measures the product of the autoencoder's largest
//! layer at several times the AVX512-BF16 kernel's rate (docs/speed.md has the figures).
//!
//! # The maths
//! The operands are the same bf16 values (rounded to nearest even by the same packing)
//! and the sums are f32: for each output, `tdpbf16ps` adds `a[i][2p]·b[2p][j]` and then
//! `a[i][2p+1]·b[2p+1][j]` for the 16 pairs `p` of a tile, in order, and the tiles of `k`
//! in order. So the bound of [`super`] holds unchanged; the order of the sums differs
//! from the AVX512-BF16 kernel's, so the two agree within that bound, not bit for bit.
//! Each output is summed by one thread in one order: same inputs, same result, whatever
//! the number of threads.
//!
//! # The layout
//! A tile register holds 16 rows of 64 bytes. A block of 32 x 32 outputs keeps four f32
//! tiles of sums (`tmm0..3`); each step of 16 pairs of `k` loads two tiles of A (rows
//! 0-15 and 16-31, 16 pairs each: `tmm4`, `tmm5`) and two of B (16 pair rows of columns
//! 0-15 and 16-31: `tmm6`, `tmm7`) and issues four `tdpbf16ps`.
//! - A is packed by strips of 32 rows and steps of 16 pairs, each (strip, step) block
//!   2 KiB: rows 0-15 128 bytes apart and rows 16-31 64 bytes after them, so both A
//!   tiles of a step load from one block with B's stride, and the steps follow each
//!   other.
//! - B is the AVX512-BF16 kernel's packing (32-column panels of pairs, 128 bytes a pair
//!   row), with the pair rows padded to 16 with zeros; the panels follow each other, so
//!   the next panel starts where the last step of one ends.
//! - Rows of A are padded to 32 and columns of B to 32 with zeros. Blocks inside C are
//!   stored into C itself (and, to add to C, start from C's values); blocks cut by C's
//!   edge go through a scratch block.
//!
//! # The OS and the compiler
//! Linux gives a process the tiles' 8 KiB of state only on request
//! (`arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)`, made once in [`available`]);
//! without it the first tile instruction faults. Rust has no stable AMX intrinsics or
//! target feature (rust-lang/rust#126622), so the kernel is inline assembly, which the
//! assembler takes without one. Each assembly block loads the tile configuration and
//! releases the tiles at its end, so no tile state lives outside it and the compiler's
//! registers are untouched.

use std::sync::OnceLock;

/// Rows of one strip of A (two tiles).
const STRIP: usize = 32;
/// Pairs of `k` per step (one tile row of 64 bytes).
const STEP: usize = 16;
/// Pairs in one (strip, step) block of packed A.
const BLOCK: usize = STRIP * STEP;
/// Columns of one panel of B (two tiles): the AVX512-BF16 kernel's `NR`.
const PANEL: usize = super::NR;

/// Whether this CPU and OS run AMX bf16 tiles: CPUID says AMX-TILE and AMX-BF16, and
/// Linux granted the tile state, unless `DECSCOPE_AMX=off` says to act as a CPU without
/// them (the AVX512-BF16 kernel then runs the products, where the CPU has it).
pub fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE
        .get_or_init(|| std::env::var("DECSCOPE_AMX").map_or(true, |v| v != "off") && detect())
}

/// Whether CPUID lists AMX-TILE and AMX-BF16 (leaf 7, EDX bits 24 and 22), whatever
/// the OS allows and the environment says: what `/proc/cpuinfo` calls `amx_tile` and
/// `amx_bf16`.
#[cfg(target_arch = "x86_64")]
pub fn cpu_has_amx() -> bool {
    use std::arch::x86_64::__cpuid_count;
    // Leaf 7 is read only where leaf 0 says it exists.
    if __cpuid_count(0, 0).eax < 7 {
        return false;
    }
    let edx = __cpuid_count(7, 0).edx;
    edx & (1 << 24) != 0 && edx & (1 << 22) != 0
}

#[cfg(not(target_arch = "x86_64"))]
pub fn cpu_has_amx() -> bool {
    false
}

/// CPUID, then the kernel's grant of the tile data state (Linux 5.16 and later).
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn detect() -> bool {
    if !cpu_has_amx() {
        return false;
    }
    const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
    const XFEATURE_XTILEDATA: libc::c_long = 18;
    // SAFETY: a plain system call with two integer arguments; it changes only which
    // register state this process may use.
    let status = unsafe {
        libc::syscall(
            libc::SYS_arch_prctl,
            ARCH_REQ_XCOMP_PERM,
            XFEATURE_XTILEDATA,
        )
    };
    status == 0
}

/// Elsewhere the tiles stay unused (no way to ask for their state is written here).
#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn detect() -> bool {
    false
}

/// The padded sizes of one product.
#[derive(Clone, Copy, Debug)]
struct Dims {
    m: usize,
    n: usize,
    k: usize,
}

impl Dims {
    /// Strips of 32 rows.
    fn strips(self) -> usize {
        self.m.div_ceil(STRIP)
    }
    /// Steps of 16 pairs of `k`.
    fn steps(self) -> usize {
        self.k.div_ceil(2).div_ceil(STEP)
    }
    /// Panels of 32 columns.
    fn panels(self) -> usize {
        self.n.div_ceil(PANEL)
    }
    /// The AVX512-BF16 kernel's shape for packing B, pair rows padded to a step.
    fn b_shape(self) -> super::Shape {
        super::Shape {
            m: self.m,
            n: self.n,
            k: self.k,
            kq: STEP,
        }
    }
}

/// [`super::matmul`]'s product on AMX tiles (shapes and transposes as there); `parallel`
/// spreads the strips over the pool. The caller checked [`available`] and the lengths.
pub(super) fn matmul(parallel: bool, p: super::Product, c: &mut [f32], accumulate: bool) {
    assert!(available(), "AMX matmul without AMX");
    let super::Product {
        m,
        n,
        k,
        a,
        ta,
        b,
        tb,
    } = p;
    let d = Dims { m, n, k };
    // The AVX512-BF16 kernel's packing buffers, taken out and put back as there.
    let mut buf = super::PACKS.take();
    let ap = super::aligned(&mut buf.a, d.strips() * d.steps() * BLOCK);
    let bp = super::aligned(&mut buf.b, d.panels() * d.steps() * STEP * PANEL);
    let bs = d.b_shape();
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY (both closures): AVX512-F/BW/BF16 were checked by the caller (AMX is
        // only chosen among the kernels where they are present); the caller's asserts
        // guarantee `a` and `b` hold their shapes.
        super::for_chunks(ap, d.steps() * BLOCK, parallel, |t, out| unsafe {
            pack_strip(out, t, d, a, ta)
        });
        super::for_chunks(bp, bs.kp() * PANEL, parallel, |t, out| unsafe {
            super::pack_b(out, t, bs, b, tb)
        });
    }
    run_strips(parallel, d, ap, bp, c, accumulate);
    super::PACKS.set(buf);
}

/// Pack strip `t` of A (rows `32t .. 32t + 32`) into `out`: block `s` (pairs `16s ..
/// 16s + 16`) holds, for each of the 32 rows, its 16 pairs; pairs past `k` are zero,
/// rows past `m` are left as they are (see [`zero_padding`]).
///
/// # Safety
/// AVX512-F/BW/BF16 must be present; `a` holds `m * k` values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
unsafe fn pack_strip(out: &mut [u32], t: usize, d: Dims, a: &[f32], ta: bool) {
    let (i0, i1) = (t * STRIP, (t * STRIP + STRIP).min(d.m));
    if ta {
        // SAFETY: as this function's.
        return unsafe { pack_transposed(out, i0, i1, d, a) };
    }
    // The last step's pairs past `k` stay unwritten below: zero them first.
    zero_padding(out, d);
    let at = |p: usize, r: usize| (p / STEP) * BLOCK + row_at(r) + p % STEP;
    // Row i's values 32s .. 32s + 32 are its pairs of step s.
    for i in i0..i1 {
        let row = &a[i * d.k..(i + 1) * d.k];
        for (s, chunk) in row.chunks(2 * STEP).enumerate() {
            // SAFETY: writes chunk.len().div_ceil(2) <= 16 pairs into the block row,
            // which has 16 (`at` of its first pair).
            unsafe { super::row_to_pairs(chunk, out.as_mut_ptr().add(at(s * STEP, i - i0))) };
        }
    }
}

/// Strip rows `i0 .. i1` of A stored `k x m` (used transposed): pair (i, p) is
/// (a[2p][i], a[2p + 1][i]). For each step and each half of the strip (16 rows), one
/// vector per pair of the step holds that pair of the 16 rows (rows 2p and 2p + 1
/// interleaved), and a 16 x 16 transpose ([`super::transpose`]) turns them into one
/// vector per row: 16 stores of 64 bytes where placing each pair alone took 256.
///
/// # Safety
/// AVX512-F/BW/BF16 must be present; `a` holds `m * k` values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
unsafe fn pack_transposed(out: &mut [u32], i0: usize, i1: usize, d: Dims, a: &[f32]) {
    use super::x86::{interleave, load16};
    use std::arch::x86_64::{
        __m512i, _mm512_setzero_ps, _mm512_setzero_si512, _mm512_storeu_si512,
    };
    let kp = d.k.div_ceil(2);
    for s in 0..d.steps() {
        for r0 in (i0..i1).step_by(16) {
            let n = (i1 - r0).min(16);
            let mut v = [_mm512_setzero_si512(); 16];
            for (q, vq) in v.iter_mut().enumerate().take(kp.saturating_sub(s * STEP)) {
                let p = s * STEP + q;
                let row = |t: usize| &a[t * d.m + r0..t * d.m + r0 + n];
                // SAFETY: each load reads the `n` values of its row slice.
                let (x, y) = unsafe {
                    let x = load16(row(2 * p).as_ptr(), n);
                    let y = if 2 * p + 1 < d.k {
                        load16(row(2 * p + 1).as_ptr(), n)
                    } else {
                        _mm512_setzero_ps()
                    };
                    (x, y)
                };
                *vq = interleave(x, y);
            }
            super::transpose::transpose16(&mut v);
            for (r, vr) in v.iter().take(n).enumerate() {
                let at = s * BLOCK + row_at(r0 - i0 + r);
                let dst: &mut [u32] = &mut out[at..at + STEP];
                // SAFETY: `dst` holds the 16 pairs (64 bytes) the store writes.
                unsafe { _mm512_storeu_si512(dst.as_mut_ptr().cast::<__m512i>(), *vr) };
            }
        }
    }
}

/// Where row `r` (< 32) of a packed block starts: rows 0-15 at 128-byte steps, rows
/// 16-31 64 bytes after them, so that both tiles load with B's stride (one register
/// fewer in the kernel).
fn row_at(r: usize) -> usize {
    (r % 16) * 2 * STEP + (r / 16) * STEP
}

/// Zero the pairs past `k` that the packing of a strip leaves unwritten: the last
/// block, where `k`'s pairs end inside it. A stale value there (from an earlier product
/// in the reused buffer) would meet B's zero padding, and an infinity times zero is NaN.
/// Rows past `m` are left as they are: a row of A reaches only its own row of C, and
/// those rows are never copied out. (Clearing the whole strip first showed as 5% of a
/// bf16 step.)
fn zero_padding(out: &mut [u32], d: Dims) {
    if !d.k.div_ceil(2).is_multiple_of(STEP) {
        let last = (d.steps() - 1) * BLOCK;
        out[last..last + BLOCK].fill(0);
    }
}

/// Every strip against every panel, into `c` (spread over the pool when `parallel`).
fn run_strips(parallel: bool, d: Dims, ap: &[u32], bp: &[u32], c: &mut [f32], accumulate: bool) {
    let parts = if parallel {
        rayon::current_num_threads().max(1)
    } else {
        1
    };
    // Whole strips per part.
    let rows = d.strips().div_ceil(parts) * STRIP;
    let c = &mut c[..d.m * d.n];
    let task = |t: usize, cp: &mut [f32]| {
        let strips = (cp.len() / d.n).div_ceil(STRIP);
        let first = t * rows / STRIP;
        let a_part = &ap[first * d.steps() * BLOCK..(first + strips) * d.steps() * BLOCK];
        part(d, a_part, bp, cp, accumulate);
    };
    if parts == 1 || rows >= d.m {
        task(0, c);
        return;
    }
    use rayon::prelude::*;
    c.par_chunks_mut(rows * d.n)
        .enumerate()
        .for_each(|(t, cp)| task(t, cp));
}

/// Rows `cp` of C (whole strips, the last maybe cut at `m`) against every panel: blocks
/// inside C are written in place (their old values first loaded as the start of the
/// sums when `accumulate`), blocks cut by C's edge go through a scratch block.
fn part(d: Dims, a_part: &[u32], bp: &[u32], cp: &mut [f32], accumulate: bool) {
    let rows = cp.len() / d.n;
    let whole = rows / STRIP;
    let panel = d.steps() * STEP * PANEL;
    // Rows of 32 scratch columns for the blocks cut by C's edge.
    let mut scratch = Vec::new();
    for (j, b_panel) in bp.chunks_exact(panel).enumerate() {
        let (j0, cols) = (j * PANEL, PANEL.min(d.n - j * PANEL));
        let direct = if cols == PANEL { whole } else { 0 };
        if direct > 0 {
            // SAFETY: `direct` whole strips of `a_part`; `cp` holds their 32·direct rows
            // of `n` columns, of which columns j0 .. j0 + 32 are read and written.
            unsafe {
                blocks(
                    a_part,
                    b_panel,
                    d.steps(),
                    direct,
                    &mut cp[j0..],
                    d.n,
                    accumulate,
                )
            };
        }
        let rest = rows.div_ceil(STRIP) - direct;
        if rest == 0 {
            continue;
        }
        // The strips from `direct` on, through the scratch: C's part in, sums, back.
        let r0 = direct * STRIP;
        // Not cleared: without `accumulate` the kernel does not read it, and with it
        // only the copied part reaches C (what else it holds meets padded rows and
        // columns, never copied out).
        if scratch.len() < rest * STRIP * PANEL {
            scratch.resize(rest * STRIP * PANEL, 0.0);
        }
        for r in r0..rows {
            let s = &mut scratch[(r - r0) * PANEL..(r - r0) * PANEL + cols];
            if accumulate {
                s.copy_from_slice(&cp[r * d.n + j0..r * d.n + j0 + cols]);
            }
        }
        let a_rest = &a_part[direct * d.steps() * BLOCK..];
        // SAFETY: `rest` strips of `a_rest`; `scratch` holds 32·rest rows of 32.
        unsafe {
            blocks(
                a_rest,
                b_panel,
                d.steps(),
                rest,
                &mut scratch,
                PANEL,
                accumulate,
            )
        };
        for r in r0..rows {
            let s = &scratch[(r - r0) * PANEL..(r - r0) * PANEL + cols];
            cp[r * d.n + j0..r * d.n + j0 + cols].copy_from_slice(s);
        }
    }
}

/// The tile palette: palette 1, eight tiles of 16 rows x 64 bytes.
#[cfg(target_arch = "x86_64")]
#[repr(C, align(64))]
struct Palette {
    palette: u8,
    start_row: u8,
    reserved: [u8; 14],
    colsb: [u16; 16],
    rows: [u8; 16],
}

#[cfg(target_arch = "x86_64")]
static PALETTE: Palette = Palette {
    palette: 1,
    start_row: 0,
    reserved: [0; 14],
    colsb: [64, 64, 64, 64, 64, 64, 64, 64, 0, 0, 0, 0, 0, 0, 0, 0],
    rows: [16, 16, 16, 16, 16, 16, 16, 16, 0, 0, 0, 0, 0, 0, 0, 0],
};

/// One panel of B against `strips` strips of A into 32-row, 32-column blocks of `c`
/// (rows `ld` f32 apart): `c[32s + r][j] (+)= Σ over steps of A-block(s, r) ·
/// B-panel(j)` for each strip `s`, its 32 rows `r` and the panel's 32 columns `j`; `+=`
/// when `load` (the sums start from C's values), `=` otherwise. The panel (steps x 2 KiB)
/// is reused by every strip.
///
/// # Safety
/// `a` holds `strips x steps` blocks of 2 KiB, `b` `steps` x 16 pair rows of 128 bytes,
/// and `c` 32·`strips` rows of `ld` f32 whose first 32 are read and written; [`available`]
/// (checked by this function, which panics without it).
#[cfg(target_arch = "x86_64")]
unsafe fn blocks(
    a: &[u32],
    b: &[u32],
    steps: usize,
    strips: usize,
    c: &mut [f32],
    ld: usize,
    load: bool,
) {
    assert!(available() && steps > 0 && strips > 0 && ld >= PANEL);
    assert!(a.len() >= strips * steps * BLOCK && b.len() >= steps * STEP * PANEL);
    assert!(c.len() >= (STRIP * strips - 1) * ld + PANEL);
    let ldc = ld * 4;
    // SAFETY: the loads read `strips x steps` blocks of `a` (16 rows of 64 bytes at +0
    // and +64, stride 128), for each strip the `steps` steps of `b` (16 rows of 64
    // bytes at +0 and +64, stride 128), and (when `load`) the blocks of `c` that are
    // then stored: 32 rows of 128 bytes per strip, stride `ldc`. All within the lengths
    // asserted above. No stack is used; the flags are clobbered (the default); the
    // tiles are configured at the start and released at the end.
    unsafe {
        std::arch::asm!(
            "ldtilecfg [{a}]",
            "mov {a}, {a0}",
            "3:",
            "test {load}, {load}",
            "jz 4f",
            "tileloadd tmm0, [{c} + {ldc}*1]",
            "tileloadd tmm1, [{c} + {ldc}*1 + 64]",
            "tileloadd tmm2, [{c16} + {ldc}*1]",
            "tileloadd tmm3, [{c16} + {ldc}*1 + 64]",
            "jmp 5f",
            "4:",
            "tilezero tmm0",
            "tilezero tmm1",
            "tilezero tmm2",
            "tilezero tmm3",
            "5:",
            "mov {b}, {b0}",
            "mov {cnt}, {steps}",
            "2:",
            "tileloadd tmm4, [{a} + {ld128}*1]",
            "tileloadd tmm5, [{a} + {ld128}*1 + 64]",
            "tileloadd tmm6, [{b} + {ld128}*1]",
            "tileloadd tmm7, [{b} + {ld128}*1 + 64]",
            "tdpbf16ps tmm0, tmm4, tmm6",
            "tdpbf16ps tmm1, tmm4, tmm7",
            "tdpbf16ps tmm2, tmm5, tmm6",
            "tdpbf16ps tmm3, tmm5, tmm7",
            "add {a}, 2048",
            "add {b}, 2048",
            "dec {cnt}",
            "jnz 2b",
            "tilestored [{c} + {ldc}*1], tmm0",
            "tilestored [{c} + {ldc}*1 + 64], tmm1",
            "tilestored [{c16} + {ldc}*1], tmm2",
            "tilestored [{c16} + {ldc}*1 + 64], tmm3",
            // Next strip: 32 rows down.
            "mov {cnt}, {ldc}",
            "shl {cnt}, 5",
            "add {c}, {cnt}",
            "add {c16}, {cnt}",
            "dec {strips}",
            "jnz 3b",
            "tilerelease",
            a = inout(reg) &PALETTE as *const Palette => _,
            a0 = in(reg) a.as_ptr(),
            b = out(reg) _,
            b0 = in(reg) b.as_ptr(),
            ld128 = in(reg) PANEL * 4,
            cnt = out(reg) _,
            steps = in(reg) steps,
            strips = inout(reg) strips => _,
            c = inout(reg) c.as_mut_ptr() => _,
            c16 = inout(reg) c.as_mut_ptr().byte_add(16 * ldc) => _,
            ldc = in(reg) ldc,
            load = in(reg) u64::from(load),
            options(nostack),
        );
    }
}
