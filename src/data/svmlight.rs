//! svmlight / libsvm sparse text: `label idx:value idx:value ... [# comment]` per line,
//! as tf-idf text collections (e.g. Reuters) are distributed. Loaded dense, since DEC's
//! autoencoder takes dense input; indices may be 1-based (usual) or 0-based.

use std::path::Path;

use super::labels::encode;
use super::{DataError, Dataset};

/// Refuse to densify more than this many values (1 GiB of f32)...
const MAX_DENSE: usize = 1 << 28;
/// ...or more than this many values per byte of text beyond the first 16 M values, so a
/// tiny file with one huge index cannot ask for gigabytes (found by fuzzing).
const DENSE_PER_BYTE: usize = 1000;

pub fn parse(text: &str, path: &Path) -> Result<Dataset, DataError> {
    let mut rows: Vec<Vec<(usize, f32)>> = Vec::new();
    let mut raw_labels = Vec::new();
    let (mut max_idx, mut min_idx) = (0usize, usize::MAX);
    for (ln, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut it = line.split_whitespace();
        let label = it.next().unwrap_or_default();
        if label.contains(':') {
            return Err(DataError::Invalid {
                path: path.to_path_buf(),
                reason: format!(
                    "line {}: starts with '{label}', expected a label before the index:value pairs",
                    ln + 1
                ),
            });
        }
        raw_labels.push(label.split(',').next().unwrap_or(label).to_string());
        let mut row = Vec::new();
        for tok in it {
            if tok.starts_with("qid:") {
                continue;
            }
            let bad = || DataError::Invalid {
                path: path.to_path_buf(),
                reason: format!("line {}: '{tok}' is not an index:value pair", ln + 1),
            };
            let (i, v) = tok.split_once(':').ok_or_else(bad)?;
            let i: usize = i.parse().map_err(|_| bad())?;
            let v: f32 = v.parse().map_err(|_| bad())?;
            max_idx = max_idx.max(i);
            min_idx = min_idx.min(i);
            row.push((i, v));
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let zero_based = min_idx == 0;
    let d = if zero_based {
        max_idx + 1
    } else {
        max_idx.max(1)
    };
    let n = rows.len();
    if n.checked_mul(d)
        .is_none_or(|v| v > MAX_DENSE || v > (1 << 24) + DENSE_PER_BYTE * text.len())
    {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            reason: format!(
                "{n} rows x {d} features is too large to hold densely; keep the most frequent terms (Reuters in DEC uses 2000)"
            ),
        });
    }
    let mut x = vec![0.0f32; n * d];
    for (r, row) in rows.iter().enumerate() {
        for &(i, v) in row {
            let c = if zero_based { i } else { i - 1 };
            x[r * d + c] = v;
        }
    }
    let (labels, names) = encode(&raw_labels);
    let name = super::file_name(path);
    let mut ds = Dataset::new(name, x, d, Some(labels))?;
    ds.class_names = Some(names);
    ds.source = Some(path.to_path_buf());
    ds.dtype = "f32 (sparse text)".into();
    Ok(ds)
}

pub fn load(path: &Path) -> Result<Dataset, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    let text = std::str::from_utf8(&bytes).map_err(|e| DataError::Invalid {
        path: path.to_path_buf(),
        reason: format!(
            "byte {}: not UTF-8 text; svmlight files are plain text",
            e.valid_up_to()
        ),
    })?;
    parse(text, path)
}

/// Whether a text's first data line looks like svmlight.
pub fn looks_like(text: &str) -> bool {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .find(|l| !l.is_empty())
        .is_some_and(|l| {
            let mut it = l.split_whitespace();
            it.next().is_some_and(|lab| !lab.contains(':'))
                && it.next().is_some_and(|t| {
                    t.split_once(':')
                        .is_some_and(|(i, _)| i.parse::<usize>().is_ok())
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_one_based_sparse_rows() {
        let ds = parse("1 1:0.5 3:2\n-1 2:1 # c\n\n1 3:1\n", Path::new("t.svm")).unwrap();
        assert_eq!((ds.n, ds.d), (3, 3));
        assert_eq!(ds.x, vec![0.5, 0., 2., 0., 1., 0., 0., 0., 1.]);
        assert_eq!(ds.labels, Some(vec![1, 0, 1]));
        assert_eq!(
            ds.class_names,
            Some(vec!["-1".to_string(), "1".to_string()])
        );
        assert!(looks_like("1 1:0.5"));
        assert!(!looks_like("a,b,c"));
    }

    #[test]
    fn bad_pair_names_its_line() {
        let e = parse("1 1:0.5\n2 3-4\n", Path::new("t.svm"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2: '3-4'"), "{e}");
    }
}
