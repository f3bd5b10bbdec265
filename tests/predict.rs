//! A saved model predicts new data the way it was fitted: the preprocessing (scaling
//! statistics, text vocabulary and idf, HOG's colour scale, the missing-value fill)
//! travels in the model folder, so predicting any subset of the rows (one row, ten
//! rows, a shuffled half) gives exactly the assignments and q of predicting all rows.
//! Checked for a table (standardize), images (unit-range), text (tf-idf) and HOG, through
//! the command line and through the library; and a model folder without its
//! preprocessing is refused with one line.

mod common;

use common::{decscope, fails_with, ok};

use std::path::{Path, PathBuf};

use decscope::data::{self, Dataset, LoadOptions, Preprocessing};
use decscope::engine::model::DecModel;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("decscope-predict-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A small, quick training run of `data` (extra flags after), saved to `model`.
fn train(data: &Path, model: &Path, k: usize, extra: &[&str]) -> String {
    let k = k.to_string();
    let mut args = vec![
        "train",
        "--quiet",
        "--data",
        data.to_str().unwrap(),
        "--clusters",
        &k,
        "--dims",
        "32,3",
        "--finetune-iters",
        "200",
        "--max-iter",
        "200",
        "--update-interval",
        "20",
        "--kmeans-n-init",
        "3",
        "--no-baseline",
        "--seed",
        "0",
        "--save",
        model.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    ok(decscope(&args))
}

/// `predict` of `data` under `model`: the rows of its CSV after the header.
fn predict(model: &Path, data: &Path, extra: &[&str]) -> Vec<String> {
    let out = data.with_extension("pred.csv");
    let mut args = vec![
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    ok(decscope(&args));
    let text = std::fs::read_to_string(&out).unwrap();
    text.lines().skip(1).map(str::to_string).collect()
}

/// `cluster,confidence` of a predicted row (its index and any label dropped).
fn cells(row: &str) -> String {
    row.split(',').skip(1).take(2).collect::<Vec<_>>().join(",")
}

/// The subsets every check uses: one row, ten rows, and a shuffled half.
fn subsets(n: usize) -> Vec<Vec<usize>> {
    let mut half: Vec<usize> = (0..n).filter(|i| i % 2 == 1).collect();
    half.reverse();
    half.swap(0, 3);
    vec![vec![7], (20..30).collect(), half]
}

/// Beside `all`, the file of a subset of `rows` rows (same extension).
fn part_path(all: &Path, prefix: &str, rows: usize) -> PathBuf {
    let ext = all.extension().unwrap().to_str().unwrap();
    all.with_file_name(format!("{prefix}-{rows}.{ext}"))
}

/// For each subset written by `write(rows, path)`, `predict` gives each row the
/// cluster and confidence it had among all rows.
fn cli_subsets_agree(
    model: &Path,
    all: &Path,
    n: usize,
    extra: &[&str],
    write: impl Fn(&[usize], &Path),
) {
    let whole = predict(model, all, extra);
    assert_eq!(whole.len(), n);
    let clusters: std::collections::BTreeSet<String> = whole
        .iter()
        .map(|r| r.split(',').nth(1).unwrap().to_string())
        .collect();
    assert!(
        clusters.len() >= 2,
        "a model that puts everything in one cluster proves nothing"
    );
    for rows in subsets(n) {
        let part = part_path(all, "part", rows.len());
        write(&rows, &part);
        let got = predict(model, &part, extra);
        assert_eq!(got.len(), rows.len());
        for (g, &i) in got.iter().zip(&rows) {
            assert_eq!(
                cells(g),
                cells(&whole[i]),
                "row {i} in a subset of {}",
                rows.len()
            );
        }
    }
}

/// Library: q of every subset's rows equals q of those rows among all, bit for bit.
fn library_subsets_agree(model_dir: &Path, all: &Path, n: usize, write: impl Fn(&[usize], &Path)) {
    let m = DecModel::load(model_dir).unwrap();
    let opts = m.load_options(&LoadOptions::default(), model_dir).unwrap();
    let ds = data::load(all, &opts).unwrap();
    let k = m.n_clusters();
    let (labels, _, _, q) = m.assign(&ds.x, ds.n);
    for rows in subsets(n) {
        let part = part_path(all, "lib", rows.len());
        write(&rows, &part);
        let sub = data::load(&part, &opts).unwrap();
        let (l2, _, _, q2) = m.assign(&sub.x, sub.n);
        for (r, &i) in rows.iter().enumerate() {
            assert_eq!(l2[r], labels[i], "row {i}");
            let (a, b) = (&q2[r * k..(r + 1) * k], &q[i * k..(i + 1) * k]);
            assert_eq!(
                a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                b.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "q of row {i}"
            );
        }
    }
}

fn write_rows(rows: &[String], idx: &[usize], path: &Path, header: Option<&str>) {
    let mut text = header.map(|h| format!("{h}\n")).unwrap_or_default();
    for &i in idx {
        text.push_str(&rows[i]);
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

/// The wine case: `standardize`; ten rows alone, one row alone and a shuffled
/// half land where they land among all rows.
#[test]
fn a_table_predicts_every_subset_as_among_all_rows() {
    let n = 90;
    let (dir, rows, all, model) = table_model("table", n, &[]);
    let write = |idx: &[usize], p: &Path| write_rows(&rows, idx, p, None);
    cli_subsets_agree(&model, &all, n, &["--label-col", "last"], write);
    let m = DecModel::load(&model).unwrap();
    assert_eq!(
        m.preprocess.as_ref().unwrap().rule(),
        Preprocessing::Standardize
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// MNIST digits as a `(n, 28, 28)` u8 `.npy`.
fn write_images(ds: &Dataset, idx: &[usize], path: &Path) {
    let mut v = Vec::with_capacity(idx.len() * 784);
    for &i in idx {
        v.extend(ds.row(i).iter().map(|&p| (p * 255.0).round() as u8));
    }
    let a = ndarray::Array3::from_shape_vec((idx.len(), 28, 28), v).unwrap();
    ndarray_npy::write_npy(path, &a).unwrap();
}

/// Images (unit-range) and HOG of the same images: the CLI and the library agree on
/// every subset; the fitted range is the training images' (255), not a batch's.
#[test]
fn images_and_hog_predict_every_subset_as_among_all_rows() {
    let digits = common::mnist(120);
    let dir = tmp("images");
    let all = dir.join("digits.npy");
    write_images(&digits, &(0..digits.n).collect::<Vec<_>>(), &all);
    let write = |idx: &[usize], p: &Path| write_images(&digits, idx, p);
    for (name, extra) in [("raw", vec![]), ("hog", vec!["--features", "hog"])] {
        let model = dir.join(name);
        train(&all, &model, 4, &extra);
        cli_subsets_agree(&model, &all, digits.n, &extra, write);
        library_subsets_agree(&model, &all, digits.n, write);
    }
    let m = DecModel::load(&dir.join("raw")).unwrap();
    let f = m.preprocess.as_ref().unwrap();
    assert_eq!(
        f.scaling,
        data::fitted::Scaling::UnitRange {
            lo: 0.0,
            span: 255.0
        }
    );
    std::fs::remove_dir_all(&dir).ok();
}

const TOPICS: [&[&str]; 3] = [
    &["oil", "barrel", "crude", "opec", "refinery", "pipeline"],
    &["wheat", "grain", "harvest", "corn", "farmers", "export"],
    &["bank", "interest", "rate", "loan", "deposit", "lending"],
];

/// Short articles of three topics, as CSV rows `text,topic`.
fn articles(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let t = i % 3;
            let words: Vec<&str> = (0..12)
                .map(|w| TOPICS[(t + usize::from((i + w) % 7 == 0)) % 3][(i * 5 + w * 3) % 6])
                .collect();
            format!("\"{} market report number {i}\",{t}", words.join(" "))
        })
        .collect()
}

/// Text: a fixed vocabulary and idf from the model; a document alone is read with the
/// training corpus's idf, not its own.
#[test]
fn text_predicts_every_subset_as_among_all_rows() {
    let dir = tmp("text");
    let n = 60;
    let rows = articles(n);
    let all = dir.join("news.csv");
    write_rows(&rows, &(0..n).collect::<Vec<_>>(), &all, Some("text,topic"));
    let model = dir.join("m");
    train(&all, &model, 3, &[]);
    let write = |idx: &[usize], p: &Path| write_rows(&rows, idx, p, Some("text,topic"));
    cli_subsets_agree(&model, &all, n, &[], write);
    library_subsets_agree(&model, &all, n, write);
    let m = DecModel::load(&model).unwrap();
    let t = m.preprocess.as_ref().unwrap().text.as_ref().unwrap();
    assert_eq!(t.column.as_deref(), Some("text"));
    // "market" is in every document: idf = ln(61/61) + 1 = 1 (scikit-learn's smooth idf).
    let j = t.terms.iter().position(|s| s == "market").unwrap();
    assert_eq!(t.idf[j], 1.0);
    std::fs::remove_dir_all(&dir).ok();
}

/// A model of `n` wine-like rows (label last) in the folder `tmp(name)`, trained with
/// `extra` flags too: (folder, rows, data, model).
fn table_model(name: &str, n: usize, extra: &[&str]) -> (PathBuf, Vec<String>, PathBuf, PathBuf) {
    let dir = tmp(name);
    let rows = common::wine_like(n);
    let all = dir.join("wine.csv");
    write_rows(&rows, &(0..n).collect::<Vec<_>>(), &all, None);
    let model = dir.join("m");
    train(&all, &model, 3, &[&["--label-col", "last"], extra].concat());
    (dir, rows, all, model)
}

/// A model folder as the previous release wrote it (no preprocess.json) is refused by
/// `predict` with one line saying why and what to do, and nothing is written.
#[test]
fn old_model_folders_are_refused_in_one_line() {
    let (dir, _, all, model) = table_model("old", 60, &[]);
    std::fs::remove_file(model.join("preprocess.json")).unwrap();
    let out = dir.join("o.csv");
    let r = predict_raw(&model, &all, &["--label-col", "last"], &out);
    let why = [
        "saved without its preprocessing",
        "preprocess.json",
        "train --save",
    ];
    fails_with(&r, &why);
    assert!(!out.exists(), "nothing written for a refused model");
    std::fs::remove_dir_all(&dir).ok();
}

/// `decscope predict --model model --data data --out out` with `extra` flags.
fn predict_raw(model: &Path, data: &Path, extra: &[&str], out: &Path) -> std::process::Output {
    let paths = [model, data, out].map(|p| p.to_str().unwrap());
    let args = [
        "predict", "--model", paths[0], "--data", paths[1], "--out", paths[2],
    ];
    decscope(&[&args[..], extra].concat())
}

/// A file whose columns or kind do not match the model, or another scaling asked for,
/// is refused in one line naming the mismatch.
#[test]
fn mismatched_files_are_refused_in_one_line() {
    let (dir, rows, all, model) = table_model("refuse", 60, &[]);
    let out = dir.join("o.csv");
    let last = ["--label-col", "last"];
    // Twelve columns instead of thirteen.
    let short: Vec<String> = rows
        .iter()
        .map(|r| r.split(',').skip(1).collect::<Vec<_>>().join(","))
        .collect();
    let bad = dir.join("short.csv");
    write_rows(&short, &(0..rows.len()).collect::<Vec<_>>(), &bad, None);
    let r = predict_raw(&model, &bad, &last, &out);
    let why = [
        "short.csv",
        "trained on 13 values per sample",
        "this file has 12",
    ];
    fails_with(&r, &why);
    // Text for a model of a table.
    let text = dir.join("news.csv");
    let ten: Vec<usize> = (0..10).collect();
    write_rows(&articles(10), &ten, &text, Some("text,topic"));
    let r = predict_raw(&model, &text, &[], &out);
    fails_with(&r, &["this is text", "13 numeric values"]);
    // Another scaling asked for.
    let r = predict_raw(
        &model,
        &all,
        &[&last[..], &["--preprocess", "l2-rows"]].concat(),
        &out,
    );
    fails_with(&r, &["--preprocess l2-rows", "standardize"]);
    std::fs::remove_dir_all(&dir).ok();
}

/// `train --out` writes the table `predict --out` writes, and `--embedding` z as a
/// float32 `.npy` of shape (n, e) that equals the model's transform of the data.
#[test]
fn train_writes_assignments_and_embedding() {
    let n = 60;
    let (table_path, emb) = (
        tmp("outputs").join("assign.csv"),
        tmp("outputs").join("z.npy"),
    );
    let outputs = [
        "--out",
        table_path.to_str().unwrap(),
        "--embedding",
        emb.to_str().unwrap(),
    ];
    let (dir, _, all, model) = table_model("outputs", n, &outputs);
    let written: Vec<String> = std::fs::read_to_string(&table_path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(written[0], "index,cluster,confidence,label");
    let predicted = predict(&model, &all, &["--label-col", "last"]);
    assert_eq!(written[1..], predicted[..]);
    let z: ndarray::Array2<f32> = ndarray_npy::read_npy(&emb).unwrap();
    assert_eq!(z.shape(), &[n, 3]);
    let m = DecModel::load(&model).unwrap();
    let opts = m
        .load_options(
            &LoadOptions {
                label_col: "last".parse().unwrap(),
                ..Default::default()
            },
            &model,
        )
        .unwrap();
    let ds = data::load(&all, &opts).unwrap();
    let (_, _, z2, _) = m.assign(&ds.x, ds.n);
    assert_eq!(z.as_slice().unwrap(), &z2[..]);
    std::fs::remove_dir_all(&dir).ok();
}

/// `--missing mean` keeps the training rows' column means: a new row's gap is filled
/// with them (a row alone has no other values to take a mean of).
#[test]
fn missing_values_of_new_rows_are_filled_with_the_training_means() {
    let dir = tmp("missing");
    let train_csv = dir.join("train.csv");
    std::fs::write(&train_csv, "a,b\n1,10\n3,\n5,30\n7,40\n").unwrap();
    let opts = LoadOptions {
        missing: data::Missing::Mean,
        preprocessing: Preprocessing::None,
        label_col: "none".parse().unwrap(),
        ..Default::default()
    };
    let ds = data::load(&train_csv, &opts).unwrap();
    let fitted = ds.fitted.clone().unwrap();
    // Column b's present values are 10, 30 and 40: mean 80 / 3.
    assert_eq!(
        fitted.missing.means.as_deref(),
        Some(&[4.0, 80.0 / 3.0][..])
    );
    let new_csv = dir.join("new.csv");
    std::fs::write(&new_csv, "a,b\n,20\n").unwrap();
    let with_model = LoadOptions {
        fitted: Some(fitted),
        label_col: "none".parse().unwrap(),
        ..Default::default()
    };
    let one = data::load(&new_csv, &with_model).unwrap();
    assert_eq!(one.x, vec![4.0, 20.0]);
    std::fs::remove_dir_all(&dir).ok();
}
