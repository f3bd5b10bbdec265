//! Text as the paper's Reuters features: documents tokenised (lower case, letters
//! only, English stop words removed), stemmed (Snowball/Porter English), the V most
//! frequent stems kept (V = 2,000 as in the paper), tf-idf, rows to unit length.
//!
//! Why: DEC clusters vectors; the paper turns news articles into tf-idf of the 2,000
//! most frequent word stems (section 4.1, REUTERS). Three ways in: a CSV/TSV (gzip
//! allowed) with a text column, a folder of `.txt` files with one subfolder per
//! class, or a `.txt` file with one document per line. The vocabulary and a one-line
//! preview of each document stay on the dataset, for the app's cluster terms and
//! titles and for `inspect`.

use crate::data::{TextInfo, Tf};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rust_stemmers::{Algorithm, Stemmer};

use super::csv::LabelCol;
use super::fitted::TextModel;
use super::labels::encode;
use super::{DataError, Dataset};

/// The paper's vocabulary size.
pub const DEFAULT_VOCAB: usize = 2000;
/// Longest preview kept per document (characters).
const PREVIEW_CHARS: usize = 120;

/// How text becomes features.
#[derive(Clone, Debug, PartialEq)]
pub struct TextOptions {
    /// The CSV column with the documents (`None`: the widest string column).
    pub text_col: Option<String>,
    /// Keep this many most frequent stems.
    pub vocab: usize,
    /// Raw or sublinear term frequency.
    pub tf: Tf,
    /// A model's vocabulary and idf: new documents are read with them, not with
    /// their own (then `vocab` and `tf` are the model's).
    pub fitted: Option<Arc<TextModel>>,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            text_col: None,
            vocab: DEFAULT_VOCAB,
            tf: Tf::default(),
            fitted: None,
        }
    }
}

/// Lower case, letters only, stop words out, stems in.
pub struct Tokenizer {
    stemmer: Stemmer,
    stop: std::collections::HashSet<&'static str>,
}

impl Default for Tokenizer {
    fn default() -> Self {
        Tokenizer {
            stemmer: Stemmer::create(Algorithm::English),
            // NLTK's English list (179 words), as the `stop-words` crate ships it.
            stop: stop_words::get("en").iter().copied().collect(),
        }
    }
}

impl Tokenizer {
    /// The stems of `text`: runs of letters, lower-cased, at least two letters, not a
    /// stop word, stemmed.
    pub fn stems(&self, text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_alphabetic())
            .filter(|w| w.chars().count() >= 2)
            .map(str::to_lowercase)
            .filter(|w| !self.stop.contains(w.as_str()))
            .map(|w| self.stemmer.stem(&w).into_owned())
            .collect()
    }
}

/// The tf-idf matrix (`n x V`, rows of unit length, an empty document stays zero) of
/// tokenised documents over their `vocab` most frequent stems (by total count, ties
/// by the stem), and that vocabulary. tf is the raw count c, or 1 + ln c with
/// [`Tf::Sublinear`]; idf is scikit-learn's smoothed `ln((1 + n) / (1 + df)) + 1`.
pub fn tfidf(docs: &[Vec<String>], vocab: usize, tf: Tf) -> (Vec<f32>, Vec<String>) {
    let model = fit_vocabulary(docs, vocab, tf);
    (tfidf_with(docs, &model), model.terms)
}

/// The vocabulary of [`tfidf`] (the `vocab` most frequent stems of `docs`) with each
/// stem's idf over `docs`: what a model keeps to turn new documents into features.
pub fn fit_vocabulary(docs: &[Vec<String>], vocab: usize, tf: Tf) -> TextModel {
    let mut total: HashMap<&str, usize> = HashMap::new();
    for d in docs {
        for t in d {
            *total.entry(t.as_str()).or_default() += 1;
        }
    }
    let mut by_count: Vec<(&str, usize)> = total.into_iter().collect();
    // Sorted, so the vocabulary does not depend on the hash map's order.
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    by_count.truncate(vocab);
    let terms: Vec<String> = by_count.iter().map(|(t, _)| t.to_string()).collect();
    let index = term_index(&terms);
    let mut df = vec![0usize; terms.len()];
    for d in docs {
        let mut seen = vec![false; terms.len()];
        for t in d {
            if let Some(&j) = index.get(t.as_str())
                && !seen[j]
            {
                seen[j] = true;
                df[j] += 1;
            }
        }
    }
    let n = docs.len();
    let idf = df
        .iter()
        .map(|&f| (((1 + n) as f64 / (1 + f) as f64).ln() + 1.0) as f32)
        .collect();
    TextModel {
        column: None,
        terms,
        idf,
        tf,
    }
}

fn term_index(terms: &[String]) -> HashMap<&str, usize> {
    terms
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i))
        .collect()
}

/// The tf-idf rows (unit length; a document without a known stem stays zero) of
/// `docs` over a fitted vocabulary and idf: each row depends on its document alone.
pub fn tfidf_with(docs: &[Vec<String>], model: &TextModel) -> Vec<f32> {
    let index = term_index(&model.terms);
    let v = model.terms.len();
    let mut x = vec![0.0f32; docs.len() * v];
    for (row, d) in x.chunks_exact_mut(v.max(1)).zip(docs) {
        for t in d {
            if let Some(&j) = index.get(t.as_str()) {
                row[j] += 1.0;
            }
        }
        if model.tf == Tf::Sublinear {
            row.iter_mut()
                .filter(|a| **a > 0.0)
                .for_each(|a| *a = 1.0 + a.ln());
        }
        row.iter_mut().zip(&model.idf).for_each(|(a, w)| *a *= w);
        let norm = row.iter().map(|a| a * a).sum::<f32>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|a| *a /= norm);
        }
    }
    x
}

/// One line for people: the title if there is one, else the first non-empty line.
fn preview(title: Option<&str>, text: &str) -> String {
    let line = title
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| text.lines().find(|l| !l.trim().is_empty()).unwrap_or(""));
    let line = line.trim();
    if line.chars().count() > PREVIEW_CHARS {
        let cut: String = line.chars().take(PREVIEW_CHARS).collect();
        format!("{cut}...")
    } else {
        line.to_string()
    }
}

/// Documents with optional class names and titles, from any of the three sources.
struct Corpus {
    texts: Vec<String>,
    /// The CSV column the documents came from.
    column: Option<String>,
    labels: Option<Vec<String>>,
    titles: Option<Vec<String>>,
    label_note: Option<String>,
}

/// Header names of a label column in a text table, any case.
const LABEL_NAMES: [&str; 6] = ["label", "class", "target", "y", "topic", "category"];

/// Turn a corpus into a dataset (the tf-idf matrix with its vocabulary and previews).
fn build(path: &Path, c: Corpus, opts: &TextOptions) -> Result<Dataset, DataError> {
    let invalid = |reason: String| DataError::Invalid {
        path: path.to_path_buf(),
        reason,
    };
    let fitted = opts.fitted.as_deref();
    if c.texts.len() < 2 && fitted.is_none() {
        return Err(invalid(format!(
            "{} document(s) found; clustering needs at least 2 (one per line in a .txt file, one per row in a CSV, one per file in class folders)",
            c.texts.len()
        )));
    }
    if opts.vocab == 0 {
        return Err(invalid(
            "--vocab 0: keep at least one stem, e.g. 2000".into(),
        ));
    }
    let tok = Tokenizer::default();
    let docs: Vec<Vec<String>> = c.texts.iter().map(|t| tok.stems(t)).collect();
    let tokens = docs.iter().map(Vec::len).sum();
    if tokens == 0 && fitted.is_none() {
        return Err(invalid(
            "no words in any document (after removing stop words and non-letters); is this the text column?"
                .into(),
        ));
    }
    let distinct_stems = {
        let mut all: Vec<&str> = docs.iter().flatten().map(String::as_str).collect();
        all.sort_unstable();
        all.dedup();
        all.len()
    };
    let model = match fitted {
        Some(m) => m.clone(),
        None => TextModel {
            column: c.column.clone(),
            ..fit_vocabulary(&docs, opts.vocab, opts.tf)
        },
    };
    let x = tfidf_with(&docs, &model);
    let d = model.terms.len();
    let (labels, class_names) = match &c.labels {
        Some(raw) => {
            let (l, names) = encode(raw);
            (Some(l), Some(names))
        }
        None => (None, None),
    };
    let mut ds = Dataset::new(super::file_name(path), x, d, labels)?;
    ds.class_names = class_names;
    ds.source = Some(path.to_path_buf());
    ds.label_note = c.label_note;
    ds.dtype = "text".into();
    // Each document's title or first line is its sample title.
    ds.titles = Some(
        c.texts
            .iter()
            .enumerate()
            .map(|(i, t)| preview(c.titles.as_ref().map(|v| v[i].as_str()), t))
            .collect(),
    );
    ds.text = Some(TextInfo {
        vocabulary: Arc::new(model.terms.clone()),
        tokens,
        distinct_stems,
        top_terms: Vec::new(),
        model: Arc::new(model),
    });
    let top = top_terms(&ds, &vec![0; ds.n], 1, 15).remove(0);
    if let Some(t) = &mut ds.text {
        t.top_terms = top.into_iter().map(|(t, _)| t).collect();
    }
    Ok(ds)
}

/// Bytes as UTF-8 text, or a clear error for binary files.
fn utf8<'a>(bytes: &'a [u8], path: &Path) -> Result<&'a str, DataError> {
    std::str::from_utf8(bytes).map_err(|e| DataError::Invalid {
        path: path.to_path_buf(),
        reason: format!(
            "byte {}: not UTF-8 text (binary data?); give a text file, a CSV with a text column, or a folder of .txt files",
            e.valid_up_to()
        ),
    })
}

/// A `.txt` file with one document per non-empty line (no labels).
pub fn load_lines(bytes: &[u8], path: &Path, opts: &TextOptions) -> Result<Dataset, DataError> {
    let text = utf8(bytes, path)?;
    if text.trim().is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let texts: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    build(
        path,
        Corpus {
            texts,
            column: None,
            labels: None,
            titles: None,
            label_note: None,
        },
        opts,
    )
}

/// Whether `dir` looks like a text corpus: `.txt` files in it or in its subfolders.
pub fn looks_like(dir: &Path) -> bool {
    let is_txt = |p: &Path| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("txt"));
    let Ok(rd) = std::fs::read_dir(dir) else {
        return false;
    };
    rd.filter_map(|e| e.ok()).map(|e| e.path()).any(|p| {
        is_txt(&p)
            || p.is_dir()
                && std::fs::read_dir(&p)
                    .map(|r| r.filter_map(|e| e.ok()).any(|e| is_txt(&e.path())))
                    .unwrap_or(false)
    })
}

fn sorted(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| DataError::io(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    v.sort();
    Ok(v)
}

/// A folder of `.txt` files, one document each; with one subfolder per class, the
/// subfolder names are the labels.
pub fn load_dir(dir: &Path, opts: &TextOptions) -> Result<Dataset, DataError> {
    let is_txt =
        |p: &PathBuf| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("txt"));
    let entries = sorted(dir)?;
    let mut files: Vec<(PathBuf, Option<String>)> = entries
        .iter()
        .filter(|p| is_txt(p))
        .map(|p| (p.clone(), None))
        .collect();
    for sub in entries.iter().filter(|p| p.is_dir()) {
        let class = super::file_name(sub);
        for f in sorted(sub)?.into_iter().filter(is_txt) {
            files.push((f, Some(class.clone())));
        }
    }
    let labelled = files.iter().filter(|f| f.1.is_some()).count();
    if labelled > 0 && labelled < files.len() {
        return Err(DataError::Invalid {
            path: dir.to_path_buf(),
            reason: "some .txt files sit in class subfolders and some directly in the folder; move every file into a class subfolder (or none)".into(),
        });
    }
    let mut texts = Vec::with_capacity(files.len());
    for (p, _) in &files {
        let bytes = std::fs::read(p).map_err(|e| DataError::io(p, e))?;
        texts.push(utf8(&bytes, p)?.to_string());
    }
    let labels = (labelled > 0).then(|| {
        files
            .iter()
            .map(|f| f.1.clone().unwrap_or_default())
            .collect()
    });
    build(
        dir,
        Corpus {
            texts,
            column: None,
            labels,
            titles: None,
            label_note: (labelled > 0).then(|| "labels from the class subfolders".to_string()),
        },
        opts,
    )
}

/// The column of a header that holds the documents: `text_col` by name or 0-based
/// index, else the string column with the longest cells on average (at least 20
/// characters). `None` when the table has no such column.
pub fn text_column(
    header: &[String],
    rows: &[Vec<String>],
    text_col: Option<&str>,
) -> Result<Option<usize>, String> {
    if let Some(want) = text_col {
        return match header.iter().position(|h| h.eq_ignore_ascii_case(want)) {
            Some(i) => Ok(Some(i)),
            None => match want.parse::<usize>() {
                Ok(i) if i < header.len() => Ok(Some(i)),
                _ => Err(format!(
                    "--text-col {want}: no such column; the columns are {}",
                    header.join(", ")
                )),
            },
        };
    }
    // (column, mean characters) of each column of words.
    let mut words: Vec<(usize, f64)> = Vec::new();
    for c in 0..header.len() {
        let cells: Vec<&str> = rows
            .iter()
            .filter_map(|r| r.get(c).map(String::as_str))
            .collect();
        if cells.is_empty() || cells.iter().any(|s| s.trim().parse::<f64>().is_ok()) {
            continue;
        }
        let mean =
            cells.iter().map(|s| s.chars().count()).sum::<usize>() as f64 / cells.len() as f64;
        words.push((c, mean));
    }
    let widest = |min: f64| {
        words
            .iter()
            .filter(|&&(c, m)| {
                m >= min && !LABEL_NAMES.contains(&header[c].to_lowercase().as_str())
            })
            .fold(None, |best: Option<(usize, f64)>, &(c, m)| {
                if best.is_none_or(|(_, b)| m > b) {
                    Some((c, m))
                } else {
                    best
                }
            })
            .map(|(c, _)| c)
    };
    // Long strings are documents; in a table of words only (no number column), so are
    // the widest short ones (a few words each).
    let only_words = !rows.is_empty() && words.len() == header.len();
    Ok(widest(20.0).or_else(|| if only_words { widest(8.0) } else { None }))
}

/// Whether CSV bytes hold a text column (by name when asked, else by content): then
/// [`load_csv`] reads them as documents.
pub fn csv_has_text(bytes: &[u8], text_col: Option<&str>) -> bool {
    if text_col.is_some() {
        return true;
    }
    let Ok((header, rows)) = read_table(bytes, 50) else {
        return false;
    };
    matches!(text_column(&header, &rows, None), Ok(Some(_)))
}

/// The header and up to `limit` rows of a CSV/TSV (all rows when `limit` is 0).
fn read_table(bytes: &[u8], limit: usize) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let tabs = first.iter().filter(|&&b| b == b'\t').count();
    let commas = first.iter().filter(|&&b| b == b',').count();
    let delim = if tabs > commas { b'\t' } else { b',' };
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .flexible(true)
        .from_reader(bytes);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut rows = Vec::new();
    for r in rdr.records() {
        let r = r.map_err(|e| match e.position() {
            Some(p) => format!("line {}: {e}", p.line()),
            None => e.to_string(),
        })?;
        rows.push(r.iter().map(str::to_string).collect());
        if limit > 0 && rows.len() >= limit {
            break;
        }
    }
    Ok((header, rows))
}

/// The label column `label_col` names in a text table's `header` (auto: a column
/// named like a label), or why it names none.
fn csv_label_column(header: &[String], label_col: &LabelCol) -> Result<Option<usize>, String> {
    let find = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    Ok(match label_col {
        LabelCol::None => None,
        LabelCol::First => Some(0),
        LabelCol::Last => Some(header.len() - 1),
        LabelCol::Index(i) if *i < header.len() => Some(*i),
        LabelCol::Index(i) => {
            return Err(format!(
                "--label-col {i}: the table has {} columns",
                header.len()
            ));
        }
        LabelCol::Name(n) => Some(find(n).ok_or_else(|| {
            format!(
                "--label-col {n}: no such column; the columns are {}",
                header.join(", ")
            )
        })?),
        LabelCol::Auto => header
            .iter()
            .position(|h| LABEL_NAMES.iter().any(|n| h.eq_ignore_ascii_case(n))),
    })
}

/// A CSV/TSV with a header, one document per row: the text column (`--text-col`, or
/// the widest string column), labels from `label_col` (a column called
/// label/class/target/y/topic/category when `auto`), titles from a column called
/// title/subject/headline when there is one.
pub fn load_csv(
    bytes: &[u8],
    path: &Path,
    label_col: &LabelCol,
    opts: &TextOptions,
) -> Result<Dataset, DataError> {
    let invalid = |reason: String| DataError::Invalid {
        path: path.to_path_buf(),
        reason,
    };
    let text = utf8(bytes, path)?;
    if text.trim().is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let (header, rows) = read_table(text.as_bytes(), 0).map_err(invalid)?;
    if rows.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let tc = text_column(&header, &rows, opts.text_col.as_deref())
        .map_err(invalid)?
        .ok_or_else(|| {
            invalid(format!(
                "no text column found (a column of strings averaging 20 characters or more); name it with --text-col (columns: {})",
                header.join(", ")
            ))
        })?;
    let find = |names: &[&str]| {
        header
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    };
    let lc = csv_label_column(&header, label_col)
        .map_err(invalid)?
        .filter(|&c| c != tc);
    let title = find(&["title", "subject", "headline"]).filter(|&c| c != tc);
    let cell = |r: &Vec<String>, c: usize| r.get(c).cloned().unwrap_or_default();
    let texts: Vec<String> = rows.iter().map(|r| cell(r, tc)).collect();
    if texts.iter().all(|t| t.trim().is_empty()) {
        return Err(invalid(format!(
            "column '{}' is empty in every row; name the column with the documents with --text-col",
            header[tc]
        )));
    }
    build(
        path,
        Corpus {
            column: Some(header[tc].clone()),
            labels: lc.map(|c| rows.iter().map(|r| cell(r, c)).collect()),
            titles: title.map(|c| rows.iter().map(|r| cell(r, c)).collect()),
            label_note: Some(format!(
                "text from column '{}'{}{}",
                header[tc],
                lc.map(|c| format!(", labels from column '{}'", header[c]))
                    .unwrap_or_default(),
                title
                    .map(|c| format!(", titles from column '{}'", header[c]))
                    .unwrap_or_default()
            )),
            texts,
        },
        opts,
    )
}

/// The `n` terms of highest mean tf-idf in each of the `k` clusters (the terms that
/// characterise it), with their means.
pub fn top_terms(ds: &Dataset, assignments: &[u32], k: usize, n: usize) -> Vec<Vec<(String, f32)>> {
    let Some(t) = &ds.text else {
        return vec![Vec::new(); k];
    };
    let d = ds.d;
    let mut sums = vec![0.0f64; k * d];
    let mut sizes = vec![0usize; k];
    for (i, &a) in assignments.iter().enumerate().take(ds.n) {
        let a = a as usize;
        if a >= k {
            continue;
        }
        sizes[a] += 1;
        for (s, v) in sums[a * d..(a + 1) * d].iter_mut().zip(ds.row(i)) {
            *s += *v as f64;
        }
    }
    (0..k)
        .map(|j| {
            let mut idx: Vec<usize> = (0..d).collect();
            let row = &sums[j * d..(j + 1) * d];
            idx.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
            idx.into_iter()
                .take(n)
                .filter(|&c| row[c] > 0.0)
                .map(|c| {
                    (
                        t.vocabulary[c].clone(),
                        (row[c] / sizes[j].max(1) as f64) as f32,
                    )
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests;
