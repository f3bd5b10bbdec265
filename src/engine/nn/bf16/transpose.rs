//! Packing by 16 x 16 transposes of bf16 pairs, for the operands whose pairs lie the
//! other way in memory: B used transposed (both kernels) and A used transposed (AMX).
//!
//! Why: a kernel wants, side by side, the pairs of 16 rows (or columns) at one position
//! of `k`; stored transposed, each row holds its own pairs side by side instead. Placing
//! each 32-bit pair alone took 256 scalar stores per 16 x 16 block; converting 16 rows,
//! transposing them in registers and storing 16 vectors does it with 16 (measured on a
//! bf16 step on AMX: the packing of A fell from 7% to 4% of the step, of B from 15% to
//! 11%).

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{_mm512_setzero_ps, _mm512_setzero_si512};

#[cfg(target_arch = "x86_64")]
use super::x86::{load16, store_pairs, to_pairs};
use super::{NR, Shape};

/// Transpose 16 vectors of 16 32-bit lanes: lane `j` of vector `i` goes to lane `i` of
/// vector `j` (pairs within 128-bit lanes, then 64-bit halves, then 128-bit lanes
/// twice; the product tests check every packing that uses it against scalar sums).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(super) fn transpose16(r: &mut [std::arch::x86_64::__m512i; 16]) {
    use std::arch::x86_64::*;
    let mut t = [_mm512_setzero_si512(); 16];
    for i in 0..8 {
        t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    for i in 0..4 {
        r[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
        r[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
        r[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
        r[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    for i in 0..2 {
        for j in 0..4 {
            t[8 * i + j] = _mm512_shuffle_i32x4::<0x88>(r[8 * i + j], r[8 * i + j + 4]);
            t[8 * i + j + 4] = _mm512_shuffle_i32x4::<0xdd>(r[8 * i + j], r[8 * i + j + 4]);
        }
    }
    for j in 0..8 {
        r[j] = _mm512_shuffle_i32x4::<0x88>(t[j], t[j + 8]);
        r[j + 8] = _mm512_shuffle_i32x4::<0xdd>(t[j], t[j + 8]);
    }
}

/// Pack columns `j0 .. j1` (at most [`NR`]) of op(B) = `b`ᵀ, `b` stored `n x k`, into a
/// panel: `out[p * NR + j - j0] = (b[j][2p], b[j][2p + 1])` for every pair `p` of `k`
/// (the last one's second half 0 when `k` is odd). Other slots are left as they are.
///
/// # Safety
/// AVX512-F/BW/BF16 must be present; `b` holds `n * k` values, `out` `kp * NR` pairs.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
pub(super) unsafe fn pack_b_transposed(out: &mut [u32], j0: usize, j1: usize, s: Shape, b: &[f32]) {
    let kp = s.k.div_ceil(2);
    for h0 in (j0..j1).step_by(16) {
        let cols = (j1 - h0).min(16);
        for c0 in (0..kp).step_by(16) {
            // Vector jj: the pairs c0 .. c0 + 16 of column h0 + jj, converted.
            let mut v = [_mm512_setzero_si512(); 16];
            for (jj, vj) in v.iter_mut().enumerate().take(cols) {
                let row = &b[(h0 + jj) * s.k..(h0 + jj + 1) * s.k];
                let vals = &row[2 * c0..(2 * c0 + 32).min(s.k)];
                let n = vals.len();
                // SAFETY: each load reads at most the `n` values of `vals`.
                let (lo, hi) = unsafe {
                    let lo = load16(vals.as_ptr(), n.min(16));
                    let hi = if n > 16 {
                        load16(vals.as_ptr().add(16), n - 16)
                    } else {
                        _mm512_setzero_ps()
                    };
                    (lo, hi)
                };
                *vj = to_pairs(lo, hi);
            }
            transpose16(&mut v);
            // Vector q: pair c0 + q of the 16 columns.
            for (q, vq) in v.iter().take((kp - c0).min(16)).enumerate() {
                let at = (c0 + q) * NR + h0 - j0;
                let dst: &mut [u32] = &mut out[at..at + cols];
                // SAFETY: `dst` holds the `cols` pairs the masked store writes.
                unsafe { store_pairs(dst.as_mut_ptr(), *vq, cols) };
            }
        }
    }
}
