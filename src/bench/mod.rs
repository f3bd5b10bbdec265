//! `decscope bench`: how fast this machine trains DEC, measured in one run against two
//! references taken in the same run: the raw GEMM throughput of the autoencoder's
//! largest product, and the straightforward candle-nn implementation
//! ([`crate::bench::reference`]).
//!
//! Figures: ms per step, samples/s, achieved GFLOP/s (6 x parameters x batch per
//! training step, 2 x parameters x samples per inference pass) and the ratio of that
//! to the GEMM throughput.
//!
//! May use: the engine's `nn` and `cluster` rooms and the data; only the CLI uses it.

pub mod reference;

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::bench::reference::{CandleAutoencoder, RefOptimizer};
use crate::engine::cluster::assign::{soft_assign, target_distribution};
use crate::engine::cluster::dec::DecStep;
use crate::engine::cluster::kmeans::{KMeansParams, kmeans};
use crate::engine::nn::augment::{AugmentConfig, Augmenter, Batch, Batches};
use crate::engine::nn::autoencoder::Autoencoder;
use crate::engine::nn::bf16;
use crate::engine::nn::linalg::{Threads, matmul};
use crate::engine::nn::optim::{Optimizer, OptimizerConfig};
use crate::engine::nn::plan;

/// Settings of a benchmark run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchOptions {
    /// Widths `[d, h1, ..., embedding]`.
    pub dims: Vec<usize>,
    pub batch: usize,
    /// Timed steps per measurement (after warm-up).
    pub steps: usize,
    /// Rows of the full-data encoder pass.
    pub full_n: usize,
    /// Also time the candle-nn reference.
    pub reference: bool,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            dims: vec![784, 500, 500, 2000, 10],
            batch: 256,
            steps: 40,
            full_n: 70_000,
            reference: true,
        }
    }
}

/// One measured operation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchEntry {
    pub name: String,
    /// Median milliseconds per step (per pass for the full-data pass).
    pub ms: f64,
    pub samples_per_s: f64,
    pub gflops: f64,
    /// `gflops` / the GEMM throughput of the same run.
    pub ratio_to_gemm: f64,
}

/// Everything `decscope bench` measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchReport {
    pub options: BenchOptions,
    pub threads: usize,
    /// GFLOP/s of the largest product of a training step (`batch x h2 · h2 x h3`).
    pub gemm_gflops: f64,
    /// Its shape (m, k, n).
    pub gemm_shape: (usize, usize, usize),
    /// The same product with bf16 operands on the kernel training uses, where the CPU
    /// has AVX512-BF16 (on AMX tiles where it has those too).
    #[serde(default)]
    pub gemm_bf16_gflops: Option<f64>,
    /// The same product on each bf16 kernel this CPU has (`AVX512-BF16`, `AMX`).
    #[serde(default)]
    pub gemm_bf16_kernels: Vec<(String, f64)>,
    /// The use of threads chosen for each layer shape the steps ran ([`plan`]).
    #[serde(default)]
    pub plans: Vec<(plan::Shape, plan::LayerPlan)>,
    pub entries: Vec<BenchEntry>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Time `f` `steps` times after `warm` warm-up calls; median seconds per call.
fn time(warm: usize, steps: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..warm {
        f();
    }
    median(
        (0..steps.max(1))
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

/// Median seconds of `step(0)` and of `step(1)`, timed in alternating blocks (4 rounds
/// of `steps / 4` each, after 3 warm-up calls of each), so that a machine whose speed
/// drifts during the run (other load, clocks) affects both alike.
fn paired(steps: usize, mut step: impl FnMut(usize)) -> (f64, f64) {
    for _ in 0..3 {
        step(0);
        step(1);
    }
    let block = (steps / 4).max(2);
    let mut times = [Vec::new(), Vec::new()];
    for _ in 0..4 {
        for (which, v) in times.iter_mut().enumerate() {
            for _ in 0..block {
                let t = Instant::now();
                step(which);
                v.push(t.elapsed().as_secs_f64());
            }
        }
    }
    let [a, b] = times;
    (median(a), median(b))
}

/// [`paired`] over the training loops' own batch streams of `rows` rows of `data`:
/// `step` fed from plain batches against `step` fed from augmented ones.
fn paired_streams(
    data: &[f32],
    rows: usize,
    b: usize,
    aug: Augmenter,
    steps: usize,
    mut step: impl FnMut(&Batch),
) -> (f64, f64) {
    std::thread::scope(|s| {
        let mut streams = [
            Batches::new(s, data, rows, b, None, 7),
            Batches::new(s, data, rows, b, Some(aug), 7),
        ];
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        paired(steps, |which| {
            if let Some(batch) = streams[which].next(&mut rng) {
                step(batch);
            }
        })
    })
}

/// Run every measurement.
pub fn run(opts: &BenchOptions, mut progress: impl FnMut(&str)) -> BenchReport {
    crate::engine::nn::linalg::flush_subnormals();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let (b, d) = (opts.batch, opts.dims[0]);
    let x: Vec<f32> = (0..b * d).map(|_| rng.random::<f32>()).collect();
    let (gemm_shape, gemm_gflops, gemm_bf16_kernels) =
        gemm_reference(opts, &mut rng, &mut progress);
    let gemm_bf16_gflops = bf16::kernel().and_then(|k| {
        let name = k.name();
        gemm_bf16_kernels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, g)| *g)
    });
    let ae0 = Autoencoder::new(&opts.dims, 1);
    let mut bench = Bench {
        opts,
        x,
        step_flops: 6.0 * (ae0.encoder.n_params() + ae0.decoder.n_params()) as f64 * b as f64,
        dec_flops: 6.0 * ae0.encoder.n_params() as f64 * b as f64,
        ae0,
        gemm_gflops,
        entries: Vec::new(),
        progress: &mut progress,
    };
    bench.autoencoder_steps();
    if opts.reference {
        bench.reference_steps();
    }
    let (mu, p) = bench.dec_steps();
    if bf16::available() {
        bench.bf16_steps(&mu, &p);
    }
    bench.augmented_steps(&mu, &p);
    bench.encoder_pass();
    BenchReport {
        options: opts.clone(),
        threads: rayon::current_num_threads(),
        gemm_gflops,
        gemm_shape,
        gemm_bf16_gflops,
        gemm_bf16_kernels,
        entries: bench.entries,
        plans: plan::chosen(),
    }
}

/// GFLOP/s of one product on each bf16 kernel the CPU has, by the kernel's name.
type KernelRates = Vec<(String, f64)>;

/// The GEMM of the widest layer, forward shape, in f32 and on each bf16 kernel the CPU
/// has: its shape (m, k, n) and GFLOP/s.
fn gemm_reference(
    opts: &BenchOptions,
    rng: &mut ChaCha8Rng,
    progress: &mut impl FnMut(&str),
) -> ((usize, usize, usize), f64, KernelRates) {
    let dims = &opts.dims;
    let (gm, gk, gn) = {
        let i = (0..dims.len() - 1)
            .max_by_key(|&i| dims[i] * dims[i + 1])
            .unwrap_or(0);
        (opts.batch, dims[i], dims[i + 1])
    };
    progress("GEMM");
    let a: Vec<f32> = (0..gm * gk).map(|_| rng.random::<f32>()).collect();
    let w: Vec<f32> = (0..gk * gn).map(|_| rng.random::<f32>()).collect();
    let mut c = vec![0.0f32; gm * gn];
    let flops = 2.0 * (gm * gn * gk) as f64;
    let t = time(5, opts.steps * 4, || {
        matmul(gm, gn, gk, &a, false, &w, false, &mut c, false)
    });
    let bf = bf16::kernels().into_iter().map(|kernel| {
        let t = time(5, opts.steps * 4, || {
            let p = bf16::Product {
                m: gm,
                n: gn,
                k: gk,
                a: &a,
                ta: false,
                b: &w,
                tb: false,
            };
            bf16::matmul_with(kernel, Threads::Auto, p, &mut c, false)
        });
        (kernel.name().to_owned(), flops / t / 1e9)
    });
    let bf = bf.collect();
    ((gm, gk, gn), flops / t / 1e9, bf)
}

/// The state shared by the measurements of one run.
struct Bench<'a, F: FnMut(&str)> {
    opts: &'a BenchOptions,
    /// One batch of random rows.
    x: Vec<f32>,
    ae0: Autoencoder,
    gemm_gflops: f64,
    /// FLOPs of one autoencoder (or IDEC) step and of one DEC step.
    step_flops: f64,
    dec_flops: f64,
    entries: Vec<BenchEntry>,
    progress: &'a mut F,
}

impl<F: FnMut(&str)> Bench<'_, F> {
    fn push(&mut self, name: &str, secs: f64, samples: usize, flops: f64) {
        let gflops = flops / secs / 1e9;
        self.entries.push(BenchEntry {
            name: name.into(),
            ms: secs * 1e3,
            samples_per_s: samples as f64 / secs,
            gflops,
            ratio_to_gemm: gflops / self.gemm_gflops,
        });
    }

    fn autoencoder_steps(&mut self) {
        let (b, d) = (self.opts.batch, self.opts.dims[0]);
        for (name, cfg) in [
            (
                "autoencoder step, SGD+momentum (decscope)",
                OptimizerConfig::Sgd {
                    lr: 0.01,
                    momentum: 0.9,
                },
            ),
            (
                "autoencoder step, Adam (decscope)",
                OptimizerConfig::adam(1e-3),
            ),
        ] {
            (self.progress)(name);
            let mut mlp = self.ae0.clone().joined();
            let mut ws = mlp.workspace(b);
            let mut opt = Optimizer::new(cfg);
            let mut grad = vec![0.0f32; b * d];
            let mut r = ChaCha8Rng::seed_from_u64(1);
            let x = &self.x;
            let t = time(3, self.opts.steps, || {
                mlp.reconstruction_step(x, b, &[], &mut ws, &mut opt, &mut grad, &mut r);
            });
            self.push(name, t, b, self.step_flops);
        }
    }

    fn reference_steps(&mut self) {
        let b = self.opts.batch;
        for (name, o) in [
            (
                "autoencoder step, SGD (candle-nn reference)",
                RefOptimizer::Sgd(0.01),
            ),
            (
                "autoencoder step, AdamW (candle-nn reference)",
                RefOptimizer::Adam(1e-3),
            ),
        ] {
            (self.progress)(name);
            if let Ok(mut m) = CandleAutoencoder::new(&self.ae0, o) {
                let x = &self.x;
                let t = time(2, (self.opts.steps / 2).max(3), || {
                    let _ = m.step(x, b);
                });
                self.push(name, t, b, self.step_flops);
            }
        }
    }

    /// The DEC and IDEC steps; returns the centroids and targets they used.
    fn dec_steps(&mut self) -> (Vec<f32>, Vec<f32>) {
        (self.progress)("DEC step");
        let (b, k) = (self.opts.batch, 10);
        let e = *self.opts.dims.last().unwrap_or(&10);
        let mut enc = self.ae0.encoder.clone();
        let z = enc.predict(&self.x, b);
        let km = kmeans(
            &z,
            e,
            &KMeansParams {
                n_init: 1,
                ..KMeansParams::new(k)
            },
        );
        let mut mu = km.centroids;
        let mut q = vec![0.0f32; b * k];
        let mut ker = vec![0.0f32; b * k];
        soft_assign(&z, &mu, e, 1.0, &mut q, &mut ker);
        let p = target_distribution(&q, k);
        let mu0 = mu.clone();
        let mut step = DecStep::new(&enc, k, 1.0, b);
        let mut opt = dec_optimizer();
        let mut r = ChaCha8Rng::seed_from_u64(2);
        let x = &self.x.clone();
        let t = time(3, self.opts.steps, || {
            step.step(&mut enc, None, &mut mu, &mut opt, x, &p, b, None, &mut r);
        });
        self.push("DEC clustering step (decscope)", t, b, self.dec_flops);

        // IDEC: the same step plus the decoder's reconstruction term.
        (self.progress)("IDEC step");
        let mut dec = self.ae0.decoder.clone();
        let mut step = DecStep::new(&enc, k, 1.0, b).with_decoder(&dec, b, 0.1);
        let t = time(3, self.opts.steps, || {
            step.step(
                &mut enc,
                Some(&mut dec),
                &mut mu,
                &mut opt,
                x,
                &p,
                b,
                None,
                &mut r,
            );
        });
        self.push("IDEC clustering step (decscope)", t, b, self.step_flops);
        (mu0, p)
    }

    /// The autoencoder (Adam) and DEC steps in f32 against bf16 ([`crate::engine::nn::bf16`]),
    /// timed in alternating blocks ([`paired`]) so both see the same machine.
    fn bf16_steps(&mut self, mu0: &[f32], p: &[f32]) {
        let (b, d, k) = (self.opts.batch, self.opts.dims[0], 10);
        (self.progress)("autoencoder step, f32 against bf16");
        let mut mlps = [self.ae0.clone().joined(), self.ae0.clone().joined()];
        let mut wss = [mlps[0].workspace(b), mlps[1].workspace(b)];
        wss[1].set_bf16(true);
        let mut opts = [0, 1].map(|_| Optimizer::new(OptimizerConfig::adam(1e-3)));
        let mut grad = vec![0.0f32; b * d];
        let mut r = ChaCha8Rng::seed_from_u64(1);
        let x = &self.x.clone();
        let (f32_t, bf16_t) = paired(self.opts.steps, |i| {
            mlps[i].reconstruction_step(x, b, &[], &mut wss[i], &mut opts[i], &mut grad, &mut r);
        });
        self.push(
            "autoencoder step, Adam, f32 (paired)",
            f32_t,
            b,
            self.step_flops,
        );
        self.push(
            "autoencoder step, Adam, bf16 (paired)",
            bf16_t,
            b,
            self.step_flops,
        );

        (self.progress)("DEC step, f32 against bf16");
        let mut encs = [self.ae0.encoder.clone(), self.ae0.encoder.clone()];
        let mut mus = [mu0.to_vec(), mu0.to_vec()];
        let mut steps = [false, true].map(|on| DecStep::new(&encs[0], k, 1.0, b).with_bf16(on));
        let mut opts = [dec_optimizer(), dec_optimizer()];
        let (f32_t, bf16_t) = paired(self.opts.steps, |i| {
            steps[i].step(
                &mut encs[i],
                None,
                &mut mus[i],
                &mut opts[i],
                x,
                p,
                b,
                None,
                &mut r,
            );
        });
        self.push(
            "DEC clustering step, f32 (paired)",
            f32_t,
            b,
            self.dec_flops,
        );
        self.push(
            "DEC clustering step, bf16 (paired)",
            bf16_t,
            b,
            self.dec_flops,
        );
    }

    /// Augmentation (DEC-DA): the same steps fed from the batch streams of training,
    /// rows as they are against randomly shifted and rotated rows made on the
    /// augmenting thread; and the cost of augmenting one batch on one thread.
    fn augmented_steps(&mut self, mu0: &[f32], p: &[f32]) {
        let (b, d, k) = (self.opts.batch, self.opts.dims[0], 10);
        let Some(shape) = crate::data::ImageShape::guess(d) else {
            return;
        };
        let aug = Augmenter {
            cfg: AugmentConfig::default(),
            shape,
        };
        let rows = 8 * b;
        let x = self.x.clone();
        let data: Vec<f32> = (0..rows * d).map(|i| x[i % x.len()]).collect();
        (self.progress)("augmenting one batch");
        let mut r = ChaCha8Rng::seed_from_u64(2);
        let mut out = vec![0.0f32; b * d];
        let t = time(3, self.opts.steps, || {
            for (o, src) in out.chunks_exact_mut(d).zip(x.chunks_exact(d)) {
                let a = aug.draw(&mut r);
                aug.apply(src, a, o);
            }
        });
        self.push("augmenting one batch (one thread)", t, b, 0.0);
        (self.progress)("autoencoder step, plain against augmented batches");
        let mut mlp = self.ae0.clone().joined();
        let mut ws = mlp.workspace(b);
        let mut opt = Optimizer::new(OptimizerConfig::adam(1e-3));
        let mut grad = vec![0.0f32; b * d];
        let (plain, augmented) = paired_streams(&data, rows, b, aug, self.opts.steps, |batch| {
            let n = batch.idx.len();
            mlp.reconstruction_step(&batch.x, n, &[], &mut ws, &mut opt, &mut grad, &mut r);
        });
        let f = self.step_flops;
        self.push("autoencoder step, Adam, plain batches", plain, b, f);
        self.push("autoencoder step, Adam, augmented batches", augmented, b, f);
        (self.progress)("DEC step, plain against augmented batches");
        let mut enc = self.ae0.encoder.clone();
        let mut mu = mu0.to_vec();
        let mut step = DecStep::new(&enc, k, 1.0, b);
        let mut opt = dec_optimizer();
        let pall: Vec<f32> = (0..rows * k).map(|i| p[i % p.len()]).collect();
        let mut pb = vec![0.0f32; b * k];
        let (plain, augmented) = paired_streams(&data, rows, b, aug, self.opts.steps, |batch| {
            for (j, &i) in batch.idx.iter().enumerate() {
                pb[j * k..(j + 1) * k].copy_from_slice(&pall[i * k..(i + 1) * k]);
            }
            let n = batch.idx.len();
            step.step(
                &mut enc, None, &mut mu, &mut opt, &batch.x, &pb, n, None, &mut r,
            );
        });
        let f = self.dec_flops;
        self.push("DEC clustering step, plain batches", plain, b, f);
        self.push("DEC clustering step, augmented batches", augmented, b, f);
    }

    fn encoder_pass(&mut self) {
        (self.progress)("full-data encoder pass");
        let (n, d) = (self.opts.full_n, self.opts.dims[0]);
        let x = &self.x;
        let big: Vec<f32> = (0..n * d).map(|i| x[i % x.len()]).collect();
        let ae0 = &self.ae0;
        let t = time(1, 3, || {
            std::hint::black_box(ae0.encode(&big, n));
        });
        let flops = 2.0 * self.ae0.encoder.n_params() as f64 * n as f64;
        self.push(
            &format!("encoder pass over {n} samples (decscope)"),
            t,
            n,
            flops,
        );
    }
}

/// The optimizer of the DEC steps measured.
fn dec_optimizer() -> Optimizer {
    Optimizer::new(OptimizerConfig::Sgd {
        lr: 0.01,
        momentum: 0.9,
    })
}

impl BenchReport {
    /// A plain-text table.
    pub fn table(&self) -> String {
        let mut s = format!(
            "threads {}, GEMM {}x{} · {}x{}: {:.1} GFLOP/s\n{:<48} {:>9} {:>11} {:>8} {:>8}\n",
            self.threads,
            self.gemm_shape.0,
            self.gemm_shape.1,
            self.gemm_shape.1,
            self.gemm_shape.2,
            self.gemm_gflops,
            "operation",
            "ms",
            "samples/s",
            "GFLOP/s",
            "of GEMM"
        );
        for (kernel, g) in &self.gemm_bf16_kernels {
            s += &format!(
                "the same GEMM with bf16 operands ({kernel}): {g:.1} GFLOP/s ({:.2}x f32)\n",
                g / self.gemm_gflops
            );
        }
        s += &match bf16::kernel() {
            Some(k) => format!("bf16 steps below run on {}\n", k.name()),
            None => "bf16 products: not on this CPU (no AVX512-BF16); f32 only\n".into(),
        };
        for e in &self.entries {
            s += &format!(
                "{:<48} {:>9.2} {:>11.0} {:>8.1} {:>7.0}%\n",
                e.name,
                e.ms,
                e.samples_per_s,
                e.gflops,
                100.0 * e.ratio_to_gemm
            );
        }
        s += &self.plan_table();
        let ms = |name: &str| self.entries.iter().find(|e| e.name == name).map(|e| e.ms);
        for (what, f, b) in [
            (
                "autoencoder step",
                "autoencoder step, Adam, f32 (paired)",
                "autoencoder step, Adam, bf16 (paired)",
            ),
            (
                "DEC step",
                "DEC clustering step, f32 (paired)",
                "DEC clustering step, bf16 (paired)",
            ),
        ] {
            if let (Some(f), Some(b)) = (ms(f), ms(b)) {
                s += &format!(
                    "{what}: bf16 takes {:.2}x the f32 time (paired, this run)\n",
                    b / f
                );
            }
        }
        s
    }

    /// The chosen use of threads per layer shape, with the timings behind each choice.
    fn plan_table(&self) -> String {
        let timed: Vec<_> = self
            .plans
            .iter()
            .filter(|(_, p)| !p.timings.is_empty())
            .collect();
        if timed.is_empty() {
            return String::new();
        }
        let mut s = String::from("paths chosen per layer shape, timed at first use (best of 3):\n");
        for (sh, p) in timed {
            let t: Vec<String> = p
                .timings
                .iter()
                .map(|(what, ms)| format!("{what} {ms:.2} ms"))
                .collect();
            s += &format!(
                "  {:4}->{:<4} batch {:3} {:4}: forward {}, backward {} ({})\n",
                sh.n_in,
                sh.n_out,
                sh.batch,
                if sh.bf16 { "bf16" } else { "f32" },
                match (sh.bf16, p.forward) {
                    (true, _) => "bf16 tiles",
                    (false, crate::engine::nn::linalg::Threads::Rows) => "row blocks",
                    _ => "split",
                },
                match p.backward {
                    plan::Backward::Join => "side by side",
                    plan::Backward::Sequential => "one after the other",
                },
                t.join(", ")
            );
        }
        s
    }
}
