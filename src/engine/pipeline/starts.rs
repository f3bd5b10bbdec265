//! DEC's start: k-means on the pretrained Z (the paper's) or the spectral clusters of
//! its neighbour graph ([`init_centroids`]), and the start check: with `start: auto`
//! and self-correction on images, DEC runs from the spectral start and again from
//! k-means, and the run keeps the outcome whose partition follows the pretrained Z's
//! neighbour graph more closely (the higher modularity, [`Graph::modularity`]);
//! self-correction then goes on from it ([`check_starts`]).
//!
//! Why: neither start wins everywhere, and which one did cannot be told from DEC's own
//! Z, where DEC has pulled every cluster tight. The pretrained Z's 10-nearest-neighbour
//! graph still holds the classes' shape. Measured with labels only to score
//! (docs/steering.md, "The start check"): on the 1,000-digit stand-in with DEC-DA, seed
//! 2, the spectral start ends at 0.771 and k-means at 0.857, and the modularity is
//! 0.717 against 0.731; on the 8x8 digits with DEC-DA, seed 1, 0.523 against 0.626
//! (modularity 0.563 against 0.657); where the spectral start wins by more than a
//! point (the 16x16 and imbalanced stand-ins, seeds 0-2), its modularity is higher too.
//! The cost is one more DEC phase, ended at a P update where it cannot catch up
//! ([`CATCH_UP`]): on MNIST, plain DEC seed 0, at its first, which keeps DEC at 28 s
//! where running both phases took 58 s.

use std::time::Instant;

use super::{Ctx, Event, Phase, PipelineError, cluster, correct::Pretrained, kmeans_on};
use crate::data::Dataset;
use crate::engine::cluster::assign::hard_labels;
use crate::engine::cluster::graph::Graph;
use crate::engine::cluster::kmeans::KMeansResult;
use crate::engine::cluster::metrics::scores;
use crate::engine::cluster::spectral::{MAX_SAMPLES, NEIGHBOURS, even_subset};
use crate::engine::config::{DecConfig, Start};
use crate::engine::curation::steering::Steering;
use crate::engine::nn::augment::Augmenter;
use crate::engine::nn::autoencoder::Autoencoder;
use crate::engine::report::{StartCheck, StartOutcome};
use crate::engine::streams::Stream;

/// The k-means start's outcome is kept only when its modularity is above the spectral
/// start's by more than this; a closer call keeps the spectral start, which won on
/// most runs measured. Two healthy outcomes differ by less: DEC-DA on MNIST from the
/// bundled autoencoder, seeds 0-2, 0.0002-0.0007 (k-means 0.0005 and 0.0007 higher on
/// seeds 0 and 1, where it is 0.0013 and 0.0021 lower in ACC); the outcomes the check
/// is for differ by 0.0075 (DEC-DA, 2,000 digits, seed 2) to 0.094 (8x8, seed 1).
pub const KMEANS_MARGIN: f64 = 0.005;

/// The k-means phase ends early, at a P update, when its labels' modularity is below
/// the spectral outcome's plus [`KMEANS_MARGIN`] by more than this: more than any DEC
/// phase measured gained from one of its P updates to its end, with 0.01 to spare.
/// Measured on 35 checked runs (70 phases: the `fast` and DEC-DA stand-ins, MNIST
/// plain DEC, DEC-DA and IDEC, USPS; docs/steering.md, "The start check's cost"), the
/// largest such gain was 0.050 (IDEC on MNIST, seed 2; plain DEC at most 0.047). A
/// wrong early end keeps the spectral outcome, the default before the check. Where the
/// k-means start lies this far below (plain DEC and IDEC on MNIST seed 0, the 16x16
/// and imbalanced stand-ins), the phase ends at its first update and the check costs
/// one P update instead of a DEC phase.
pub const CATCH_UP: f64 = 0.06;

/// DEC from the k-means start `kmeans` after `first` (DEC from the spectral start),
/// and the outcome kept by the start check, its step count covering both phases (as
/// self-correction's rounds do). `warned`: how many warnings the run had before
/// `first` began; those of the phase not kept say so. `first` comes back unchanged when
/// it was stopped or steered by hand (the check would undo the user's edits); when the
/// user stops the second phase, `first` is kept and the run stops; when the user
/// steers the second phase, that phase is kept as steered.
#[allow(clippy::too_many_arguments)]
pub(super) fn check_starts(
    ds: &Dataset,
    cfg: &DecConfig,
    k: usize,
    first: cluster::DecOutcome,
    kmeans: KMeansResult,
    pre: &Pretrained,
    ctx: &mut Ctx,
    (aug, warned): (Option<Augmenter>, usize),
) -> Result<cluster::DecOutcome, PipelineError> {
    let Some(mut watch) = ctx.start_watch.take() else {
        return Ok(first);
    };
    if first.stopped || first.k != k || !first.steering.log.is_empty() {
        return Ok(first);
    }
    let base = ctx.dec_step0;
    let first_end = base + first.iterations;
    let spectral = outcome(ds, cfg, k, &first, &mut watch, first_end);
    ctx.sink.event(Event::Message(format!(
        "start check: DEC from the spectral start ended at step {first_end}; running DEC again from k-means on the pretrained Z, to keep the outcome that the pretrained Z's neighbour graph agrees with more"
    )));
    let between = ctx.warnings.len();
    ctx.dec_step0 = first_end;
    watch.bar = Some(spectral.modularity + KMEANS_MARGIN);
    ctx.start_watch = Some(watch);
    let steering = Steering::new(Vec::new(), k, Vec::new());
    let second = cluster::run_dec(ds, cfg, k, pre.ae.clone(), kmeans, ctx, aug, steering);
    let mut watch = ctx.start_watch.take().expect("the watch set above");
    let second = second?;
    let last = ctx.dec_step0 + second.iterations;
    if second.stopped {
        ctx.dec_step0 = last - first.iterations;
        return Ok(cluster::DecOutcome {
            stopped: true,
            ..finish_steps(first, ctx, base)
        });
    }
    if second.k != k || !second.steering.log.is_empty() {
        // Steered by hand while it ran: the user's edits are kept, not judged.
        return Ok(finish_steps(second, ctx, base));
    }
    let km = outcome(ds, cfg, k, &second, &mut watch, last);
    let keep_kmeans = km.modularity > spectral.modularity + KMEANS_MARGIN;
    let (kept, name, other) = if keep_kmeans {
        (second, Start::Kmeans, "spectral")
    } else {
        (first, Start::Spectral, "k-means")
    };
    let dropped = if keep_kmeans {
        warned..between
    } else {
        between..ctx.warnings.len()
    };
    for w in &mut ctx.warnings[dropped] {
        w.message.push_str(&format!(
            " (this was DEC from the {other} start, which the start check did not keep)"
        ));
    }
    let check = StartCheck {
        spectral,
        kmeans: km,
        kept: name,
    };
    ctx.sink.event(Event::Message(format!(
        "start check: modularity on the pretrained Z's neighbour graph {:.4} from the spectral start, {:.4} from k-means{}; kept the {} start's outcome",
        check.spectral.modularity,
        check.kmeans.modularity,
        check.early_clause(),
        check.kept_name()
    )));
    ctx.start_check = Some(check);
    ctx.dec_step0 = last - kept.iterations;
    Ok(finish_steps(kept, ctx, base))
}

/// `dec`'s step count from `base` to where the history stands, and `ctx.dec_step0`
/// back at `base` (self-correction numbers its rounds from there).
fn finish_steps(mut dec: cluster::DecOutcome, ctx: &mut Ctx, base: usize) -> cluster::DecOutcome {
    dec.iterations += ctx.dec_step0 - base;
    ctx.dec_step0 = base;
    dec
}

/// The start check's view of the pretrained Z: its symmetric [`NEIGHBOURS`]-nearest-
/// neighbour graph on the evenly spaced subset of at most [`MAX_SAMPLES`] rows the
/// spectral start uses (built once, for both), and the modularity of the labels at
/// each P update of the phase under way.
pub(super) struct StartWatch {
    /// The subset's row numbers.
    rows: Vec<usize>,
    graph: Graph,
    /// `(step, modularity)` at each P update of the phase under way.
    curve: Vec<(usize, f64)>,
    /// In the k-means phase: the modularity it must pass to be kept.
    bar: Option<f64>,
    /// The k-means phase was ended early ([`CATCH_UP`]).
    abandoned: bool,
}

impl StartWatch {
    /// The graph of the pretrained Z (`n x e`).
    fn new(z0: &[f32], e: usize) -> StartWatch {
        let (rows, sub) = even_subset(z0, e, MAX_SAMPLES);
        StartWatch {
            graph: Graph::knn(&sub, e, NEIGHBOURS),
            rows,
            curve: Vec::new(),
            bar: None,
            abandoned: false,
        }
    }

    /// The modularity of all `n` samples' `labels` (values below `k`) on the graph.
    fn modularity(&self, labels: &[u32], k: usize) -> f64 {
        let sub: Vec<u32> = self.rows.iter().map(|&i| labels[i]).collect();
        self.graph.modularity(&sub, k)
    }

    /// The labels of the P update at DEC step `step`: kept on the curve; `true` when
    /// the phase should end here, more than [`CATCH_UP`] below its bar.
    pub(super) fn observe(&mut self, step: usize, labels: &[u32], k: usize) -> bool {
        let q = self.modularity(labels, k);
        self.curve.push((step, q));
        let lost = self.bar.is_some_and(|bar| q + CATCH_UP < bar);
        self.abandoned |= lost;
        lost
    }
}

/// The modularity of `dec`'s hard labels on the watch's graph, its steps, its phase's
/// curve and, with labels, its ACC.
fn outcome(
    ds: &Dataset,
    cfg: &DecConfig,
    k: usize,
    dec: &cluster::DecOutcome,
    watch: &mut StartWatch,
    last_step: usize,
) -> StartOutcome {
    let (_, q) = cluster::full_q(ds, &dec.ae, &dec.mu, cfg.cluster.alpha);
    let labels = hard_labels(&q, k).0;
    StartOutcome {
        modularity: watch.modularity(&labels, k),
        last_step,
        steps: dec.iterations,
        acc: ds.labels.as_deref().map(|t| scores(t, &labels).acc),
        curve: std::mem::take(&mut watch.curve),
        stopped_early: std::mem::take(&mut watch.abandoned),
    }
}

/// DEC's initialisation and the paper's second baseline ("DEC without backprop"):
/// k-means on the embedding Z of the pretrained encoder; with `start: spectral` the
/// spectral clusters of Z are the start. Returns the start, the k-means start as well
/// when the start check will run DEC from it too ([`checks_starts`]), and Z.
pub(super) fn init_centroids(
    ds: &Dataset,
    cfg: &DecConfig,
    k: usize,
    ae: &Autoencoder,
    ctx: &mut Ctx,
) -> Result<(KMeansResult, Option<KMeansResult>, Vec<f32>), PipelineError> {
    ctx.phase(Phase::KMeans, 0);
    let t0 = Instant::now();
    let z = ae.encode(&ds.x, ds.n);
    let km = kmeans_on(
        &z,
        ae.encoder.n_out(),
        cfg,
        k,
        Stream::KMeansZ.seed(cfg.seed),
        ctx,
    )?;
    ctx.baselines.ae_kmeans = score_start(ds, &km.labels, "AE + k-means", ctx);
    ctx.ctl.checkpoint()?;
    let (start, kmeans) = match start_of(cfg, ds) {
        Start::Spectral => {
            let e = ae.encoder.n_out();
            let watch = checks_starts(cfg, ds).then(|| StartWatch::new(&z, e));
            let sp = spectral_on(&z, e, cfg, k, ds, watch.as_ref().map(|w| &w.graph), ctx)?;
            ctx.start_watch = watch;
            (sp, ctx.start_watch.is_some().then_some(km))
        }
        _ => (km, None),
    };
    ctx.timing.kmeans_s = t0.elapsed().as_secs_f64();
    Ok((start, kmeans, z))
}

/// Whether DEC runs from both starts and keeps one (`starts`): `start: auto` where it
/// resolves to the spectral start (self-correction on, not text).
fn checks_starts(cfg: &DecConfig, ds: &Dataset) -> bool {
    cfg.cluster.start == Start::Auto && start_of(cfg, ds) == Start::Spectral
}

/// The start `cfg` asks for on `ds` (`start: auto` resolved, see [`Start::resolved`]).
pub(super) fn start_of(cfg: &DecConfig, ds: &Dataset) -> Start {
    cfg.cluster
        .start
        .resolved(cfg.cluster.self_correct, ds.text.is_some())
}

/// The spectral start ([`crate::engine::cluster::spectral`]), on `graph` when the
/// start check built it, and, with labels, its scores.
fn spectral_on(
    z: &[f32],
    e: usize,
    cfg: &DecConfig,
    k: usize,
    ds: &Dataset,
    graph: Option<&Graph>,
    ctx: &mut Ctx,
) -> Result<KMeansResult, PipelineError> {
    use crate::engine::cluster::spectral::{spectral_start, spectral_start_on};
    let stop = || ctx.ctl.checkpoint().is_err();
    let (n_init, seed) = (cfg.cluster.kmeans_n_init, Stream::KMeansZ.seed(cfg.seed));
    let sp = match graph {
        Some(g) => spectral_start_on(z, e, g, k, (n_init, seed), &stop),
        None => spectral_start(z, e, k, n_init, seed, &stop),
    }
    .ok_or(PipelineError::Stopped)?;
    ctx.baselines.ae_spectral = score_start(ds, &sp.labels, "AE + spectral", ctx);
    ctx.ctl.checkpoint()?;
    Ok(sp)
}

/// With labels: a start's scores, sent as a baseline named `name`.
fn score_start(
    ds: &Dataset,
    labels: &[u32],
    name: &'static str,
    ctx: &mut Ctx,
) -> Option<crate::engine::cluster::metrics::Scores> {
    let s = scores(ds.labels.as_deref()?, labels);
    ctx.sink.event(Event::Baseline { name, scores: s });
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two groups of 15 points on a line, 1,000 apart: each point's 10 nearest
    /// neighbours lie in its own group, so the groups as clusters keep every link and
    /// hold half the degree sum each: Q = 2 (1/2 − 1/4) = 1/2 (as `graph`'s tests).
    fn two_groups() -> (Vec<f32>, Vec<u32>) {
        let mut z = Vec::new();
        let mut labels = Vec::new();
        for g in 0..2u32 {
            for i in 0..15 {
                z.extend_from_slice(&[1_000.0 * g as f32 + i as f32, 0.0]);
                labels.push(g);
            }
        }
        (z, labels)
    }

    /// The watch scores each update on the pretrained graph, keeps the curve, and asks
    /// the k-means phase to end only when it lies more than CATCH_UP below its bar;
    /// the first phase (no bar) never ends early.
    #[test]
    fn the_watch_ends_the_kmeans_phase_only_beyond_catch_up() {
        let (z, groups) = two_groups();
        let mut w = StartWatch::new(&z, 2);
        assert!(!w.observe(0, &groups, 2));
        let mixed: Vec<u32> = (0..30).map(|i| i % 2).collect();
        assert!(!w.observe(140, &mixed, 2), "no bar in the first phase");
        assert_eq!(w.curve.len(), 2);
        assert!((w.curve[0].1 - 0.5).abs() < 1e-12, "{:?}", w.curve);
        assert_eq!(w.curve[1].0, 140);
        assert!(w.curve[1].1 < 0.0, "{:?}", w.curve);
        w.bar = Some(0.5 + CATCH_UP - 1e-9);
        assert!(!w.observe(280, &groups, 2), "within CATCH_UP of the bar");
        assert!(!w.abandoned);
        w.bar = Some(0.5 + CATCH_UP + 1e-9);
        assert!(w.observe(420, &groups, 2), "beyond CATCH_UP below the bar");
        assert!(w.abandoned);
        assert_eq!(w.curve.len(), 4);
    }
}
