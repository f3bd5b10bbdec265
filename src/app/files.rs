//! Files in and out of the app: open a dataset (dialog, drop, recent list) on a
//! background thread, apply a saved model, export a finished run.

use std::path::{Path, PathBuf};
use std::sync::Arc;

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

    pub(super) fn load_model(&mut self, dir: &Path) {
        match DecModel::load(dir).and_then(|m| m.check_input(self.ds.d, dir).map(|_| m)) {
            Ok(m) if m.n_clusters() > 0 => {
                let (assignments, confidence, z) = m.predict(&self.ds.x, self.ds.n);
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
            Err(e) => self.error = Some(e.to_string()),
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
        let mut csv = String::from("index,cluster,confidence,label\n");
        for i in 0..self.ds.n {
            let label = self
                .ds
                .labels
                .as_ref()
                .map(|l| self.ds.class_name(l[i]))
                .unwrap_or_default();
            csv += &format!(
                "{i},{},{:.6},{label}\n",
                out.assignments[i], out.confidence[i]
            );
        }
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

    pub(super) fn spawn_dialog(&mut self, pick_folder_for_model: bool, folder: bool) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        std::thread::spawn(move || {
            let d = rfd::FileDialog::new();
            let r = if pick_folder_for_model {
                DialogResult::LoadModel(d.pick_folder())
            } else if folder {
                DialogResult::OpenData(d.pick_folder())
            } else {
                DialogResult::OpenData(d.pick_file())
            };
            let _ = tx.send(r);
        });
        self.dialog = Some(rx);
    }
}
