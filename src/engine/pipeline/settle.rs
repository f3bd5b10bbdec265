//! Whether end-to-end pretraining has settled, without labels: every few epochs,
//! k-means on the embedding Z of a fixed sample (warm-started from the last check's
//! centroids), and the share of the sample whose cluster agrees with the last check's
//! under the best matching of the two partitions.
//!
//! Why: what DEC starts from is k-means on Z, so pretraining has done its work for
//! clustering once that partition stops moving, and that moment differs from one data
//! set to the next where a fixed number of steps does not. With `settle: watch` the
//! checks are only reported (the report's `settle`, the Curves view, and the app's
//! preview of the clusters); with `settle: stop` pretraining also ends once the
//! partition's changes no longer accumulate: [`STREAK`] checks in a row whose
//! disagreement with the check [`LOOKBACK`] back is at most [`RATIO`] times the mean
//! disagreement between neighbouring checks over those [`LOOKBACK`] checks, never
//! before [`FLOOR`] of its steps.
//!
//! Why drift and not agreement: k-means on MNIST's Z keeps trading the 4s and 9s, so
//! neighbouring checks never agree on 99% of the sample although nothing moves any
//! more, while on the 1,000 digits they agree on 99% from a third of the way while the
//! partition still drifts (and improves) slowly. Wobble around a fixed partition
//! disagrees as much with five checks back as with the last; drift disagrees more the
//! further back one looks (docs/speed.md, "Pretraining that stops when Z has
//! settled"). The checks draw from their own stream and touch nothing pretraining
//! uses, so with `watch` a run's figures are unchanged.

use crate::data::Dataset;
use crate::engine::cluster::kmeans::{KMeansParams, KMeansResult, kmeans, kmeans_from};
use crate::engine::cluster::metrics::cluster_acc;
use crate::engine::config::Settle as Mode;
use crate::engine::nn::autoencoder::Mlp;
use crate::engine::report::SettleCheck;

/// Rows in the checks' sample at most (evenly spaced over the data).
pub const SAMPLE: usize = 2_000;
/// About this many checks over the phase (each on whole epochs).
pub const CHECKS: usize = 50;
/// A check is settled when its disagreement with the check [`LOOKBACK`] back is at
/// most this many times the mean disagreement of neighbouring checks over the window.
pub const RATIO: f64 = 1.5;
/// Settled checks in a row before pretraining stops.
pub const STREAK: usize = 4;
/// Pretraining never stops before this share of its steps.
pub const FLOOR: f64 = 0.25;
/// A check's drift is its agreement with the check this many checks back (about a
/// tenth of the phase): changes that accumulate show there, k-means wobble does not.
pub const LOOKBACK: usize = 5;

/// The checks of one pretraining phase.
pub(super) struct Settle {
    /// The sample's input rows and, with labels, their classes.
    x: Vec<f32>,
    m: usize,
    truth: Option<Vec<u32>>,
    /// Encoder layers of the autoencoder being trained (its first `n_enc`).
    n_enc: usize,
    k: usize,
    every: usize,
    floor: usize,
    stop: bool,
    seed: u64,
    last: Option<KMeansResult>,
    streak: usize,
    /// The sample's labels at the last [`LOOKBACK`] checks, oldest first.
    back: std::collections::VecDeque<Vec<u32>>,
    /// The agreements of the last [`LOOKBACK`] checks with their previous one.
    recent: std::collections::VecDeque<f64>,
}

impl Settle {
    /// Checks for a phase of `iters` steps in epochs of `per_epoch` steps, on `ds`'s
    /// rows, for `k` clusters; `None` when `mode` is off.
    pub fn new(
        ds: &Dataset,
        mode: Mode,
        k: usize,
        n_enc: usize,
        iters: usize,
        per_epoch: usize,
        seed: u64,
    ) -> Option<Settle> {
        if mode == Mode::Off || ds.n < 2 * k {
            return None;
        }
        let rows: Vec<usize> = (0..ds.n).step_by(ds.n.div_ceil(SAMPLE).max(1)).collect();
        let x = rows
            .iter()
            .flat_map(|&i| ds.x[i * ds.d..(i + 1) * ds.d].iter().copied())
            .collect();
        let per_epoch = per_epoch.max(1);
        Some(Settle {
            x,
            m: rows.len(),
            truth: ds
                .labels
                .as_ref()
                .map(|t| rows.iter().map(|&i| t[i]).collect()),
            n_enc,
            k,
            every: per_epoch * (iters / CHECKS / per_epoch).max(1),
            floor: (FLOOR * iters as f64).ceil() as usize,
            stop: mode == Mode::Stop,
            seed,
            last: None,
            streak: 0,
            back: std::collections::VecDeque::with_capacity(LOOKBACK + 1),
            recent: std::collections::VecDeque::with_capacity(LOOKBACK + 1),
        })
    }

    /// Whether a check falls after step `step` (counted from 1).
    pub fn due(&self, step: usize) -> bool {
        step.is_multiple_of(self.every)
    }

    /// Check the autoencoder `whole` (encoder layers first) after `step` with the
    /// epoch's `loss`: the record, and whether pretraining should stop here.
    pub fn check(&mut self, whole: &Mlp, step: usize, loss: f32) -> (SettleCheck, bool) {
        let enc = Mlp {
            layers: whole.layers[..self.n_enc].to_vec(),
        };
        let z = enc.predict(&self.x, self.m);
        let e = z.len() / self.m.max(1);
        let mut p = KMeansParams::new(self.k);
        p.seed = self.seed ^ step as u64;
        let prev = self.last.take();
        let part = match &prev {
            Some(last) => kmeans_from(&z, e, last.centroids.clone(), &p),
            None => {
                p.n_init = 4;
                kmeans(&z, e, &p)
            }
        };
        let agreement = prev.map(|l| cluster_acc(&l.labels, &part.labels));
        let acc = self.truth.as_ref().map(|t| cluster_acc(t, &part.labels));
        let drift = (self.back.len() == LOOKBACK).then(|| cluster_acc(&self.back[0], &part.labels));
        if self.back.len() == LOOKBACK {
            self.back.pop_front();
        }
        self.back.push_back(part.labels.clone());
        if let Some(a) = agreement {
            if self.recent.len() == LOOKBACK {
                self.recent.pop_front();
            }
            self.recent.push_back(a);
        }
        self.streak = match drift {
            Some(d) if settled(d, &self.recent) => self.streak + 1,
            _ => 0,
        };
        self.last = Some(part);
        let stop = self.stop && self.streak >= STREAK && step >= self.floor;
        (
            SettleCheck {
                step,
                agreement,
                drift,
                loss,
                acc,
            },
            stop,
        )
    }

    /// The last check's centroids in Z (`k x e`), for a preview of the clusters.
    pub fn centroids(&self) -> Option<&[f32]> {
        self.last.as_ref().map(|l| l.centroids.as_slice())
    }
}

/// Whether a check with `drift` (agreement with the check [`LOOKBACK`] back) and the
/// window's agreements `recent` (each with its previous check) has settled: the
/// partition disagrees with [`LOOKBACK`] checks back at most [`RATIO`] times as much
/// as neighbouring checks disagree on average, so its changes do not accumulate.
pub fn settled(drift: f64, recent: &std::collections::VecDeque<f64>) -> bool {
    if recent.len() < LOOKBACK {
        return false;
    }
    let wobble = recent.iter().map(|a| 1.0 - a).sum::<f64>() / recent.len() as f64;
    1.0 - drift <= RATIO * wobble + 1e-12
}

#[cfg(test)]
mod tests {
    use super::*;

    /// By hand: neighbouring checks disagree on 2% each (mean 0.02), so a check is
    /// settled when it disagrees with five back on at most 1.5 x 2% = 3%: drift 0.97
    /// is, 0.96 is not; a window not yet full never is; a partition that never moves
    /// (all agreements 1) is settled only when five back agrees fully too.
    #[test]
    fn settled_when_drift_stays_within_the_wobble() {
        let w = |a: f64, n: usize| {
            std::iter::repeat_n(a, n).collect::<std::collections::VecDeque<f64>>()
        };
        assert!(settled(0.97, &w(0.98, 5)));
        assert!(!settled(0.96, &w(0.98, 5)));
        assert!(!settled(1.0, &w(0.98, 4)));
        assert!(settled(1.0, &w(1.0, 5)));
        assert!(!settled(0.995, &w(1.0, 5)));
        let mixed: std::collections::VecDeque<f64> = [0.99, 0.97, 0.98, 0.99, 0.97].into();
        // Mean disagreement 0.02 again.
        assert!(settled(0.971, &mixed));
        assert!(!settled(0.969, &mixed));
    }
}
