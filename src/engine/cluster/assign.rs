//! Student's t soft assignment Q of DEC (eq. 1), its target distribution P (eq. 3),
//! and the hard labels read from Q.
//!
//! Why a file of its own: every part of decscope that asks "which cluster is this
//! sample in" (DEC's loop, the constraints' loss, edits, suggestions, saved models,
//! the app) asks it the same way, here, and nothing here needs anything else.

/// Soft assignment (eq. 1), written into `q` (`n x k`) for embeddings `z` (`n x e`)
/// and centroids `mu` (`k x e`):
///
/// `q_ij = (1 + |z_i - mu_j|^2 / a)^(-(a+1)/2) / Σ_j' (1 + |z_i - mu_j'|^2 / a)^(-(a+1)/2)`
///
/// Also returns, in `kernel`, `(1 + |z_i - mu_j|^2 / a)^-1`, which the gradient needs.
pub fn soft_assign(z: &[f32], mu: &[f32], e: usize, alpha: f32, q: &mut [f32], kernel: &mut [f32]) {
    let k = mu.len() / e;
    let pow = -(alpha + 1.0) / 2.0;
    for ((zi, qi), ki) in z
        .chunks_exact(e)
        .zip(q.chunks_exact_mut(k))
        .zip(kernel.chunks_exact_mut(k))
    {
        let mut sum = 0.0f32;
        for ((mj, qij), kij) in mu.chunks_exact(e).zip(qi.iter_mut()).zip(ki.iter_mut()) {
            let d2: f32 = zi.iter().zip(mj).map(|(a, b)| (a - b) * (a - b)).sum();
            let base = 1.0 + d2 / alpha;
            *kij = 1.0 / base;
            *qij = if alpha == 1.0 { *kij } else { base.powf(pow) };
            sum += *qij;
        }
        let inv = 1.0 / sum.max(f32::MIN_POSITIVE);
        qi.iter_mut().for_each(|v| *v *= inv);
    }
}

/// Target distribution (eq. 3): `p_ij = (q_ij^2 / f_j) / Σ_j' (q_ij'^2 / f_j')`,
/// with soft cluster frequencies `f_j = Σ_i q_ij`.
pub fn target_distribution(q: &[f32], k: usize) -> Vec<f32> {
    let mut f = vec![0.0f64; k];
    for row in q.chunks_exact(k) {
        f.iter_mut().zip(row).for_each(|(f, v)| *f += *v as f64);
    }
    let mut p = vec![0.0f32; q.len()];
    for (prow, qrow) in p.chunks_exact_mut(k).zip(q.chunks_exact(k)) {
        let mut s = 0.0f64;
        for ((pv, qv), fj) in prow.iter_mut().zip(qrow).zip(&f) {
            let v = (*qv as f64) * (*qv as f64) / fj.max(f64::MIN_POSITIVE);
            *pv = v as f32;
            s += v;
        }
        let inv = if s > 0.0 { (1.0 / s) as f32 } else { 0.0 };
        prow.iter_mut().for_each(|v| *v *= inv);
    }
    p
}

/// Q for embeddings `z` (`n x e`) and centroids `mu` (`k x e`), `n x k`.
pub fn soft_assignment(z: &[f32], mu: &[f32], e: usize, alpha: f32) -> Vec<f32> {
    let (n, k) = (z.len() / e.max(1), mu.len() / e.max(1));
    let mut q = vec![0.0f32; n * k];
    let mut ker = vec![0.0f32; n * k];
    soft_assign(z, mu, e, alpha, &mut q, &mut ker);
    q
}

/// Each row's cluster under Q (its largest q_ij) and that q_ij, the sample's confidence.
pub fn assign(z: &[f32], mu: &[f32], e: usize, alpha: f32) -> (Vec<u32>, Vec<f32>) {
    hard_labels(&soft_assignment(z, mu, e, alpha), mu.len() / e.max(1))
}

/// Hard labels (argmax over j) and confidences (max q) of each row.
pub fn hard_labels(q: &[f32], k: usize) -> (Vec<u32>, Vec<f32>) {
    q.chunks_exact(k)
        .map(|row| {
            let (j, v) =
                row.iter()
                    .enumerate()
                    .fold((0, f32::NEG_INFINITY), |(bj, bv), (j, &v)| {
                        if v > bv { (j, v) } else { (bj, bv) }
                    });
            (j as u32, v)
        })
        .unzip()
}
