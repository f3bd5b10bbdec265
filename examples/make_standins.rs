//! Write the stand-in data sets of `benches/standins.py` from MNIST, each in the format a
//! user of such data would bring (see `decscope::data::standins` for why):
//!
//! | file | what |
//! |---|---|
//! | `mnist-1000.csv` | 1,000 random test digits, headerless CSV, label first, pixels 0..255 |
//! | `mnist-2000.npz` | 2,000 random test digits, `.npz` with `x` (u8) and `y` |
//! | `digits16.npz` | all test digits at 16x16, float32 in [0,1] (like the 9,298-digit 16x16 set) |
//! | `digits8x8.csv` | 1,797 random digits at 8x8, integers 0..16, headerless, label last (like the 8x8 table) |
//! | `mnist-imbalanced.npz` | the test set with class retention falling linearly to 0.1 (the paper's imbalanced MNIST) |
//!
//! `cargo run --release --example make_standins -- [--mnist DIR] --out DIR`

use std::path::PathBuf;

use decscope::data::{self, Dataset, LoadOptions, standins};
use ndarray::{Array1, Array2};

fn write_npz(ds: &Dataset, path: &PathBuf, as_bytes: bool) -> anyhow::Result<()> {
    let mut z = decscope::data::npy::NpzWriter::new(std::fs::File::create(path)?);
    if as_bytes {
        let x: Vec<u8> = ds.x.iter().map(|v| (v * 255.0).round() as u8).collect();
        z.add_array("x", &Array2::from_shape_vec((ds.n, ds.d), x)?)?;
    } else {
        z.add_array("x", &Array2::from_shape_vec((ds.n, ds.d), ds.x.clone())?)?;
    }
    let y: Vec<i64> = ds.labels.iter().flatten().map(|&l| i64::from(l)).collect();
    z.add_array("y", &Array1::from(y))?;
    z.finish()?;
    Ok(())
}

/// Headerless CSV: `label_first` puts the label before the features, else after.
fn write_csv(ds: &Dataset, path: &PathBuf, scale: f32, label_first: bool) -> anyhow::Result<()> {
    std::fs::write(path, standins::headerless_csv(ds, scale, label_first))?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let mut mnist = data::default_dataset_path();
    let mut out = PathBuf::from("standins");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--mnist" => mnist = args.next().map(PathBuf::from).unwrap_or(mnist),
            "--out" => out = args.next().map(PathBuf::from).unwrap_or(out),
            other => anyhow::bail!("unknown argument {other}; use --mnist DIR --out DIR"),
        }
    }
    std::fs::create_dir_all(&out)?;
    let ds = data::load(&mnist, &LoadOptions::default())?;
    write_csv(
        &standins::random_subset(&ds, 1000, 1),
        &out.join("mnist-1000.csv"),
        255.0,
        true,
    )?;
    write_npz(
        &standins::random_subset(&ds, 2000, 2),
        &out.join("mnist-2000.npz"),
        true,
    )?;
    write_npz(
        &standins::downsample_16(&ds)?,
        &out.join("digits16.npz"),
        false,
    )?;
    let small = standins::random_subset(&ds, 1797, 3);
    write_csv(
        &standins::optdigits_8x8(&small)?,
        &out.join("digits8x8.csv"),
        1.0,
        false,
    )?;
    write_npz(
        &standins::retain_linear(&ds, 0.1, 4)?,
        &out.join("mnist-imbalanced.npz"),
        true,
    )?;
    println!("{}", out.display());
    Ok(())
}
