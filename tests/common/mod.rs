//! Helpers shared by the integration tests.

use decscope::data::{self, Dataset, LoadOptions};

/// The bundled MNIST test set, cut to its first `n` digits.
#[allow(dead_code)]
pub fn mnist(n: usize) -> Dataset {
    data::load(
        &data::default_dataset_path(),
        &LoadOptions {
            limit: Some(n),
            ..Default::default()
        },
    )
    .unwrap()
}

/// A wine-like table, one CSV line per row without a header: three groups, 13 columns
/// on scales from 0.36 to 750, the group's name (`class0`...) last. (Not every test
/// crate that shares this module uses it.)
#[allow(dead_code)]
pub fn wine_like(n: usize) -> Vec<String> {
    let scales = [
        13.0, 2.0, 2.4, 19.0, 100.0, 2.3, 2.0, 0.36, 1.6, 5.0, 0.96, 2.6, 750.0,
    ];
    (0..n)
        .map(|i| {
            let g = i % 3;
            let cells: Vec<String> = scales
                .iter()
                .enumerate()
                .map(|(j, s)| {
                    let wiggle = ((i * 31 + j * 17) % 23) as f32 / 23.0 - 0.5;
                    let shift = [0.0f32, 0.6, -0.6][g] * if j % 2 == 0 { 1.0 } else { -1.0 };
                    format!("{:.4}", s * (1.0 + shift + 0.3 * wiggle))
                })
                .chain([format!("class{g}")])
                .collect();
            cells.join(",")
        })
        .collect()
}

/// Run the `decscope` binary with `args`. (Not every test crate that shares this
/// module runs it.)
#[allow(dead_code)]
pub fn decscope<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_decscope"))
        .args(args)
        .output()
        .unwrap()
}

/// The run succeeded; its stderr.
#[allow(dead_code)]
pub fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit 2 with one line on stderr containing every phrase.
#[allow(dead_code)]
pub fn fails_with(out: &std::process::Output, phrases: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{err}");
    for p in phrases {
        assert!(lines[0].contains(p), "{p:?} not in {err}");
    }
}

/// Five groups of 200 in 2-D, drawn into 10 columns (`f0..f9`, label last): a long bar
/// (label 0), two small blobs 2 apart (labels 1 and 2) and two far blobs (3 and 4).
/// With k = 5, k-means cuts the bar in two and puts the two small blobs into one
/// cluster: the split-and-merge failure that self-correction looks for. The noise is a
/// fixed hash, so the file is the same everywhere.
#[allow(dead_code)]
pub fn split_and_merge_csv() -> String {
    let u = |i: u64| {
        let x = (i.wrapping_mul(2_654_435_761).wrapping_add(12_345)) % 4_294_967_296;
        let x = ((x ^ (x >> 13)).wrapping_mul(1_274_126_177)) % 4_294_967_296;
        x as f64 / 2_147_483_648.0 - 1.0
    };
    let noise = |i: u64, s: f64| s * (u(3 * i) + u(3 * i + 1) + u(3 * i + 2));
    let centres = [
        (0.0, 0.0, 0.0),
        (0.0, 8.0, 0.3),
        (2.0, 8.0, 0.3),
        (-8.0, -8.0, 0.5),
        (8.0, -8.0, 0.5),
    ];
    let mut rows = vec!["f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,label".to_string()];
    for (c, &(cx, cy, s)) in centres.iter().enumerate() {
        for i in 0..200u64 {
            let k = c as u64 * 200 + i;
            let (x, y) = if c == 0 {
                (-10.0 + 20.0 * (i as f64 + 0.5) / 200.0, noise(2 * k, 0.3))
            } else {
                (cx + noise(2 * k, s), cy + noise(2 * k + 1, s))
            };
            let cells: Vec<String> = (0..10u64)
                .map(|j| {
                    let t = j as f64 * std::f64::consts::PI / 10.0;
                    format!(
                        "{:.4}",
                        x * t.cos() + y * t.sin() + noise(10_000 + k * 10 + j, 0.05)
                    )
                })
                .collect();
            rows.push(format!("{},{c}", cells.join(",")));
        }
    }
    rows.join("\n") + "\n"
}

/// [`split_and_merge_csv`] read as `decscope` reads the file, and the settings of
/// `decscope train --dims 32,2 --finetune-iters 800 --seed 0 --start kmeans`
/// (self-correction off). The k-means start is named: it makes the failure, and
/// `start: auto` with self-correction would take the spectral start, which does not.
#[allow(dead_code)]
pub fn split_and_merge() -> (Dataset, decscope::engine::settings::Settings) {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let i = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("decscope-sm-{}-{i}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("split-and-merge.csv");
    std::fs::write(&path, split_and_merge_csv()).unwrap();
    let ds = data::load(&path, &LoadOptions::default()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let settings = decscope::engine::settings::Settings {
        dims: Some(vec![32, 2]),
        finetune_iters: Some(800),
        start: Some(decscope::engine::config::Start::Kmeans),
        ..Default::default()
    };
    (ds, settings)
}
