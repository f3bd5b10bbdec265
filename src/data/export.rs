//! A run's assignments as a CSV table: one row per sample with its cluster, the
//! cluster's name when the user named clusters, its confidence (the largest q), and
//! its true label and title when the data have them; and an embedding as `.npy` or CSV.
//!
//! Why: the app's export, `decscope predict` and `train --out` write the same table,
//! which pandas and spreadsheets read as is (cells with commas or quotes are quoted);
//! `train --embedding` writes z for NumPy (`np.load`) without a second pass.

use std::path::Path;

use super::{DataError, Dataset};

/// Write the rows of `x` (`n x cols`, row-major) to `path`: a float32 `.npy` array of
/// shape `(n, cols)` when the name ends in `.npy`, else CSV with a header
/// `{prefix}0,{prefix}1,...` (`z` for an embedding, `q` for soft assignments).
pub fn write_matrix(path: &Path, x: &[f32], cols: usize, prefix: &str) -> Result<(), DataError> {
    let invalid = |reason: String| DataError::Invalid {
        path: path.to_path_buf(),
        reason,
    };
    let n = x.len() / cols.max(1);
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
    {
        let a =
            ndarray::ArrayView2::from_shape((n, cols), x).map_err(|e| invalid(e.to_string()))?;
        return ndarray_npy::write_npy(path, &a).map_err(|e| invalid(e.to_string()));
    }
    let mut out = (0..cols)
        .map(|j| format!("{prefix}{j}"))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for row in x.chunks_exact(cols.max(1)) {
        let cells: Vec<String> = row.iter().map(|v| v.to_string()).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    std::fs::write(path, out).map_err(|e| DataError::io(path, e))
}

/// `index,cluster[,cluster_name],confidence[,label][,title]`, one row per sample of
/// `ds`; `names` (one per cluster, or empty) gives the name column when any is set.
pub fn assignments_csv(
    ds: &Dataset,
    assignments: &[u32],
    confidence: &[f32],
    names: &[Option<String>],
) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let has_title = ds.title(0).is_some();
    let named = names.iter().any(Option::is_some);
    let mut header = vec!["index", "cluster"];
    if named {
        header.push("cluster_name");
    }
    header.push("confidence");
    if ds.labels.is_some() {
        header.push("label");
    }
    if has_title {
        header.push("title");
    }
    w.write_record(&header)?;
    for i in 0..ds.n.min(assignments.len()).min(confidence.len()) {
        let mut rec = vec![i.to_string(), assignments[i].to_string()];
        if named {
            let name = names.get(assignments[i] as usize).cloned().flatten();
            rec.push(name.unwrap_or_default());
        }
        rec.push(format!("{:.6}", confidence[i]));
        if let Some(l) = &ds.labels {
            rec.push(ds.class_name(l[i]));
        }
        if has_title {
            rec.push(ds.title(i).unwrap_or_default().to_string());
        }
        w.write_record(&rec)?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_titles_are_columns_quoted_when_needed() {
        let mut ds = Dataset::new("t", vec![0., 1., 2.], 1, Some(vec![0, 1, 1])).unwrap();
        ds.class_names = Some(vec!["cat".into(), "dog, big".into()]);
        ds.titles = Some(vec!["item 0, x".into(), "b".into(), "say \"hi\"".into()]);
        let t = assignments_csv(&ds, &[2, 0, 1], &[0.5, 0.25, 1.0], &[]).unwrap();
        assert_eq!(
            t,
            "index,cluster,confidence,label,title\n\
             0,2,0.500000,cat,\"item 0, x\"\n\
             1,0,0.250000,\"dog, big\",b\n\
             2,1,1.000000,\"dog, big\",\"say \"\"hi\"\"\"\n"
        );
        let plain = Dataset::new("t", vec![0., 1.], 1, None).unwrap();
        assert_eq!(
            assignments_csv(&plain, &[0, 1], &[1.0, 1.0], &[]).unwrap(),
            "index,cluster,confidence\n0,0,1.000000\n1,1,1.000000\n"
        );
        // Named clusters get a column; an unnamed one is left empty.
        let names = [None, Some("ones, mostly".to_string())];
        assert_eq!(
            assignments_csv(&plain, &[1, 0], &[1.0, 0.5], &names).unwrap(),
            "index,cluster,cluster_name,confidence\n0,1,\"ones, mostly\",1.000000\n1,0,,0.500000\n"
        );
    }
}
