//! Orthogonal Procrustes alignment of consecutive 2-D layouts.
//!
//! Why: t-SNE is invariant to rotation, reflection, scale and shift; without aligning,
//! the live picture would spin or flip between snapshots.

/// Rotate/reflect, scale and shift `cur` (`n x 2`) onto `prev` in the least-squares
/// sense (orthogonal Procrustes), so consecutive layouts keep their orientation.
pub fn procrustes_align(prev: &[f32], cur: &mut [f32]) {
    let n = cur.len() / 2;
    if n == 0 || prev.len() != cur.len() {
        return;
    }
    let mean = |v: &[f32]| {
        let (sx, sy) = v.chunks_exact(2).fold((0.0f64, 0.0f64), |(a, b), p| {
            (a + p[0] as f64, b + p[1] as f64)
        });
        (sx / n as f64, sy / n as f64)
    };
    let (pmx, pmy) = mean(prev);
    let (cmx, cmy) = mean(cur);
    // Cross-covariance M = Cᵀ P (2x2).
    let (mut a, mut b, mut c, mut d, mut cn) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
    for (p, q) in prev.chunks_exact(2).zip(cur.chunks_exact(2)) {
        let (px, py) = (p[0] as f64 - pmx, p[1] as f64 - pmy);
        let (qx, qy) = (q[0] as f64 - cmx, q[1] as f64 - cmy);
        a += qx * px;
        b += qx * py;
        c += qy * px;
        d += qy * py;
        cn += qx * qx + qy * qy;
    }
    if cn <= 0.0 {
        return;
    }
    // Best rotation (det +1) and best reflection (det -1): pick the larger trace.
    let rot_angle = (b - c).atan2(a + d);
    let rot_trace = (a + d).hypot(b - c);
    let ref_angle = (b + c).atan2(a - d);
    let ref_trace = (a - d).hypot(b + c);
    let (r00, r01, r10, r11, trace) = if rot_trace >= ref_trace {
        let (s, co) = rot_angle.sin_cos();
        (co, s, -s, co, rot_trace)
    } else {
        let (s, co) = ref_angle.sin_cos();
        (co, s, s, -co, ref_trace)
    };
    let scale = trace / cn;
    for q in cur.chunks_exact_mut(2) {
        let (qx, qy) = (q[0] as f64 - cmx, q[1] as f64 - cmy);
        q[0] = (scale * (qx * r00 + qy * r10) + pmx) as f32;
        q[1] = (scale * (qx * r01 + qy * r11) + pmy) as f32;
    }
}
