//! Sweeps: DEC run many times with one setting changed. The number of clusters k,
//! scored by the paper's generalizability (section 5.5), and the retention rate of the
//! imbalanced subsample (the paper's imbalanced-MNIST table, section 5.4).
//!
//! Why: the number of clusters is rarely known, and how DEC treats small classes
//! depends on the data. Both sweeps are runs of the one [`pipeline::run`], so
//! their figures are those of `decscope train`. The command line (`decscope sweep`)
//! and the app's Choose-k view use them.
//!
//! Generalizability (section 5.5): train DEC on a training split and compute
//! `G = L_train / L_validation`, where L is KL(P‖Q) per sample on each split (P from
//! that split's own Q, eq. 3). While k is at most the true number of clusters, the
//! clusters found on the training split also fit held-out data and G stays high. Past
//! it, DEC splits true clusters in ways that do not carry over, and G drops sharply.

use std::time::Instant;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::{DataError, Dataset, DatasetInfo, standins};
use crate::engine::cluster::assign::{soft_assign, target_distribution};
use crate::engine::cluster::dec::kl_divergence;
use crate::engine::cluster::metrics::{Scores, scores};
use crate::engine::config::DecConfig;
use crate::engine::model::DecModel;
use crate::engine::pipeline::{self, AeSource, Control, Event, PipelineError, Sink, SweepEvent};
// The rows a sweep sends are owned by the events module that carries them.
pub use crate::engine::pipeline::{KPoint, RetainRow};

/// Why a sweep could not run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("sweep: {0}")]
    Invalid(String),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Data(#[from] DataError),
}

/// Parse a list of k: `5..15` (both ends included), `5..=15`, or `4,6,10`.
pub fn parse_ks(s: &str) -> Result<Vec<usize>, String> {
    let s = s.trim();
    let bad = || format!("'{s}': expected a range like 5..15 or a list like 4,6,10");
    let ks: Vec<usize> = if let Some((a, b)) = s.split_once("..") {
        let b = b.trim_start_matches('=');
        let (a, b): (usize, usize) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        );
        if a > b {
            return Err(format!("'{s}': the range is empty ({a} > {b})"));
        }
        (a..=b).collect()
    } else {
        s.split(',')
            .map(|v| v.trim().parse().map_err(|_| bad()))
            .collect::<Result<_, _>>()?
    };
    if let Some(k) = ks.iter().find(|&&k| k < 2) {
        return Err(format!("'{s}': k = {k}; every k must be at least 2"));
    }
    Ok(ks)
}

/// The choose-k sweep's parameters. Defaults: k = 5..=15, 20% held out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KSweep {
    /// The numbers of clusters to try, in order.
    pub ks: Vec<usize>,
    /// Fraction of the data held out for L_validation.
    pub holdout: f64,
    /// Seed of the split (the runs use the configuration's seed).
    pub split_seed: u64,
}

impl Default for KSweep {
    fn default() -> Self {
        KSweep {
            ks: (5..=15).collect(),
            holdout: 0.2,
            split_seed: 0,
        }
    }
}

impl KSweep {
    pub fn with_ks(mut self, ks: Vec<usize>) -> Self {
        self.ks = ks;
        self
    }
    pub fn with_holdout(mut self, f: f64) -> Self {
        self.holdout = f;
        self
    }

    /// Training and validation sizes for `n` rows.
    pub fn sizes(&self, n: usize) -> (usize, usize) {
        let val = ((n as f64) * self.holdout).round() as usize;
        (n - val.min(n), val.min(n))
    }

    /// Check the parameters against data of `n` rows.
    pub fn validate(&self, n: usize) -> Result<(), SweepError> {
        if self.ks.is_empty() {
            return Err(SweepError::Invalid(
                "no k to try; give e.g. --k 5..15".into(),
            ));
        }
        if !(self.holdout > 0.0 && self.holdout < 0.9) {
            return Err(SweepError::Invalid(format!(
                "--holdout {} must be in (0, 0.9), e.g. 0.2",
                self.holdout
            )));
        }
        let (train, val) = self.sizes(n);
        let kmax = self.ks.iter().copied().max().unwrap_or(2);
        if val < kmax || train < 10 * kmax {
            return Err(SweepError::Invalid(format!(
                "{n} samples split {train}/{val} are too few for k up to {kmax}: the training split needs 10 samples a cluster and the validation split one; use fewer clusters or a larger --holdout"
            )));
        }
        Ok(())
    }
}

/// The shuffled split of `n` rows: (training rows, validation rows), each sorted.
pub fn holdout_split(n: usize, n_val: usize, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let (val, train) = idx.split_at(n_val.min(n));
    let (mut train, mut val) = (train.to_vec(), val.to_vec());
    train.sort_unstable();
    val.sort_unstable();
    (train, val)
}

/// DEC's loss on a set of embedded rows: KL(P‖Q) per row, with Q from eq. 1 and P
/// from eq. 3 over these same rows.
pub fn split_loss(z: &[f32], mu: &[f32], e: usize, alpha: f32) -> f64 {
    let n = z.len() / e.max(1);
    let k = mu.len() / e.max(1);
    let mut q = vec![0.0f32; n * k];
    let mut ker = vec![0.0f32; n * k];
    soft_assign(z, mu, e, alpha, &mut q, &mut ker);
    let p = target_distribution(&q, k);
    kl_divergence(&p, &q, n) as f64
}

/// Everything a choose-k sweep produced, as `decscope sweep --report` writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KSweepReport {
    pub dataset: DatasetInfo,
    pub config: DecConfig,
    pub sweep: KSweep,
    pub n_train: usize,
    pub n_val: usize,
    /// Seconds spent pretraining the one shared autoencoder (0 when given).
    pub pretrain_s: f64,
    pub points: Vec<KPoint>,
    /// The k that G suggests ([`suggest_k`]).
    pub suggested_k: Option<usize>,
    pub total_s: f64,
}

/// The k that G suggests: the last k before G's largest drop between neighbouring
/// k of the sweep (the paper: G "drops sharply" once k exceeds the number of
/// clusters). With fewer than two points, or G never falling, the largest k tried.
pub fn suggest_k(points: &[KPoint]) -> Option<usize> {
    let mut sorted: Vec<&KPoint> = points.iter().filter(|p| p.g.is_finite()).collect();
    sorted.sort_by_key(|p| p.k);
    let best = sorted
        .windows(2)
        .map(|w| (w[0].g - w[1].g, w[0].k))
        .filter(|(drop, _)| *drop > 0.0)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, k)) => Some(k),
        None => sorted.last().map(|p| p.k),
    }
}

/// A sink that forwards the runs' events and remembers their warnings.
struct Forward<'a> {
    inner: &'a mut dyn Sink,
    warnings: Vec<String>,
}

impl Sink for Forward<'_> {
    fn event(&mut self, e: Event) {
        if let Event::Warning(w) = &e {
            self.warnings.push(w.message.clone());
        }
        self.inner.event(e);
    }
    fn wants_snapshot(&mut self) -> bool {
        self.inner.wants_snapshot()
    }
    fn wants_stopped_result(&mut self) -> bool {
        false
    }
}

/// The autoencoder every run of a k sweep starts from: the one given, or one pretrained
/// once on the training split; with its label for the reports and the pretraining seconds.
fn shared_autoencoder(
    source: AeSource,
    train: &Dataset,
    cfg: &DecConfig,
    fwd: &mut Forward,
    ctl: &Control,
) -> Result<(crate::engine::nn::autoencoder::Autoencoder, String, f64), SweepError> {
    Ok(match source {
        AeSource::Given(ae, label) => (ae, label, 0.0),
        AeSource::Resume(r) => (r.ae, r.label, 0.0),
        AeSource::Pretrain => {
            let tp = Instant::now();
            let ae = pipeline::pretrain_autoencoder(train, cfg, fwd, ctl)?;
            (
                ae,
                format!("pretrained once on the {}-sample training split", train.n),
                tp.elapsed().as_secs_f64(),
            )
        }
    })
}

/// The choose-k sweep: one autoencoder pretrained on the training split (or `source`
/// when given), then DEC for each k from k-means on its embedding, scored by G and,
/// with labels, by ACC/NMI/ARI on all rows. `cfg` is the configuration of every run
/// (its `n_clusters` is replaced by each k); fit its schedule to the training split's
/// size ([`KSweep::sizes`]).
pub fn sweep_k(
    ds: &Dataset,
    cfg: &DecConfig,
    sweep: &KSweep,
    source: AeSource,
    sink: &mut dyn Sink,
    ctl: &Control,
) -> Result<KSweepReport, SweepError> {
    sweep.validate(ds.n)?;
    let t0 = Instant::now();
    let (n_train, n_val) = sweep.sizes(ds.n);
    let (train_idx, val_idx) = holdout_split(ds.n, n_val, sweep.split_seed);
    let train = ds.subset(&train_idx);
    let val = ds.subset(&val_idx);
    sink.event(Event::Sweep(SweepEvent::Started {
        values: sweep.ks.iter().map(|k| format!("k = {k}")).collect(),
    }));
    let mut fwd = Forward {
        inner: sink,
        warnings: Vec::new(),
    };
    let (ae, label, pretrain_s) = shared_autoencoder(source, &train, cfg, &mut fwd, ctl)?;
    let mut points = Vec::new();
    for (index, &k) in sweep.ks.iter().enumerate() {
        fwd.inner.event(Event::Sweep(SweepEvent::RunStarted {
            index,
            value: format!("k = {k}"),
        }));
        fwd.warnings.clear();
        let tk = Instant::now();
        let mut c = cfg.clone().with_clusters(k);
        c.baselines = false;
        let out = pipeline::run(
            &train,
            &c,
            AeSource::Given(ae.clone(), label.clone()),
            &mut fwd,
            ctl,
        )?;
        // A stopped run ends the sweep at once (its half-trained model is not scored).
        if out.report.final_.stopped {
            return Err(PipelineError::Stopped.into());
        }
        let point = k_point(ds, &train, &val, &out.model, &out.report, k);
        let point = KPoint {
            warnings: std::mem::take(&mut fwd.warnings),
            seconds: tk.elapsed().as_secs_f64(),
            ..point
        };
        fwd.inner.event(Event::Sweep(SweepEvent::KModel {
            k,
            model: std::sync::Arc::new(out.model),
        }));
        fwd.inner
            .event(Event::Sweep(SweepEvent::KPoint(point.clone())));
        points.push(point);
    }
    let suggested_k = suggest_k(&points);
    Ok(KSweepReport {
        dataset: ds.info(),
        config: cfg.clone(),
        sweep: sweep.clone(),
        n_train,
        n_val,
        pretrain_s,
        points,
        suggested_k,
        total_s: t0.elapsed().as_secs_f64(),
    })
}

/// G and the scores of one finished run of the k sweep.
fn k_point(
    all: &Dataset,
    train: &Dataset,
    val: &Dataset,
    model: &DecModel,
    report: &crate::engine::report::Report,
    k: usize,
) -> KPoint {
    let e = model.ae.encoder.n_out();
    let loss_on = |d: &Dataset| {
        let z = model.ae.encode(&d.x, d.n);
        split_loss(&z, &model.centroids, e, model.alpha)
    };
    let (l_train, l_val) = (loss_on(train), loss_on(val));
    let s = all.labels.as_deref().map(|t| {
        let (pred, _, _) = model.predict(&all.x, all.n);
        scores(t, &pred)
    });
    KPoint {
        k,
        l_train,
        l_val,
        g: if l_val > 0.0 {
            l_train / l_val
        } else {
            f64::NAN
        },
        scores: s,
        ae_kmeans: report.baselines.ae_kmeans,
        iterations: report.final_.iterations,
        converged: report.final_.converged,
        warnings: Vec::new(),
        seconds: 0.0,
    }
}

/// The paper's imbalanced-data table: for each `r_min`, the linear subsample of
/// [`standins::retain_linear`] (seeded by `data_seed`), then a whole run (k-means on
/// the input, a new autoencoder, DEC) under `cfg_for(n)`, the configuration for a
/// subsample of `n` rows.
pub fn sweep_retain(
    ds: &Dataset,
    rates: &[f64],
    data_seed: u64,
    cfg_for: &dyn Fn(usize) -> DecConfig,
    sink: &mut dyn Sink,
    ctl: &Control,
) -> Result<Vec<RetainRow>, SweepError> {
    if ds.labels.is_none() {
        return Err(SweepError::Invalid(
            "the imbalance sweep needs labelled data; give labels with --labels or --label-col"
                .into(),
        ));
    }
    sink.event(Event::Sweep(SweepEvent::Started {
        values: rates.iter().map(|r| format!("r_min = {r}")).collect(),
    }));
    let mut fwd = Forward {
        inner: sink,
        warnings: Vec::new(),
    };
    let mut rows = Vec::new();
    for (index, &r) in rates.iter().enumerate() {
        let sub = standins::retain_linear(ds, r, data_seed)?;
        fwd.inner.event(Event::Sweep(SweepEvent::RunStarted {
            index,
            value: format!("r_min = {r} ({} samples)", sub.n),
        }));
        fwd.warnings.clear();
        let t = Instant::now();
        let cfg = cfg_for(sub.n);
        let out = pipeline::run(&sub, &cfg, AeSource::Pretrain, &mut fwd, ctl)?;
        if out.report.final_.stopped {
            return Err(PipelineError::Stopped.into());
        }
        let rep = &out.report;
        let class_sizes = rep.per_class.iter().map(|c| c.size as usize).collect();
        let row = RetainRow {
            r_min: r,
            n: sub.n,
            class_sizes,
            kmeans: rep.baselines.kmeans_input,
            ae_kmeans: rep.baselines.ae_kmeans,
            dec: rep.final_.acc.map(|acc| Scores {
                acc,
                nmi: rep.final_.nmi.unwrap_or(0.0),
                nmi_geometric: rep.final_.nmi_geometric.unwrap_or(0.0),
                ari: rep.final_.ari.unwrap_or(0.0),
            }),
            per_class: rep.per_class.clone(),
            warnings: std::mem::take(&mut fwd.warnings),
            seconds: t.elapsed().as_secs_f64(),
        };
        fwd.inner
            .event(Event::Sweep(SweepEvent::RetainRow(Box::new(row.clone()))));
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ks_parse() {
        assert_eq!(parse_ks("5..8").unwrap(), vec![5, 6, 7, 8]);
        assert_eq!(parse_ks("5..=6").unwrap(), vec![5, 6]);
        assert_eq!(parse_ks("4, 6,10").unwrap(), vec![4, 6, 10]);
        assert!(parse_ks("8..5").is_err());
        assert!(parse_ks("1..4").is_err());
        assert!(parse_ks("five").is_err());
    }

    /// G on a tiny fixture against the ratio computed by hand, in plain Python:
    ///
    /// ```text
    /// def loss(z, mu):
    ///     q = [[1/(1+sum((a-b)**2 for a,b in zip(zi,m))) for m in mu] for zi in z]
    ///     q = [[v/sum(r) for v in r] for r in q]
    ///     f = [sum(r[j] for r in q) for j in range(len(mu))]
    ///     p = [[r[j]**2/f[j] for j in range(len(mu))] for r in q]
    ///     p = [[v/sum(r) for v in r] for r in p]
    ///     import math
    ///     return sum(pv*math.log(pv/qv) for pr,qr in zip(p,q) for pv,qv in zip(pr,qr))/len(z)
    /// mu = [(0,0),(3,0)]
    /// tr = [(0.1,0.2),(-0.3,0.1),(2.9,-0.2),(3.2,0.4),(0.2,-0.1),(3.1,0.0)]
    /// va = [(1.4,0.3),(1.7,-0.5),(0.5,0.9)]
    /// loss(tr,mu), loss(va,mu), loss(tr,mu)/loss(va,mu)
    /// (0.0643451124448543, 0.03568930164537467, 1.8029243912984614)
    /// ```
    #[test]
    fn generalizability_matches_hand_computation() {
        let mu = [0.0f32, 0.0, 3.0, 0.0];
        let tr = [
            0.1f32, 0.2, -0.3, 0.1, 2.9, -0.2, 3.2, 0.4, 0.2, -0.1, 3.1, 0.0,
        ];
        let va = [1.4f32, 0.3, 1.7, -0.5, 0.5, 0.9];
        let (lt, lv) = (split_loss(&tr, &mu, 2, 1.0), split_loss(&va, &mu, 2, 1.0));
        assert!((lt - 0.064_345_112_444_854_3).abs() < 1e-6, "{lt}");
        assert!((lv - 0.035_689_301_645_374_67).abs() < 1e-6, "{lv}");
        assert!(
            (lt / lv - 1.802_924_391_298_461_4).abs() < 1e-4,
            "{}",
            lt / lv
        );
    }

    #[test]
    fn split_is_a_seeded_partition() {
        let (t, v) = holdout_split(100, 20, 3);
        assert_eq!((t.len(), v.len()), (80, 20));
        let mut all: Vec<usize> = t.iter().chain(&v).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert_eq!(holdout_split(100, 20, 3), (t, v.clone()));
        assert_ne!(holdout_split(100, 20, 4).1, v);
    }

    fn point(k: usize, g: f64) -> KPoint {
        KPoint {
            k,
            l_train: g,
            l_val: 1.0,
            g,
            scores: None,
            ae_kmeans: None,
            iterations: 0,
            converged: true,
            warnings: Vec::new(),
            seconds: 0.0,
        }
    }

    #[test]
    fn suggestion_is_the_k_before_the_largest_drop() {
        let pts: Vec<KPoint> = [(8, 0.9), (9, 0.92), (10, 0.91), (11, 0.6), (12, 0.55)]
            .iter()
            .map(|&(k, g)| point(k, g))
            .collect();
        assert_eq!(suggest_k(&pts), Some(10));
        let rising: Vec<KPoint> = [(5, 0.5), (6, 0.7)]
            .iter()
            .map(|&(k, g)| point(k, g))
            .collect();
        assert_eq!(suggest_k(&rising), Some(6));
        assert_eq!(suggest_k(&[]), None);
    }

    #[test]
    fn sweep_checks_its_parameters() {
        let s = KSweep::default().with_ks(vec![5, 50]);
        assert!(s.validate(300).is_err());
        assert!(s.validate(10_000).is_ok());
        assert!(KSweep::default().with_holdout(0.0).validate(1000).is_err());
        assert!(KSweep::default().with_ks(vec![]).validate(1000).is_err());
    }
}
