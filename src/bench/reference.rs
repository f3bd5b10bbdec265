//! The straightforward candle-nn autoencoder (autograd, `candle_nn::Linear`,
//! `candle_nn::loss::mse`, candle-nn's SGD and AdamW), kept as the yardstick for the
//! hand-written engine: a test checks that both give the same loss curve, and
//! `decscope bench` times both in the same run.

use candle_core::{DType, Device, Module, Tensor, Var};
use candle_nn::{AdamW, Linear, Optimizer as _, ParamsAdamW, SGD};

use crate::engine::nn::autoencoder::{Activation, Autoencoder};

/// Which candle-nn optimizer drives the reference.
pub enum RefOptimizer {
    /// candle-nn's plain SGD (it has no momentum).
    Sgd(f64),
    /// candle-nn's AdamW with weight decay 0, i.e. Adam.
    Adam(f64),
}

enum Opt {
    Sgd(SGD),
    Adam(AdamW),
}

/// The autoencoder as candle-nn layers, initialised with the same weights.
pub struct CandleAutoencoder {
    layers: Vec<(Linear, Activation)>,
    opt: Opt,
}

impl CandleAutoencoder {
    /// Copy `ae`'s weights into candle `Var`s.
    pub fn new(ae: &Autoencoder, opt: RefOptimizer) -> candle_core::Result<Self> {
        let dev = Device::Cpu;
        let mut vars = Vec::new();
        let mut layers = Vec::new();
        for l in ae.encoder.layers.iter().chain(&ae.decoder.layers) {
            // candle's Linear stores the weight `out x in`; ours is `in x out`.
            let w = Tensor::from_slice(&l.w, (l.n_in, l.n_out), &dev)?
                .t()?
                .contiguous()?;
            let w = Var::from_tensor(&w)?;
            let b = Var::from_tensor(&Tensor::from_slice(&l.b, l.n_out, &dev)?)?;
            layers.push((
                Linear::new(w.as_tensor().clone(), Some(b.as_tensor().clone())),
                l.act,
            ));
            vars.push(w);
            vars.push(b);
        }
        let opt = match opt {
            RefOptimizer::Sgd(lr) => Opt::Sgd(SGD::new(vars, lr)?),
            RefOptimizer::Adam(lr) => Opt::Adam(AdamW::new(
                vars,
                ParamsAdamW {
                    lr,
                    beta1: 0.9,
                    beta2: 0.999,
                    eps: 1e-8,
                    weight_decay: 0.0,
                },
            )?),
        };
        Ok(CandleAutoencoder { layers, opt })
    }

    /// One training step on a batch (`b x d` row-major); returns the MSE before the step.
    pub fn step(&mut self, x: &[f32], b: usize) -> candle_core::Result<f32> {
        let d = x.len() / b;
        let x = Tensor::from_slice(x, (b, d), &Device::Cpu)?;
        let mut h = x.clone();
        for (lin, act) in &self.layers {
            h = lin.forward(&h)?;
            if *act == Activation::Relu {
                h = h.relu()?;
            }
        }
        let loss = candle_nn::loss::mse(&h, &x)?;
        match &mut self.opt {
            Opt::Sgd(o) => o.backward_step(&loss)?,
            Opt::Adam(o) => o.backward_step(&loss)?,
        }
        loss.to_dtype(DType::F32)?.to_scalar::<f32>()
    }
}
