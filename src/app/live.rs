//! Keeping the window in step with the run: drain the worker's and loaders' channels
//! once per frame (never blocking), turn snapshots into projections and replay
//! frames, and hand t-SNE requests to the projection thread.

use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::TryRecvError;

use super::worker::WorkerMsg;
use super::{DecApp, Frame, MAX_FRAMES, Method};
use crate::engine::curation::suggest::after_kmeans_start;
use crate::engine::pipeline::{Event, LiveReason, LiveState, Phase, Snapshot};
use crate::projection::pca::pca_2d;

impl DecApp {
    /// Drain the worker's and loaders' channels (never blocks).
    pub fn poll(&mut self) {
        self.poll_tsne();
        self.poll_sweep();
        if let Some((path, rx)) = &self.loading {
            match rx.try_recv() {
                Ok(Ok(ds)) => {
                    let path = path.clone();
                    self.loading = None;
                    self.failed = None;
                    self.stop();
                    self.worker = None;
                    self.ds = Arc::new(ds);
                    self.error = None;
                    self.on_new_dataset();
                    self.remember(&path);
                }
                Ok(Err(e)) => {
                    self.failed = Some(path.clone());
                    self.loading = None;
                    // Missing values have a policy to choose: show it beside the error.
                    if e.contains("--missing") {
                        self.load.open = true;
                    }
                    self.error = Some(e);
                    self.status = format!("kept {}", self.ds.name);
                }
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => self.loading = None,
            }
        }
        if let Some(rx) = &self.dialog
            && let Ok(r) = rx.try_recv()
        {
            self.dialog = None;
            self.on_dialog(r);
        }
        let Some(w) = &self.worker else { return };
        let mut latest = None;
        while let Ok(s) = w.snapshots.try_recv() {
            latest = Some(s);
        }
        let mut msgs = Vec::new();
        while let Ok(m) = w.events.try_recv() {
            msgs.push(m);
        }
        if let Some(s) = latest {
            self.set_snapshot(s);
        }
        for m in msgs {
            self.on_msg(m);
        }
    }

    /// The run ended with a result: show its final state, and keep it for Compare and
    /// for steering.
    fn on_finished(&mut self, out: Box<crate::engine::pipeline::RunOutput>) {
        self.set_snapshot(Arc::new(Snapshot {
            phase: Phase::Done,
            step: out.report.final_.iterations,
            z: out.z.clone(),
            e: out.model.ae.encoder.n_out(),
            assignments: Some(out.assignments.clone()),
            confidence: Some(out.confidence.clone()),
            centroids: Some(out.model.centroids.clone()),
            scores: None,
        }));
        self.status = match out.report.final_.acc {
            Some(a) => format!("done: ACC {a:.4} in {:.0}s", out.report.timing.total_s),
            None => format!("done in {:.0}s", out.report.timing.total_s),
        };
        if let Some((t0, _)) = self.exit_after {
            println!("[{:6.2}s] {}", t0.elapsed().as_secs_f64(), self.status);
        }
        self.run.phase = Some(Phase::Done);
        self.compare
            .runs
            .push(super::compare::FinishedRun::of(&out));
        self.steer_view.attach(&out);
        // A k-means start that the start check chose was compared already.
        self.steer_view.kmeans_start = out.report.start_check.is_none()
            && out
                .report
                .start
                .is_some_and(|s| after_kmeans_start(s, self.ds.text.is_some()));
        self.mark_corrections(&out);
        self.run.finished = Some(out);
    }

    /// Self-correction's rounds as marks on the curves and the timeline, and a note in
    /// the Steer panel of what it did and that Undo takes it back (or that it found
    /// nothing to mend).
    fn mark_corrections(&mut self, out: &crate::engine::pipeline::RunOutput) {
        let check = out.report.start_check.as_ref().map(start_check_line);
        if let (Some(c), Some(line)) = (&out.report.start_check, &check) {
            self.run
                .edit_marks
                .push((c.spectral.last_step, line.clone()));
        }
        let lines = super::steer::correction_lines(out);
        for (r, line) in out.report.self_correct.iter().zip(&lines) {
            self.run.edit_marks.push((r.step, line.clone()));
        }
        if out.uncorrected.is_some() {
            self.steer_view.note = format!(
                "self-correction made {} round(s) (listed below); Undo takes it back",
                lines.len()
            );
        } else if out.report.self_correction_found_nothing() {
            self.steer_view.note = crate::engine::report::NOTHING_TO_MEND.into();
        }
        if let Some(line) = check {
            self.steer_view.note = format!("{line}. {}", self.steer_view.note);
        }
    }

    /// The worker paused or applied steering: show its state, mark the curves at a
    /// change, and let the steering panel edit from it.
    fn on_live(&mut self, l: Arc<LiveState>) {
        if let LiveReason::Steered(lines) = &l.reason {
            self.run.edit_marks.push((l.step, lines.join("; ")));
            self.steer_view.note = format!("done at DEC step {}: {}", l.step, lines.join("; "));
            self.clusters_changed();
        }
        self.set_snapshot(l.snapshot.clone());
        self.steer_view.live = Some(l);
    }

    pub(super) fn set_snapshot(&mut self, s: Arc<Snapshot>) {
        self.run.proj = pca_2d(&s.z, s.e);
        let assignments = s.assignments.clone().map(Arc::new);
        self.push_frame(Frame {
            step: s.step,
            phase: s.phase,
            method: Method::Pca,
            points: Arc::new(self.run.proj.clone()),
            indices: None,
            assignments: assignments.clone(),
        });
        if self.method == Method::Tsne {
            self.request_tsne(&s);
        }
        self.log_firsts(&s);
        self.run.snapshot = Some(s);
        self.run.snapshots_seen += 1;
    }

    /// Under `--exit-after`, when the first snapshot and the first preview of the
    /// clusters (a pretraining snapshot with assignments) come, from launch.
    fn log_firsts(&self, s: &Snapshot) {
        let Some((t0, _)) = self.exit_after else {
            return;
        };
        let pretraining = matches!(s.phase, Phase::Finetune | Phase::PretrainLayer(_));
        let had_preview = self.run.snapshot.as_ref().is_some_and(|p| {
            p.assignments.is_some() && matches!(p.phase, Phase::Finetune | Phase::PretrainLayer(_))
        });
        let preview = pretraining && s.assignments.is_some() && !had_preview;
        let what = match (self.run.snapshots_seen == 0, preview) {
            (true, true) => "first snapshot, with the first preview of the clusters",
            (true, false) => "first snapshot",
            (false, true) => "first preview of the clusters",
            (false, false) => return,
        };
        let t = t0.elapsed().as_secs_f64();
        println!("[{t:6.2}s] {what}: {} step {}", s.phase.name(), s.step);
    }

    pub(super) fn push_frame(&mut self, f: Frame) {
        let frames = &mut self.run.frames;
        frames.push(f);
        if frames.len() > MAX_FRAMES {
            // Thin out: drop every other frame of the older half.
            let half = frames.len() / 2;
            let mut i = 0;
            frames.retain(|_| {
                i += 1;
                i > half || i % 2 == 0
            });
        }
    }

    /// Switch the embedding view between PCA and t-SNE (t-SNE starts computing at once,
    /// on Z when a run has produced one, else on the raw input).
    pub fn set_method(&mut self, m: Method) {
        if m == self.method {
            return;
        }
        self.method = m;
        self.embedding.follow_live();
        // While a run is going, its next snapshot brings Z; t-SNE of the raw input
        // would only delay that.
        if m == Method::Tsne && (self.run.snapshot.is_some() || !self.is_running()) {
            let snap = self.run.snapshot.clone().unwrap_or_else(|| {
                Arc::new(Snapshot {
                    phase: Phase::Done,
                    step: 0,
                    z: self.ds.x.clone(),
                    e: self.ds.d,
                    assignments: None,
                    confidence: None,
                    centroids: None,
                    scores: None,
                })
            });
            self.request_tsne(&snap);
        }
    }

    /// Ask the t-SNE thread for a layout of this snapshot's Z.
    pub fn request_tsne(&mut self, s: &Snapshot) {
        let ctx_wake = self.repaint.clone();
        let params = self.tsne_params.clone();
        let w = self.tsne_worker.get_or_insert_with(|| {
            crate::projection::TsneWorker::spawn(params, move || {
                if let Some(c) = &ctx_wake {
                    c.request_repaint();
                }
            })
        });
        let groups = s.assignments.clone().or_else(|| self.ds.labels.clone());
        // Manifold clustering uses DEC's number of clusters (the classes before DEC).
        let clusters = s
            .centroids
            .as_ref()
            .map(|c| c.len() / s.e.max(1))
            .filter(|&k| k > 0)
            .or_else(|| (self.settings.cfg.n_clusters > 0).then_some(self.settings.cfg.n_clusters))
            .or_else(|| self.ds.n_classes())
            .unwrap_or(0);
        w.offer(crate::projection::ProjectRequest {
            z: Arc::new(s.z.clone()),
            e: s.e,
            step: s.step,
            groups,
            clusters,
        });
    }

    /// Take finished t-SNE layouts.
    pub(super) fn poll_tsne(&mut self) {
        let Some(w) = &self.tsne_worker else { return };
        let mut got = Vec::new();
        while let Ok(l) = w.layouts.try_recv() {
            got.push(l);
        }
        for l in got {
            if let Some((t0, _)) = self.exit_after {
                println!(
                    "[{:6.2}s] t-SNE layout of step {}: {:.2}s, KL {:.4}",
                    t0.elapsed().as_secs_f64(),
                    l.step,
                    l.seconds,
                    l.kl.unwrap_or(f32::NAN)
                );
            }
            let assignments = self
                .run
                .snapshot
                .as_ref()
                .and_then(|s| s.assignments.clone())
                .map(Arc::new);
            let phase = self.run.snapshot.as_ref().map_or(Phase::Done, |s| s.phase);
            self.push_frame(Frame {
                step: l.step,
                phase,
                method: Method::Tsne,
                points: Arc::new(l.points.clone()),
                indices: Some(l.indices.clone()),
                assignments,
            });
            self.run.manifold_scores = match (&l.kmeans, &self.ds.labels) {
                (Some(km), Some(truth)) => {
                    let t: Vec<u32> = l.indices.iter().map(|&i| truth[i]).collect();
                    let dec = self.run.assignments().map(|a| {
                        let d: Vec<u32> = l.indices.iter().map(|&i| a[i]).collect();
                        crate::engine::cluster::metrics::scores(&t, &d)
                    });
                    Some((crate::engine::cluster::metrics::scores(&t, km), dec))
                }
                _ => None,
            };
            self.run.tsne = Some(l);
        }
    }

    pub(super) fn on_msg(&mut self, m: WorkerMsg) {
        match m {
            WorkerMsg::Event(Event::Phase { phase, total }) => {
                if let Some((t0, _)) = self.exit_after {
                    println!("[{:6.2}s] phase {phase:?}", t0.elapsed().as_secs_f64());
                }
                self.run.phase = Some(phase);
                self.run.total = total;
                self.run.step = 0;
                self.run.phase_started = Some(Instant::now());
                self.run.paused_for = std::time::Duration::ZERO;
                self.run.paused_since = self.run.paused.then(Instant::now);
            }
            WorkerMsg::Event(Event::Step {
                step, total, loss, ..
            }) => {
                self.run.step = step;
                self.run.total = total;
                self.run.loss = loss;
            }
            WorkerMsg::Event(Event::History(h)) => {
                // Timed runs (`--exit-after`) log each DEC update's scores.
                if let (Some((t0, _)), Some(acc)) = (self.exit_after, h.acc)
                    && h.phase == "dec"
                {
                    println!(
                        "[{:6.2}s] DEC step {}: ACC {acc:.4}, NMI {:.4}",
                        t0.elapsed().as_secs_f64(),
                        h.step,
                        h.nmi.unwrap_or(0.0)
                    );
                }
                self.run.history.push(h)
            }
            WorkerMsg::Event(Event::Baseline { name, scores }) => {
                self.run.baselines.push((name, scores))
            }
            WorkerMsg::Event(Event::Snapshot(s)) => self.set_snapshot(s),
            WorkerMsg::Event(Event::Message(m)) => self.run.messages.push(m),
            WorkerMsg::Event(Event::Warning(w)) => {
                if let Some((t0, _)) = self.exit_after {
                    println!(
                        "[{:6.2}s] warning: {}",
                        t0.elapsed().as_secs_f64(),
                        w.message
                    );
                }
                self.run.warnings.push(w)
            }
            WorkerMsg::Event(Event::Live(l)) => self.on_live(l),
            WorkerMsg::Event(Event::Settle(c)) => self.run.settle.push(c),
            WorkerMsg::Event(Event::Pretrained(_)) | WorkerMsg::Event(Event::Sweep(_)) => {}
            WorkerMsg::SweepFinished(_) => {}
            WorkerMsg::Finished(out) => self.on_finished(out),
            WorkerMsg::Failed(e) => {
                if e == "stopped" {
                    self.status = "stopped".into();
                    if let (Some((t0, _)), Some(w)) = (self.exit_after, &self.worker) {
                        println!(
                            "[{:6.2}s] run stopped ({:.1} s after its start)",
                            t0.elapsed().as_secs_f64(),
                            w.started.elapsed().as_secs_f64()
                        );
                    }
                } else {
                    self.error = Some(e);
                    self.status = "training failed".into();
                }
                self.run.phase = None;
            }
        }
    }
}

/// The start check as the Curves view's mark (at the step where DEC began again from
/// k-means) and the Steer panel say it: both modularities and the start kept, whose
/// outcome is the result even where the curves end on the other phase.
fn start_check_line(c: &crate::engine::report::StartCheck) -> String {
    format!(
        "start check: DEC again from k-means; modularity on the pretrained Z's graph {:.4} (spectral start, to step {}) against {:.4} (k-means){}: kept the {} start's outcome",
        c.spectral.modularity,
        c.spectral.last_step,
        c.kmeans.modularity,
        c.early_clause(),
        c.kept_name()
    )
}
