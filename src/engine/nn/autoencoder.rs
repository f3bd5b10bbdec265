//! The stacked (denoising) autoencoder of DEC: dense layers d-500-500-2000-10 and the
//! mirrored decoder, with hand-written forward and backward passes.
//!
//! Why hand-written: a training step is 8 GEMMs forward and 15 backward; with
//! autograd, every bias add, activation, mask and optimizer term is one more tensor
//! allocation and pass over memory. Here each layer is `out = act(in·W + b)` with the
//! bias and ReLU fused into one pass after the GEMM, the ReLU backward fused into the
//! mask of the incoming gradient, transposes taken as strides, and every buffer
//! allocated once per batch size. `decscope bench` measures the gain against a plain
//! candle-nn implementation (`crate::bench::reference`), and a test checks both give the same
//! loss curve.

use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::nn::bf16;
use crate::engine::nn::linalg::{Threads, matmul_on, row_split};
use crate::engine::nn::optim::Optimizer;
use crate::engine::nn::plan::{self, Backward};

/// Activation after a dense layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    Linear,
}

/// One dense layer `y = act(x·W + b)`, `W` stored `n_in x n_out` row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    pub n_in: usize,
    pub n_out: usize,
    pub w: Vec<f32>,
    pub b: Vec<f32>,
    pub act: Activation,
}

impl Dense {
    /// Glorot-uniform weights (as DEC's Keras and Caffe models), zero bias.
    pub fn new(n_in: usize, n_out: usize, act: Activation, rng: &mut ChaCha8Rng) -> Dense {
        let limit = (6.0 / (n_in + n_out) as f32).sqrt();
        let w = (0..n_in * n_out)
            .map(|_| rng.random_range(-limit..limit))
            .collect();
        Dense {
            n_in,
            n_out,
            w,
            b: vec![0.0; n_out],
            act,
        }
    }
}

/// Rows at or above this size get split across threads in elementwise passes.
const PAR_ROWS: usize = 64;

/// `out = act(out + b)` for each row, in one pass.
fn bias_act(out: &mut [f32], b: &[f32], act: Activation) {
    let n = b.len();
    let f = |row: &mut [f32]| match act {
        Activation::Relu => row
            .iter_mut()
            .zip(b)
            .for_each(|(v, b)| *v = (*v + b).max(0.0)),
        Activation::Linear => row.iter_mut().zip(b).for_each(|(v, b)| *v += b),
    };
    if out.len() / n >= PAR_ROWS && out.len() >= 1 << 15 {
        out.par_chunks_mut(n * 16)
            .for_each(|c| c.chunks_exact_mut(n).for_each(f));
    } else {
        out.chunks_exact_mut(n).for_each(f);
    }
}

/// ReLU backward (zero `delta` where the layer's output was clipped) and the bias
/// gradient `db = Σ_rows delta`, in one pass over `delta` (`rows x n`).
///
/// Written branch-free (a select, not an `if`) so it vectorises: with a branch, the
/// ~50% of units that ReLU clips made the CPU mispredict and the backward pass cost
/// 23 ms instead of 17 ms (`examples/step_profile`, SGD state). Large passes split
/// into fixed blocks of [`PAR_ROWS`] rows across threads, and the blocks' partial sums
/// are added in block order, so the result does not depend on the thread count.
fn relu_backward_and_bias_grad(
    delta: &mut [f32],
    out: &[f32],
    n: usize,
    act: Activation,
    db: &mut [f32],
) {
    let relu = act == Activation::Relu;
    let pass = |delta: &mut [f32], out: &[f32], db: &mut [f32]| {
        for (drow, orow) in delta.chunks_exact_mut(n).zip(out.chunks_exact(n)) {
            for ((d, o), s) in drow.iter_mut().zip(orow).zip(db.iter_mut()) {
                if relu {
                    *d = if *o > 0.0 { *d } else { 0.0 };
                }
                *s += *d;
            }
        }
    };
    db.fill(0.0);
    let block = PAR_ROWS * n;
    if delta.len() >= 2 * block && delta.len() >= 1 << 16 {
        let partials: Vec<Vec<f32>> = delta
            .par_chunks_mut(block)
            .zip(out.par_chunks(block))
            .map(|(d, o)| {
                let mut part = vec![0.0; n];
                pass(d, o, &mut part);
                part
            })
            .collect();
        for part in &partials {
            db.iter_mut().zip(part).for_each(|(s, p)| *s += p);
        }
    } else {
        pass(delta, out, db);
    }
}

/// A feed-forward stack of dense layers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mlp {
    pub layers: Vec<Dense>,
}

/// Gradients of one layer.
#[derive(Clone, Debug, Default)]
pub struct LayerGrad {
    pub dw: Vec<f32>,
    pub db: Vec<f32>,
}

/// Buffers for training an [`Mlp`] at one batch size, allocated once and reused.
#[derive(Debug, Default)]
pub struct Workspace {
    cap: usize,
    /// Input of each layer after dropout (only used for layers with dropout).
    dropped: Vec<Vec<f32>>,
    /// Output of each layer.
    outs: Vec<Vec<f32>>,
    /// Gradients of each layer's parameters.
    pub grads: Vec<LayerGrad>,
    delta: Vec<f32>,
    delta_prev: Vec<f32>,
    /// Run the products in bf16 ([`crate::engine::nn::bf16`]) rather than f32.
    bf16: bool,
}

impl Workspace {
    /// Run this workspace's products with bf16 operands (f32 sums) when `on` and the
    /// CPU has AVX512-BF16 (with or without AMX); f32 otherwise.
    pub fn set_bf16(&mut self, on: bool) {
        self.bf16 = on && bf16::available();
    }

    /// Whether the products run in bf16.
    pub fn bf16(&self) -> bool {
        self.bf16
    }
}

impl Mlp {
    /// Input width.
    pub fn n_in(&self) -> usize {
        self.layers.first().map_or(0, |l| l.n_in)
    }

    /// Output width.
    pub fn n_out(&self) -> usize {
        self.layers.last().map_or(0, |l| l.n_out)
    }

    /// Number of trainable values.
    pub fn n_params(&self) -> usize {
        self.layers.iter().map(|l| l.w.len() + l.b.len()).sum()
    }

    /// A workspace for batches of up to `cap` rows.
    pub fn workspace(&self, cap: usize) -> Workspace {
        let mut ws = Workspace::default();
        self.fit_workspace(&mut ws, cap);
        ws
    }

    fn fit_workspace(&self, ws: &mut Workspace, cap: usize) {
        let widest = self
            .layers
            .iter()
            .map(|l| l.n_in.max(l.n_out))
            .max()
            .unwrap_or(0);
        if ws.cap >= cap && ws.outs.len() == self.layers.len() && ws.delta.len() >= cap * widest {
            return;
        }
        ws.cap = cap;
        ws.outs = self
            .layers
            .iter()
            .map(|l| vec![0.0; cap * l.n_out])
            .collect();
        ws.dropped = self.layers.iter().map(|_| Vec::new()).collect();
        ws.grads = self
            .layers
            .iter()
            .map(|l| LayerGrad {
                dw: vec![0.0; l.w.len()],
                db: vec![0.0; l.n_out],
            })
            .collect();
        ws.delta = vec![0.0; cap * widest];
        ws.delta_prev = vec![0.0; cap * widest];
    }

    /// Training forward pass of `b` rows of `x`; returns the output (`b x n_out`).
    /// `dropout[l]` is the probability of zeroing each input of layer `l` (inverted
    /// dropout: kept values are scaled by `1/(1-p)`).
    pub fn forward<'w>(
        &self,
        x: &[f32],
        b: usize,
        dropout: &[f32],
        rng: &mut ChaCha8Rng,
        ws: &'w mut Workspace,
    ) -> &'w [f32] {
        self.fit_workspace(ws, b);
        for (l, layer) in self.layers.iter().enumerate() {
            let p = dropout.get(l).copied().unwrap_or(0.0);
            let (done, rest) = ws.outs.split_at_mut(l);
            let input: &[f32] = if l == 0 {
                &x[..b * layer.n_in]
            } else {
                &done[l - 1][..b * layer.n_in]
            };
            let input: &[f32] = if p > 0.0 {
                let keep = 1.0 / (1.0 - p);
                let buf = &mut ws.dropped[l];
                buf.clear();
                buf.extend(input.iter().map(|&v| {
                    if rng.random::<f32>() < p {
                        0.0
                    } else {
                        v * keep
                    }
                }));
                buf
            } else {
                input
            };
            let out = &mut rest[0][..b * layer.n_out];
            let (threads, _) = plan::layer(b, layer.n_in, layer.n_out, ws.bf16);
            plan::product(
                ws.bf16,
                threads,
                b,
                layer.n_out,
                layer.n_in,
                input,
                false,
                &layer.w,
                false,
                out,
            );
            bias_act(out, &layer.b, layer.act);
        }
        &ws.outs[self.layers.len() - 1][..b * self.n_out()]
    }

    /// The output of the last [`Mlp::forward`] of `b` rows, as held in `ws`.
    pub fn last_output<'w>(&self, ws: &'w Workspace, b: usize) -> &'w [f32] {
        &ws.outs[self.layers.len() - 1][..b * self.n_out()]
    }

    /// Backward pass after [`Mlp::forward`] on the same `x`, `b` and `dropout`.
    /// `d_out` is dLoss/dOutput (`b x n_out`). Fills `ws.grads`; when `want_input_grad`,
    /// returns dLoss/dInput.
    pub fn backward<'w>(
        &self,
        x: &[f32],
        b: usize,
        dropout: &[f32],
        d_out: &[f32],
        ws: &'w mut Workspace,
        want_input_grad: bool,
    ) -> Option<&'w [f32]> {
        let last = self.layers.len() - 1;
        ws.delta[..b * self.n_out()].copy_from_slice(&d_out[..b * self.n_out()]);
        for l in (0..=last).rev() {
            let layer = &self.layers[l];
            let (no, ni) = (layer.n_out, layer.n_in);
            let out = &ws.outs[l][..b * no];
            let delta = &mut ws.delta[..b * no];
            let p = dropout.get(l).copied().unwrap_or(0.0);
            let input: &[f32] = if p > 0.0 {
                &ws.dropped[l][..b * ni]
            } else if l == 0 {
                &x[..b * ni]
            } else {
                &ws.outs[l - 1][..b * ni]
            };
            let g = &mut ws.grads[l];
            // ReLU backward (zero where the output was clipped) and db = Σ_rows delta,
            // in one pass over delta.
            relu_backward_and_bias_grad(delta, out, no, layer.act, &mut g.db);
            let delta: &[f32] = delta;
            // dW = inputᵀ · delta   (n_in x n_out)
            let bf16 = ws.bf16;
            let dw = |dw: &mut [f32], threads| {
                plan::product(bf16, threads, ni, no, b, input, true, delta, false, dw)
            };
            if l == 0 && !want_input_grad {
                dw(&mut g.dw, Threads::Auto);
                break;
            }
            // dInput = delta · Wᵀ   (b x n_in). The two products have the same cost and
            // no dependence: side by side on one thread each, or one after the other on
            // all threads, whichever measured faster for this shape ([`plan`]).
            let dp = &mut ws.delta_prev[..b * ni];
            let dx = |dp: &mut [f32], threads| {
                plan::product(bf16, threads, b, ni, no, delta, false, &layer.w, true, dp)
            };
            match plan::layer(b, ni, no, bf16).1 {
                Backward::Join => {
                    rayon::join(
                        || dw(&mut g.dw, Threads::Single),
                        || dx(dp, Threads::Single),
                    );
                }
                Backward::Sequential => {
                    dw(&mut g.dw, Threads::Auto);
                    dx(dp, Threads::Auto);
                }
            }
            if p > 0.0 {
                // Dropped inputs got no signal; kept ones were scaled by 1/(1-p).
                let keep = 1.0 / (1.0 - p);
                for (d, i) in dp.iter_mut().zip(input) {
                    *d = if *i == 0.0 { 0.0 } else { *d * keep };
                }
            }
            std::mem::swap(&mut ws.delta, &mut ws.delta_prev);
        }
        want_input_grad.then(|| &ws.delta[..b * self.n_in()])
    }

    /// Apply one optimizer step with the gradients in `ws`; parameter slots start at
    /// `slot0` (so several stacks can share one optimizer).
    pub fn apply_grads(&mut self, ws: &Workspace, opt: &mut Optimizer, slot0: usize) {
        for (l, (layer, g)) in self.layers.iter_mut().zip(&ws.grads).enumerate() {
            opt.update(slot0 + 2 * l, &mut layer.w, &g.dw);
            opt.update(slot0 + 2 * l + 1, &mut layer.b, &g.db);
        }
    }

    /// Inference on all `n` rows of `x`, in chunks, no dropout.
    ///
    /// Every product runs on exactly `CHUNK` rows, the last chunk padded with zero
    /// rows. Why: the gemm crate picks its blocking, kernels and threads by the
    /// product's shape, so a row's output would otherwise differ in its last bits with
    /// the number of rows it came with (measured: one row alone matched all rows in 0
    /// of 10 values of z, 128 rows in 174 of 1,280), and a model would not predict a
    /// subset exactly as it predicts all rows. With one shape, each row's output is
    /// the same whatever batch it is in. The cost: up to `CHUNK - 1` padded rows.
    pub fn predict(&self, x: &[f32], n: usize) -> Vec<f32> {
        const CHUNK: usize = 1024;
        let d = self.n_in();
        let mut out = vec![0.0; n * self.n_out()];
        let widest = self.layers.iter().map(|l| l.n_out).max().unwrap_or(0);
        let mut a = vec![0.0; CHUNK * widest];
        let mut c = vec![0.0; CHUNK * widest];
        let mut padded = Vec::new();
        for start in (0..n).step_by(CHUNK) {
            let rows = CHUNK.min(n - start);
            let mut input: &[f32] = &x[start * d..(start + rows) * d];
            if rows < CHUNK {
                padded.clear();
                padded.extend_from_slice(input);
                padded.resize(CHUNK * d, 0.0);
                input = &padded;
            }
            let b = CHUNK;
            for layer in &self.layers {
                let o = &mut c[..b * layer.n_out];
                matmul_on(
                    row_split(b, layer.n_out, layer.n_in),
                    b,
                    layer.n_out,
                    layer.n_in,
                    input,
                    false,
                    &layer.w,
                    false,
                    o,
                    false,
                );
                bias_act(o, &layer.b, layer.act);
                std::mem::swap(&mut a, &mut c);
                input = &a[..b * layer.n_out];
            }
            out[start * self.n_out()..(start + rows) * self.n_out()]
                .copy_from_slice(&input[..rows * self.n_out()]);
        }
        out
    }
}

impl Mlp {
    /// One reconstruction training step on `b` rows of `xb`: forward (with input
    /// dropout), MSE against the clean input, backward, optimizer update. `grad` is a
    /// scratch buffer of at least `b x n_in`. Returns the loss before the update.
    #[allow(clippy::too_many_arguments)]
    pub fn reconstruction_step(
        &mut self,
        xb: &[f32],
        b: usize,
        dropout: &[f32],
        ws: &mut Workspace,
        opt: &mut Optimizer,
        grad: &mut [f32],
        rng: &mut ChaCha8Rng,
    ) -> f32 {
        let d = self.n_in();
        let y = self.forward(xb, b, dropout, rng, ws);
        let loss = mse_and_grad(y, &xb[..b * d], &mut grad[..b * d]);
        self.backward(xb, b, dropout, grad, ws, false);
        opt.begin_step();
        self.apply_grads(ws, opt, 0);
        loss
    }
}

/// Mean squared error over all elements, and its gradient written into `grad`.
pub fn mse_and_grad(y: &[f32], x: &[f32], grad: &mut [f32]) -> f32 {
    let scale = 2.0 / y.len() as f32;
    let mut s = 0.0f64;
    for ((g, y), x) in grad.iter_mut().zip(y).zip(x) {
        let e = y - x;
        s += (e * e) as f64;
        *g = scale * e;
    }
    (s / y.len() as f64) as f32
}

/// The stacked autoencoder: an encoder `d -> ... -> embedding` and its mirror decoder.
#[derive(Clone, Debug, PartialEq)]
pub struct Autoencoder {
    pub encoder: Mlp,
    pub decoder: Mlp,
}

impl Autoencoder {
    /// Glorot-initialised autoencoder with widths `[d, h1, ..., embedding]`.
    /// ReLU everywhere except the embedding layer and the reconstruction layer.
    pub fn new(dims: &[usize], seed: u64) -> Autoencoder {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = dims.len() - 1;
        let encoder = Mlp {
            layers: (0..n)
                .map(|i| {
                    let act = if i + 1 == n {
                        Activation::Linear
                    } else {
                        Activation::Relu
                    };
                    Dense::new(dims[i], dims[i + 1], act, &mut rng)
                })
                .collect(),
        };
        let decoder = Mlp {
            layers: (0..n)
                .rev()
                .map(|i| {
                    let act = if i == 0 {
                        Activation::Linear
                    } else {
                        Activation::Relu
                    };
                    Dense::new(dims[i + 1], dims[i], act, &mut rng)
                })
                .collect(),
        };
        Autoencoder { encoder, decoder }
    }

    /// The widths `[d, h1, ..., embedding]`.
    pub fn dims(&self) -> Vec<usize> {
        let mut v = vec![self.encoder.n_in()];
        v.extend(self.encoder.layers.iter().map(|l| l.n_out));
        v
    }

    /// Encoder and decoder as one stack (moves the layers; see [`Autoencoder::split`]).
    pub fn joined(&mut self) -> Mlp {
        let mut layers = std::mem::take(&mut self.encoder.layers);
        layers.append(&mut std::mem::take(&mut self.decoder.layers));
        Mlp { layers }
    }

    /// Put back the layers taken by [`Autoencoder::joined`].
    pub fn split(&mut self, mut whole: Mlp) {
        let dec = whole.layers.split_off(whole.layers.len() / 2);
        self.encoder.layers = whole.layers;
        self.decoder.layers = dec;
    }

    /// Embed all rows.
    pub fn encode(&self, x: &[f32], n: usize) -> Vec<f32> {
        self.encoder.predict(x, n)
    }

    /// Reconstruction MSE over all rows (mean over elements).
    pub fn reconstruction_mse(&self, x: &[f32], n: usize) -> f32 {
        let z = self.encoder.predict(x, n);
        let y = self.decoder.predict(&z, n);
        let s: f64 = y
            .iter()
            .zip(x)
            .map(|(a, b)| ((a - b) * (a - b)) as f64)
            .sum();
        (s / y.len().max(1) as f64) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finite-difference check of the hand-written backward pass, with dropout.
    #[test]
    fn backward_matches_finite_differences() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut mlp = Mlp {
            layers: vec![
                Dense::new(5, 4, Activation::Relu, &mut rng),
                Dense::new(4, 3, Activation::Linear, &mut rng),
            ],
        };
        for l in &mut mlp.layers {
            l.b.iter_mut()
                .for_each(|b| *b = rng.random_range(-0.2..0.2));
        }
        let b = 3;
        let x: Vec<f32> = (0..b * 5)
            .map(|i| ((i * 7 % 11) as f32 / 5.0) - 1.0)
            .collect();
        let target: Vec<f32> = (0..b * 3).map(|i| (i as f32).sin()).collect();
        let dropout = [0.3, 0.0];
        let loss = |m: &Mlp| {
            let mut ws = m.workspace(b);
            let mut r = ChaCha8Rng::seed_from_u64(9);
            let y = m.forward(&x, b, &dropout, &mut r, &mut ws).to_vec();
            let mut g = vec![0.0; y.len()];
            mse_and_grad(&y, &target, &mut g) as f64
        };
        let mut ws = mlp.workspace(b);
        let mut r = ChaCha8Rng::seed_from_u64(9);
        let y = mlp.forward(&x, b, &dropout, &mut r, &mut ws).to_vec();
        let mut g = vec![0.0; y.len()];
        mse_and_grad(&y, &target, &mut g);
        mlp.backward(&x, b, &dropout, &g, &mut ws, false);
        for l in 0..2 {
            for i in 0..mlp.layers[l].w.len() {
                let mut p = mlp.clone();
                let h = 1e-3;
                p.layers[l].w[i] += h;
                let up = loss(&p);
                p.layers[l].w[i] -= 2.0 * h;
                let down = loss(&p);
                let num = (up - down) / (2.0 * h as f64);
                let ana = ws.grads[l].dw[i] as f64;
                assert!((num - ana).abs() < 2e-3, "layer {l} w[{i}]: {num} vs {ana}");
            }
            for i in 0..mlp.layers[l].b.len() {
                let mut p = mlp.clone();
                p.layers[l].b[i] += 1e-3;
                let up = loss(&p);
                p.layers[l].b[i] -= 2e-3;
                let num = (up - loss(&p)) / 2e-3;
                let ana = ws.grads[l].db[i] as f64;
                assert!((num - ana).abs() < 2e-3, "layer {l} b[{i}]: {num} vs {ana}");
            }
        }
    }

    /// The bf16 path's gradients (bf16 operands, f32 sums) against the f32 path's,
    /// which `backward_matches_finite_differences` checks: the same to bf16 precision,
    /// for every layer, with dropout; and not bit-equal (the bf16 products did run).
    #[test]
    fn bf16_gradients_agree_with_the_f32_gradients() {
        if !bf16::available() {
            eprintln!("no AVX512-BF16 here: only the f32 path runs");
            return;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mlp = Mlp {
            layers: vec![
                Dense::new(72, 48, Activation::Relu, &mut rng),
                Dense::new(48, 40, Activation::Relu, &mut rng),
                Dense::new(40, 64, Activation::Linear, &mut rng),
            ],
        };
        let b = 40;
        let x: Vec<f32> = (0..b * 72).map(|_| rng.random_range(-1.0..1.0)).collect();
        let dropout = [0.2, 0.0, 0.0];
        let grads = |bf16: bool| {
            let mut ws = mlp.workspace(b);
            ws.set_bf16(bf16);
            let mut r = ChaCha8Rng::seed_from_u64(9);
            let y = mlp.forward(&x, b, &dropout, &mut r, &mut ws).to_vec();
            let mut g = vec![0.0; y.len()];
            mse_and_grad(&y, &x[..b * 64], &mut g);
            let dx = mlp
                .backward(&x, b, &dropout, &g, &mut ws, true)
                .map(<[f32]>::to_vec);
            (ws.grads, dx.unwrap_or_default())
        };
        let ((f, fdx), (h, hdx)) = (grads(false), grads(true));
        let rel = |a: &[f32], b: &[f32]| {
            let d: f64 = a.iter().zip(b).map(|(x, y)| ((x - y) as f64).powi(2)).sum();
            let n: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum();
            (d / n).sqrt()
        };
        for l in 0..3 {
            let (rw, rb) = (rel(&f[l].dw, &h[l].dw), rel(&f[l].db, &h[l].db));
            // Each product carries ~2⁻⁸ relative error per operand; three layers deep.
            assert!(rw < 0.02 && rb < 0.02, "layer {l}: dW {rw:.4}, db {rb:.4}");
            assert_ne!(f[l].dw, h[l].dw, "layer {l}: the bf16 path did not run");
        }
        assert!(rel(&fdx, &hdx) < 0.02);
    }

    #[test]
    fn a_row_is_encoded_the_same_in_any_batch() {
        // Before every product ran on one shape, one row alone matched itself among
        // 2,100 rows in 0 of 10 values (128 rows: 174 of 1,280).
        let ae = Autoencoder::new(&[784, 500, 500, 2000, 10], 3);
        let n = 2100;
        let x: Vec<f32> = (0..n * 784)
            .map(|i| ((i * 7919) % 255) as f32 / 255.0)
            .collect();
        let all = ae.encode(&x, n);
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        for (start, m) in [(0, 1), (7, 1), (40, 17), (100, 128), (1030, 1000)] {
            let z = ae.encode(&x[start * 784..(start + m) * 784], m);
            assert_eq!(
                bits(&z),
                bits(&all[start * 10..(start + m) * 10]),
                "{m} rows from {start}"
            );
        }
    }

    #[test]
    fn predict_equals_training_forward_without_dropout() {
        let ae = Autoencoder::new(&[6, 5, 2], 1);
        let x: Vec<f32> = (0..4 * 6).map(|i| i as f32 / 10.0).collect();
        let mut ws = ae.encoder.workspace(4);
        let mut r = ChaCha8Rng::seed_from_u64(0);
        let a = ae.encoder.forward(&x, 4, &[], &mut r, &mut ws).to_vec();
        assert_eq!(a, ae.encode(&x, 4));
        assert_eq!(ae.dims(), vec![6, 5, 2]);
    }
}
