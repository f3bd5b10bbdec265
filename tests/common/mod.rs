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
