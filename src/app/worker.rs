//! The training worker: runs the engine's pipeline on its own thread and streams its
//! events to the GUI over crossbeam channels, never waiting on the GUI.
//!
//! Only frequent, replaceable messages are ever dropped: progress steps are coalesced
//! (at most one every 50 ms) and skipped while [`MAX_QUEUED`] messages wait unread,
//! and snapshots are rate-limited (at most ~3 per second) and dropped when the GUI has
//! not taken the previous one. Every other event (history, warnings, baselines,
//! phases, messages, the result) is queued whatever the GUI's frame rate: there are a
//! handful per P update, so the queue stays small, and training runs at full speed. Commands (pause, resume, stop)
//! travel the other way over the pipeline's own command channel.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded, unbounded};

use crate::data::Dataset;
use crate::engine::config::DecConfig;
use crate::engine::model::DecModel;
use crate::engine::nn::autoencoder::Autoencoder;
use crate::engine::pipeline::{
    self, AeSource, Control, Controller, Event, PipelineError, RunOutput, Sink, Snapshot,
    control_channel,
};
use crate::engine::sweep::{KSweep, KSweepReport, SweepError, sweep_k};

/// What the worker tells the GUI.
#[derive(Debug)]
pub enum WorkerMsg {
    Event(Event),
    /// The run ended with a result.
    Finished(Box<RunOutput>),
    /// The choose-k sweep ended with its report.
    SweepFinished(Box<KSweepReport>),
    /// The run ended without one (stopped, bad configuration, panic).
    Failed(String),
}

/// How often the worker may send a snapshot.
const SNAPSHOT_EVERY: Duration = Duration::from_millis(300);
/// How often progress steps are forwarded.
const STEP_EVERY: Duration = Duration::from_millis(50);
/// Progress steps are skipped while this many messages wait unread (a minimised
/// window draws no frames); nothing else is.
const MAX_QUEUED: usize = 4096;

struct ChannelSink {
    events: Sender<WorkerMsg>,
    snapshots: Sender<Arc<Snapshot>>,
    repaint: Box<dyn Fn() + Send>,
    last_snapshot: Option<Instant>,
    last_step: Instant,
    cache: Option<crate::engine::model::SaveTarget>,
    /// Whether this job's snapshots are wanted (a sweep's are not).
    snapshots_wanted: bool,
}

impl Sink for ChannelSink {
    fn event(&mut self, e: Event) {
        match e {
            Event::Snapshot(s) => {
                // Drop rather than wait when the GUI has not drained the last one.
                match self.snapshots.try_send(s) {
                    Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {}
                }
            }
            Event::Pretrained(ae) => {
                if let Some((dir, cfg, info, fitted)) = &self.cache {
                    let m = DecModel::autoencoder_only((*ae).clone(), cfg, info, fitted.clone());
                    // A cache that cannot be written only costs time on the next run.
                    let _ = m.save(dir);
                }
            }
            Event::Step { .. } if self.last_step.elapsed() < STEP_EVERY => return,
            Event::Step { .. } if self.events.len() >= MAX_QUEUED => return,
            Event::Step { .. } => {
                self.last_step = Instant::now();
                let _ = self.events.send(WorkerMsg::Event(e));
            }
            other => {
                // Unbounded: never blocks, and a warning is never lost. Fails only
                // when the GUI has gone, and then nobody is left to tell.
                let _ = self.events.send(WorkerMsg::Event(other));
            }
        }
        (self.repaint)();
    }

    fn wants_snapshot(&mut self) -> bool {
        if !self.snapshots_wanted {
            return false;
        }
        let due = self
            .last_snapshot
            .is_none_or(|t| t.elapsed() >= SNAPSHOT_EVERY);
        if due && self.snapshots.is_empty() {
            self.last_snapshot = Some(Instant::now());
            true
        } else {
            false
        }
    }
}

/// A running (or finished) training job.
pub struct Worker {
    pub controller: Controller,
    pub events: Receiver<WorkerMsg>,
    pub snapshots: Receiver<Arc<Snapshot>>,
    pub started: Instant,
    handle: Option<std::thread::JoinHandle<()>>,
}

/// Where to cache the autoencoder pretrained on a dataset with a configuration: a
/// folder under `dirs.cache` named by a hash of everything that shapes pretraining.
pub fn cache_dir(dirs: &super::AppDirs, ds: &Dataset, cfg: &DecConfig) -> Option<PathBuf> {
    let base = dirs.cache.as_ref()?;
    // Key: the data and everything that shapes pretraining (the object's keys are
    // written sorted, so caches made before `pretraining_key` existed still match).
    let mut key = cfg.pretraining_key(ds.n);
    key["data"] = serde_json::json!(ds.fingerprint());
    key["preprocessing"] = serde_json::json!(ds.preprocessing);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    Some(base.join(format!("ae-{h:016x}")))
}

impl Worker {
    /// Start DEC on `ds` with `cfg`. `init` skips pretraining; `cache` is where to save
    /// the autoencoder once pretrained. `repaint` wakes the GUI.
    pub fn spawn(
        ds: Arc<Dataset>,
        cfg: DecConfig,
        init: Option<(Autoencoder, String)>,
        cache: Option<PathBuf>,
        repaint: impl Fn() + Send + 'static,
    ) -> Worker {
        let cache = cache.map(|c| (c, cfg.clone(), ds.info(), ds.fitted.clone()));
        Worker::spawn_job(cache, true, repaint, move |sink, control| {
            let source = match init {
                Some((ae, label)) => AeSource::Given(ae, label),
                None => AeSource::Pretrain,
            };
            pipeline::run(&ds, &cfg, source, sink, control)
                .map(|out| WorkerMsg::Finished(Box::new(out)))
        })
    }

    /// Go on with DEC from an (edited) state: no pretraining, no k-means.
    pub fn spawn_resume(
        ds: Arc<Dataset>,
        cfg: DecConfig,
        resume: pipeline::Resume,
        repaint: impl Fn() + Send + 'static,
    ) -> Worker {
        Worker::spawn_job(None, true, repaint, move |sink, control| {
            let source = AeSource::Resume(Box::new(resume));
            pipeline::run(&ds, &cfg, source, sink, control)
                .map(|out| WorkerMsg::Finished(Box::new(out)))
        })
    }

    /// Start the choose-k sweep ([`sweep_k`]) on `ds`: every run's configuration is
    /// `cfg`, the autoencoder `init` when given, else pretrained once on the training
    /// split. The runs' snapshots are not sent (the sweep view plots G and NMI).
    pub fn spawn_sweep(
        ds: Arc<Dataset>,
        cfg: DecConfig,
        sweep: KSweep,
        init: Option<(Autoencoder, String)>,
        repaint: impl Fn() + Send + 'static,
    ) -> Worker {
        Worker::spawn_job(None, false, repaint, move |sink, control| {
            let source = match init {
                Some((ae, label)) => AeSource::Given(ae, label),
                None => AeSource::Pretrain,
            };
            match sweep_k(&ds, &cfg, &sweep, source, sink, control) {
                Ok(r) => Ok(WorkerMsg::SweepFinished(Box::new(r))),
                Err(SweepError::Pipeline(e)) => Err(e),
                Err(e) => Ok(WorkerMsg::Failed(e.to_string())),
            }
        })
    }

    /// Run `job` on the training thread with a sink that streams to the GUI; its
    /// result (or its failure, stop or panic) is the last message.
    fn spawn_job(
        cache: Option<crate::engine::model::SaveTarget>,
        snapshots: bool,
        repaint: impl Fn() + Send + 'static,
        job: impl FnOnce(&mut dyn Sink, &Control) -> Result<WorkerMsg, PipelineError> + Send + 'static,
    ) -> Worker {
        let (ev_tx, ev_rx) = unbounded();
        let (snap_tx, snap_rx) = bounded(1);
        let (controller, control) = control_channel();
        let fail_tx = ev_tx.clone();
        let repaint: Box<dyn Fn() + Send> = Box::new(repaint);
        let handle = std::thread::Builder::new()
            .name("decscope-train".into())
            .spawn(move || {
                let mut sink = ChannelSink {
                    events: ev_tx,
                    snapshots: snap_tx,
                    repaint,
                    last_snapshot: None,
                    last_step: Instant::now(),
                    cache,
                    snapshots_wanted: snapshots,
                };
                let result =
                    std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut sink, &control)));
                let msg = match result {
                    Ok(Ok(msg)) => msg,
                    Ok(Err(PipelineError::Stopped)) => WorkerMsg::Failed("stopped".into()),
                    Ok(Err(e)) => WorkerMsg::Failed(e.to_string()),
                    Err(panic) => {
                        let what = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_else(|| "unknown panic".into());
                        WorkerMsg::Failed(format!(
                            "the training thread crashed: {what}. Please report this."
                        ))
                    }
                };
                // The final message must arrive: wait for room (the GUI drains every frame).
                let _ = fail_tx.send_timeout(msg, Duration::from_secs(5));
                (sink.repaint)();
            })
            .ok();
        Worker {
            controller,
            events: ev_rx,
            snapshots: snap_rx,
            started: Instant::now(),
            handle,
        }
    }

    /// Whether the thread has ended.
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(|h| h.is_finished())
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.controller.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::pipeline::Phase;
    use crate::engine::report::{RunWarning, WarningKind};

    fn step(i: usize) -> Event {
        Event::Step {
            phase: Phase::Clustering,
            step: i,
            total: 100_000,
            loss: 0.0,
            elapsed_s: 0.0,
        }
    }

    /// A GUI that draws no frames (a minimised window) reads nothing for minutes.
    /// Progress steps may then be skipped, but a warning sent after thousands of them
    /// must still arrive, and the queue must stay bounded. (With the earlier bounded
    /// channel and `try_send`, the warning was lost once 4,096 messages waited.)
    #[test]
    fn a_warning_is_never_dropped_however_many_steps_wait_unread() {
        let (tx, rx) = unbounded();
        let (snap_tx, _snap_rx) = bounded(1);
        let mut sink = ChannelSink {
            events: tx,
            snapshots: snap_tx,
            repaint: Box::new(|| {}),
            last_snapshot: None,
            last_step: Instant::now(),
            cache: None,
            snapshots_wanted: true,
        };
        for i in 0..3 * MAX_QUEUED {
            // Pretend 50 ms passed since the last forwarded step.
            sink.last_step = Instant::now() - STEP_EVERY;
            sink.event(step(i));
        }
        sink.event(Event::Warning(RunWarning {
            kind: WarningKind::Collapse,
            step: 7,
            cluster: Some(3),
            size: Some(0),
            message: "cluster 3 collapsed".into(),
        }));
        let msgs: Vec<WorkerMsg> = rx.try_iter().collect();
        assert_eq!(
            msgs.len(),
            MAX_QUEUED + 1,
            "steps beyond the cap must be skipped"
        );
        assert!(
            matches!(msgs.last(), Some(WorkerMsg::Event(Event::Warning(w))) if w.cluster == Some(3)),
            "the warning was dropped: last message {:?}",
            msgs.last()
        );
    }
}
