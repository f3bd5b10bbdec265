//! The DEC clustering layer: Student's t soft assignment Q, target distribution P,
//! the loss KL(P‖Q) and its gradients (Xie, Girshick & Farhadi 2016, eqs. 1-5).

use rand_chacha::ChaCha8Rng;

use crate::engine::cluster::assign::{soft_assign, target_distribution};
use crate::engine::nn::autoencoder::{Mlp, Workspace};
use crate::engine::nn::optim::Optimizer;

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

/// The pairwise constraints of one step (see [`crate::engine::cluster::constraints`]): the
/// `m x d` input rows of the samples they touch, the pairs numbered within those rows,
/// and λ.
pub struct StepPairs<'a> {
    pub x: &'a [f32],
    pub batch: &'a crate::engine::cluster::constraints::PairBatch,
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
    /// [`crate::engine::nn::bf16`]).
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
            let pl = crate::engine::cluster::constraints::pairwise_loss(
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
    let r = crate::engine::nn::autoencoder::mse_and_grad(y, &xb[..b * d], &mut grad[..b * d]);
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

#[cfg(test)]
mod tests;
