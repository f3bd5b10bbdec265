//! A run's settings as a user states them (preset, seed, and whichever values they
//! override), turned into a [`DecConfig`] for `n` samples.
//!
//! Why one place: `decscope train` (its flags), the Python estimator (its keyword
//! arguments) and anything else that starts a run state the same settings the same way,
//! so the same settings give the same configuration, and the same result, from each.
//! The preset's schedule is fitted to the data first ([`DecConfig::scaled_to`]); every
//! value given then overrides it.

use serde::{Deserialize, Serialize};

use crate::engine::config::{
    ConfigError, DecConfig, LrSchedule, Method, OnCollapse, Precision, Preset,
};
use crate::engine::nn::optim::OptimizerConfig;

/// The optimizer of end-to-end pretraining.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum PretrainOptimizer {
    Adam,
    Sgd,
}

/// Settings of a run; `None` keeps the preset's (data-fitted) value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub preset: Preset,
    pub seed: u64,
    pub method: Option<Method>,
    pub idec_gamma: Option<f32>,
    /// `Some(true)`: augment (DEC-DA) with the shift and rotation below or their
    /// defaults; `Some(false)`: never; `None`: as the preset does (`augmented` does).
    pub augment: Option<bool>,
    pub shift: Option<f32>,
    pub rotation: Option<f32>,
    pub clusters: Option<usize>,
    /// Widths of the encoder after the input (`[500, 500, 2000, 10]`).
    pub dims: Option<Vec<usize>>,
    pub layerwise_iters: Option<usize>,
    pub finetune_iters: Option<usize>,
    pub finetune_epochs: Option<usize>,
    pub dropout: Option<f32>,
    pub pretrain_optimizer: Option<PretrainOptimizer>,
    pub pretrain_lr: Option<f32>,
    pub lr_step: Option<usize>,
    /// The pretraining rate's shape over each phase (`step` as the preset).
    pub lr_schedule: Option<LrSchedule>,
    /// Batch size of pretraining and of DEC.
    pub batch_size: Option<usize>,
    pub dec_lr: Option<f32>,
    pub update_interval: Option<usize>,
    pub tol: Option<f32>,
    pub max_iter: Option<usize>,
    pub alpha: Option<f32>,
    pub kmeans_n_init: Option<usize>,
    /// Settle checks of end-to-end pretraining: off, watch (report them) or stop
    /// (end pretraining once Z has settled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settle: Option<crate::engine::config::Settle>,
    /// Where DEC's centroids start (the preset's unless given).
    #[serde(default)]
    pub start: Option<crate::engine::config::Start>,
    /// Self-correction after DEC (off unless given).
    #[serde(default)]
    pub self_correct: Option<bool>,
    pub on_collapse: Option<OnCollapse>,
    pub collapse_fraction: Option<f32>,
    /// Run the k-means-on-input baseline (labelled data; default true).
    pub baselines: Option<bool>,
    /// Precision of the training products (`f32` unless given).
    pub precision: Option<Precision>,
}

impl Settings {
    /// The configuration for `n` samples: the preset fitted to `n`, then every value
    /// given. Not validated against the data (see [`DecConfig::validate`]), but a
    /// finetune_iters together with finetune_epochs is refused.
    pub fn config(&self, n: usize) -> Result<DecConfig, ConfigError> {
        if self.finetune_iters.is_some() && self.finetune_epochs.is_some() {
            return Err(ConfigError::Invalid {
                field: "finetune_iters",
                value: format!("{:?}", self.finetune_iters),
                reason: "give the pretraining length in steps or in epochs, not both".into(),
            });
        }
        let mut c = DecConfig::preset(self.preset)
            .with_seed(self.seed)
            .scaled_to(n);
        if let Some(k) = self.clusters {
            c = c.with_clusters(k);
        }
        if let Some(d) = &self.dims {
            c = c.with_hidden(d.clone());
        }
        self.pretraining(&mut c, n);
        self.clustering(&mut c);
        if let Some(b) = self.baselines {
            c.baselines = b;
        }
        if let Some(p) = self.precision {
            c.precision = p;
        }
        if let Some(m) = self.method {
            c.method = m;
        }
        self.augmentation(&mut c);
        Ok(c)
    }

    fn pretraining(&self, c: &mut DecConfig, n: usize) {
        let p = &mut c.pretrain;
        if let Some(v) = self.layerwise_iters {
            p.layerwise_iters = v;
        }
        if let Some(v) = self.batch_size {
            p.batch_size = v;
            c.cluster.batch_size = v;
        }
        let p = &mut c.pretrain;
        if let Some(v) = self.finetune_iters {
            p.finetune_iters = v;
            p.finetune_epochs = None;
        }
        if let Some(e) = self.finetune_epochs {
            p.finetune_epochs = Some(e);
            p.finetune_iters = p.finetune_iters.max(e * n.div_ceil(p.batch_size.max(1)));
        }
        if let Some(v) = self.dropout {
            p.dropout = v;
        }
        if let Some(o) = self.pretrain_optimizer {
            let lr = self.pretrain_lr.unwrap_or(match o {
                PretrainOptimizer::Sgd => 0.1,
                PretrainOptimizer::Adam => 1e-3,
            });
            p.optimizer = match o {
                PretrainOptimizer::Adam => OptimizerConfig::adam(lr),
                PretrainOptimizer::Sgd => OptimizerConfig::Sgd { lr, momentum: 0.9 },
            };
        } else if let Some(lr) = self.pretrain_lr {
            p.optimizer = match p.optimizer {
                OptimizerConfig::Sgd { momentum, .. } => OptimizerConfig::Sgd { lr, momentum },
                OptimizerConfig::Adam {
                    beta1, beta2, eps, ..
                } => OptimizerConfig::Adam {
                    lr,
                    beta1,
                    beta2,
                    eps,
                },
            };
        }
        if let Some(v) = self.lr_step {
            p.lr_step = v;
        }
        if let Some(v) = self.lr_schedule {
            p.lr_schedule = v;
        }
        if let Some(v) = self.settle {
            p.settle = v;
        }
    }

    fn clustering(&self, c: &mut DecConfig) {
        let cl = &mut c.cluster;
        if let Some(lr) = self.dec_lr {
            cl.optimizer = OptimizerConfig::Sgd { lr, momentum: 0.9 };
        }
        let set = |dst: &mut usize, v: Option<usize>| {
            if let Some(v) = v {
                *dst = v;
            }
        };
        set(&mut cl.update_interval, self.update_interval);
        set(&mut cl.max_iter, self.max_iter);
        set(&mut cl.kmeans_n_init, self.kmeans_n_init);
        if let Some(v) = self.tol {
            cl.tol = v;
        }
        if let Some(v) = self.alpha {
            cl.alpha = v;
        }
        if let Some(v) = self.start {
            cl.start = v;
        }
        if let Some(v) = self.self_correct {
            cl.self_correct = v;
        }
        if let Some(v) = self.on_collapse {
            cl.on_collapse = v;
        }
        if let Some(v) = self.collapse_fraction {
            cl.collapse_fraction = v;
        }
        if let Some(g) = self.idec_gamma {
            cl.idec_gamma = g;
        }
    }

    fn augmentation(&self, c: &mut DecConfig) {
        let asked = self.augment == Some(true) || self.shift.is_some() || self.rotation.is_some();
        if asked && self.augment != Some(false) {
            let mut aug = c.augment.unwrap_or_default();
            if let Some(v) = self.shift {
                aug.shift = v;
            }
            if let Some(v) = self.rotation {
                aug.rotation = v;
            }
            c.augment = Some(aug);
        }
        if self.augment == Some(false) {
            c.augment = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_preset_fitted_to_n() {
        let c = Settings::default().config(10_000).unwrap();
        assert_eq!(
            c,
            DecConfig::preset(Preset::Fast)
                .with_seed(0)
                .scaled_to(10_000)
        );
    }

    #[test]
    fn given_values_override_the_preset() {
        let s = Settings {
            preset: Preset::Augmented,
            seed: 3,
            augment: Some(false),
            batch_size: Some(128),
            finetune_epochs: Some(2),
            pretrain_optimizer: Some(PretrainOptimizer::Sgd),
            max_iter: Some(77),
            dims: Some(vec![64, 10]),
            ..Settings::default()
        };
        let c = s.config(1000).unwrap();
        assert_eq!(c.seed, 3);
        assert_eq!(c.augment, None);
        assert_eq!((c.pretrain.batch_size, c.cluster.batch_size), (128, 128));
        assert_eq!(c.pretrain.finetune_epochs, Some(2));
        assert_eq!(
            c.pretrain.optimizer,
            OptimizerConfig::Sgd {
                lr: 0.1,
                momentum: 0.9
            }
        );
        assert_eq!(c.cluster.max_iter, 77);
        assert_eq!(c.hidden, vec![64, 10]);
        let shifted = Settings {
            shift: Some(0.2),
            ..Settings::default()
        };
        assert_eq!(
            shifted.config(1000).unwrap().augment.map(|a| a.shift),
            Some(0.2)
        );
    }

    #[test]
    fn steps_and_epochs_together_are_refused() {
        let s = Settings {
            finetune_iters: Some(10),
            finetune_epochs: Some(1),
            ..Settings::default()
        };
        assert!(s.config(100).is_err());
    }

    #[test]
    fn unknown_keys_are_refused_when_read() {
        let e = serde_json::from_str::<Settings>(r#"{"seeed": 1}"#).unwrap_err();
        assert!(e.to_string().contains("seeed"), "{e}");
        let s: Settings = serde_json::from_str(r#"{"seed": 1, "method": "idec"}"#).unwrap();
        assert_eq!(s.method, Some(Method::Idec));
    }
}
