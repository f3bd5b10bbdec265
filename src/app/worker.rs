//! The training worker: runs the engine's pipeline on its own thread and streams its
//! events to the GUI over bounded crossbeam channels, never waiting on the GUI.
//!
//! Progress steps are coalesced (at most one every 50 ms) and snapshots rate-limited
//! (at most ~3 per second) and dropped when the GUI has not taken the previous one, so
//! training runs at full speed whatever the frame rate. Commands (pause, resume, stop)
//! travel the other way over the pipeline's own command channel.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};

use crate::data::Dataset;
use crate::engine::autoencoder::Autoencoder;
use crate::engine::config::DecConfig;
use crate::engine::model::DecModel;
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

struct ChannelSink {
    events: Sender<WorkerMsg>,
    snapshots: Sender<Arc<Snapshot>>,
    repaint: Box<dyn Fn() + Send>,
    last_snapshot: Option<Instant>,
    last_step: Instant,
    cache: Option<(PathBuf, DecConfig, crate::data::DatasetInfo)>,
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
                if let Some((dir, cfg, info)) = &self.cache {
                    let m = DecModel::autoencoder_only((*ae).clone(), cfg, info);
                    // A cache that cannot be written only costs time on the next run.
                    let _ = m.save(dir);
                }
            }
            Event::Step { .. } if self.last_step.elapsed() < STEP_EVERY => return,
            Event::Step { .. } => {
                self.last_step = Instant::now();
                let _ = self.events.try_send(WorkerMsg::Event(e));
            }
            other => {
                let _ = self.events.try_send(WorkerMsg::Event(other));
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

/// Where to cache the autoencoder pretrained on a dataset with a configuration.
pub fn cache_dir(ds: &Dataset, cfg: &DecConfig) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    // Key: the data and everything that shapes pretraining.
    let key = serde_json::json!({
        "data": ds.fingerprint(),
        "preprocessing": ds.preprocessing,
        "hidden": cfg.hidden,
        "seed": cfg.seed,
        "pretrain": cfg.pretrain,
        "augment": cfg.augment,
        "iters": cfg.finetune_iters_for(ds.n),
    });
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    Some(base.join("decscope").join(format!("ae-{h:016x}")))
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
        let cache = cache.map(|c| (c, cfg.clone(), ds.info()));
        Worker::spawn_job(cache, true, repaint, move |sink, control| {
            let source = match init {
                Some((ae, label)) => AeSource::Given(ae, label),
                None => AeSource::Pretrain,
            };
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
        cache: Option<(PathBuf, DecConfig, crate::data::DatasetInfo)>,
        snapshots: bool,
        repaint: impl Fn() + Send + 'static,
        job: impl FnOnce(&mut dyn Sink, &Control) -> Result<WorkerMsg, PipelineError> + Send + 'static,
    ) -> Worker {
        let (ev_tx, ev_rx) = bounded(4096);
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
