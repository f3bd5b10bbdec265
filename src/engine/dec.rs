//! The DEC clustering layer: Student's t soft assignment Q, target distribution P,
//! the loss KL(P‖Q) and its gradients (Xie, Girshick & Farhadi 2016, eqs. 1-5).

use rand_chacha::ChaCha8Rng;

use crate::engine::autoencoder::{Mlp, Workspace};
use crate::engine::optim::Optimizer;

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

/// `KL(P‖Q) = Σ_i Σ_j p_ij log(p_ij / q_ij)` (eq. 2), averaged over the `n` rows.
/// Terms with p_ij = 0 add nothing (0·log 0 = 0); a NaN in P or Q makes the result NaN,
/// so that a diverged embedding is seen as such (the DEC phase stops on it).
pub fn kl_divergence(p: &[f32], q: &[f32], n: usize) -> f32 {
    let s: f64 = p
        .iter()
        .zip(q)
        .filter(|(p, _)| **p > 0.0 || p.is_nan())
        .map(|(&p, &q)| {
            let q = if q.is_nan() {
                f64::NAN
            } else {
                (q as f64).max(1e-30)
            };
            (p as f64) * ((p as f64) / q).ln()
        })
        .sum();
    (s / n.max(1) as f64) as f32
}

/// Gradients of the batch-mean KL loss `L = (1/n) Σ_i KL(p_i‖q_i)` (eqs. 4-5, divided
/// by the batch size `n`):
///
/// `dL/dz_i  =  (a+1)/a · (1/n) Σ_j (1 + |z_i - mu_j|^2/a)^-1 (p_ij - q_ij)(z_i - mu_j)`
///
/// `dL/dmu_j = -(a+1)/a · (1/n) Σ_i (1 + |z_i - mu_j|^2/a)^-1 (p_ij - q_ij)(z_i - mu_j)`
#[allow(clippy::too_many_arguments)]
pub fn kl_gradients(
    z: &[f32],
    mu: &[f32],
    e: usize,
    alpha: f32,
    p: &[f32],
    q: &[f32],
    kernel: &[f32],
    dz: &mut [f32],
    dmu: &mut [f32],
) {
    let k = mu.len() / e;
    let n = z.len() / e;
    let c = (alpha + 1.0) / alpha / n as f32;
    dmu.fill(0.0);
    for i in 0..n {
        let zi = &z[i * e..(i + 1) * e];
        let dzi = &mut dz[i * e..(i + 1) * e];
        dzi.fill(0.0);
        for j in 0..k {
            let w = c * kernel[i * k + j] * (p[i * k + j] - q[i * k + j]);
            let mj = &mu[j * e..(j + 1) * e];
            let dmj = &mut dmu[j * e..(j + 1) * e];
            for t in 0..e {
                let g = w * (zi[t] - mj[t]);
                dzi[t] += g;
                dmj[t] -= g;
            }
        }
    }
}

/// One DEC (or IDEC) training step with its buffers: encoder forward on a batch, soft
/// assignment, KL(P‖Q) gradients by the closed forms above, encoder backward, and one
/// optimizer update of the encoder weights and the centroids together.
///
/// With a decoder (IDEC, Guo et al. 2017, eq. 6: L = L_r + γ·L_c), the batch is also
/// reconstructed from its embedding and the step minimises L/γ = KL(P‖Q) + L_r/γ:
///
/// `dL/dz_i = dKL/dz_i + (1/γ)·dL_r/dz_i`, with `L_r = (1/(n·d)) Σ |x_i - g(z_i)|²`,
///
/// where `dL_r/dz` comes from the decoder's backward pass, and the decoder's weights
/// take the `(1/γ)·dL_r` step.
pub struct DecStep {
    ws: Workspace,
    q: Vec<f32>,
    kernel: Vec<f32>,
    dz: Vec<f32>,
    dmu: Vec<f32>,
    k: usize,
    e: usize,
    alpha: f32,
    /// IDEC's decoder workspace and reconstruction gradient buffer, with 1/γ.
    idec: Option<IdecParts>,
    /// The batch and the constrained samples' rows, stacked (`(b + m) x d`).
    stacked: Vec<f32>,
    /// Products in bf16 ([`DecStep::with_bf16`]).
    bf16: bool,
}

/// The pairwise constraints of one step (see [`crate::engine::constraints`]): the
/// `m x d` input rows of the samples they touch, the pairs numbered within those rows,
/// and λ.
pub struct StepPairs<'a> {
    pub x: &'a [f32],
    pub batch: &'a crate::engine::constraints::PairBatch,
    pub weight: f32,
}

/// The two parts of a step's loss.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepLoss {
    /// KL(P‖Q) of the batch.
    pub kl: f32,
    /// Reconstruction MSE of the batch (IDEC), before the update.
    pub rec: Option<f32>,
    /// λ times the mean pair loss of the step's constraints, before the update.
    pub pairs: Option<f32>,
}

impl DecStep {
    pub fn new(encoder: &Mlp, k: usize, alpha: f32, batch: usize) -> DecStep {
        let e = encoder.n_out();
        DecStep {
            ws: encoder.workspace(batch),
            q: vec![0.0; batch * k],
            kernel: vec![0.0; batch * k],
            dz: vec![0.0; batch * e],
            dmu: vec![0.0; k * e],
            k,
            e,
            alpha,
            idec: None,
            stacked: Vec::new(),
            bf16: false,
        }
    }

    /// Run the step's products with bf16 operands and f32 sums (where the CPU can;
    /// [`crate::engine::bf16`]).
    pub fn with_bf16(mut self, on: bool) -> DecStep {
        self.bf16 = on;
        self.ws.set_bf16(on);
        if let Some((ws, _, _)) = &mut self.idec {
            ws.set_bf16(on);
        }
        self
    }

    /// Room for up to `rows` constrained samples beside each batch of `batch` rows.
    pub fn with_pair_rows(mut self, encoder: &Mlp, batch: usize, rows: usize) -> DecStep {
        if rows > 0 {
            self.ws = encoder.workspace(batch + rows);
            self.ws.set_bf16(self.bf16);
            self.dz = vec![0.0; (batch + rows) * self.e];
        }
        self
    }

    /// Also train `decoder` on the reconstruction loss with IDEC's weight `gamma`.
    pub fn with_decoder(mut self, decoder: &Mlp, batch: usize, gamma: f32) -> DecStep {
        let mut ws = decoder.workspace(batch);
        ws.set_bf16(self.bf16);
        self.idec = Some((ws, vec![0.0; batch * decoder.n_out()], 1.0 / gamma));
        self
    }

    /// Train on `b` rows `xb` with targets `pb` (`b x k`), and on `pairs` when given
    /// (L = KL + λ·pair loss: the constrained samples are embedded in the same forward
    /// pass, stacked under the batch); returns the batch losses before the update. Encoder parameters use optimizer slots `0..2L`, the centroids
    /// `2L`, the decoder's (IDEC) `2L+1..`. `decoder` must be given exactly when the
    /// step was made [`DecStep::with_decoder`].
    #[allow(clippy::too_many_arguments)]
    pub fn step(
        &mut self,
        encoder: &mut Mlp,
        decoder: Option<&mut Mlp>,
        mu: &mut [f32],
        opt: &mut Optimizer,
        xb: &[f32],
        pb: &[f32],
        b: usize,
        pairs: Option<StepPairs>,
        rng: &mut ChaCha8Rng,
    ) -> StepLoss {
        let (k, e) = (self.k, self.e);
        let d = encoder.n_in();
        let m = pairs.as_ref().map_or(0, |p| p.batch.rows.len());
        let x_all = stack_rows(
            &mut self.stacked,
            &xb[..b * d],
            pairs.as_ref().map(|p| &p.x[..m * d]),
        );
        let z_all = encoder.forward(x_all, b + m, &[], rng, &mut self.ws);
        let zb = &z_all[..b * e];
        let (q, ker) = (&mut self.q[..b * k], &mut self.kernel[..b * k]);
        soft_assign(zb, mu, e, self.alpha, q, ker);
        let kl = kl_divergence(&pb[..b * k], q, b);
        kl_gradients(
            zb,
            mu,
            e,
            self.alpha,
            &pb[..b * k],
            q,
            ker,
            &mut self.dz[..b * e],
            &mut self.dmu,
        );
        let pair_loss = pairs.filter(|_| m > 0).map(|p| {
            let pl = crate::engine::constraints::pairwise_loss(
                &z_all[b * e..],
                mu,
                e,
                self.alpha,
                &p.batch.pairs,
                p.weight,
            );
            self.dz[b * e..(b + m) * e].copy_from_slice(&pl.dz);
            self.dmu.iter_mut().zip(&pl.dmu).for_each(|(a, g)| *a += g);
            pl.loss
        });
        let (rec, decoder) = match (decoder, self.idec.as_mut()) {
            (Some(dec), Some(idec)) => {
                let enc = (&*encoder, &self.ws);
                let r = reconstruction_term(dec, idec, enc, (xb, b), rng, &mut self.dz);
                (Some(r), Some((dec, &mut idec.0)))
            }
            _ => (None, None),
        };
        encoder.backward(
            x_all,
            b + m,
            &[],
            &self.dz[..(b + m) * e],
            &mut self.ws,
            false,
        );
        apply_updates(opt, (encoder, &self.ws), (mu, &self.dmu), decoder);
        StepLoss {
            kl,
            rec,
            pairs: pair_loss,
        }
    }
}

/// The step's input: the batch alone, or with the constrained samples' rows stacked
/// under it in `buf` (one forward pass embeds both).
fn stack_rows<'a>(buf: &'a mut Vec<f32>, batch: &'a [f32], pairs: Option<&[f32]>) -> &'a [f32] {
    match pairs {
        Some(rows) if !rows.is_empty() => {
            buf.clear();
            buf.extend_from_slice(batch);
            buf.extend_from_slice(rows);
            buf
        }
        _ => batch,
    }
}

/// The optimizer slot of the centroids in a DEC step with `encoder` (after the
/// encoder's `2L` weight and bias slots).
pub fn centroid_slot(encoder: &Mlp) -> usize {
    2 * encoder.layers.len()
}

/// One optimizer step on the gradients a DEC step left: the encoder's (slots `0..2L`),
/// the centroids' (`2L`) and the decoder's (IDEC, `2L+1..`).
fn apply_updates(
    opt: &mut Optimizer,
    (encoder, ws): (&mut Mlp, &Workspace),
    (mu, dmu): (&mut [f32], &[f32]),
    decoder: Option<(&mut Mlp, &mut Workspace)>,
) {
    opt.begin_step();
    encoder.apply_grads(ws, opt, 0);
    let slot_mu = centroid_slot(encoder);
    opt.update(slot_mu, mu, dmu);
    if let Some((dec, dws)) = decoder {
        dec.apply_grads(dws, opt, slot_mu + 1);
    }
}

/// IDEC's decoder workspace, its output gradient buffer and 1/γ.
type IdecParts = (Workspace, Vec<f32>, f32);

/// IDEC's reconstruction term of a step (L_r = |x - g(z)|² / n, weighted by 1/γ): the
/// decoder's forward from the batch's z, the MSE against `xb`, and its backward, whose
/// gradient for z is added into `dz`. Returns the MSE before the update.
fn reconstruction_term(
    dec: &mut Mlp,
    (dws, grad, inv_gamma): &mut IdecParts,
    (encoder, enc_ws): (&Mlp, &Workspace),
    (xb, b): (&[f32], usize),
    rng: &mut ChaCha8Rng,
    dz: &mut [f32],
) -> f32 {
    let d = dec.n_out();
    // The decoder's input z is the encoder's output still held in its workspace.
    let zb = encoder.last_output(enc_ws, b);
    let y = dec.forward(zb, b, &[], rng, dws);
    let r = crate::engine::autoencoder::mse_and_grad(y, &xb[..b * d], &mut grad[..b * d]);
    let s = *inv_gamma;
    grad[..b * d].iter_mut().for_each(|g| *g *= s);
    if let Some(dz_rec) = dec.backward(zb, b, &[], &grad[..b * d], dws, true) {
        let e = dz_rec.len() / b.max(1);
        dz[..b * e]
            .iter_mut()
            .zip(dz_rec)
            .for_each(|(a, g)| *a += g);
    }
    r
}

/// The paper's picture of where DEC's gradient pulls (section 5.3, figure 5), for every
/// sample: its soft assignments `q` (eq. 1), the target `p` that the next update would
/// set (eq. 3, over the same rows) and `norm_i = |∂KL(p_i‖q_i)/∂z_i|`, eq. 4 for one
/// sample (no batch mean). Plotted against `q_ij` for one cluster j it shows which
/// samples DEC moves now and which (ambiguous, between clusters) it moves last.
#[derive(Clone, Debug)]
pub struct GradientField {
    pub k: usize,
    /// `n x k` soft assignments.
    pub q: Vec<f32>,
    /// `n x k` targets.
    pub p: Vec<f32>,
    /// Gradient magnitude of each sample.
    pub norm: Vec<f32>,
}

impl GradientField {
    /// The field of embeddings `z` (`n x e`) under centroids `mu` (`k x e`).
    pub fn compute(z: &[f32], mu: &[f32], e: usize, alpha: f32) -> GradientField {
        let k = mu.len() / e.max(1);
        let n = z.len() / e.max(1);
        let mut q = vec![0.0f32; n * k];
        let mut ker = vec![0.0f32; n * k];
        soft_assign(z, mu, e, alpha, &mut q, &mut ker);
        let p = target_distribution(&q, k);
        let mut dz = vec![0.0f32; n * e];
        let mut dmu = vec![0.0f32; k * e];
        kl_gradients(z, mu, e, alpha, &p, &q, &ker, &mut dz, &mut dmu);
        // kl_gradients divides by the number of rows; one sample's own gradient does not.
        let norm = dz
            .chunks_exact(e)
            .map(|g| n as f32 * g.iter().map(|v| v * v).sum::<f32>().sqrt())
            .collect();
        GradientField { k, q, p, norm }
    }

    /// `q_ij` of sample `i` for cluster `j`.
    pub fn q_of(&self, i: usize, j: usize) -> f32 {
        self.q[i * self.k + j]
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Vec<f32>, Vec<f32>, usize) {
        let z = vec![0.1, 0.3, -1.0, 0.5, 2.0, 1.2, 0.0, -0.7];
        let mu = vec![0.0, 0.0, 1.5, 1.0, -1.0, 1.0];
        (z, mu, 2)
    }

    #[test]
    fn q_and_p_are_distributions_and_p_is_sharper() {
        let (z, mu, e) = setup();
        let (n, k) = (4, 3);
        let mut q = vec![0.0; n * k];
        let mut ker = vec![0.0; n * k];
        soft_assign(&z, &mu, e, 1.0, &mut q, &mut ker);
        let p = target_distribution(&q, k);
        for i in 0..n {
            let qs: f32 = q[i * k..(i + 1) * k].iter().sum();
            let ps: f32 = p[i * k..(i + 1) * k].iter().sum();
            assert!((qs - 1.0).abs() < 1e-6 && (ps - 1.0).abs() < 1e-6);
            let qmax = q[i * k..(i + 1) * k].iter().cloned().fold(0.0, f32::max);
            let pmax = p[i * k..(i + 1) * k].iter().cloned().fold(0.0, f32::max);
            assert!(
                pmax > qmax,
                "row {i}: p should put more mass on its top cluster"
            );
        }
    }

    /// Each sample's gradient magnitude against central differences of its own
    /// KL(p_i‖q_i) in z_i, with P fixed.
    #[test]
    fn gradient_field_matches_finite_differences() {
        let (z, mu, e) = setup();
        let g = GradientField::compute(&z, &mu, e, 1.0);
        let k = g.k;
        let loss_i = |zi: &[f32], pi: &[f32]| {
            let (mut q, mut ker) = (vec![0.0; k], vec![0.0; k]);
            soft_assign(zi, &mu, e, 1.0, &mut q, &mut ker);
            kl_divergence(pi, &q, 1) as f64
        };
        let h = 1e-3f32;
        for i in 0..z.len() / e {
            let pi = &g.p[i * k..(i + 1) * k];
            let mut sq = 0.0f64;
            for t in 0..e {
                let (mut a, mut b) = (
                    z[i * e..(i + 1) * e].to_vec(),
                    z[i * e..(i + 1) * e].to_vec(),
                );
                a[t] += h;
                b[t] -= h;
                let d = (loss_i(&a, pi) - loss_i(&b, pi)) / (2.0 * h as f64);
                sq += d * d;
            }
            assert!(
                (sq.sqrt() - g.norm[i] as f64).abs() < 1e-3,
                "sample {i}: {} vs {}",
                sq.sqrt(),
                g.norm[i]
            );
            assert!(g.norm[i] > 0.0);
        }
    }

    /// The closed forms against central finite differences of the KL loss, with P fixed
    /// (as DEC treats it between updates), for a=1 and a=2.
    #[test]
    fn gradients_match_finite_differences() {
        for alpha in [1.0f32, 2.0] {
            let (z, mu, e) = setup();
            let (n, k) = (4, 3);
            let mut q = vec![0.0; n * k];
            let mut ker = vec![0.0; n * k];
            soft_assign(&z, &mu, e, alpha, &mut q, &mut ker);
            let p = target_distribution(&q, k);
            let (mut dz, mut dmu) = (vec![0.0; z.len()], vec![0.0; mu.len()]);
            kl_gradients(&z, &mu, e, alpha, &p, &q, &ker, &mut dz, &mut dmu);
            let loss = |z: &[f32], mu: &[f32]| {
                let mut q = vec![0.0; n * k];
                let mut ker = vec![0.0; n * k];
                soft_assign(z, mu, e, alpha, &mut q, &mut ker);
                kl_divergence(&p, &q, n) as f64
            };
            let h = 1e-3f32;
            for i in 0..z.len() {
                let (mut a, mut b) = (z.clone(), z.clone());
                a[i] += h;
                b[i] -= h;
                let num = (loss(&a, &mu) - loss(&b, &mu)) / (2.0 * h as f64);
                assert!(
                    (num - dz[i] as f64).abs() < 1e-3,
                    "a={alpha} dz[{i}]: {num} vs {}",
                    dz[i]
                );
            }
            for j in 0..mu.len() {
                let (mut a, mut b) = (mu.clone(), mu.clone());
                a[j] += h;
                b[j] -= h;
                let num = (loss(&z, &a) - loss(&z, &b)) / (2.0 * h as f64);
                assert!(
                    (num - dmu[j] as f64).abs() < 1e-3,
                    "a={alpha} dmu[{j}]: {num} vs {}",
                    dmu[j]
                );
            }
        }
    }

    /// A batch of `b` rows of 5 inputs, 3 centroids in 2-D and a target P for 4 rows:
    /// the fixtures of the finite-difference step tests.
    fn step_fixture(b: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let x = (0..b * 5)
            .map(|i| ((i * 7 % 13) as f32) / 6.0 - 1.0)
            .collect();
        let mu0 = vec![0.2, -0.1, -0.5, 0.4, 0.6, 0.3];
        let p = vec![0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.3, 0.3, 0.4, 0.05, 0.15, 0.8];
        (x, mu0, p)
    }

    /// SGD at lr 1 and no momentum: one step moves each parameter by minus its gradient.
    fn plain_sgd() -> Optimizer {
        Optimizer::new(crate::engine::optim::OptimizerConfig::Sgd {
            lr: 1.0,
            momentum: 0.0,
        })
    }

    /// KL(P‖Q) of 2-D embeddings `z` under centroids `mu` (alpha 1), batch mean.
    fn batch_kl(z: &[f32], mu: &[f32], p: &[f32], k: usize) -> f64 {
        let b = z.len() / 2;
        let mut q = vec![0.0; b * k];
        let mut ker = vec![0.0; b * k];
        soft_assign(z, mu, 2, 1.0, &mut q, &mut ker);
        f64::from(kl_divergence(p, &q, b))
    }

    /// A central difference `num` against the step's move `ana`.
    fn check_grad(num: f64, ana: f64, what: &str) {
        assert!(
            (num - ana).abs() < 2e-3 + 0.02 * ana.abs(),
            "{what}: numeric {num} vs step {ana}"
        );
    }

    /// IDEC's step against finite differences of its loss L/γ = KL(P‖Q) + L_r/γ, for
    /// the encoder, the decoder and the centroids: with SGD at lr 1 and no momentum,
    /// each parameter moves by minus its gradient.
    #[test]
    fn idec_step_matches_finite_differences() {
        use crate::engine::autoencoder::{Autoencoder, mse_and_grad};
        use rand::SeedableRng;
        let (b, k, gamma) = (4usize, 3usize, 0.5f32);
        let ae = Autoencoder::new(&[5, 4, 2], 11);
        let (x, mu0, p) = step_fixture(b);
        let loss = |ae: &Autoencoder, mu: &[f32]| -> f64 {
            let z = ae.encode(&x, b);
            let y = ae.decoder.predict(&z, b);
            let mut g = vec![0.0; y.len()];
            let rec = mse_and_grad(&y, &x, &mut g);
            batch_kl(&z, mu, &p, k) + rec as f64 / gamma as f64
        };
        let mut after = ae.clone();
        let mut mu = mu0.clone();
        let mut opt = plain_sgd();
        let mut step =
            DecStep::new(&after.encoder, k, 1.0, b).with_decoder(&after.decoder, b, gamma);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let (enc, dec) = (&mut after.encoder, &mut after.decoder);
        let l = step.step(enc, Some(dec), &mut mu, &mut opt, &x, &p, b, None, &mut rng);
        assert!(l.rec.is_some());
        let h = 1e-3f32;
        for (part, before, moved) in [
            ("encoder", &ae.encoder, &after.encoder),
            ("decoder", &ae.decoder, &after.decoder),
        ] {
            for l in 0..before.layers.len() {
                for i in 0..before.layers[l].w.len() {
                    let mut up = ae.clone();
                    let mut down = ae.clone();
                    let (u, d) = if part == "encoder" {
                        (&mut up.encoder, &mut down.encoder)
                    } else {
                        (&mut up.decoder, &mut down.decoder)
                    };
                    u.layers[l].w[i] += h;
                    d.layers[l].w[i] -= h;
                    let num = (loss(&up, &mu0) - loss(&down, &mu0)) / (2.0 * h as f64);
                    let ana = (before.layers[l].w[i] - moved.layers[l].w[i]) as f64;
                    check_grad(num, ana, &format!("{part} layer {l} w[{i}]"));
                }
            }
        }
        for i in 0..mu0.len() {
            let mut up = mu0.clone();
            let mut down = mu0.clone();
            up[i] += h;
            down[i] -= h;
            let num = (loss(&ae, &up) - loss(&ae, &down)) / (2.0 * h as f64);
            check_grad(num, (mu0[i] - mu[i]) as f64, &format!("mu[{i}]"));
        }
    }

    /// The constrained step (KL on the batch plus λ times the pair loss on the
    /// constrained samples, embedded in the same pass) against central differences of
    /// that total loss, for every encoder weight and centroid coordinate.
    #[test]
    fn constrained_step_matches_finite_differences() {
        use crate::engine::autoencoder::Autoencoder;
        use crate::engine::constraints::{Constraint, Link, PairBatch, pairwise_loss};
        use rand::SeedableRng;
        let (b, k, weight) = (4usize, 3usize, 0.8f32);
        let ae = Autoencoder::new(&[5, 4, 2], 12);
        // Three constrained samples, not in the batch.
        let px: Vec<f32> = (0..3 * 5)
            .map(|i| ((i * 5 % 11) as f32) / 5.0 - 1.0)
            .collect();
        let batch = PairBatch {
            rows: vec![10, 11, 12],
            pairs: vec![
                Constraint {
                    i: 0,
                    j: 1,
                    link: Link::Must,
                },
                Constraint {
                    i: 1,
                    j: 2,
                    link: Link::Cannot,
                },
            ],
        };
        let (x, mu0, p) = step_fixture(b);
        let loss = |ae: &Autoencoder, mu: &[f32]| -> f64 {
            let z = ae.encode(&x, b);
            let zp = ae.encode(&px, 3);
            let pl = pairwise_loss(&zp, mu, 2, 1.0, &batch.pairs, weight);
            batch_kl(&z, mu, &p, k) + pl.loss as f64
        };
        let mut after = ae.clone();
        let mut mu = mu0.clone();
        let mut opt = plain_sgd();
        let mut step = DecStep::new(&after.encoder, k, 1.0, b).with_pair_rows(&after.encoder, b, 3);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let pairs = StepPairs {
            x: &px,
            batch: &batch,
            weight,
        };
        let l = step.step(
            &mut after.encoder,
            None,
            &mut mu,
            &mut opt,
            &x,
            &p,
            b,
            Some(pairs),
            &mut rng,
        );
        assert!(l.pairs.is_some_and(|v| v > 0.0));
        let h = 1e-3f32;
        for l in 0..ae.encoder.layers.len() {
            for i in 0..ae.encoder.layers[l].w.len() {
                let (mut up, mut down) = (ae.clone(), ae.clone());
                up.encoder.layers[l].w[i] += h;
                down.encoder.layers[l].w[i] -= h;
                let num = (loss(&up, &mu0) - loss(&down, &mu0)) / (2.0 * h as f64);
                let ana = (ae.encoder.layers[l].w[i] - after.encoder.layers[l].w[i]) as f64;
                check_grad(num, ana, &format!("encoder layer {l} w[{i}]"));
            }
        }
        for i in 0..mu0.len() {
            let (mut up, mut down) = (mu0.clone(), mu0.clone());
            up[i] += h;
            down[i] -= h;
            let num = (loss(&ae, &up) - loss(&ae, &down)) / (2.0 * h as f64);
            check_grad(num, (mu0[i] - mu[i]) as f64, &format!("mu[{i}]"));
        }
    }

    /// bf16 stays on through `with_decoder` and `with_pair_rows` (which rebuild the
    /// workspaces), and a bf16 step moves the parameters as the f32 step does, to bf16
    /// precision. On a CPU without AVX512-BF16 (or with `DECSCOPE_BF16=off`) the same
    /// request runs the f32 step, bit for bit: that is checked instead.
    #[test]
    fn a_bf16_step_moves_like_the_f32_step() {
        let hardware = crate::engine::bf16::available();
        use crate::engine::autoencoder::{Activation, Dense, Mlp};
        use rand::{Rng, SeedableRng};
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let enc = Mlp {
            layers: vec![
                Dense::new(64, 48, Activation::Relu, &mut rng),
                Dense::new(48, 2, Activation::Linear, &mut rng),
            ],
        };
        let dec = Mlp {
            layers: vec![Dense::new(2, 64, Activation::Linear, &mut rng)],
        };
        let (b, k) = (40, 3);
        let s = DecStep::new(&enc, k, 1.0, b)
            .with_bf16(true)
            .with_decoder(&dec, b, 0.1)
            .with_pair_rows(&enc, b, 8);
        let idec_bf16 = s.idec.as_ref().is_some_and(|(ws, _, _)| ws.bf16());
        assert_eq!((s.ws.bf16(), idec_bf16), (hardware, hardware));
        let x: Vec<f32> = (0..b * 64).map(|_| rng.random_range(-1.0..1.0)).collect();
        let p: Vec<f32> = (0..b * k).map(|i| [0.6, 0.3, 0.1][i % 3]).collect();
        let moved = |bf16: bool| {
            let (mut e, mut mu) = (enc.clone(), vec![0.3, -0.2, -0.4, 0.1, 0.2, 0.5]);
            let mut step = DecStep::new(&e, k, 1.0, b).with_bf16(bf16);
            let mut r = ChaCha8Rng::seed_from_u64(1);
            step.step(
                &mut e,
                None,
                &mut mu,
                &mut plain_sgd(),
                &x,
                &p,
                b,
                None,
                &mut r,
            );
            let dw: Vec<f32> = e.layers[0]
                .w
                .iter()
                .zip(&enc.layers[0].w)
                .map(|(a, b)| a - b)
                .collect();
            (dw, mu)
        };
        let ((fw, fmu), (hw, hmu)) = (moved(false), moved(true));
        if !hardware {
            assert_eq!((&fw, &fmu), (&hw, &hmu), "the f32 fallback is the f32 step");
            return;
        }
        let d: f32 = fw
            .iter()
            .zip(&hw)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f32>()
            .sqrt();
        let n: f32 = fw.iter().map(|a| a * a).sum::<f32>().sqrt();
        assert!(
            n > 0.0 && d / n < 0.02,
            "first layer's move differs by {}",
            d / n
        );
        assert_ne!(fw, hw, "the bf16 products did not run");
        for (a, c) in fmu.iter().zip(&hmu) {
            assert!(
                (a - c).abs() < 0.02 * (1.0 + a.abs()),
                "centroid {a} vs {c}"
            );
        }
    }
}
