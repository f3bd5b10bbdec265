//! Autoencoder pretraining: the layer-wise denoising stage (each encoder/decoder pair
//! reconstructs its input under dropout corruption) and the end-to-end fine-tuning
//! (MSE), as in section 3.2 of the paper.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand_chacha::ChaCha8Rng;

use super::settle::{self, Settle};
use super::{Ctx, Event, Phase, PipelineError, Snapshot};
use crate::data::Dataset;
use crate::engine::cluster::assign::assign;
use crate::engine::config::{DecConfig, Precision};
use crate::engine::nn::augment::{Augmenter, Batches};
use crate::engine::nn::autoencoder::{Autoencoder, Mlp};
use crate::engine::nn::optim::Optimizer;
use crate::engine::report::HistoryEntry;
use crate::engine::streams::Stream;

/// Train an MLP to reconstruct its input: `iters` batches of `batch` rows from `x`,
/// randomly shifted and rotated when `aug` is given.
#[allow(clippy::too_many_arguments)]
fn train_reconstruction(
    mlp: &mut Mlp,
    x: &[f32],
    n: usize,
    iters: usize,
    dropout: &[f32],
    cfg: &DecConfig,
    phase: Phase,
    rng: &mut ChaCha8Rng,
    ctx: &mut Ctx,
    z_of: &dyn Fn(&Mlp) -> Option<Vec<f32>>,
    aug: Option<Augmenter>,
    mut settle: Option<Settle>,
) -> Result<(), PipelineError> {
    let p = &cfg.pretrain;
    let d = mlp.n_in();
    let bsz = p.batch_size.min(n);
    let mut ws = mlp.workspace(bsz);
    ws.set_bf16(cfg.precision.resolved() == Precision::Bf16);
    let mut opt = Optimizer::new(p.optimizer);
    let mut grad = vec![0.0f32; bsz * d];
    let steps_per_epoch = n.div_ceil(bsz);
    let (mut epoch_loss, mut epoch_steps) = (0.0f64, 0usize);
    let mut pacer = Pacer::default();
    ctx.sink.event(Event::Phase {
        phase,
        total: iters,
    });
    // The augmenting thread's own stream of batches (DEC-DA: the autoencoder
    // reconstructs the augmented batch itself), seeded from the run and the phase.
    let aug_seed = Stream::Augment(phase_tag(phase)).seed(cfg.seed);
    std::thread::scope(|scope| -> Result<(), PipelineError> {
        let mut batches = Batches::new(scope, x, n, bsz, aug, aug_seed);
        for it in 0..iters {
            ctx.ctl.checkpoint()?;
            opt.lr = p.lr_at(it, iters);
            let Some(batch) = batches.next(rng) else {
                return Err(PipelineError::Worker("the augmenting thread ended".into()));
            };
            let b = batch.idx.len();
            let loss =
                mlp.reconstruction_step(&batch.x, b, dropout, &mut ws, &mut opt, &mut grad, rng);
            if !loss.is_finite() {
                return Err(PipelineError::Diverged {
                    phase: phase.name(),
                    step: it,
                    loss,
                });
            }
            epoch_loss += loss as f64;
            epoch_steps += 1;
            ctx.sink.event(Event::Step {
                phase,
                step: it + 1,
                total: iters,
                loss,
                elapsed_s: ctx.elapsed(),
            });
            if (it + 1) % steps_per_epoch == 0 || it + 1 == iters {
                let mean = (epoch_loss / epoch_steps as f64) as f32;
                let (stop, preview) = settle_at(settle.as_mut(), mlp, it + 1, mean, ctx);
                end_epoch(ctx, phase, it + 1, mean);
                offer_snapshot(ctx, &mut pacer, (phase, it + 1, n), || z_of(mlp), preview);
                (epoch_loss, epoch_steps) = (0.0, 0);
                if stop {
                    settled(ctx, it + 1, iters);
                    break;
                }
            } else if steps_per_epoch > LONG_EPOCH && (it + 1) % OFFER_EVERY == 0 {
                // A long epoch (a large file): a snapshot need not wait for its end.
                let preview = settle
                    .as_ref()
                    .and_then(|s| s.centroids().map(<[f32]>::to_vec));
                offer_snapshot(ctx, &mut pacer, (phase, it + 1, n), || z_of(mlp), preview);
            }
        }
        Ok(())
    })
}

/// Pretraining ends at `step` of `iters`: Z has settled (the report and the sink).
fn settled(ctx: &mut Ctx, step: usize, iters: usize) {
    ctx.settled_at = Some(step);
    ctx.sink.event(Event::Message(format!(
        "pretraining stopped at step {step} of {iters}: Z has settled (k-means on Z of a sample moved no more over {} checks than between neighbouring ones, {} checks in a row)",
        settle::LOOKBACK,
        settle::STREAK
    )));
}

/// A settle check when one is due after `step`: it goes to the report and the sink.
/// Whether pretraining should stop, and the last check's centroids for a preview of
/// the clusters (from the first check on, at every epoch).
fn settle_at(
    settle: Option<&mut Settle>,
    mlp: &Mlp,
    step: usize,
    loss: f32,
    ctx: &mut Ctx,
) -> (bool, Option<Vec<f32>>) {
    let Some(s) = settle else {
        return (false, None);
    };
    let mut stop = false;
    if s.due(step) {
        let (check, end) = s.check(mlp, step, loss);
        ctx.sink.event(Event::Settle(check.clone()));
        ctx.settle.push(check);
        stop = end;
    }
    (stop, s.centroids().map(<[f32]>::to_vec))
}

/// Epochs of more steps than this also offer snapshots between their ends.
const LONG_EPOCH: usize = 64;
/// Steps between the snapshots a long epoch offers.
const OFFER_EVERY: usize = 16;
/// A snapshot that took at least this long is expensive (it encodes every row).
const CHEAP: Duration = Duration::from_millis(50);
/// After an expensive snapshot, wait this many times its cost before the next.
const COST_RATIO: u32 = 4;

/// When a pretraining snapshot is worth its cost. A snapshot encodes every row: on a
/// million 28x28 images that is 20-30 s on two cores, so an epoch's end (3,907 steps
/// of 256) comes minutes after Start and a snapshot at every end would take a fifth of
/// the time. Cheap snapshots (small data) are always allowed, as before; after an
/// expensive one the next waits [`COST_RATIO`] times its cost, so snapshots take at
/// most a fifth of the time, and long epochs offer them every [`OFFER_EVERY`] steps
/// so the first comes within a minute.
#[derive(Default)]
struct Pacer {
    last: Option<(Instant, Duration)>,
}

impl Pacer {
    fn affordable(&self) -> bool {
        self.last
            .is_none_or(|(end, cost)| cost < CHEAP || end.elapsed() >= cost * COST_RATIO)
    }
}

/// The end of a pretraining epoch: its mean loss into the history.
fn end_epoch(ctx: &mut Ctx, phase: Phase, step: usize, loss: f32) {
    ctx.record(HistoryEntry {
        phase: phase.name(),
        step,
        loss,
        acc: None,
        nmi: None,
        ari: None,
        changed: None,
        rec_loss: None,
        constraints_satisfied: None,
        elapsed_s: ctx.elapsed(),
    });
}

/// When the pacer allows one and the sink wants one, a snapshot of the embedding so
/// far (`z_of`, `n` rows) after `step` of `phase`, with a preview of the clusters
/// (each row at its nearest of `preview`'s centroids) after a settle check.
fn offer_snapshot(
    ctx: &mut Ctx,
    pacer: &mut Pacer,
    (phase, step, n): (Phase, usize, usize),
    z_of: impl FnOnce() -> Option<Vec<f32>>,
    preview: Option<Vec<f32>>,
) {
    if !pacer.affordable() || !ctx.sink.wants_snapshot() {
        return;
    }
    let t0 = Instant::now();
    if let Some(z) = z_of() {
        let e = z.len() / n.max(1);
        let (assignments, confidence) = match &preview {
            Some(c) => {
                let (a, q) = assign(&z, c, e, 1.0);
                (Some(a), Some(q))
            }
            None => (None, None),
        };
        ctx.sink.event(Event::Snapshot(Arc::new(Snapshot {
            phase,
            step,
            z,
            e,
            assignments,
            confidence,
            centroids: preview,
            scores: None,
        })));
    }
    pacer.last = Some((Instant::now(), t0.elapsed()));
}

/// A number per phase, so each phase's augmented stream differs (`Stream::Augment`).
fn phase_tag(phase: Phase) -> u64 {
    match phase {
        Phase::PretrainLayer(l) => 0x100 + l as u64,
        Phase::Finetune => 0x200,
        _ => 0x300,
    }
}

/// Pretrain the autoencoder: layer-wise denoising stage (if configured), then
/// end-to-end fine-tuning, on augmented batches when `aug` is given (DEC-DA). Returns (layer-wise seconds, fine-tune seconds).
pub(super) fn pretrain(
    ae: &mut Autoencoder,
    ds: &Dataset,
    cfg: &DecConfig,
    rng: &mut ChaCha8Rng,
    ctx: &mut Ctx,
    aug: Option<Augmenter>,
) -> Result<(f64, f64), PipelineError> {
    let t0 = Instant::now();
    let n_layers = ae.encoder.layers.len();
    if cfg.pretrain.layerwise_iters > 0 {
        for l in 0..n_layers {
            // Only the first pair sees pixels; deeper pairs see encoded rows.
            let aug = if l == 0 { aug } else { None };
            pretrain_layer(ae, l, ds, cfg, rng, ctx, aug)?;
        }
    }
    let layerwise_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let finetune_iters = cfg.finetune_iters_for(ds.n);
    if finetune_iters > 0 {
        let n_enc = n_layers;
        let mut whole = ae.joined();
        let z_of = |m: &Mlp| {
            Some(
                Mlp {
                    layers: m.layers[..n_enc].to_vec(),
                }
                .predict(&ds.x, ds.n),
            )
        };
        let per_epoch = ds.n.div_ceil(cfg.pretrain.batch_size.min(ds.n).max(1));
        let k = cfg.clusters_for(ds.n_classes());
        let seed = Stream::Settle.seed(cfg.seed);
        let settle = Settle::new(
            ds,
            cfg.pretrain.settle,
            k,
            n_enc,
            finetune_iters,
            per_epoch,
            seed,
        );
        let r = train_reconstruction(
            &mut whole,
            &ds.x,
            ds.n,
            finetune_iters,
            &[],
            cfg,
            Phase::Finetune,
            rng,
            ctx,
            &z_of,
            aug,
            settle,
        );
        ae.split(whole);
        r?;
    }
    Ok((layerwise_s, t1.elapsed().as_secs_f64()))
}

/// Layer-wise stage, pair `l`: encoder layer `l` and its mirror decoder layer learn to
/// reconstruct, under dropout, the data as the first `l` (trained) encoder layers map it.
fn pretrain_layer(
    ae: &mut Autoencoder,
    l: usize,
    ds: &Dataset,
    cfg: &DecConfig,
    rng: &mut ChaCha8Rng,
    ctx: &mut Ctx,
    aug: Option<Augmenter>,
) -> Result<(), PipelineError> {
    let n_layers = ae.encoder.layers.len();
    let enc_prefix = ae.encoder.layers[..l].to_vec();
    let h = if l == 0 {
        ds.x.clone()
    } else {
        Mlp {
            layers: enc_prefix.clone(),
        }
        .predict(&ds.x, ds.n)
    };
    let dec_idx = n_layers - 1 - l;
    let mut pair = Mlp {
        layers: vec![
            ae.encoder.layers[l].clone(),
            ae.decoder.layers[dec_idx].clone(),
        ],
    };
    let z_of = |m: &Mlp| {
        // Embedding so far: encoder up to and including this pair's encoder.
        let mut layers = enc_prefix.clone();
        layers.push(m.layers[0].clone());
        Some(Mlp { layers }.predict(&ds.x, ds.n))
    };
    let p = cfg.pretrain.dropout;
    let iters = cfg.pretrain.layerwise_iters;
    let phase = Phase::PretrainLayer(l);
    train_reconstruction(
        &mut pair,
        &h,
        ds.n,
        iters,
        &[p, p],
        cfg,
        phase,
        rng,
        ctx,
        &z_of,
        aug,
        None,
    )?;
    let mut it = pair.layers.into_iter();
    if let (Some(e), Some(d)) = (it.next(), it.next()) {
        ae.encoder.layers[l] = e;
        ae.decoder.layers[dec_idx] = d;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first snapshot is always allowed, and after a cheap one (small data) the
    /// next is too; after one that cost 1 s the next waits 4 s from its end.
    #[test]
    fn an_expensive_snapshot_waits_four_times_its_cost() {
        let now = Instant::now();
        let ago = |s: u64| now.checked_sub(Duration::from_secs(s)).unwrap();
        assert!(Pacer::default().affordable());
        let cheap = Pacer {
            last: Some((now, Duration::from_millis(10))),
        };
        assert!(cheap.affordable());
        let dear = |end| Pacer {
            last: Some((end, Duration::from_secs(1))),
        };
        assert!(!dear(now).affordable());
        assert!(!dear(ago(3)).affordable());
        assert!(dear(ago(5)).affordable());
    }
}
