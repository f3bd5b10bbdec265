//! Principal component analysis to a few dimensions, for the live views of Z and of
//! the raw input.
//!
//! The covariance is one GEMM (`d x d`); the top components come from orthogonal
//! (subspace) iteration, which for the 2-3 components a scatter plot needs converges in
//! tens of `d x d` products, with no eigen-solver dependency.

use crate::engine::nn::linalg::matmul;

/// A fitted projection: mean and `c` components of length `d`.
#[derive(Clone, Debug, PartialEq)]
pub struct Pca {
    pub d: usize,
    pub mean: Vec<f32>,
    /// `c x d`, row-major, orthonormal rows, strongest first.
    pub components: Vec<f32>,
    /// Variance along each component.
    pub variances: Vec<f32>,
}

impl Pca {
    /// Fit `c` components on `x` (`n x d`).
    pub fn fit(x: &[f32], d: usize, c: usize) -> Pca {
        let n = (x.len() / d.max(1)).max(1);
        let c = c.min(d).max(1);
        let mut mean = vec![0.0f64; d];
        for row in x.chunks_exact(d) {
            mean.iter_mut().zip(row).for_each(|(m, v)| *m += *v as f64);
        }
        let mean: Vec<f32> = mean.iter().map(|m| (m / n as f64) as f32).collect();
        let cov = covariance(x, d, &mean);
        // Orthogonal iteration from a fixed start: V <- orth(C V).
        let mut v: Vec<f32> = (0..c * d)
            .map(|i| (((i * 7919) % 997) as f32 / 997.0) - 0.5)
            .collect();
        let mut w = vec![0.0f32; c * d];
        for _ in 0..200 {
            // w (c x d) = v (c x d) · C (d x d), C symmetric
            matmul(c, d, d, &v, false, &cov, false, &mut w, false);
            gram_schmidt(&mut w, d);
            let delta: f32 = w
                .iter()
                .zip(&v)
                .map(|(a, b)| (a.abs() - b.abs()).abs())
                .sum();
            std::mem::swap(&mut v, &mut w);
            if delta < 1e-7 * (c * d) as f32 {
                break;
            }
        }
        // Fix signs so the largest-magnitude entry of each component is positive.
        for comp in v.chunks_exact_mut(d) {
            let big = comp
                .iter()
                .cloned()
                .fold(0.0f32, |a, b| if b.abs() > a.abs() { b } else { a });
            if big < 0.0 {
                comp.iter_mut().for_each(|x| *x = -*x);
            }
        }
        let mut cv = vec![0.0f32; c * d];
        matmul(c, d, d, &v, false, &cov, false, &mut cv, false);
        let variances = cv
            .chunks_exact(d)
            .zip(v.chunks_exact(d))
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum())
            .collect();
        Pca {
            d,
            mean,
            components: v,
            variances,
        }
    }

    /// Project `x` (`n x d`) to `n x c`.
    pub fn transform(&self, x: &[f32]) -> Vec<f32> {
        let c = self.components.len() / self.d;
        let n = x.len() / self.d;
        let mut out = vec![0.0f32; n * c];
        matmul(
            n,
            c,
            self.d,
            x,
            false,
            &self.components,
            true,
            &mut out,
            false,
        );
        let shift: Vec<f32> = self
            .components
            .chunks_exact(self.d)
            .map(|comp| comp.iter().zip(&self.mean).map(|(a, b)| a * b).sum())
            .collect();
        for row in out.chunks_exact_mut(c) {
            row.iter_mut().zip(&shift).for_each(|(v, s)| *v -= s);
        }
        out
    }
}

/// Rows centred at a time when building the covariance: the products see whole
/// blocks of rows, and no centred copy of a large input is ever held (a million
/// 28x28 images are 3.1 GB of f32; a copy doubled the app's memory). Inputs of at most
/// this many rows take one block, as before.
const COV_BLOCK: usize = 65_536;

/// The covariance `Xcᵀ Xc / n` (`d x d`) of `x` centred at `mean`, summed block by
/// block of [`COV_BLOCK`] rows.
fn covariance(x: &[f32], d: usize, mean: &[f32]) -> Vec<f32> {
    let n = (x.len() / d.max(1)).max(1);
    let mut cov = vec![0.0f32; d * d];
    let mut centred = Vec::with_capacity(COV_BLOCK.min(n) * d);
    for (b, block) in x[..(x.len() / d.max(1)) * d]
        .chunks(COV_BLOCK * d)
        .enumerate()
    {
        centred.clear();
        centred.extend(
            block
                .chunks_exact(d)
                .flat_map(|row| row.iter().zip(mean).map(|(v, m)| v - m)),
        );
        let rows = block.len() / d;
        matmul(d, d, rows, &centred, true, &centred, false, &mut cov, b > 0);
    }
    cov.iter_mut().for_each(|v| *v /= n as f32);
    cov
}

fn gram_schmidt(v: &mut [f32], d: usize) {
    let c = v.len() / d;
    for i in 0..c {
        for j in 0..i {
            let (a, b) = v.split_at_mut(i * d);
            let vj = &a[j * d..(j + 1) * d];
            let vi = &mut b[..d];
            let dot: f32 = vi.iter().zip(vj).map(|(x, y)| x * y).sum();
            vi.iter_mut().zip(vj).for_each(|(x, y)| *x -= dot * y);
        }
        let vi = &mut v[i * d..(i + 1) * d];
        let norm = vi.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            vi.iter_mut().for_each(|x| *x /= norm);
        }
    }
}

/// PCA of `x` straight to 2-D points.
pub fn pca_2d(x: &[f32], d: usize) -> Vec<[f32; 2]> {
    let p = Pca::fit(x, d, 2);
    let y = p.transform(x);
    if p.components.len() / d < 2 {
        return y.iter().map(|&a| [a, 0.0]).collect();
    }
    y.chunks_exact(2).map(|r| [r[0], r[1]]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Past one block of rows (70,000 > 65,536) the covariance, summed block by block
    /// with no centred copy of the input, matches a direct f64 sum of the centred
    /// products, entry by entry.
    #[test]
    fn blocked_covariance_matches_a_direct_f64_sum() {
        let (n, d) = (70_000, 3);
        let x: Vec<f32> = (0..n * d)
            .map(|i| ((i * 2_654_435_761usize) % 1000) as f32 / 100.0 + (i % d) as f32)
            .collect();
        let mut mean = vec![0.0f64; d];
        for row in x.chunks_exact(d) {
            mean.iter_mut().zip(row).for_each(|(m, v)| *m += *v as f64);
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mean32: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
        let cov = covariance(&x, d, &mean32);
        for i in 0..d {
            for j in 0..d {
                let direct: f64 = x
                    .chunks_exact(d)
                    .map(|r| (r[i] as f64 - mean[i]) * (r[j] as f64 - mean[j]))
                    .sum::<f64>()
                    / n as f64;
                let got = cov[i * d + j] as f64;
                assert!(
                    (got - direct).abs() <= 1e-4 * direct.abs().max(1.0),
                    "cov[{i}][{j}] = {got}, direct {direct}"
                );
            }
        }
    }

    // Oracle: numpy
    // >>> X = np.array([[2.,0,0],[-2,0,0],[0,1,0],[0,-1,0],[0,0,0.1],[0,0,-0.1]])
    // >>> from sklearn.decomposition import PCA; PCA(2).fit(X).explained_variance_ * 5/6
    // array([1.33333333, 0.33333333])   (population variances; components ±e1, ±e2)
    #[test]
    fn recovers_axes_and_variances() {
        let x = [
            2., 0., 0., -2., 0., 0., 0., 1., 0., 0., -1., 0., 0., 0., 0.1, 0., 0., -0.1,
        ];
        let p = Pca::fit(&x, 3, 2);
        assert!(
            (p.variances[0] - 4.0 / 3.0).abs() < 1e-4,
            "{:?}",
            p.variances
        );
        assert!((p.variances[1] - 1.0 / 3.0).abs() < 1e-4);
        assert!((p.components[0] - 1.0).abs() < 1e-4 && (p.components[4] - 1.0).abs() < 1e-4);
        let y = pca_2d(&x, 3);
        assert!((y[0][0] - 2.0).abs() < 1e-4 && (y[2][1] - 1.0).abs() < 1e-4);
    }

    /// The same rows give the same components on a pool of several threads (the
    /// t-SNE of a wide input starts from this PCA).
    #[test]
    fn fit_repeats_bit_for_bit_on_a_pool_of_threads() {
        let (n, d) = (1800, 64);
        let x: Vec<f32> = (0..n * d)
            .map(|i| ((i * 2_654_435_761usize) % 1000) as f32 / 1000.0)
            .collect();
        crate::projection::tests::assert_repeats_on_a_pool(4, || Pca::fit(&x, d, 50).transform(&x));
    }
}
