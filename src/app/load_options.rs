//! The "Load options" window: how the app reads a file (label column, preprocessing,
//! image shape), the same options `decscope train` takes, so a user can correct what
//! `auto` guessed and reload.
//!
//! Why: a headerless table's label column or a pixel table's scale can be guessed
//! wrong, and without this the app would train on the labels as a feature.

use clap::ValueEnum;
use egui::RichText;

use super::DecApp;
use crate::data::{Features, ImageShape, LoadOptions, Missing, Preprocessing};

/// The load options as the window edits them.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadForm {
    /// `auto`, `none`, `first`, `last`, a 0-based index or a header name.
    pub label_col: String,
    pub preprocess: Preprocessing,
    /// Empty, or `HxW` / `HxWxC`.
    pub image_shape: String,
    /// A separate label file (`--labels`), kept for reloads of the same data.
    pub labels: Option<std::path::PathBuf>,
    /// Text: the column with the documents (empty: the widest string column).
    pub text_col: String,
    /// Images: raw pixels or HOG.
    pub features: Features,
    /// Empty, or the paper's imbalanced subsample's smallest retention rate.
    pub retain_min: String,
    /// Missing values: refuse, drop rows or fill with the column mean.
    pub missing: Missing,
    /// Whether the window is shown.
    pub open: bool,
}

impl Default for LoadForm {
    fn default() -> Self {
        LoadForm {
            label_col: "auto".into(),
            preprocess: Preprocessing::Auto,
            image_shape: String::new(),
            labels: None,
            text_col: String::new(),
            features: Features::Raw,
            retain_min: String::new(),
            missing: Missing::Error,
            open: false,
        }
    }
}

impl LoadForm {
    /// Take the command line's choices.
    pub fn set(
        &mut self,
        labels: Option<std::path::PathBuf>,
        label_col: &str,
        preprocess: Preprocessing,
        shape: Option<ImageShape>,
    ) {
        self.labels = labels;
        self.text_col.clear();
        self.retain_min.clear();
        self.label_col = label_col.to_string();
        self.preprocess = preprocess;
        self.image_shape = shape.map(|s| s.to_string()).unwrap_or_default();
    }

    /// The library's load options; the error says which field is wrong.
    pub fn options(&self) -> Result<LoadOptions, String> {
        let image_shape = match self.image_shape.trim() {
            "" => None,
            s => Some(ImageShape::parse(s).map_err(|e| format!("image shape {e}"))?),
        };
        let label_col = match self.label_col.trim() {
            "" => "auto",
            s => s,
        };
        let retain_min = match self.retain_min.trim() {
            "" => None,
            s => Some(
                s.parse::<f64>()
                    .ok()
                    .filter(|r| *r > 0.0 && *r <= 1.0)
                    .ok_or_else(|| format!("retain min '{s}': a rate in (0, 1], e.g. 0.1"))?,
            ),
        };
        Ok(LoadOptions {
            labels: self.labels.clone(),
            preprocessing: self.preprocess,
            label_col: label_col.parse().unwrap_or_default(),
            image_shape,
            text_col: Some(self.text_col.trim().to_string()).filter(|s| !s.is_empty()),
            features: self.features,
            retain_min,
            missing: self.missing,
            ..Default::default()
        })
    }
}

impl LoadForm {
    /// The form's rows, in a two-column grid.
    fn ui(&mut self, ui: &mut egui::Ui) {
        text_row(ui, "label column", &mut self.label_col, "")
            .on_hover_text("auto, none, first, last, a 0-based column index or a header name");
        let names = Preprocessing::value_variants()
            .iter()
            .map(|p| (*p, preprocessing_name(*p)));
        combo_row(ui, "preprocessing", &mut self.preprocess, names.collect());
        text_row(ui, "image shape", &mut self.image_shape, "HxW, e.g. 8x8");
        let features = vec![
            (Features::Raw, "raw".into()),
            (Features::Hog, "HOG (images)".into()),
        ];
        combo_row(ui, "features", &mut self.features, features);
        text_row(
            ui,
            "text column",
            &mut self.text_col,
            "auto: widest strings",
        );
        text_row(ui, "retain min", &mut self.retain_min, "e.g. 0.1 (imbalanced)")
            .on_hover_text("The paper's imbalanced subsample of labelled data: each sample of class c kept with probability r + (1 - r) c/(K-1), so about this fraction of the first class and all of the last");
        let missing = Missing::value_variants()
            .iter()
            .map(|m| (*m, missing_text(*m).into()));
        combo_row(ui, "missing values", &mut self.missing, missing.collect())
            .on_hover_text("Empty or NA cells (NaN in arrays): refuse the file, drop the rows that have them, or fill each with its column's mean (--missing)");
    }
}

/// A labelled one-line text field and the end of its grid row.
fn text_row(ui: &mut egui::Ui, label: &str, value: &mut String, hint: &str) -> egui::Response {
    let lab = ui.label(label);
    let field = egui::TextEdit::singleline(value)
        .hint_text(hint)
        .desired_width(120.0);
    let r = ui.add(field).labelled_by(lab.id);
    ui.end_row();
    r
}

/// A labelled combo box over `choices` (value, name) and the end of its grid row.
fn combo_row<T: PartialEq + Copy>(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut T,
    choices: Vec<(T, String)>,
) -> egui::Response {
    let lab = ui.label(label);
    let shown = choices
        .iter()
        .find(|(v, _)| v == value)
        .map(|(_, n)| n.clone())
        .unwrap_or_default();
    let r = egui::ComboBox::from_id_salt(("load", label))
        .selected_text(shown)
        .show_ui(ui, |ui| {
            for (v, name) in &choices {
                ui.selectable_value(value, *v, name.as_str());
            }
        })
        .response
        .labelled_by(lab.id);
    ui.end_row();
    r
}

/// How the Load options window names a missing-value policy.
pub fn missing_text(m: Missing) -> &'static str {
    match m {
        Missing::Error => "refuse the file",
        Missing::DropRows => "drop those rows",
        Missing::Mean => "fill with column mean",
    }
}

/// The command-line name of a preprocessing (`unit-range`, ...).
pub fn preprocessing_name(p: Preprocessing) -> String {
    p.name()
}

impl DecApp {
    /// Open the current dataset's file again with the form's options.
    pub fn reload(&mut self) {
        match self.failed.clone().or_else(|| self.ds.source.clone()) {
            Some(path) => self.open(path),
            None => self.error = Some("this dataset was not read from a file".into()),
        }
    }

    /// The window, when open.
    pub(super) fn load_options_window(&mut self, ctx: &egui::Context) {
        let mut open = self.load.open;
        let mut reload = false;
        egui::Window::new("Load options")
            .open(&mut open)
            .resizable(false)
            .collapsible(false)
            .show(ctx, |ui| {
                egui::Grid::new("load-options")
                    .num_columns(2)
                    .show(ui, |ui| self.load.ui(ui));
                self.load_notes(ui);
                reload = self.load_buttons(ui);
            });
        self.load.open = open;
        if reload {
            self.reload();
        }
    }

    /// What the last load chose and noted, and which file Reload reads.
    fn load_notes(&self, ui: &mut egui::Ui) {
        if let Some(r) = &self.ds.preprocessing_reason {
            ui.label(RichText::new(format!("now: {r}")).weak().small());
        }
        let notes = self.ds.label_note.iter().chain(&self.ds.notes);
        for n in notes {
            ui.label(RichText::new(n).weak().small());
        }
        if let Some(p) = self.failed.as_ref().or(self.ds.source.as_ref()) {
            ui.label(RichText::new(format!("Reload reads {}", p.display())).small());
        }
    }

    /// Reload and Defaults; true when Reload was clicked.
    fn load_buttons(&mut self, ui: &mut egui::Ui) -> bool {
        let mut reload = false;
        ui.horizontal(|ui| {
            let can = (self.ds.source.is_some() || self.failed.is_some()) && self.loading.is_none();
            reload = ui.add_enabled(can, egui::Button::new("Reload")).clicked();
            if ui.button("Defaults").clicked() {
                self.load = LoadForm {
                    open: true,
                    ..LoadForm::default()
                };
            }
        });
        reload
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_parses_into_load_options() {
        let mut f = LoadForm::default();
        f.set(None, "last", Preprocessing::UnitRange, None);
        f.image_shape = "8x8".into();
        let o = f.options().unwrap();
        assert_eq!(o.label_col, crate::data::csv::LabelCol::Last);
        assert_eq!(o.preprocessing, Preprocessing::UnitRange);
        assert_eq!(o.image_shape.map(|s| s.to_string()), Some("8x8".into()));
        f.retain_min = "0.3".into();
        assert_eq!(f.options().unwrap().retain_min, Some(0.3));
        f.retain_min = "3".into();
        assert!(f.options().unwrap_err().contains("retain min"));
        f.retain_min.clear();
        f.missing = Missing::Mean;
        assert_eq!(f.options().unwrap().missing, Missing::Mean);
        f.image_shape = "8by8".into();
        assert!(f.options().unwrap_err().contains("image shape"));
        assert_eq!(preprocessing_name(Preprocessing::UnitRange), "unit-range");
    }
}
