//! A dataset's description for `decscope inspect`: size, element type, label counts,
//! image shape, value range, the preprocessing chosen, and warnings about what would
//! make DEC fail or mislead (NaN/inf, constant columns, one class, too many clusters).

use serde::Serialize;

use super::{Dataset, Format, Preprocessing};

/// What `inspect` reports.
#[derive(Clone, Debug, Serialize)]
pub struct Description {
    pub name: String,
    pub format: String,
    pub n: usize,
    pub d: usize,
    pub dtype: String,
    pub label_counts: Option<Vec<(String, usize)>>,
    pub image_shape: Option<String>,
    /// Range of the features as stored in the file.
    pub min: f32,
    pub max: f32,
    /// The preprocessing training would apply (`auto` resolved).
    pub preprocessing: String,
    /// Why: the rule of `auto` that fired, or "asked for".
    pub preprocessing_reason: String,
    /// How the labels were found, when guessed.
    pub label_note: Option<String>,
    /// How the features were derived (tf-idf, HOG).
    pub features: Option<String>,
    /// For text: documents, vocabulary and the most characteristic terms.
    pub text: Option<TextSummary>,
    /// What the loader assumed or changed (columns kept out as titles, missing values).
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

/// A text dataset in numbers.
#[derive(Clone, Debug, Serialize)]
pub struct TextSummary {
    pub documents: usize,
    /// Stems kept as features.
    pub vocabulary: usize,
    /// Distinct stems before the cut, and tokens kept.
    pub distinct_stems: usize,
    pub tokens: usize,
    /// The terms of highest mean tf-idf over all documents.
    pub top_terms: Vec<String>,
}

/// Describe `ds` as loaded without preprocessing; `asked` is the preprocessing the user
/// asked for (`Auto` resolves from the content, as training would).
pub fn describe(
    ds: &Dataset,
    format: Format,
    clusters: Option<usize>,
    asked: Preprocessing,
) -> Description {
    let label_counts = label_counts(ds);
    let warnings = warnings(ds, clusters, label_counts.as_deref());
    let (min, max) =
        ds.x.iter()
            .filter(|v| v.is_finite())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
    let format = ds.feature_format(format);
    let choice = asked.resolve(ds, Some(format));
    let text = ds.text.as_ref().map(|t| TextSummary {
        documents: ds.n,
        vocabulary: ds.d,
        distinct_stems: t.distinct_stems,
        tokens: t.tokens,
        top_terms: t.top_terms.clone(),
    });
    let auto = if asked == Preprocessing::Auto {
        " (auto)"
    } else {
        ""
    };
    Description {
        name: ds.name.clone(),
        format: format!("{format:?}"),
        n: ds.n,
        d: ds.d,
        dtype: ds.dtype.clone(),
        label_counts,
        image_shape: ds
            .image_shape
            .map(|s| format!("{}x{}x{}", s.height, s.width, s.channels)),
        min,
        max,
        preprocessing: format!("{}{auto}", choice.preprocessing.name()),
        preprocessing_reason: choice.reason,
        label_note: ds.label_note.clone(),
        features: ds.features_note.clone(),
        text,
        notes: ds.notes.clone(),
        warnings,
    }
}

/// Samples per class, by class name (`None` without labels).
fn label_counts(ds: &Dataset) -> Option<Vec<(String, usize)>> {
    ds.labels.as_ref().map(|l| {
        let k = ds.n_classes().unwrap_or(0);
        let mut c = vec![0usize; k];
        l.iter().for_each(|&v| c[v as usize] += 1);
        c.into_iter()
            .enumerate()
            .map(|(i, n)| (ds.class_name(i as u32), n))
            .collect()
    })
}

/// What could go wrong training on `ds`: non-finite values, constant columns, a single
/// class, more clusters than rows, no labels.
fn warnings(
    ds: &Dataset,
    clusters: Option<usize>,
    label_counts: Option<&[(String, usize)]>,
) -> Vec<String> {
    let mut warnings = Vec::new();
    // Non-finite values are rare: one pass says whether to look closer.
    if ds.x.iter().any(|v| !v.is_finite()) {
        warnings.extend(non_finite_warning(
            ds,
            f32::is_nan,
            "missing values (empty/NA cells or NaN; ",
            "); train with --missing drop-rows or --missing mean",
        ));
        warnings.extend(non_finite_warning(
            ds,
            f32::is_infinite,
            "infinite values (",
            "); training refuses such data",
        ));
    }
    let constant = (0..ds.d)
        .filter(|&c| (1..ds.n).all(|r| ds.x[r * ds.d + c] == ds.x[c]))
        .count();
    if constant > 0 {
        warnings.push(format!(
            "{constant} of {} columns are constant (they carry no information)",
            ds.d
        ));
    }
    if let Some(lc) = label_counts
        && lc.iter().filter(|(_, n)| *n > 0).count() < 2
    {
        warnings.push("a single class: accuracy against the labels means nothing".into());
    }
    if let Some(k) = clusters
        && k > ds.n
    {
        warnings.push(format!("{k} clusters asked for but only {} rows", ds.n));
    }
    if ds.labels.is_none() {
        warnings
            .push("no labels: ACC/NMI/ARI and the baselines need them (CSV: --label-col)".into());
    }
    warnings
}

impl Description {
    pub fn text(&self) -> String {
        let mut s = format!(
            "{} ({})\n  samples      {}\n  features     {}\n  dtype        {}\n  image shape  {}\n  range        [{}, {}] as stored\n  preprocessing {}: {}\n",
            self.name,
            self.format,
            self.n,
            self.d,
            self.dtype,
            self.image_shape.as_deref().unwrap_or("-"),
            self.min,
            self.max,
            self.preprocessing,
            self.preprocessing_reason
        );
        match &self.label_counts {
            Some(lc) => {
                s += &format!("  labels       {} classes: ", lc.len());
                s += &lc
                    .iter()
                    .map(|(n, c)| format!("{n}={c}"))
                    .collect::<Vec<_>>()
                    .join(" ");
                s += "\n";
            }
            None => s += "  labels       none\n",
        }
        if let Some(note) = &self.label_note {
            s += &format!("               {note}\n");
        }
        if let Some(f) = &self.features {
            s += &format!("  features     {f}\n");
        }
        for n in &self.notes {
            s += &format!("  note         {n}\n");
        }
        if let Some(t) = &self.text {
            s += &format!(
                "  text         {} documents, {} tokens, {} distinct stems, vocabulary {}\n  top terms    {}\n",
                t.documents,
                t.tokens,
                t.distinct_stems,
                t.vocabulary,
                t.top_terms.join(", ")
            );
        }
        for w in &self.warnings {
            s += &format!("  warning: {w}\n");
        }
        s
    }
}

/// "N <what>first at row r, column c<then>" for the values `bad` picks, if any.
fn non_finite_warning(
    ds: &Dataset,
    bad: fn(f32) -> bool,
    what: &str,
    then: &str,
) -> Option<String> {
    let count = ds.x.iter().filter(|v| bad(**v)).count();
    let first = ds.x.iter().position(|v| bad(*v))?;
    Some(format!(
        "{count} {what}first at row {}, column {}{then}",
        first / ds.d,
        first % ds.d
    ))
}
