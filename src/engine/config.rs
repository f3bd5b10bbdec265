//! The run configuration of DEC: presets, a validating builder, and its JSON form.
//!
//! Every hyperparameter of a run lives here, so a report that embeds this struct says
//! exactly how its numbers were produced. Two presets: `paper` (the schedule of Xie et
//! al. 2016, section 4.3) and `fast` (end-to-end Adam pretraining, which most
//! reimplementations use and which reaches the paper's accuracy in minutes on a CPU).

use serde::{Deserialize, Serialize};

use crate::engine::cluster::constraints::Constraints;
use crate::engine::nn::augment::AugmentConfig;
use crate::engine::nn::optim::OptimizerConfig;

/// `fast` schedule: pretraining length in epochs (see [`DecConfig::scaled_to`]).
pub const FAST_PRETRAIN_EPOCHS: usize = 200;
/// `fast` schedule: fewest pretraining steps, whatever the size of the data.
pub const FAST_PRETRAIN_MIN_STEPS: usize = 1_000;
/// `fast` schedule: most pretraining steps (MNIST-70k: 20,000, as before).
pub const FAST_PRETRAIN_MAX_STEPS: usize = 20_000;
/// `fast` schedule: epochs between two computations of the target P, at most.
pub const FAST_MAX_EPOCHS_PER_UPDATE: usize = 40;
/// `fast` schedule: most DEC epochs.
pub const FAST_DEC_EPOCHS: usize = 2_000;
/// `augmented` schedule: pretraining length in epochs; augmented batches are new every
/// epoch, so the autoencoder keeps learning long after plain data would overfit
/// (DEC-DA pretrains 500 epochs).
pub const AUGMENTED_PRETRAIN_EPOCHS: usize = 400;
/// `augmented` schedule: most pretraining steps (MNIST-10k: 16,000 steps, 814-986 s on
/// the 2-core development machine while it ran other work; the whole DEC-DA run stays
/// under 30 minutes, with ACC 0.982-0.984 over seeds 0-2).
pub const AUGMENTED_PRETRAIN_MAX_STEPS: usize = 16_000;
/// `fast` schedule: the convergence test needs fewer than this many changed labels at
/// least (0.1% of 1,797 rows is under 2 samples).
pub const FAST_MIN_CHANGES: usize = 5;

/// Named starting points for a configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// End-to-end Adam pretraining, then DEC: the paper's accuracy in minutes.
    #[default]
    Fast,
    /// The paper's schedule: layer-wise denoising pretraining 50k iterations per layer,
    /// 100k fine-tuning iterations, SGD lr 0.1 / 10 every 20k, momentum 0.9.
    Paper,
    /// The best accuracy in reasonable time on images: `fast` with DEC-DA's random
    /// shifts and rotations on every pretraining and clustering batch, and a longer
    /// pretraining (400 epochs, at most 16,000 steps: `AUGMENTED_PRETRAIN_EPOCHS`,
    /// `AUGMENTED_PRETRAIN_MAX_STEPS`). Needs data with an image shape.
    Augmented,
}

/// The precision of the training products (`--precision`).
///
/// `f32`: every product in f32. `bf16`: the products of the autoencoder and of the
/// DEC/IDEC step take bf16 operands and sum in f32 ([`crate::engine::nn::bf16`]); weights,
/// optimizer state, losses, q/p, k-means and every full-data encoder pass stay f32.
/// `auto`: bf16 where it was measured faster than f32 on such a CPU (AMX tiles, or AMD's
/// AVX512-BF16: [`crate::engine::nn::bf16::pays`]), else f32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    Auto,
    #[default]
    F32,
    Bf16,
}

impl Precision {
    /// What runs on this CPU: [`Precision::F32`] or [`Precision::Bf16`].
    pub fn resolved(self) -> Precision {
        match self {
            Precision::Bf16 if crate::engine::nn::bf16::available() => Precision::Bf16,
            Precision::Auto if crate::engine::nn::bf16::pays() => Precision::Bf16,
            _ => Precision::F32,
        }
    }

    /// `auto`, `f32` or `bf16`.
    pub fn name(self) -> &'static str {
        match self {
            Precision::Auto => "auto",
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
        }
    }

    fn is_f32(&self) -> bool {
        *self == Precision::F32
    }
}

/// The clustering objective.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// DEC (Xie et al. 2016): KL(P‖Q) on the encoder and centroids; the decoder is
    /// dropped after pretraining.
    #[default]
    Dec,
    /// IDEC (Guo, Gao, Liu & Yin, IJCAI 2017): the decoder is kept and trained, and the
    /// loss is L = L_r + γ·KL(P‖Q) (their eq. 6, γ = `cluster.idec_gamma`), so the
    /// embedding keeps what reconstructs the input.
    Idec,
}

impl Method {
    /// `dec` or `idec`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Dec => "dec",
            Method::Idec => "idec",
        }
    }
}

impl Preset {
    /// `fast`, `paper` or `augmented`.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Fast => "fast",
            Preset::Paper => "paper",
            Preset::Augmented => "augmented",
        }
    }
}

/// How the pretraining learning rate moves over a phase of `T` steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum LrSchedule {
    /// The optimizer's rate η, divided by `lr_gamma` every `lr_step` steps (0: constant).
    #[default]
    Step,
    /// Linear warm-up over the first `warmup·T` steps, then cosine decay to the floor
    /// `f·η` (f = `floor`, 0 unless given): `η_t = η·(t+1)/W` for `t < W`, else
    /// `η·(f + (1−f)·½·(1 + cos(π·(t−W)/(T−W))))`.
    ///
    /// Not a preset's default: measured on the MNIST test set with the `augmented`
    /// preset in bf16 (seeds 0 and 1, `benches/schedules.py`), cosine decay with a 2%
    /// warm-up in 12,000 steps reached a lower reconstruction MSE (0.00866) than the
    /// preset's 16,000 constant-rate steps (0.00884) but a worse DEC-DA (ACC 0.936
    /// against 0.983; AE + k-means 0.828 against 0.852), and 8,000 steps 0.931. With
    /// the `fast` preset (f32, seeds 0 and 1), half its 8,000 steps under cosine decay
    /// took 0.58x the pretraining time but ended DEC 0.0125 lower (0.801 against
    /// 0.814), and a 3x peak rate 0.757. On three stand-ins (seeds 0-2) half the steps
    /// under cosine decay gained on two (8x8 digits +0.028, Reuters articles +0.010) and
    /// lost on the third (1,000 MNIST digits -0.040): no gain that holds across data.
    /// A floor of 0.1 kept `fast` DEC on MNIST (seeds 0 and 1: +0.004 in half the
    /// steps) and gained on two stand-ins (+0.011, +0.017) but lost 0.033 on the 1,000
    /// digits; a one-cycle shape (30% warm-up to a 3x peak) lost 0.033 on MNIST; and
    /// DEC-DA's 8,000 steps with the floor ended at 0.945 (seeds 0 and 1, bf16).
    Cosine {
        warmup: f32,
        /// The share of the peak rate the decay ends at (0: decay to 0).
        #[serde(default, skip_serializing_if = "is_zero")]
        floor: f32,
    },
}

fn is_zero(x: &f32) -> bool {
    *x == 0.0
}

impl LrSchedule {
    fn is_step(&self) -> bool {
        *self == LrSchedule::Step
    }
}

/// Autoencoder pretraining.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PretrainConfig {
    /// Iterations for each encoder/decoder pair of the layer-wise stage (0 skips it).
    pub layerwise_iters: usize,
    /// Dropout rate on the inputs of each layer during layer-wise training.
    pub dropout: f32,
    /// Iterations of end-to-end training of the whole autoencoder (no dropout); the
    /// cap when `finetune_epochs` is set.
    pub finetune_iters: usize,
    /// End-to-end training length in epochs over the data (at most `finetune_iters`).
    pub finetune_epochs: Option<usize>,
    pub batch_size: usize,
    pub optimizer: OptimizerConfig,
    /// Divide the learning rate by `lr_gamma` every this many iterations (0: never).
    pub lr_step: usize,
    pub lr_gamma: f32,
    /// The shape of the learning rate over each phase (`step` unless given).
    #[serde(default, skip_serializing_if = "LrSchedule::is_step")]
    pub lr_schedule: LrSchedule,
    /// Whether end-to-end pretraining checks that Z has settled, and stops on it.
    #[serde(default, skip_serializing_if = "Settle::is_off")]
    pub settle: Settle,
}

/// Settle checks of end-to-end pretraining (`pipeline::settle`): every few epochs,
/// k-means on Z of a fixed sample, warm-started from the last check, and how much of
/// its partition agrees with the last check's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Settle {
    /// No checks (the default; pretraining runs its steps).
    #[default]
    Off,
    /// Check and report (the report's `settle`, the Curves view), never stop.
    Watch,
    /// Check, and stop pretraining once Z has settled (see `pipeline::settle`).
    Stop,
}

impl Settle {
    fn is_off(&self) -> bool {
        *self == Settle::Off
    }
}

impl PretrainConfig {
    /// The learning rate at step `t` of a phase of `total` steps ([`LrSchedule`]).
    pub fn lr_at(&self, t: usize, total: usize) -> f32 {
        let lr = self.optimizer.lr();
        match self.lr_schedule {
            LrSchedule::Step => match t.checked_div(self.lr_step) {
                Some(k) => lr / self.lr_gamma.powi(k as i32),
                None => lr,
            },
            LrSchedule::Cosine { warmup, floor } => {
                let w = ((warmup as f64 * total as f64).round() as usize).min(total);
                if t < w {
                    return lr * (t + 1) as f32 / w as f32;
                }
                let frac = (t - w) as f64 / (total - w).max(1) as f64;
                let decay = 0.5 * (1.0 + (std::f64::consts::PI * frac).cos());
                let f = floor as f64;
                (lr as f64 * (f + (1.0 - f) * decay)) as f32
            }
        }
    }
}

/// The DEC clustering stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterConfig {
    /// Degrees of freedom of the Student's t kernel (the paper: 1).
    pub alpha: f32,
    /// Optimizer of the encoder weights and centroids (the paper: SGD lr 0.01, momentum 0.9).
    pub optimizer: OptimizerConfig,
    pub batch_size: usize,
    /// Recompute the target distribution P every this many batches.
    pub update_interval: usize,
    /// Stop when fewer than this fraction of labels changed between two updates.
    pub tol: f32,
    /// Stop after this many batches at most.
    pub max_iter: usize,
    /// Restarts of the k-means that initialises the centroids.
    pub kmeans_n_init: usize,
    /// Where DEC's centroids start: k-means on Z (the paper's) or the spectral
    /// clusters of Z's neighbour graph ([`crate::engine::cluster::spectral`]).
    #[serde(default)]
    pub start: Start,
    /// After DEC converges, mend a split-and-merge failure found without labels and
    /// run DEC again from the pretrained encoder ([`crate::engine::pipeline`]'s
    /// self-correction; at most 3 rounds). On in `fast` and `augmented`, off in
    /// `paper` (docs/steering.md, "Self-correction by default"). A saved configuration
    /// without the field comes from before self-correction existed, so it reads `false`.
    #[serde(default)]
    pub self_correct: bool,
    /// A cluster has collapsed when, at a P update, it holds fewer samples than this
    /// fraction of the smaller of its size at the start of DEC and n/k (default 0.25;
    /// an empty cluster always counts).
    #[serde(default = "default_collapse_fraction")]
    pub collapse_fraction: f32,
    /// What a collapse does: `stop` (the default) ends DEC with the last healthy state,
    /// `warn` only reports it and goes on.
    #[serde(default)]
    pub on_collapse: OnCollapse,
    /// IDEC's γ, the weight of the clustering loss against the reconstruction loss
    /// (IDEC: 0.1). The step minimises L/γ = KL(P‖Q) + L_r/γ, so the KL term moves
    /// the encoder exactly as in DEC at the same learning rate.
    #[serde(default = "default_idec_gamma")]
    pub idec_gamma: f32,
}

fn default_collapse_fraction() -> f32 {
    0.25
}

/// IDEC's γ (Guo et al. 2017, section 4.2).
pub const DEFAULT_IDEC_GAMMA: f32 = 0.1;

fn default_idec_gamma() -> f32 {
    DEFAULT_IDEC_GAMMA
}

/// How DEC's first centroids are found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Start {
    /// The default: with self-correction on and input that is not tf-idf text, DEC from
    /// both starts, keeping the one the pretrained Z's neighbour graph agrees with more
    /// (`pipeline::starts`); k-means otherwise ([`Start::resolved`]).
    #[default]
    Auto,
    /// k-means on the pretrained Z, lowest inertia of the restarts (the paper's).
    Kmeans,
    /// k-means on the spectral embedding of Z's 10-nearest-neighbour graph, each
    /// centroid the mean z of its cluster ([`crate::engine::cluster::spectral`]).
    Spectral,
}

impl Start {
    /// The start a run takes: `Kmeans` and `Spectral` as asked; `Auto` is `Spectral`
    /// when self-correction is on and the input is not tf-idf text, else `Kmeans`.
    ///
    /// Why (docs/steering.md, "A better start and self-correction"): DEC from k-means
    /// folds MNIST's 4s and 9s into clusters of ordinary size that no label-free rule
    /// found (seeds 0 and 1), while from the spectral start the same failure comes
    /// with a class cut in two, which self-correction finds and mends (plain DEC,
    /// seeds 0-2: 0.807 from k-means, 0.846 with self-correction, 0.925 with both).
    /// Alone the spectral start helps on seed 0 and hurts on seeds 1 and 2 (0.833), so
    /// it comes with self-correction only; on tf-idf text it lost to k-means on all
    /// three seeds, so text keeps k-means. Both are on by default (docs/steering.md,
    /// "Self-correction by default"); `paper` keeps the paper's k-means start. Where
    /// `Auto` resolves to `Spectral`, DEC runs from k-means too ("The start check").
    pub fn resolved(self, self_correct: bool, text: bool) -> Start {
        match self {
            Start::Auto if self_correct && !text => Start::Spectral,
            Start::Auto => Start::Kmeans,
            s => s,
        }
    }
}

/// What the DEC phase does when a cluster collapses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum OnCollapse {
    /// Report it (event, report, CLI summary, app) and keep training.
    Warn,
    /// Report it and end DEC with the encoder and centroids of the last P update at
    /// which no cluster had collapsed. The default: a collapsed cluster rarely comes
    /// back, and the samples it lost end up in its neighbours.
    #[default]
    Stop,
}

/// The inputs and outcome of the `fast` preset's scaling rule
/// ([`DecConfig::scaled_to`]), kept in the configuration so every report says how its
/// schedule was derived.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    /// Rows of the data the schedule was derived for.
    pub n: usize,
    /// Batches per epoch at the derived batch size.
    pub steps_per_epoch: usize,
    /// Pretraining length in epochs that the derived step count amounts to.
    pub pretrain_epochs: f64,
    /// P updates per epoch.
    pub updates_per_epoch: f64,
    /// The rule, in words.
    pub rule: String,
}

/// Everything that determines a DEC run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecConfig {
    pub preset: Preset,
    /// DEC or IDEC.
    #[serde(default)]
    pub method: Method,
    /// Random shifts and rotations of every pretraining and clustering batch (DEC-DA);
    /// `None`: the rows as they are.
    #[serde(default)]
    pub augment: Option<AugmentConfig>,
    /// Widths of the encoder after the input: the paper's `[500, 500, 2000, 10]`.
    pub hidden: Vec<usize>,
    /// Number of clusters k (0: the number of classes of labelled data, else 10).
    pub n_clusters: usize,
    pub seed: u64,
    pub pretrain: PretrainConfig,
    pub cluster: ClusterConfig,
    /// Also run the paper's k-means-on-input baseline (labelled data only).
    pub baselines: bool,
    /// Set when the schedule was derived from the data's size by [`DecConfig::scaled_to`].
    #[serde(default)]
    pub scaled: Option<Scaling>,
    /// Must-link and cannot-link pairs added to DEC's loss (`--constraints`), with
    /// their weight; none by default (then DEC runs exactly as without them).
    #[serde(default, skip_serializing_if = "Constraints::is_empty")]
    pub constraints: Constraints,
    /// The precision asked for the training products (the report says which ran).
    #[serde(default, skip_serializing_if = "Precision::is_f32")]
    pub precision: Precision,
}

/// A configuration that cannot run, with the field at fault and what to use instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("config field `{field}` = {value}: {reason}")]
    Invalid {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error(
        "the data has {n} samples (n_samples = {n}), too few to cluster into k = {k}: DEC needs at least {min} (two per cluster, and at least {floor}); add samples or ask for fewer clusters (--clusters)",
        floor = FAST_MIN_CHANGES + 1
    )]
    TooFewSamples { n: usize, k: usize, min: usize },
}

/// The fewest samples a run with `k` clusters accepts: two per cluster, so that every
/// cluster can hold more than one sample, and more than the [`FAST_MIN_CHANGES`] label
/// changes below which the fitted schedule calls DEC converged (its tol would be 100%).
pub fn min_samples(k: usize) -> usize {
    (2 * k).max(FAST_MIN_CHANGES + 1)
}

fn bad(field: &'static str, value: impl ToString, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field,
        value: value.to_string(),
        reason: reason.into(),
    }
}

impl Default for DecConfig {
    fn default() -> Self {
        DecConfig::preset(Preset::Fast)
    }
}

impl DecConfig {
    /// The configuration of a preset. `fast` is the default.
    pub fn preset(p: Preset) -> DecConfig {
        match p {
            Preset::Fast => DecConfig {
                preset: p,
                method: Method::Dec,
                augment: None,
                hidden: vec![500, 500, 2000, 10],
                n_clusters: 0,
                seed: 0,
                pretrain: PretrainConfig {
                    layerwise_iters: 0,
                    dropout: 0.2,
                    finetune_iters: 20_000,
                    finetune_epochs: Some(200),
                    batch_size: 256,
                    optimizer: OptimizerConfig::adam(1e-3),
                    lr_step: 0,
                    lr_gamma: 10.0,
                    lr_schedule: LrSchedule::Step,
                    settle: Settle::Off,
                },
                cluster: ClusterConfig {
                    alpha: 1.0,
                    optimizer: OptimizerConfig::Sgd {
                        lr: 0.01,
                        momentum: 0.9,
                    },
                    batch_size: 256,
                    update_interval: 140,
                    tol: 0.001,
                    max_iter: 8_000,
                    kmeans_n_init: 20,
                    start: Start::Auto,
                    self_correct: true,
                    collapse_fraction: default_collapse_fraction(),
                    on_collapse: OnCollapse::Stop,
                    idec_gamma: DEFAULT_IDEC_GAMMA,
                },
                baselines: true,
                scaled: None,
                constraints: Constraints::default(),
                precision: Precision::default(),
            },
            // The paper's schedule (section 4.3): layer-wise denoising pretraining,
            // then fine-tuning, with SGD; P every 160 batches.
            Preset::Paper => {
                let mut c = DecConfig::preset(Preset::Fast);
                c.preset = p;
                c.pretrain = PretrainConfig {
                    layerwise_iters: 50_000,
                    dropout: 0.2,
                    finetune_iters: 100_000,
                    finetune_epochs: None,
                    batch_size: 256,
                    optimizer: OptimizerConfig::Sgd {
                        lr: 0.1,
                        momentum: 0.9,
                    },
                    lr_step: 20_000,
                    lr_gamma: 10.0,
                    lr_schedule: LrSchedule::Step,
                    settle: Settle::Off,
                };
                c.cluster.update_interval = 160;
                c.cluster.max_iter = 200_000;
                c.cluster.self_correct = false; // the paper's k-means start, no rounds
                c
            }
            Preset::Augmented => {
                let mut c = DecConfig::preset(Preset::Fast);
                c.preset = p;
                c.augment = Some(AugmentConfig::default());
                c.pretrain.finetune_epochs = Some(AUGMENTED_PRETRAIN_EPOCHS);
                c.pretrain.finetune_iters = AUGMENTED_PRETRAIN_MAX_STEPS;
                c
            }
        }
    }

    /// The method as the literature names it: `DEC`, `IDEC`, and `-DA` with
    /// augmentation (DEC-DA, IDEC-DA).
    pub fn method_label(&self) -> String {
        let m = match self.method {
            Method::Dec => "DEC",
            Method::Idec => "IDEC",
        };
        if self.augment.is_some() {
            format!("{m}-DA")
        } else {
            m.to_string()
        }
    }

    /// The augmentation ranges in words, or `off`.
    pub fn augment_label(&self) -> String {
        match &self.augment {
            Some(a) => format!("shift {}, rotation {} deg", a.shift, a.rotation),
            None => "off".into(),
        }
    }

    /// Set the clustering objective.
    pub fn with_method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Turn augmentation on with these ranges, or off.
    pub fn with_augment(mut self, augment: Option<AugmentConfig>) -> Self {
        self.augment = augment;
        self
    }

    /// Set the number of clusters (0: from the labels, else 10).
    pub fn with_clusters(mut self, k: usize) -> Self {
        self.n_clusters = k;
        self
    }

    /// Set the random seed (weights, batches, dropout, k-means).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Set the encoder widths after the input.
    pub fn with_hidden(mut self, hidden: Vec<usize>) -> Self {
        self.hidden = hidden;
        self
    }

    /// Set the pretraining lengths: layer-wise iterations per layer and fine-tuning iterations.
    pub fn with_pretrain_iters(mut self, layerwise: usize, finetune: usize) -> Self {
        self.pretrain.layerwise_iters = layerwise;
        self.pretrain.finetune_iters = finetune;
        self.pretrain.finetune_epochs = None;
        self
    }

    /// Set the DEC stage's update interval, tolerance and iteration cap.
    pub fn with_dec_schedule(mut self, update_interval: usize, tol: f32, max_iter: usize) -> Self {
        self.cluster.update_interval = update_interval;
        self.cluster.tol = tol;
        self.cluster.max_iter = max_iter;
        self
    }

    /// The `fast` preset's schedule fitted to data of `n` rows; other presets are
    /// returned unchanged (the `paper` preset is the paper's). The rule, in batches of
    /// 256 (E = ceil(n / 256) batches per epoch):
    ///
    /// - pretraining: [`FAST_PRETRAIN_EPOCHS`] epochs, at least
    ///   [`FAST_PRETRAIN_MIN_STEPS`] and at most [`FAST_PRETRAIN_MAX_STEPS`] steps;
    /// - P recomputed every min(140, [`FAST_MAX_EPOCHS_PER_UPDATE`] x E) batches: every
    ///   35,840 samples as DEC's reference implementations do on MNIST, and at least
    ///   every 40 epochs on tiny data;
    /// - at most min(8,000, [`FAST_DEC_EPOCHS`] x E) DEC iterations;
    /// - tol = 0.1% of the labels, as the paper, but at least [`FAST_MIN_CHANGES`]
    ///   samples, so that small data does not wait for a change of one or two samples.
    ///
    /// Why not P once an epoch on small data: measured on the MNIST-made stand-ins of
    /// small digit sets (`benches/standins.py`, seeds 0 and 1), DEC in batches of 128
    /// with P every 3.5 epochs gained +0.02 and +0.05 over AE + k-means on 1,000 and
    /// 2,000 digits but lost 0.007 on the 8x8 set (0.586 against 0.619 on seed 1, never
    /// converging), while P every 140 batches of 256 gained on every set and seed
    /// (+0.01 to +0.04). Pretraining in batches of 256 also gave better embeddings than
    /// in batches of 128 (AE + k-means 0.586 against 0.511, 8x8 set, seed 0).
    ///
    /// On the MNIST test set (n = 10,000) the rule gives the schedule the `fast` preset
    /// always had: 8,000 pretraining steps, P every 140 batches, at most 8,000 DEC
    /// iterations, tol 0.001. Command-line overrides apply after the rule.
    ///
    /// The `augmented` preset follows the same rule with [`AUGMENTED_PRETRAIN_EPOCHS`]
    /// epochs and at most [`AUGMENTED_PRETRAIN_MAX_STEPS`] pretraining steps.
    pub fn scaled_to(mut self, n: usize) -> DecConfig {
        let (epochs, max_steps) = match self.preset {
            Preset::Fast => (FAST_PRETRAIN_EPOCHS, FAST_PRETRAIN_MAX_STEPS),
            Preset::Augmented => (AUGMENTED_PRETRAIN_EPOCHS, AUGMENTED_PRETRAIN_MAX_STEPS),
            Preset::Paper => return self,
        };
        if n == 0 {
            return self;
        }
        let b = 256;
        let spe = n.div_ceil(b);
        let steps = (epochs * spe).clamp(FAST_PRETRAIN_MIN_STEPS, max_steps);
        let update = (FAST_MAX_EPOCHS_PER_UPDATE * spe).clamp(1, 140);
        let max_iter = (FAST_DEC_EPOCHS * spe).min(8_000);
        let tol = (FAST_MIN_CHANGES as f32 / n as f32).max(0.001);
        self.pretrain.batch_size = b;
        self.pretrain.finetune_iters = steps;
        self.pretrain.finetune_epochs = None;
        self.cluster.batch_size = b;
        self.cluster.update_interval = update;
        self.cluster.max_iter = max_iter;
        self.cluster.tol = tol;
        let pretrain_epochs = steps as f64 / spe as f64;
        self.scaled = Some(Scaling {
            n,
            steps_per_epoch: spe,
            pretrain_epochs,
            updates_per_epoch: spe as f64 / update as f64,
            rule: format!(
                "{} schedule for n = {n}, batches of {b} ({spe} an epoch): pretraining {steps} steps ({pretrain_epochs:.0} epochs: {epochs} epochs within [{FAST_PRETRAIN_MIN_STEPS}, {max_steps}] steps); P every {update} batches (140, at most {FAST_MAX_EPOCHS_PER_UPDATE} epochs); at most {max_iter} DEC iterations; tol {tol} (0.1%, at least {FAST_MIN_CHANGES} samples)",
                self.preset.name()
            ),
        });
        self
    }

    /// Everything in the configuration that shapes pretraining on `n` rows: two runs
    /// with equal keys on the same data pretrain the same autoencoder, bit for bit. The
    /// app reuses a cached or bundled autoencoder only under an equal key.
    /// bf16 pretraining makes another autoencoder than f32, so its key says so; f32
    /// keys are as they were before bf16 existed (the bundled autoencoders match them).
    pub fn pretraining_key(&self, n: usize) -> serde_json::Value {
        // Watching pretraining settle changes no weight, so an autoencoder trained
        // with or without it is the same one; stopping on it trains another.
        let mut pretrain = self.pretrain.clone();
        if pretrain.settle == Settle::Watch {
            pretrain.settle = Settle::Off;
        }
        let mut key = serde_json::json!({
            "hidden": self.hidden,
            "seed": self.seed,
            "pretrain": pretrain,
            "augment": self.augment,
            "iters": self.finetune_iters_for(n),
        });
        if self.precision.resolved() == Precision::Bf16 {
            key["precision"] = "bf16".into();
        }
        key
    }

    /// End-to-end pretraining iterations on `n` rows.
    pub fn finetune_iters_for(&self, n: usize) -> usize {
        let p = &self.pretrain;
        match p.finetune_epochs {
            Some(e) => (e * n.div_ceil(p.batch_size.max(1))).min(p.finetune_iters),
            None => p.finetune_iters,
        }
    }

    /// The k actually used for data with `n_classes` classes.
    pub fn clusters_for(&self, n_classes: Option<usize>) -> usize {
        if self.n_clusters > 0 {
            self.n_clusters
        } else {
            Self::unset_clusters(n_classes).0
        }
    }

    /// The k that `n_clusters = 0` stands for: the labels' classes when there are at
    /// least two, else 10; and whether it came from the labels.
    pub fn unset_clusters(n_classes: Option<usize>) -> (usize, bool) {
        match n_classes.filter(|&c| c >= 2) {
            Some(c) => (c, true),
            None => (10, false),
        }
    }
}

mod validate;

#[cfg(test)]
mod tests;
