//! Files in and out of the app: open a dataset (dialog, drop, recent list) on a
//! background thread, apply a saved model, export a finished run.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::file_browser::{DIALOG_FAILED, FileBrowser, Outcome, Purpose};
use super::{DecApp, DialogResult, RunView, gallery};
use crate::data;
use crate::engine::model::DecModel;
use crate::engine::pipeline::{Phase, Snapshot};

impl DecApp {
    /// Load a dataset from `path` on a background thread.
    pub fn open(&mut self, path: PathBuf) {
        // A separate label file belongs to the data it came with, not to another file.
        if self.ds.source.as_ref() != Some(&path) {
            self.load.labels = None;
        }
        let opts = match self.load.options() {
            Ok(o) => o,
            Err(e) => {
                self.error = Some(format!("Load options: {e}"));
                self.load.open = true;
                return;
            }
        };
        let (tx, rx) = crossbeam_channel::bounded(1);
        let p = path.clone();
        std::thread::spawn(move || {
            let r = std::panic::catch_unwind(|| data::load(&p, &opts).map_err(|e| e.to_string()))
                .unwrap_or_else(|_| {
                    Err(format!(
                        "{}: the loader crashed; please report this file",
                        p.display()
                    ))
                });
            let _ = tx.send(r);
        });
        self.status = format!("loading {}...", path.display());
        self.loading = Some((path, rx));
    }

    pub(super) fn remember(&mut self, path: &Path) {
        let p = path.to_path_buf();
        self.recent.retain(|r| r != &p);
        self.recent.insert(0, p);
        self.recent.truncate(8);
        if let Some(f) = self.dirs.recent_file() {
            let _ = f.parent().map(std::fs::create_dir_all);
            let _ = std::fs::write(f, serde_json::to_string(&self.recent).unwrap_or_default());
        }
    }

    /// The rows of the open dataset as model `m` (saved at `dir`) reads new data: the
    /// dataset's own when it was preprocessed exactly so, else read again from its
    /// file with the model's fitted preprocessing.
    fn rows_for_model(&self, m: &DecModel, dir: &Path) -> Result<Cow<'_, [f32]>, String> {
        let opts = self.load.options()?;
        let opts = m.load_options(&opts, dir).map_err(|e| e.to_string())?;
        if self.ds.fitted == opts.fitted {
            return Ok(Cow::Borrowed(&self.ds.x));
        }
        let Some(src) = &self.ds.source else {
            return Err(format!(
                "{}: this data was not read from a file, so it cannot be read again with the model's preprocessing; open its file, or use DEC.predict from Python",
                self.ds.name
            ));
        };
        let ds = data::load(src, &opts).map_err(|e| e.to_string())?;
        if ds.n != self.ds.n {
            return Err(format!(
                "{}: {} rows as the model reads it, {} as opened; open it with the model's load options",
                src.display(),
                ds.n,
                self.ds.n
            ));
        }
        m.check_input(ds.d, dir).map_err(|e| e.to_string())?;
        Ok(Cow::Owned(ds.x))
    }

    /// Model > Open: the clusters of a saved model on the open dataset, its rows read
    /// as the model reads new data ([`DecModel::load_options`]).
    pub fn load_model(&mut self, dir: &Path) {
        let loaded = DecModel::load(dir)
            .map_err(|e| e.to_string())
            .and_then(|m| self.rows_for_model(&m, dir).map(|x| (m, x)));
        match loaded {
            Ok((m, x)) if m.n_clusters() > 0 => {
                let (assignments, confidence, z) = m.predict(&x, self.ds.n);
                self.run = RunView::default();
                let e = m.ae.encoder.n_out();
                self.set_snapshot(Arc::new(Snapshot {
                    phase: Phase::Done,
                    step: 0,
                    z,
                    e,
                    assignments: Some(assignments),
                    confidence: Some(confidence),
                    centroids: Some(m.centroids.clone()),
                    scores: None,
                }));
                self.status = format!("model {} applied", dir.display());
            }
            Ok(_) => {
                self.error = Some(format!(
                    "{}: an autoencoder without centroids; train it first",
                    dir.display()
                ))
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// `decscope-export/<what>-<unix time>`.
    pub(super) fn export_path(what: &str) -> PathBuf {
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        PathBuf::from("decscope-export").join(format!("{what}-{ts}"))
    }

    /// Write assignments CSV, report JSON, model and gallery PNG of the finished run.
    pub fn export(&mut self) -> Result<PathBuf, String> {
        let Some(out) = &self.run.finished else {
            return Err("nothing to export yet: finish a run first".into());
        };
        let dir = Self::export_path("run");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let names = &out.model.curation.names;
        let csv = data::assignments_csv(&self.ds, &out.assignments, &out.confidence, names)
            .map_err(|e| format!("assignments.csv: {e}"))?;
        let w = |name: &str, bytes: &[u8]| {
            std::fs::write(dir.join(name), bytes)
                .map_err(|e| format!("{}: {e}", dir.join(name).display()))
        };
        w("assignments.csv", csv.as_bytes())?;
        w("report.json", out.report.to_json().as_bytes())?;
        out.model
            .save(&dir.join("model"))
            .map_err(|e| e.to_string())?;
        gallery::write_png(
            &self.ds,
            &out.assignments,
            &out.confidence,
            &dir.join("gallery.png"),
        )?;
        Ok(dir)
    }

    /// Ask for a path with the system dialog on its own thread, or with the in-app
    /// browser when the system dialog cannot open here.
    pub(super) fn spawn_dialog(&mut self, purpose: Purpose, folder: bool) {
        if let Some(reason) = self.native_dialog_blocked.clone() {
            self.open_browser(purpose, Some(reason));
            return;
        }
        let (tx, rx) = crossbeam_channel::bounded(1);
        std::thread::spawn(move || {
            let t = std::time::Instant::now();
            let d = rfd::FileDialog::new();
            let path = if folder || purpose == Purpose::LoadModel {
                d.pick_folder()
            } else {
                d.pick_file()
            };
            let _ = tx.send(DialogResult {
                purpose,
                path,
                open_for: t.elapsed(),
            });
        });
        self.dialog = Some(rx);
    }

    /// A path from the system dialog is opened; nothing back faster than a person
    /// can cancel means the dialog never showed, so the in-app browser takes over
    /// (and is used for the rest of the session).
    pub(super) fn on_dialog(&mut self, r: DialogResult) {
        match (r.path, r.purpose) {
            (Some(p), Purpose::OpenData) => self.open(p),
            (Some(p), Purpose::LoadModel) => self.load_model(&p),
            (None, purpose) if r.open_for < DIALOG_MIN_OPEN => {
                self.native_dialog_blocked = Some(DIALOG_FAILED.to_string());
                self.open_browser(purpose, Some(DIALOG_FAILED.to_string()));
            }
            (None, _) => {}
        }
    }

    /// Open the in-app browser in the folder of the file opened last, else in the
    /// folder decscope was started from (where a user's own files usually are).
    pub fn open_browser(&mut self, purpose: Purpose, reason: Option<String>) {
        let start = self
            .recent
            .first()
            .and_then(|p| p.parent())
            .filter(|p| p.is_dir())
            .map(Path::to_path_buf)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("."));
        self.browser = Some(FileBrowser::new(purpose, start, reason));
    }

    /// The browser's window, when open; a chosen path is opened as its purpose says.
    pub(super) fn file_browser_window(&mut self, ctx: &egui::Context) {
        let Some(b) = &mut self.browser else { return };
        let purpose = b.purpose;
        match b.ui(ctx) {
            Some(Outcome::Open(p)) => {
                self.browser = None;
                match purpose {
                    Purpose::OpenData => self.open(p),
                    Purpose::LoadModel => self.load_model(&p),
                }
            }
            Some(Outcome::Cancel) => self.browser = None,
            None => {}
        }
    }
}

/// A system dialog that returns nothing sooner than this was never shown.
const DIALOG_MIN_OPEN: std::time::Duration = std::time::Duration::from_millis(500);

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn app() -> DecApp {
        let ds = data::Dataset::new("t", vec![0.0, 1.0, 2.0, 3.0], 1, None).unwrap();
        let mut a = DecApp::new(ds);
        a.native_dialog_blocked = None;
        a
    }

    #[test]
    fn a_dialog_that_returns_nothing_at_once_hands_over_to_the_browser() {
        let mut a = app();
        let quick = |purpose| DialogResult {
            purpose,
            path: None,
            open_for: Duration::from_millis(30),
        };
        a.on_dialog(quick(Purpose::LoadModel));
        let b = a.browser.as_ref().expect("browser opened");
        assert_eq!(b.purpose, Purpose::LoadModel);
        assert_eq!(b.reason.as_deref(), Some(DIALOG_FAILED));
        assert_eq!(a.native_dialog_blocked.as_deref(), Some(DIALOG_FAILED));
        // A person who looked at the dialog and cancelled it: nothing happens.
        let mut a = app();
        a.on_dialog(DialogResult {
            purpose: Purpose::OpenData,
            path: None,
            open_for: Duration::from_secs(4),
        });
        assert!(a.browser.is_none() && a.native_dialog_blocked.is_none());
    }
}
