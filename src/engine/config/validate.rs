//! Validation of a run's configuration: every field checked against its range and
//! against the data's size before any work starts.
//!
//! Why apart from the presets: what a value may be is one question, what a preset sets
//! it to is another; each error names the field, the value and the reason.

use super::{
    ClusterConfig, ConfigError, DecConfig, LrSchedule, Precision, PretrainConfig, bad, min_samples,
};
use crate::engine::nn::optim::OptimizerConfig;

impl DecConfig {
    /// Check the configuration against data of `n` rows; the error names the field.
    pub fn validate(&self, n: usize, n_classes: Option<usize>) -> Result<(), ConfigError> {
        let k = self.clusters_for(n_classes);
        if k < 2 {
            return Err(bad("n_clusters", k, "need at least 2 clusters"));
        }
        if n < min_samples(k) {
            return Err(ConfigError::TooFewSamples {
                n,
                k,
                min: min_samples(k),
            });
        }
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            return Err(bad(
                "hidden",
                format!("{:?}", self.hidden),
                "widths must be positive, e.g. 500,500,2000,10",
            ));
        }
        if self.precision == Precision::Bf16 && self.precision.resolved() != Precision::Bf16 {
            return Err(bad(
                "precision",
                "bf16",
                "this CPU has no AVX512-BF16 bf16 products; use auto (bf16 where the CPU has them) or f32",
            ));
        }
        self.pretrain.validate()?;
        self.cluster.validate()?;
        if let Some(a) = &self.augment {
            a.validate()
                .map_err(|e| bad("augment", format!("{a:?}"), e.to_string()))?;
        }
        let w = self.constraints.weight;
        if !(w >= 0.0 && w.is_finite()) {
            return Err(bad(
                "constraints.weight",
                w,
                "must be a finite number >= 0 (default 1)",
            ));
        }
        if let Some(c) = self.constraints.pairs.iter().find(|c| c.i.max(c.j) >= n) {
            return Err(bad(
                "constraints",
                format!("{},{}", c.i, c.j),
                format!("sample rows must be below n = {n}"),
            ));
        }
        Ok(())
    }
}

impl PretrainConfig {
    /// Check the pretraining settings; the error names the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let p = self;
        if p.batch_size == 0 {
            return Err(bad(
                "pretrain.batch_size",
                0,
                "must be at least 1 (256 is usual)",
            ));
        }
        if let LrSchedule::Cosine { warmup, floor } = p.lr_schedule {
            if !(0.0..1.0).contains(&warmup) {
                return Err(bad(
                    "pretrain.lr_schedule.warmup",
                    warmup,
                    "the warm-up share must be in [0, 1), e.g. 0.02",
                ));
            }
            if !(0.0..=1.0).contains(&floor) {
                return Err(bad(
                    "pretrain.lr_schedule.floor",
                    floor,
                    "the floor is a share of the peak rate, in [0, 1], e.g. 0.1",
                ));
            }
        }
        if !(0.0..1.0).contains(&p.dropout) {
            return Err(bad("pretrain.dropout", p.dropout, "must be in [0, 1)"));
        }
        check_opt("pretrain.optimizer", &p.optimizer)?;
        if p.lr_step > 0 && (p.lr_gamma.is_nan() || p.lr_gamma <= 0.0) {
            return Err(bad("pretrain.lr_gamma", p.lr_gamma, "must be positive"));
        }
        Ok(())
    }
}

impl ClusterConfig {
    /// Check the clustering settings; the error names the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let c = self;
        if !(c.alpha > 0.0 && c.alpha.is_finite()) {
            return Err(bad(
                "cluster.alpha",
                c.alpha,
                "degrees of freedom must be positive (the paper: 1)",
            ));
        }
        check_opt("cluster.optimizer", &c.optimizer)?;
        if c.batch_size == 0 {
            return Err(bad(
                "cluster.batch_size",
                0,
                "must be at least 1 (256 is usual)",
            ));
        }
        if c.update_interval == 0 {
            return Err(bad(
                "cluster.update_interval",
                0,
                "must be at least 1 (the paper: 160 on MNIST)",
            ));
        }
        if !(0.0..1.0).contains(&c.tol) {
            return Err(bad(
                "cluster.tol",
                c.tol,
                "a fraction in [0, 1) (the paper: 0.001)",
            ));
        }
        if !(0.0..1.0).contains(&c.collapse_fraction) {
            return Err(bad(
                "cluster.collapse_fraction",
                c.collapse_fraction,
                "a fraction in [0, 1) (default 0.25; 0 flags only empty clusters)",
            ));
        }
        if !(c.idec_gamma > 0.0 && c.idec_gamma.is_finite()) {
            return Err(bad(
                "cluster.idec_gamma",
                c.idec_gamma,
                "must be positive (IDEC: 0.1)",
            ));
        }
        if c.kmeans_n_init == 0 {
            return Err(bad(
                "cluster.kmeans_n_init",
                0,
                "need at least one k-means run (the paper: 20)",
            ));
        }
        Ok(())
    }
}

fn check_opt(field: &'static str, o: &OptimizerConfig) -> Result<(), ConfigError> {
    let lr = o.lr();
    if !(lr > 0.0 && lr.is_finite()) {
        return Err(bad(field, lr, "learning rate must be positive"));
    }
    match *o {
        OptimizerConfig::Sgd { momentum, .. } if !(0.0..1.0).contains(&momentum) => {
            Err(bad(field, momentum, "momentum must be in [0, 1)"))
        }
        OptimizerConfig::Adam { beta1, beta2, .. }
            if !(0.0..1.0).contains(&beta1) || !(0.0..1.0).contains(&beta2) =>
        {
            Err(bad(
                field,
                format!("{beta1}/{beta2}"),
                "Adam betas must be in [0, 1)",
            ))
        }
        _ => Ok(()),
    }
}
