//! Progress in the terminal: the pipeline's events as progress bars and lines, for
//! `train` and `sweep`.
//!
//! Why apart from `train`: a command says what to run; this says how a run looks while
//! it runs, and both commands that run the pipeline share it.

use std::time::Duration;

use decscope::engine::model::{DecModel, SaveTarget};
use decscope::engine::pipeline::{Event, Phase, Sink, SweepEvent};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::fmt_scores;

/// Progress bars for the terminal.
pub(super) struct BarSink {
    pub multi: MultiProgress,
    pub bar: Option<ProgressBar>,
    pub quiet: bool,
    /// Where to save the pretrained autoencoder, with what to record beside it.
    pub save_pretrained: Option<SaveTarget>,
    pub error: Option<anyhow::Error>,
    /// Print DEC's history lines (off inside sweeps, which print a line a run).
    pub history: bool,
}

impl BarSink {
    fn line(&self, s: String) {
        if self.quiet {
            eprintln!("{s}");
        } else {
            let _ = self.multi.println(s);
        }
    }

    /// A new phase: end the last bar and start this phase's (a spinner when its length
    /// is unknown), or one line when quiet.
    fn phase(&mut self, phase: Phase, total: usize) {
        if let Some(b) = self.bar.take() {
            b.finish();
        }
        if phase == Phase::Done {
            return;
        }
        let what = phase.label();
        if self.quiet {
            eprintln!("[{what}]");
            return;
        }
        let bar = if total > 0 {
            let b = self.multi.add(ProgressBar::new(total as u64));
            b.set_style(
                ProgressStyle::with_template(
                    "{prefix:>18} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            b
        } else {
            let b = self.multi.add(ProgressBar::new_spinner());
            b.enable_steady_tick(Duration::from_millis(120));
            b
        };
        bar.set_prefix(what);
        self.bar = Some(bar);
    }

    /// `--save-pretrained DIR`: save the autoencoder as soon as pretraining ends.
    fn save_pretrained(&mut self, ae: &decscope::engine::nn::autoencoder::Autoencoder) {
        let Some((dir, cfg, info, fitted)) = &self.save_pretrained else {
            return;
        };
        let m = DecModel::autoencoder_only(ae.clone(), cfg, info, fitted.clone());
        match m.save(dir) {
            Ok(()) => self.line(format!(
                "  pretrained autoencoder saved to {}",
                dir.display()
            )),
            Err(e) => self.error = Some(e.into()),
        }
    }
}

/// One line of DEC's history: scores when labelled, KL, the reconstruction loss (IDEC),
/// A settle check of pretraining, one line.
fn settle_line(c: &decscope::engine::report::SettleCheck) -> String {
    let agree = c
        .agreement
        .map_or("first check".to_string(), |a| format!("agreement {a:.4}"));
    let acc = c
        .acc
        .map_or(String::new(), |a| format!(", sample ACC {a:.4}"));
    format!(
        "  settle check after step {}: {agree} (loss {:.5}{acc})",
        c.step, c.loss
    )
}

/// the share of pairs satisfied (constraints) and the labels changed.
fn dec_line(h: &decscope::engine::report::HistoryEntry) -> String {
    let m = match h.acc {
        Some(a) => format!(
            "ACC {a:.4}  NMI {:.4}  ARI {:.4}  ",
            h.nmi.unwrap_or(0.0),
            h.ari.unwrap_or(0.0)
        ),
        None => String::new(),
    };
    let rec = h
        .rec_loss
        .map(|r| format!("  rec {r:.5}"))
        .unwrap_or_default();
    let rec = match h.constraints_satisfied {
        Some(c) => format!("{rec}  pairs ok {:.1}%", 100.0 * c),
        None => rec,
    };
    format!(
        "  dec step {:>6} at {:>5.0} s: {m}KL {:.5}{rec}  changed {:.3}%",
        h.step,
        h.elapsed_s,
        h.loss,
        100.0 * h.changed.unwrap_or(0.0)
    )
}

/// A sweep's line for the terminal, for the events that have one.
fn sweep_line(e: &SweepEvent) -> Option<String> {
    Some(match e {
        SweepEvent::RunStarted { index, value } => format!("sweep run {}: {value}", index + 1),
        SweepEvent::KPoint(p) => format!(
            "  k = {}: G {:.4} (L_train {:.5}, L_val {:.5}){}, {:.0} s",
            p.k,
            p.g,
            p.l_train,
            p.l_val,
            p.scores
                .map(|s| format!(", {}", fmt_scores(&s)))
                .unwrap_or_default(),
            p.seconds
        ),
        SweepEvent::RetainRow(r) => format!(
            "  r_min = {}: n = {}, DEC {}, {:.0} s",
            r.r_min,
            r.n,
            r.dec.map(|s| fmt_scores(&s)).unwrap_or_else(|| "-".into()),
            r.seconds
        ),
        SweepEvent::Started { .. } | SweepEvent::KModel { .. } => return None,
    })
}

impl Sink for BarSink {
    fn event(&mut self, e: Event) {
        match e {
            Event::Phase { phase, total } => self.phase(phase, total),
            Event::Step { step, loss, .. } => {
                if let Some(b) = &self.bar
                    && (step % 20 == 0)
                {
                    b.set_position(step as u64);
                    b.set_message(format!("loss {loss:.4}"));
                }
            }
            Event::History(h) => {
                if h.phase == "dec" && self.history {
                    self.line(dec_line(&h));
                }
            }
            Event::Baseline { name, scores } => {
                self.line(format!("  baseline {name}: {}", fmt_scores(&scores)))
            }
            Event::Message(m) => self.line(format!("  {m}")),
            Event::Settle(c) if self.history => self.line(settle_line(&c)),
            Event::Settle(_) => {}
            Event::Warning(w) => self.line(format!("  warning: {}", w.message)),
            // The command line steers nothing while it runs (`decscope edit` edits a
            // saved run); the messages above already say what was applied.
            Event::Live(_) => {}
            Event::Pretrained(ae) => self.save_pretrained(&ae),
            Event::Sweep(e) => {
                if let Some(l) = sweep_line(&e) {
                    self.line(l)
                }
            }
            Event::Snapshot(_) => {}
        }
    }
}
