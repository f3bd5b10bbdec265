//! CSV and TSV tables: header detected, label column by name, index, first/last or the
//! usual names (label, class, target, y), string labels kept as class names.

use std::path::Path;

use super::labels::encode;
use super::missing::is_missing_cell;
use super::{DataError, Dataset};

/// Which column holds the labels.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LabelCol {
    /// A column named label, class, target or y (any case); in a file without a
    /// header, the last or else the first column when it looks like class ids (see
    /// [`guess_label_column`]).
    #[default]
    Auto,
    None,
    First,
    Last,
    Index(usize),
    Name(String),
}

impl std::str::FromStr for LabelCol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "auto" => LabelCol::Auto,
            "none" => LabelCol::None,
            "first" => LabelCol::First,
            "last" => LabelCol::Last,
            _ => match s.parse::<usize>() {
                Ok(i) => LabelCol::Index(i),
                Err(_) => LabelCol::Name(s.to_string()),
            },
        })
    }
}

fn is_number(s: &[u8]) -> bool {
    std::str::from_utf8(s)
        .ok()
        .is_some_and(|t| t.trim().parse::<f64>().is_ok())
}

fn is_missing(s: &[u8]) -> bool {
    std::str::from_utf8(s).is_ok_and(is_missing_cell)
}

/// Rows read ahead to decide the header, each column's kind and a string label column.
const SAMPLE_ROWS: usize = 1000;
/// Label names a header may use, any case.
const LABEL_NAMES: [&str; 4] = ["label", "class", "target", "y"];

/// What a column of the table holds, judged on the first rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Numbers (missing cells allowed; a stray word is an error naming the cell).
    Number,
    /// Mostly words (names, ids, classes): kept out of the features.
    Text,
}

/// Per column: how many present cells are numbers and how many are words.
struct Counts {
    num: Vec<usize>,
    words: Vec<usize>,
}

impl Counts {
    fn of(rows: &[csv::ByteRecord], width: usize) -> Counts {
        let mut c = Counts {
            num: vec![0; width],
            words: vec![0; width],
        };
        c.add(rows);
        c
    }

    fn add(&mut self, rows: &[csv::ByteRecord]) {
        for r in rows {
            for (c, cell) in r.iter().enumerate().take(self.num.len()) {
                if is_missing(cell) {
                    continue;
                }
                if is_number(cell) {
                    self.num[c] += 1;
                } else {
                    self.words[c] += 1;
                }
            }
        }
    }

    /// A column is words when most of its present cells are.
    fn kinds(&self) -> Vec<Kind> {
        self.num
            .iter()
            .zip(&self.words)
            .map(|(n, w)| if w > n { Kind::Text } else { Kind::Number })
            .collect()
    }
}

/// A header: the file has one row of words, or some cell of the first row is a word
/// where the column below it (`below`, the kinds of the other rows) holds numbers.
fn has_header(head: &[csv::ByteRecord], below: &[Kind]) -> bool {
    let Some(first) = head.first() else {
        return false;
    };
    if head.len() == 1 {
        return first.iter().all(|c| !is_number(c));
    }
    first.iter().enumerate().any(|(c, cell)| {
        !is_number(cell)
            && !is_missing(cell)
            && below.get(c) == Some(&Kind::Number)
            && head[1..].iter().any(|r| r.get(c).is_some_and(is_number))
    })
}

/// A column of words that looks like classes: 2 to 50 distinct values, each seen
/// twice on average (so names and ids, one per row, are not taken).
fn looks_like_classes(rows: &[csv::ByteRecord], c: usize) -> Option<usize> {
    let mut seen = std::collections::BTreeSet::new();
    let mut present = 0usize;
    for r in rows {
        let cell = r.get(c)?;
        if is_missing(cell) {
            continue;
        }
        present += 1;
        seen.insert(cell.trim_ascii());
        if seen.len() > MAX_GUESSED_CLASSES {
            return None;
        }
    }
    (seen.len() >= 2 && seen.len() * 2 <= present).then_some(seen.len())
}

/// Header names, or `column i` (0-based) without a header.
fn col_name(names: Option<&[String]>, c: usize) -> String {
    names
        .and_then(|h| h.get(c))
        .map_or(format!("column {c}"), |n| format!("'{n}'"))
}

/// The label column `label_col` asks for, and a note when it was chosen by content.
fn label_column(
    label_col: &LabelCol,
    names: Option<&[String]>,
    kinds: &[Kind],
    sample: &[csv::ByteRecord],
    path: &Path,
) -> Result<(Option<usize>, Option<String>), DataError> {
    let width = kinds.len();
    let invalid = |reason: String| DataError::Invalid {
        path: path.to_path_buf(),
        reason,
    };
    Ok(match label_col {
        LabelCol::None => (None, None),
        LabelCol::First => (Some(0), None),
        LabelCol::Last => (Some(width - 1), None),
        LabelCol::Index(i) if *i < width => (Some(*i), None),
        LabelCol::Index(i) => {
            return Err(invalid(format!(
                "--label-col {i}: the table has only {width} columns (0-based indices 0..{})",
                width - 1
            )));
        }
        LabelCol::Name(n) => match names.and_then(|h| h.iter().position(|c| c == n)) {
            Some(i) => (Some(i), None),
            None => {
                return Err(invalid(format!(
                    "--label-col {n}: no such column; the header is {}",
                    names.map_or("missing (give an index instead)".into(), |h| h.join(", "))
                )));
            }
        },
        LabelCol::Auto => {
            let by_name = names.and_then(|h| {
                h.iter()
                    .position(|c| LABEL_NAMES.contains(&c.to_ascii_lowercase().as_str()))
            });
            if by_name.is_some() {
                return Ok((by_name, None));
            }
            let by_content = (0..width)
                .rev()
                .filter(|&c| kinds[c] == Kind::Text)
                .find_map(|c| looks_like_classes(sample, c).map(|k| (c, k)));
            match by_content {
                Some((c, k)) => (
                    Some(c),
                    Some(format!(
                        "labels from column {} ({k} distinct words over the first {} rows); --label-col none keeps it out of the labels (as a title)",
                        col_name(names, c),
                        sample.len()
                    )),
                ),
                None => (None, None),
            }
        }
    })
}

/// The table's layout, decided on its first rows.
struct Layout {
    width: usize,
    header: bool,
    names: Option<Vec<String>>,
    label: Option<usize>,
    label_note: Option<String>,
    /// Word columns other than the label: the sample's title.
    titles: Vec<usize>,
}

impl Layout {
    fn decide(
        head: &[csv::ByteRecord],
        path: &Path,
        label_col: &LabelCol,
    ) -> Result<Layout, DataError> {
        let width = head[0].len();
        // Each cell of the first rows is looked at once: the rows under the first decide
        // the header, and the first row joins them when it is data.
        let mut counts = Counts::of(&head[1..], width);
        let header = has_header(head, &counts.kinds());
        if !header {
            counts.add(&head[..1]);
        }
        let names: Option<Vec<String>> = header.then(|| {
            head[0]
                .iter()
                .map(|c| String::from_utf8_lossy(c).trim().to_string())
                .collect()
        });
        let sample = &head[usize::from(header)..];
        let kinds = counts.kinds();
        let (label, label_note) = label_column(label_col, names.as_deref(), &kinds, sample, path)?;
        let titles: Vec<usize> = (0..width)
            .filter(|&c| kinds[c] == Kind::Text && Some(c) != label)
            .collect();
        if width == titles.len() + usize::from(label.is_some()) {
            let words: Vec<String> = titles
                .iter()
                .map(|&c| col_name(names.as_deref(), c))
                .collect();
            return Err(DataError::Invalid {
                path: path.to_path_buf(),
                reason: format!(
                    "no numeric feature columns: {} hold words{}. For documents, name the text column with --text-col",
                    if words.is_empty() {
                        "the columns".to_string()
                    } else {
                        words.join(", ")
                    },
                    label.map_or(String::new(), |l| format!(
                        " and {} is the label",
                        col_name(names.as_deref(), l)
                    ))
                ),
            });
        }
        Ok(Layout {
            width,
            header,
            names,
            label,
            label_note,
            titles,
        })
    }

    /// One line saying which word columns were kept out of the features.
    fn titles_note(&self) -> Option<String> {
        (!self.titles.is_empty()).then(|| {
            let cols: Vec<String> = self
                .titles
                .iter()
                .map(|&c| col_name(self.names.as_deref(), c))
                .collect();
            format!(
                "column{} {} hold{} words, not numbers: kept out of the features and used as each sample's title",
                if cols.len() > 1 { "s" } else { "" },
                cols.join(", "),
                if cols.len() > 1 { "" } else { "s" }
            )
        })
    }
}

/// The rows as read: features (NaN where a cell is missing), raw labels and titles.
#[derive(Default)]
struct Rows {
    x: Vec<f32>,
    labels: Vec<String>,
    titles: Vec<String>,
}

impl Rows {
    /// Add record `r` (on `line` of the file) as one sample.
    fn push(
        &mut self,
        r: &csv::ByteRecord,
        line: usize,
        lay: &Layout,
        path: &Path,
    ) -> Result<(), DataError> {
        if r.len() != lay.width {
            if r.len() == 1
                && r.get(0)
                    .is_some_and(|c| c.iter().all(u8::is_ascii_whitespace))
            {
                return Ok(()); // blank line
            }
            return Err(DataError::Invalid {
                path: path.to_path_buf(),
                reason: format!(
                    "line {line}: {} fields, but the first row has {}. Make every row the same width.",
                    r.len(),
                    lay.width
                ),
            });
        }
        let mut title: Vec<&str> = Vec::new();
        for (c, cell) in r.iter().enumerate() {
            if Some(c) == lay.label {
                self.labels.push(String::from_utf8_lossy(cell).into_owned());
            } else if lay.titles.contains(&c) {
                title.push(std::str::from_utf8(cell).unwrap_or("?").trim());
            } else {
                self.x.push(number(cell, line, c, lay, path)?);
            }
        }
        if !lay.titles.is_empty() {
            self.titles.push(title.join(" · "));
        }
        Ok(())
    }
}

/// A numeric cell: its value, NaN when missing, or an error naming the cell.
fn number(cell: &[u8], line: usize, c: usize, lay: &Layout, path: &Path) -> Result<f32, DataError> {
    let t = std::str::from_utf8(cell).unwrap_or("");
    // Numbers first: the markers are only looked for in cells that do not parse
    // ("nan" parses, to NaN, which is missing all the same).
    match t.trim().parse::<f32>() {
        Ok(v) => return Ok(v),
        Err(_) if is_missing_cell(t) => return Ok(f32::NAN),
        Err(_) => {}
    }
    let col = lay
        .names
        .as_ref()
        .map_or(format!("{}", c + 1), |h| format!("{} ({})", c + 1, h[c]));
    Err(DataError::Invalid {
        path: path.to_path_buf(),
        reason: format!(
            "line {line}, column {col}: '{}' is not a number, though the column's other cells are. Fix the cell (leave it empty if the value is missing, see --missing), or name the column with --label-col.",
            String::from_utf8_lossy(cell)
        ),
    })
}

/// The delimiter: tab for `.tsv` or a first line with tabs, else semicolon when it
/// has more of those than commas, else comma.
fn delimiter(bytes: &[u8], path: &Path) -> u8 {
    let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let ext_tab = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
    let tabs = first_line.iter().filter(|&&b| b == b'\t').count();
    let commas = first_line.iter().filter(|&&b| b == b',').count();
    let semis = first_line.iter().filter(|&&b| b == b';').count();
    if ext_tab || (tabs > 0 && tabs >= commas) {
        b'\t'
    } else if semis > commas {
        b';'
    } else {
        b','
    }
}

/// Parse CSV/TSV bytes (`path` is for messages). Columns of numbers are the features
/// (empty or NA cells become NaN, for [`super::missing`]); a column of words is the
/// label when `label_col` says so or when it looks like classes, and any other word
/// columns (names, ids) become each sample's title.
pub fn parse(bytes: &[u8], path: &Path, label_col: &LabelCol) -> Result<Dataset, DataError> {
    let Some(start) = bytes.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    };
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter(&bytes[start..], path))
        .has_headers(false)
        .flexible(true)
        .from_reader(&bytes[start..]);
    let mut rec = csv::ByteRecord::new();
    let mut head: Vec<csv::ByteRecord> = Vec::new();
    while head.len() <= SAMPLE_ROWS {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => head.push(rec.clone()),
            Ok(false) => break,
            Err(e) => return Err(csv_err(path, e)),
        }
    }
    if head.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let lay = Layout::decide(&head, path, label_col)?;
    let mut rows = Rows::default();
    let mut line = 0usize;
    // Lines of `bytes`, counting the whitespace skipped before the first record.
    let skipped = bytes[..start].iter().filter(|&&b| b == b'\n').count();
    let position = |r: &csv::ByteRecord, line: usize| {
        r.position()
            .map_or(line + 1, |p| p.line() as usize + skipped)
    };
    for r in head.iter().skip(usize::from(lay.header)) {
        line = position(r, line);
        rows.push(r, line, &lay, path)?;
    }
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {
                line = position(&rec, line);
                rows.push(&rec, line, &lay, path)?;
            }
            Ok(false) => break,
            Err(e) => return Err(csv_err(path, e)),
        }
    }
    build(rows, &lay, path, label_col)
}

/// The dataset from parsed rows: labels encoded (or guessed from a headerless
/// integer column), titles and notes attached.
fn build(
    rows: Rows,
    lay: &Layout,
    path: &Path,
    label_col: &LabelCol,
) -> Result<Dataset, DataError> {
    let Rows {
        x,
        labels: raw_labels,
        titles,
    } = rows;
    if x.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let d = lay.width - lay.titles.len() - usize::from(lay.label.is_some());
    let feature_cols: Vec<usize> = (0..lay.width)
        .filter(|&c| Some(c) != lay.label && !lay.titles.contains(&c))
        .collect();
    let (labels, class_names) = if lay.label.is_some() {
        let (l, n) = encode(&raw_labels);
        (Some(l), Some(n))
    } else {
        (None, None)
    };
    let guessed = (label_col == &LabelCol::Auto && !lay.header && lay.label.is_none())
        .then(|| guess_label_column(&x, d))
        .flatten();
    let (x, d, labels, class_names, label_note) = match guessed {
        Some(g) => {
            let raw: Vec<String> = x
                .chunks_exact(d)
                .map(|r| format!("{}", r[g.column] as i64))
                .collect();
            let x: Vec<f32> = x
                .chunks_exact(d)
                .flat_map(|r| {
                    r.iter()
                        .enumerate()
                        .filter(|&(c, _)| c != g.column)
                        .map(|(_, &v)| v)
                })
                .collect();
            let (l, n) = encode(&raw);
            (x, d - 1, Some(l), Some(n), Some(g.note(d)))
        }
        None => (x, d, labels, class_names, lay.label_note.clone()),
    };
    let mut ds = Dataset::new(super::file_name(path), x, d, labels)?;
    ds.class_names = class_names;
    ds.label_note = label_note;
    ds.source = Some(path.to_path_buf());
    ds.dtype = "f32 (text)".into();
    ds.column_names = lay
        .names
        .as_ref()
        .map(|h| feature_cols.iter().map(|&c| h[c].clone()).collect());
    if !titles.is_empty() {
        ds.titles = Some(titles);
    }
    ds.notes.extend(lay.titles_note());
    Ok(ds)
}

/// A column that [`guess_label_column`] took for class ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuessedLabels {
    /// 0-based column index.
    pub column: usize,
    pub distinct: usize,
}

impl GuessedLabels {
    /// One line for `inspect` and the app: which column and why, and how to undo it.
    pub fn note(&self, width: usize) -> String {
        let which = if self.column == 0 { "first" } else { "last" };
        format!(
            "labels from column {} of {width} ({which}, no header): integers with {} distinct values, none in over half the rows; --label-col none keeps it as a feature",
            self.column, self.distinct
        )
    }
}

/// Most class ids a guessed label column may have.
pub const MAX_GUESSED_CLASSES: usize = 50;

/// In a headerless numeric table (`x`, `width` columns), the column that holds class
/// ids, if one does: the last column, else the first, when all its values are
/// non-negative integers with 2 to 50 distinct values, at most a tenth as many as
/// rows, and no value in over half the rows (a near-empty border pixel or a constant
/// column is no label). At least 20 rows and 3 columns are needed to say.
pub fn guess_label_column(x: &[f32], width: usize) -> Option<GuessedLabels> {
    let n = x.len() / width.max(1);
    if n < 20 || width < 3 {
        return None;
    }
    let check = |c: usize| -> Option<GuessedLabels> {
        let mut counts = std::collections::BTreeMap::<i64, usize>::new();
        for row in x.chunks_exact(width) {
            let v = row[c];
            if !(v >= 0.0 && v.fract() == 0.0) {
                return None;
            }
            *counts.entry(v as i64).or_default() += 1;
            if counts.len() > MAX_GUESSED_CLASSES {
                return None;
            }
        }
        let top = counts.values().copied().max().unwrap_or(0);
        (counts.len() >= 2 && counts.len() * 10 <= n && top * 2 <= n).then_some(GuessedLabels {
            column: c,
            distinct: counts.len(),
        })
    };
    check(width - 1).or_else(|| check(0))
}

fn csv_err(path: &Path, e: csv::Error) -> DataError {
    let line = e
        .position()
        .map(|p| format!("line {}: ", p.line()))
        .unwrap_or_default();
    DataError::Invalid {
        path: path.to_path_buf(),
        reason: format!("{line}{e}"),
    }
}

/// Load a CSV/TSV file.
pub fn load(path: &Path, label_col: &LabelCol) -> Result<Dataset, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    parse(&bytes, path, label_col)
}

#[cfg(test)]
mod tests;
