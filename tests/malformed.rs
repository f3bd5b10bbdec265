//! Every malformed fixture under tests/fixtures gets a typed error from the library
//! and, from the command line, exit status 2 with a one-line message (never a panic).

use std::path::PathBuf;
use std::process::Command;

use decscope::data::{self, DataError, LoadOptions};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// (fixture, expected error kind, a phrase the message must contain)
const CASES: &[(&str, &str, &str)] = &[
    ("bad_magic.idx", "BadMagic", "not an IDX file"),
    (
        "truncated-images-idx3-ubyte",
        "Truncated",
        "file ends early",
    ),
    (
        "huge_header.idx",
        "Truncated",
        "declares 1000000000000 bytes of data but only 4",
    ),
    ("label_mismatch", "LabelCount", "2 labels for 3 samples"),
    ("empty.csv", "Empty", "empty"),
    ("ragged.csv", "Invalid", "line 3: 2 fields"),
    (
        "non_numeric.csv",
        "Invalid",
        "line 3, column 2 (x2): 'abc' is not a number",
    ),
    (
        "nan.csv",
        "Missing",
        "1 missing values (empty or NA cells, NaN) in 1 column(s) (x2: 1)",
    ),
    ("inf.csv", "NonFinite", "row 1, column 1"),
    (
        "huge_header.npy",
        "Invalid",
        "header claims 4294901878 bytes",
    ),
    (
        "lying_shape.npy",
        "Truncated",
        "declares 4000000000000 bytes of data but only 16",
    ),
    (
        "huge_index.svm",
        "Invalid",
        "444444441 features is too large",
    ),
    ("complex.npy", "Unsupported", "dtype"),
    ("five_d.npy", "Invalid", "shape (2, 2, 2, 2, 2)"),
    ("bad_images", "Invalid", "broken.png"),
    ("bad.svm", "Invalid", "line 2: '3-4'"),
    ("mystery.dat", "Unsupported", "file format"),
    ("npy_label_mismatch", "NotFound", "no dataset found"),
    (
        "npy_label_mismatch/x.npy",
        "LabelCount",
        "3 labels for 4 samples",
    ),
];

fn kind(e: &DataError) -> &'static str {
    match e {
        DataError::Io { .. } => "Io",
        DataError::Empty { .. } => "Empty",
        DataError::BadMagic { .. } => "BadMagic",
        DataError::Truncated { .. } => "Truncated",
        DataError::Unsupported { .. } => "Unsupported",
        DataError::LabelCount { .. } => "LabelCount",
        DataError::NonFinite { .. } => "NonFinite",
        DataError::Missing { .. } => "Missing",
        DataError::Invalid { .. } => "Invalid",
        DataError::NotFound { .. } => "NotFound",
    }
}

#[test]
fn each_fixture_gets_its_typed_error() {
    for (name, want, phrase) in CASES {
        let e = match data::load(&fixture(name), &LoadOptions::default()) {
            Ok(ds) => panic!("{name}: loaded {} rows, expected {want}", ds.n),
            Err(e) => e,
        };
        assert_eq!(kind(&e), *want, "{name}: {e}");
        let msg = e.to_string();
        assert!(
            msg.contains(phrase),
            "{name}: message lacks '{phrase}': {msg}"
        );
        let base = name.split('/').next().unwrap_or(name);
        assert!(
            msg.contains(base),
            "{name}: message does not name the file: {msg}"
        );
    }
}

#[test]
fn the_cli_exits_2_with_one_line() {
    let exe = env!("CARGO_BIN_EXE_decscope");
    for (name, _, phrase) in CASES {
        for args in [
            vec!["inspect", fixture(name).to_str().unwrap()],
            vec!["train", "--data", fixture(name).to_str().unwrap()],
        ] {
            let out = Command::new(exe).args(&args).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            // inspect describes such data and warns instead of refusing it.
            let warning = match (*name, args[0]) {
                ("nan.csv", "inspect") => Some(
                    "warning: 1 missing values (empty/NA cells or NaN; first at row 1, column 1); train with --missing",
                ),
                ("inf.csv", "inspect") => Some(
                    "warning: 1 infinite values (first at row 1, column 1); training refuses such data",
                ),
                _ => None,
            };
            if let Some(want) = warning {
                let stdout = String::from_utf8_lossy(&out.stdout);
                assert_eq!(out.status.code(), Some(0), "{err}");
                assert!(stdout.contains(want), "{stdout}");
                continue;
            }
            assert_eq!(
                out.status.code(),
                Some(2),
                "{args:?}: status {:?}, stderr {err}",
                out.status
            );
            let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
            assert_eq!(lines.len(), 1, "{args:?}: expected one line, got {err}");
            assert!(lines[0].contains(phrase), "{args:?}: {err}");
        }
    }
}

/// A missing file is named once with its cause once: the typed error quotes its source,
/// and the line once went on to repeat it ("... is readable.: No such file or
/// directory (os error 2)").
#[test]
fn a_missing_file_says_its_cause_once() {
    let exe = env!("CARGO_BIN_EXE_decscope");
    let out = Command::new(exe)
        .args(["train", "--data", "/no/such/file.csv"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        err.trim_end(),
        "decscope: error: /no/such/file.csv: cannot read: No such file or directory (os error 2). Check that the path exists and is readable."
    );
}

#[test]
fn bad_arguments_exit_2() {
    let exe = env!("CARGO_BIN_EXE_decscope");
    for args in [
        vec!["train", "--clusters", "many"],
        vec!["train", "--data", "/no/such/path"],
        vec!["train", "--limit", "5", "--clusters", "50"],
        vec![
            "predict",
            "--model",
            "/no/such/model",
            "--out",
            "/tmp/x.csv",
        ],
        vec!["frobnicate"],
    ] {
        let out = Command::new(exe).args(&args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Malformed text inputs, made here (a 10 MB line does not belong in the repository):
/// `inspect` and `train` exit 2 with one line that says what is wrong.
#[test]
fn malformed_text_exits_2_with_one_line() {
    let dir = std::env::temp_dir().join(format!("decscope-bad-text-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let cases: Vec<(PathBuf, Vec<&str>, &str)> = vec![
        (file("empty.txt", b""), vec![], "empty"),
        (
            file("blank_text.csv", b"id,topic,text\n1,a,\n2,b,  \n3,a,\n"),
            vec!["--text-col", "text"],
            "column 'text' is empty in every row",
        ),
        (file("garbage.txt", &garbage), vec![], "not UTF-8 text"),
        (
            file("one_line.txt", "market ".repeat(1_500_000).as_bytes()),
            vec![],
            "1 document(s) found; clustering needs at least 2",
        ),
        (
            file(
                "no_such_col.csv",
                b"id,text\n1,crude oil prices rose\n2,bank rates fell\n",
            ),
            vec!["--text-col", "body"],
            "--text-col body: no such column",
        ),
    ];
    let exe = env!("CARGO_BIN_EXE_decscope");
    for (path, extra, phrase) in &cases {
        let p = path.to_str().unwrap();
        for mut args in [vec!["inspect", p], vec!["train", "--data", p]] {
            args.extend(extra.iter().copied());
            let out = Command::new(exe).args(&args).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
            assert_eq!(lines.len(), 1, "{args:?}: expected one line, got {err}");
            assert!(lines[0].contains(phrase), "{args:?}: {err}");
            assert!(!err.contains("panicked"), "{err}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--augment` on rows that are not images: exit 2 with one line saying why and what
/// to do, before any training starts.
#[test]
fn augment_without_images_exits_2_with_one_line() {
    let dir = std::env::temp_dir().join(format!("decscope-aug-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let table = dir.join("table.csv");
    let mut rows = String::from("a,b,c,label\n");
    for i in 0..40 {
        rows += &format!("{},{},{},{}\n", i, (i * 7) % 5, -i, i % 2);
    }
    std::fs::write(&table, rows).unwrap();
    let exe = env!("CARGO_BIN_EXE_decscope");
    let out = Command::new(exe)
        .args([
            "train",
            "--data",
            table.to_str().unwrap(),
            "--augment",
            "--quiet",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got {err}");
    assert!(lines[0].contains("augmentation needs images"), "{err}");
    assert!(lines[0].contains("--image-shape"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The one valid fixture: two class folders of three small PNGs each.
#[test]
fn the_valid_image_folder_loads_its_two_classes() {
    let ds = data::load(&fixture("images_ok"), &LoadOptions::default()).unwrap();
    assert_eq!(ds.n, 6);
    assert_eq!(
        ds.class_names,
        Some(vec!["circle".to_string(), "square".to_string()])
    );
    assert_eq!(ds.labels, Some(vec![0, 0, 0, 1, 1, 1]));
    assert!(ds.image_shape.is_some());
}

/// No fixture lies unused: each entry of tests/fixtures is a case above, the valid
/// image folder, or the valid report that `engine::report`'s unit test reads.
#[test]
fn every_fixture_is_used_by_a_test() {
    let used: std::collections::BTreeSet<&str> = CASES
        .iter()
        .map(|(name, _, _)| name.split('/').next().unwrap_or(name))
        // Used by tests/steer.rs and engine::report's unit test.
        .chain([
            "images_ok",
            "report_min.json",
            "constraints_out_of_range.csv",
            "constraints_unknown_kind.csv",
        ])
        .collect();
    let dir = fixture("");
    for e in std::fs::read_dir(&dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            used.contains(name.as_str()),
            "tests/fixtures/{name} is not used by any test"
        );
    }
}
