//! CSV and TSV tables: header detected, label column by name, index, first/last or the
//! usual names (label, class, target, y), string labels kept as class names.

use std::path::Path;

use super::labels::encode;
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

/// Parse CSV/TSV bytes (`path` is for messages).
pub fn parse(bytes: &[u8], path: &Path, label_col: &LabelCol) -> Result<Dataset, DataError> {
    let text_start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = text_start else {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    };
    let first_line = bytes[start..]
        .split(|&b| b == b'\n')
        .next()
        .unwrap_or_default();
    let ext_tab = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
    let tabs = first_line.iter().filter(|&&b| b == b'\t').count();
    let commas = first_line.iter().filter(|&&b| b == b',').count();
    let semis = first_line.iter().filter(|&&b| b == b';').count();
    let delim = if ext_tab || (tabs > 0 && tabs >= commas) {
        b'\t'
    } else if semis > commas {
        b';'
    } else {
        b','
    };
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rec = csv::ByteRecord::new();
    let mut rows: Vec<csv::ByteRecord> = Vec::with_capacity(2);
    // Look at the first two records to decide on a header.
    for _ in 0..2 {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => rows.push(rec.clone()),
            Ok(false) => break,
            Err(e) => return Err(csv_err(path, e)),
        }
    }
    if rows.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let width = rows[0].len();
    // A header: some cell of the first row is not a number while the second row's is.
    let header = rows.len() == 2
        && rows[0]
            .iter()
            .zip(rows[1].iter())
            .any(|(a, b)| !is_number(a) && is_number(b))
        || rows.len() == 1 && rows[0].iter().all(|c| !is_number(c));
    let names: Option<Vec<String>> = header.then(|| {
        rows[0]
            .iter()
            .map(|c| String::from_utf8_lossy(c).trim().to_string())
            .collect()
    });
    let label_idx = match label_col {
        LabelCol::None => None,
        LabelCol::First => Some(0),
        LabelCol::Last => Some(width - 1),
        LabelCol::Index(i) if *i < width => Some(*i),
        LabelCol::Index(i) => {
            return Err(DataError::Invalid {
                path: path.to_path_buf(),
                reason: format!(
                    "--label-col {i}: the table has only {width} columns (0-based indices 0..{})",
                    width - 1
                ),
            });
        }
        LabelCol::Name(n) => match names.as_ref().and_then(|h| h.iter().position(|c| c == n)) {
            Some(i) => Some(i),
            None => {
                return Err(DataError::Invalid {
                    path: path.to_path_buf(),
                    reason: format!(
                        "--label-col {n}: no such column; the header is {}",
                        names
                            .as_ref()
                            .map_or("missing (give an index instead)".into(), |h| h.join(", "))
                    ),
                });
            }
        },
        LabelCol::Auto => names.as_ref().and_then(|h| {
            h.iter().position(|c| {
                ["label", "class", "target", "y"].contains(&c.to_ascii_lowercase().as_str())
            })
        }),
    };
    let d = width - usize::from(label_idx.is_some());
    if d == 0 {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            reason: "no feature columns besides the label".into(),
        });
    }
    let mut x: Vec<f32> = Vec::with_capacity(bytes.len() / (4 * width).max(1) * d);
    let mut raw_labels: Vec<String> = Vec::new();
    let first_data = usize::from(header);
    let mut line = 0usize;
    let push = |r: &csv::ByteRecord,
                line: usize,
                x: &mut Vec<f32>,
                raw_labels: &mut Vec<String>|
     -> Result<(), DataError> {
        if r.len() != width {
            if r.len() == 1
                && r.get(0)
                    .is_some_and(|c| c.iter().all(u8::is_ascii_whitespace))
            {
                return Ok(()); // blank line
            }
            return Err(DataError::Invalid {
                path: path.to_path_buf(),
                reason: format!(
                    "line {line}: {} fields, but the first row has {width}. Make every row the same width.",
                    r.len()
                ),
            });
        }
        for (c, cell) in r.iter().enumerate() {
            if Some(c) == label_idx {
                raw_labels.push(String::from_utf8_lossy(cell).into_owned());
                continue;
            }
            let t = std::str::from_utf8(cell).unwrap_or("").trim();
            match t.parse::<f32>() {
                Ok(v) => x.push(v),
                Err(_) => {
                    let col = names
                        .as_ref()
                        .map_or(format!("{}", c + 1), |h| format!("{} ({})", c + 1, h[c]));
                    return Err(DataError::Invalid {
                        path: path.to_path_buf(),
                        reason: format!(
                            "line {line}, column {col}: '{}' is not a number. Fix the cell, or name it as the label column with --label-col.",
                            String::from_utf8_lossy(cell)
                        ),
                    });
                }
            }
        }
        Ok(())
    };
    for r in rows.iter().skip(first_data) {
        line = r.position().map_or(line + 1, |p| p.line() as usize);
        push(r, line, &mut x, &mut raw_labels)?;
    }
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {
                line = rec.position().map_or(line + 1, |p| p.line() as usize);
                push(&rec, line, &mut x, &mut raw_labels)?;
            }
            Ok(false) => break,
            Err(e) => return Err(csv_err(path, e)),
        }
    }
    if x.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let (labels, class_names) = if label_idx.is_some() {
        let (l, n) = encode(&raw_labels);
        (Some(l), Some(n))
    } else {
        (None, None)
    };
    let name = super::file_name(path);
    let guessed = (label_col == &LabelCol::Auto && !header)
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
        None => (x, d, labels, class_names, None),
    };
    let mut ds = Dataset::new(name, x, d, labels)?;
    ds.class_names = class_names;
    ds.label_note = label_note;
    ds.source = Some(path.to_path_buf());
    ds.dtype = "f32 (text)".into();
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
mod tests {
    use super::*;

    #[test]
    fn header_and_named_label_column() {
        let t = b"a,b,label\n1,2,cat\n3,4,dog\n5,6,cat\n";
        let ds = parse(t, Path::new("t.csv"), &LabelCol::Auto).unwrap();
        assert_eq!((ds.n, ds.d), (3, 2));
        assert_eq!(ds.x, vec![1., 2., 3., 4., 5., 6.]);
        assert_eq!(ds.labels, Some(vec![0, 1, 0]));
        assert_eq!(
            ds.class_names,
            Some(vec!["cat".to_string(), "dog".to_string()])
        );
    }

    #[test]
    fn no_header_tsv_last_column() {
        let t = b"1\t2\t0\n3\t4\t1\n";
        let ds = parse(t, Path::new("t.tsv"), &LabelCol::Last).unwrap();
        assert_eq!((ds.n, ds.d, ds.labels.clone()), (2, 2, Some(vec![0, 1])));
        let ds = parse(t, Path::new("t.tsv"), &LabelCol::Auto).unwrap();
        assert_eq!((ds.d, ds.labels), (3, None));
    }

    #[test]
    fn bad_cell_names_line_and_column() {
        let t = b"a,b\n1,2\n3,x\n";
        let e = parse(t, Path::new("t.csv"), &LabelCol::Auto)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3, column 2 (b): 'x' is not a number"),
            "{e}"
        );
    }

    #[test]
    fn ragged_rows_are_refused() {
        let e = parse(b"1,2,3\n4,5\n", Path::new("t.csv"), &LabelCol::None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2: 2 fields"), "{e}");
    }

    #[test]
    fn headerless_label_column_is_guessed_last_then_first() {
        // 8x8-digit-like rows: 4 pixel columns 0..16 (mostly 0), label last.
        let mut text = String::new();
        for i in 0..120 {
            let px = if i % 3 == 0 { 16 } else { 0 };
            text += &format!("0,{px},{},3,{}\n", i % 17, i % 10);
        }
        let ds = parse(text.as_bytes(), Path::new("t.csv"), &LabelCol::Auto).unwrap();
        assert_eq!(ds.d, 4);
        assert_eq!(ds.n_classes(), Some(10));
        assert!(ds.label_note.as_deref().unwrap().contains("column 4 of 5"));
        // Label first, constant last column: the first is taken.
        let mut text = String::new();
        for i in 0..60 {
            text += &format!("{},{},{},0\n", i % 4, i * 7 % 255, i % 2);
        }
        let ds = parse(text.as_bytes(), Path::new("t.csv"), &LabelCol::Auto).unwrap();
        assert_eq!((ds.d, ds.n_classes()), (3, Some(4)));
        // Real-valued columns, or --label-col none: no labels.
        let mut text = String::new();
        for i in 0..60 {
            text += &format!("{}.5,{},{}\n", i, i % 5, i as f32 * 0.1);
        }
        let ds = parse(text.as_bytes(), Path::new("t.csv"), &LabelCol::Auto).unwrap();
        assert!(ds.labels.is_none() && ds.label_note.is_none());
        let ds = parse(b"1,2,3\n", Path::new("t.csv"), &LabelCol::None).unwrap();
        assert!(ds.labels.is_none());
    }
}
