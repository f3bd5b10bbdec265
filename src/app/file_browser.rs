//! An in-app file browser: the folders and files of one directory, opened with a
//! click, for when the native file dialog cannot open (and from File > Browse).
//!
//! Why: on Linux the native dialog (rfd) asks the XDG desktop portal over D-Bus; plain
//! X11 window managers, containers, remote sessions and Xvfb often have none, and then
//! no dialog appears at all. This browser works wherever the window does, and says why
//! it is shown instead of the native one.

use std::path::{Path, PathBuf};

use egui::RichText;

/// Most entries listed from one folder (the rest are counted).
const MAX_ENTRIES: usize = 5000;

/// What the chosen path is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// A data file or folder to open.
    OpenData,
    /// A saved model's folder.
    LoadModel,
}

/// One line of the listing.
#[derive(Clone, Debug, PartialEq)]
struct Entry {
    name: String,
    path: PathBuf,
    is_dir: bool,
    bytes: u64,
}

/// What the user did in the browser this frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Open(PathBuf),
    Cancel,
}

/// The browser's state: where it is, what it lists and what is selected.
pub struct FileBrowser {
    pub purpose: Purpose,
    /// Why the native dialog is not used, shown at the top.
    pub reason: Option<String>,
    pub dir: PathBuf,
    /// The location field (edited by the user, applied with Enter or Go).
    pub location: String,
    pub selected: Option<PathBuf>,
    pub show_hidden: bool,
    entries: Vec<Entry>,
    /// Entries past [`MAX_ENTRIES`], not listed.
    more: usize,
    error: Option<String>,
}

impl FileBrowser {
    /// A browser for `purpose` showing `dir`.
    pub fn new(purpose: Purpose, dir: PathBuf, reason: Option<String>) -> FileBrowser {
        let mut b = FileBrowser {
            purpose,
            reason,
            dir: PathBuf::new(),
            location: String::new(),
            selected: None,
            show_hidden: false,
            entries: Vec::new(),
            more: 0,
            error: None,
        };
        b.go(dir);
        b
    }

    /// Show folder `dir` (an error keeps the current one and says why).
    pub fn go(&mut self, dir: PathBuf) {
        match list(&dir, self.show_hidden) {
            Ok((entries, more)) => {
                self.dir = dir;
                self.entries = entries;
                self.more = more;
                self.selected = None;
                self.error = None;
            }
            Err(e) => self.error = Some(format!("{}: {e}", dir.display())),
        }
        self.location = self.dir.display().to_string();
    }

    /// Names listed now, folders with a trailing `/` (for tests and accessibility).
    pub fn names(&self) -> Vec<String> {
        self.entries.iter().map(label).collect()
    }

    /// Draw the window; `Some` when the user opened a path or closed it.
    pub fn ui(&mut self, ctx: &egui::Context) -> Option<Outcome> {
        let title = match self.purpose {
            Purpose::OpenData => "Open data",
            Purpose::LoadModel => "Load model folder",
        };
        let mut out = None;
        let mut open = true;
        egui::Window::new(title)
            .id(egui::Id::unique("file-browser"))
            .open(&mut open)
            .default_size([620.0, 440.0])
            .collapsible(false)
            .show(ctx, |ui| out = self.contents(ui));
        if !open {
            out = Some(Outcome::Cancel);
        }
        out
    }

    fn contents(&mut self, ui: &mut egui::Ui) -> Option<Outcome> {
        if let Some(r) = &self.reason {
            ui.label(RichText::new(r).color(ui.visuals().warn_fg_color));
        }
        let mut go_to: Option<PathBuf> = None;
        ui.horizontal(|ui| {
            if ui.button("Up").clicked()
                && let Some(p) = self.dir.parent()
            {
                go_to = Some(p.to_path_buf());
            }
            if ui.button("Home").clicked() {
                go_to = std::env::var_os("HOME").map(PathBuf::from);
            }
            let edit = ui.add(
                // Room for the Go button and its spacing, so the window never grows.
                egui::TextEdit::singleline(&mut self.location)
                    .desired_width(ui.available_width() - 60.0),
            );
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button("Go").clicked() || enter {
                go_to = Some(PathBuf::from(self.location.trim()));
            }
        });
        if let Some(e) = &self.error {
            ui.label(RichText::new(e).color(ui.visuals().error_fg_color));
        }
        ui.separator();
        let mut open: Option<PathBuf> = None;
        egui::ScrollArea::vertical()
            .max_height(ui.available_height() - 60.0)
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for e in &self.entries {
                    let chosen = self.selected.as_ref() == Some(&e.path);
                    let text = if e.is_dir {
                        label(e)
                    } else {
                        format!("{}    {}", label(e), size_text(e.bytes))
                    };
                    let r = ui.selectable_label(chosen, text);
                    if r.clicked() {
                        self.selected = Some(e.path.clone());
                    }
                    if r.double_clicked() {
                        if e.is_dir {
                            go_to = Some(e.path.clone());
                        } else {
                            open = Some(e.path.clone());
                        }
                    }
                }
                if self.more > 0 {
                    ui.label(RichText::new(format!("({} more not listed)", self.more)).weak());
                }
                if self.entries.is_empty() {
                    ui.label(RichText::new("(empty folder)").weak());
                }
            });
        ui.separator();
        let out = self.buttons(ui, open);
        if let Some(p) = go_to {
            self.go(p);
        }
        out
    }

    /// The bottom row: show hidden, Open, Open this folder, Cancel.
    fn buttons(&mut self, ui: &mut egui::Ui, open: Option<PathBuf>) -> Option<Outcome> {
        let mut out = open.map(Outcome::Open);
        let mut enter = None;
        ui.horizontal(|ui| {
            if ui.checkbox(&mut self.show_hidden, "show hidden").changed() {
                let d = self.dir.clone();
                self.go(d);
            }
            let can_open = self.selected.is_some();
            if ui
                .add_enabled(can_open, egui::Button::new("Open"))
                .on_hover_text("Open the file selected; a folder selected is entered")
                .clicked()
                && let Some(p) = self.selected.clone()
            {
                if p.is_dir() {
                    enter = Some(p);
                } else {
                    out = Some(Outcome::Open(p));
                }
            }
            let folder_hint = match self.purpose {
                Purpose::OpenData => {
                    "Open the folder shown (a folder of IDX files, images or .txt files)"
                }
                Purpose::LoadModel => "Load the model saved in the folder shown",
            };
            if ui
                .button("Open this folder")
                .on_hover_text(folder_hint)
                .clicked()
            {
                out = Some(Outcome::Open(self.dir.clone()));
            }
            if ui.button("Cancel").clicked() {
                out = Some(Outcome::Cancel);
            }
        });
        if let Some(p) = &self.selected {
            ui.label(RichText::new(p.display().to_string()).small().weak());
        }
        if let Some(p) = enter {
            self.go(p);
        }
        out
    }
}

/// An entry's name as listed: folders end in `/`.
fn label(e: &Entry) -> String {
    if e.is_dir {
        format!("{}/", e.name)
    } else {
        e.name.clone()
    }
}

/// Bytes as B, KB, MB or GB (powers of 1024).
fn size_text(b: u64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// The folders, then the files, of `dir`, each sorted by name ignoring case; names
/// starting with a dot only when `hidden`. At most [`MAX_ENTRIES`], and how many more.
fn list(dir: &Path, hidden: bool) -> std::io::Result<(Vec<Entry>, usize)> {
    let mut v: Vec<Entry> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if !hidden && name.starts_with('.') {
                return None;
            }
            let path = e.path();
            // Follows links, so a linked folder is listed as a folder.
            let meta = std::fs::metadata(&path).ok();
            Some(Entry {
                name,
                is_dir: meta.as_ref().is_some_and(|m| m.is_dir()),
                bytes: meta.map_or(0, |m| m.len()),
                path,
            })
        })
        .collect();
    v.sort_by(|a, b| {
        b.is_dir
            .cmp(&a.is_dir)
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
    });
    let more = v.len().saturating_sub(MAX_ENTRIES);
    v.truncate(MAX_ENTRIES);
    Ok((v, more))
}

/// Why the native file dialog cannot open here, if it surely cannot: on Linux and the
/// BSDs, rfd reaches the dialog through the XDG desktop portal on the D-Bus session
/// bus; without a bus address and without the bus socket under `XDG_RUNTIME_DIR`,
/// there is no portal to answer.
pub fn native_dialog_unavailable() -> Option<String> {
    if !cfg!(all(unix, not(target_os = "macos"))) {
        return None;
    }
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    let socket = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|v| !v.is_empty())
        .is_some_and(|d| Path::new(&d).join("bus").exists());
    (!set("DBUS_SESSION_BUS_ADDRESS") && !socket).then(|| {
        "The system file dialog is not available: this desktop has no D-Bus session bus, \
         so no XDG desktop portal can show it (install and start xdg-desktop-portal with \
         a backend such as xdg-desktop-portal-gtk to get it). Choose the file here."
            .to_string()
    })
}

/// What to say when the native dialog came back empty too fast for a person to have
/// cancelled it: the portal did not answer.
pub const DIALOG_FAILED: &str = "The system file dialog did not open (no XDG desktop portal \
answered; install xdg-desktop-portal with a backend such as xdg-desktop-portal-gtk to get \
it). Choose the file here.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_folders_first_sorted_and_hides_dot_files() {
        let dir = std::env::temp_dir().join(format!("decscope-fb-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("zeta")).unwrap();
        std::fs::create_dir_all(dir.join("Alpha")).unwrap();
        std::fs::write(dir.join("b.csv"), "1,2\n").unwrap();
        std::fs::write(dir.join("A.npy"), "").unwrap();
        std::fs::write(dir.join(".hidden"), "").unwrap();
        let b = FileBrowser::new(Purpose::OpenData, dir.clone(), None);
        assert_eq!(b.names(), vec!["Alpha/", "zeta/", "A.npy", "b.csv"]);
        let mut b = b;
        b.show_hidden = true;
        b.go(dir.clone());
        assert!(b.names().contains(&".hidden".to_string()));
        b.go(dir.join("no-such-folder"));
        assert_eq!(b.dir, dir, "a failed move keeps the folder");
        assert!(b.error.as_deref().unwrap().contains("no-such-folder"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size_text(999), "999 B");
        assert_eq!(size_text(1536), "1.5 KB");
        assert_eq!(size_text(3 * 1024 * 1024), "3.0 MB");
    }
}
