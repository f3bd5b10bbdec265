//! Missing values (empty or NA cells, NaN in arrays): refuse them, drop the rows that
//! have them, or fill each with its column's mean.
//!
//! Why: real tables have gaps, and DEC needs every feature of every row. Refusing is
//! the default, so nothing is changed behind the user's back; the message counts the
//! gaps per column and names the flag (`--missing drop-rows|mean`) that deals with them.

use crate::data::Missing;
use std::path::Path;

use super::{DataError, Dataset};

/// Whether a table cell stands for a missing value: empty, or one of the markers that
/// pandas, R and the UCI files write (NA, N/A, NaN, null, None, ?), in any case.
pub fn is_missing_cell(cell: &str) -> bool {
    let t = cell.trim();
    t.is_empty()
        || ["na", "n/a", "nan", "null", "none", "?"]
            .iter()
            .any(|m| t.eq_ignore_ascii_case(m))
}

/// Per column, how many NaN values `ds` holds, and the first row that has one.
fn count(ds: &Dataset) -> (Vec<usize>, Option<usize>) {
    let mut per_col = vec![0usize; ds.d];
    let mut first = None;
    for (i, row) in ds.x.chunks_exact(ds.d).enumerate() {
        for (c, v) in row.iter().enumerate() {
            if v.is_nan() {
                per_col[c] += 1;
                first.get_or_insert(i);
            }
        }
    }
    (per_col, first)
}

/// Apply `policy` to the NaN values of `ds` (read from `path`). Infinite values are
/// not missing: they stay for [`Dataset::check_finite`] to refuse.
pub fn apply(ds: Dataset, policy: Missing, path: &Path) -> Result<Dataset, DataError> {
    apply_with(ds, policy, None, path)
}

/// [`apply`], with `mean` filling from `means` when given (a model's column means, so
/// that a new row is filled as the training rows were) instead of this data's.
pub fn apply_with(
    ds: Dataset,
    policy: Missing,
    means: Option<&[f32]>,
    path: &Path,
) -> Result<Dataset, DataError> {
    let (per_col, first) = count(&ds);
    let Some(first) = first else {
        return Ok(ds);
    };
    let total: usize = per_col.iter().sum();
    let cols: Vec<usize> = (0..ds.d).filter(|&c| per_col[c] > 0).collect();
    let rows_with: Vec<bool> =
        ds.x.chunks_exact(ds.d)
            .map(|r| r.iter().any(|v| v.is_nan()))
            .collect();
    let bad_rows = rows_with.iter().filter(|&&b| b).count();
    match policy {
        Missing::Error => {
            let mut listed: Vec<String> = cols
                .iter()
                .take(8)
                .map(|&c| format!("{}: {}", ds.column_name(c), per_col[c]))
                .collect();
            if cols.len() > 8 {
                listed.push(format!("and {} more columns", cols.len() - 8));
            }
            Err(DataError::Missing {
                path: path.to_path_buf(),
                total,
                columns: cols.len(),
                per_column: listed.join(", "),
                first_row: first + 1,
                rows: bad_rows,
            })
        }
        Missing::DropRows => {
            let keep: Vec<usize> = (0..ds.n).filter(|&i| !rows_with[i]).collect();
            if keep.is_empty() {
                return Err(DataError::Invalid {
                    path: path.to_path_buf(),
                    reason: format!(
                        "--missing drop-rows: every one of the {} rows has a missing value; use --missing mean, or fill the gaps in the file",
                        ds.n
                    ),
                });
            }
            let name = ds.name.clone();
            let mut out = ds.subset(&keep);
            out.name = name;
            out.notes.push(format!(
                "--missing drop-rows: dropped the {bad_rows} of {} rows that had missing values ({total} cells in {} column(s)); {} rows left",
                ds.n,
                cols.len(),
                keep.len()
            ));
            Ok(out)
        }
        Missing::Mean => {
            let means = match means {
                Some(m) => m.to_vec(),
                None => column_means(&ds, path)?,
            };
            Ok(fill_mean(ds, &means, &per_col, total))
        }
    }
}

/// Each column's mean over its present (non-NaN) values, computed in f64; an error
/// names a column that is missing in every row.
pub fn column_means(ds: &Dataset, path: &Path) -> Result<Vec<f32>, DataError> {
    let d = ds.d;
    let mut sum = vec![0f64; d];
    let mut present = vec![0usize; d];
    for row in ds.x.chunks_exact(d) {
        for (c, &v) in row.iter().enumerate() {
            if !v.is_nan() {
                sum[c] += f64::from(v);
                present[c] += 1;
            }
        }
    }
    if let Some(c) = (0..d).find(|&c| present[c] == 0) {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            reason: format!(
                "--missing mean: column {} is missing in every row, so it has no mean; remove the column from the file",
                ds.column_name(c)
            ),
        });
    }
    Ok((0..d)
        .map(|c| (sum[c] / present[c] as f64) as f32)
        .collect())
}

/// Each NaN set to its column's value in `means`.
fn fill_mean(mut ds: Dataset, means: &[f32], per_col: &[usize], total: usize) -> Dataset {
    for row in ds.x.chunks_exact_mut(ds.d) {
        for (v, m) in row.iter_mut().zip(means) {
            if v.is_nan() {
                *v = *m;
            }
        }
    }
    let cols = per_col.iter().filter(|&&k| k > 0).count();
    ds.notes.push(format!(
        "--missing mean: filled {total} missing values in {cols} column(s) with their column's mean"
    ));
    ds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Dataset {
        // 4 rows x 3 columns, NaN at (1, 0), (2, 0) and (2, 2).
        let nan = f32::NAN;
        let x = vec![1., 10., 100., nan, 20., 200., nan, 30., nan, 7., 40., 400.];
        let mut ds = Dataset::new("t", x, 3, Some(vec![0, 1, 0, 1])).unwrap();
        ds.column_names = Some(vec!["age".into(), "height".into(), "income".into()]);
        ds
    }

    #[test]
    fn markers() {
        for m in ["", " ", "NA", "n/a", "NaN", "null", "None", "?"] {
            assert!(is_missing_cell(m), "{m:?}");
        }
        for m in ["0", "x", "nana"] {
            assert!(!is_missing_cell(m), "{m:?}");
        }
    }

    #[test]
    fn error_counts_per_column_and_names_the_flag() {
        let e = apply(table(), Missing::Error, Path::new("t.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("3 missing values"), "{e}");
        assert!(e.contains("age: 2, income: 1"), "{e}");
        assert!(e.contains("--missing drop-rows"), "{e}");
        assert!(e.contains("--missing mean"), "{e}");
        assert!(e.contains("first in row 2"), "{e}"); // 1-based
    }

    #[test]
    fn drop_rows_keeps_complete_rows_and_their_labels() {
        let ds = apply(table(), Missing::DropRows, Path::new("t.csv")).unwrap();
        assert_eq!(ds.x, vec![1., 10., 100., 7., 40., 400.]);
        assert_eq!(ds.labels, Some(vec![0, 1]));
        assert!(
            ds.notes[0].contains("dropped the 2 of 4 rows"),
            "{:?}",
            ds.notes
        );
    }

    #[test]
    fn mean_fills_with_the_present_values_mean() {
        let ds = apply(table(), Missing::Mean, Path::new("t.csv")).unwrap();
        // age: mean of 1 and 7 = 4; income: mean of 100, 200, 400 = 233.33.
        assert_eq!(ds.x[3], 4.0);
        assert_eq!(ds.x[6], 4.0);
        assert!((ds.x[8] - 700.0 / 3.0).abs() < 1e-3);
        assert_eq!(ds.x[0], 1.0);
        let mut all = table();
        all.x[0] = f32::NAN;
        all.x[9] = f32::NAN;
        let e = apply(all, Missing::Mean, Path::new("t.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("column age is missing in every row"), "{e}");
    }

    #[test]
    fn infinite_values_are_not_missing() {
        let ds = Dataset::new("t", vec![1., f32::INFINITY], 1, None).unwrap();
        let ds = apply(ds, Missing::Error, Path::new("t")).unwrap();
        assert!(ds.check_finite().is_err());
    }
}
