//! Every supported format loads a realistic file (MNIST digits written out in that
//! format) with the same features and labels, and trains end to end.

use std::io::Write;
use std::path::{Path, PathBuf};

use decscope::data::{self, Dataset, LoadOptions, Preprocessing};
use decscope::engine::config::DecConfig;
use decscope::engine::pipeline::{AeSource, Control, NullSink, run};
use ndarray::{Array1, Array2};

const N: usize = 300;

fn mnist() -> Dataset {
    let opts = LoadOptions {
        limit: Some(N),
        preprocessing: Preprocessing::None,
        ..Default::default()
    };
    data::load(&data::default_dataset_path(), &opts).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("decscope-formats-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn tiny_train(ds: &Dataset) -> f64 {
    let mut c = DecConfig::default().with_hidden(vec![64, 10]);
    c.pretrain.finetune_epochs = Some(40);
    c.cluster.max_iter = 100;
    c.cluster.update_interval = 10;
    c.cluster.kmeans_n_init = 5;
    let out = run(
        ds,
        &c,
        AeSource::Pretrain,
        &mut NullSink,
        &Control::default(),
    )
    .unwrap();
    assert_eq!(out.assignments.len(), ds.n);
    out.report.final_.acc.unwrap_or(0.0)
}

/// [`tiny_train`]'s ACC on the first 300 bundled IDX digits, read as the IDX files:
/// every container of the same pixels must train to exactly this (same seed, same
/// features, same result). Measured 0.48 (k-means alone: about 0.45; chance: 0.1).
fn reference_acc() -> f64 {
    static ACC: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *ACC.get_or_init(|| {
        let ds = data::load(
            &data::default_dataset_path(),
            &LoadOptions {
                limit: Some(N),
                ..Default::default()
            },
        )
        .unwrap();
        let acc = tiny_train(&ds);
        assert!(acc >= 0.4, "the IDX reference trains to ACC {acc}");
        acc
    })
}

/// Load `path` and compare with `want`; `auto` must see MNIST's pixels as pixels in
/// any container (it decides by content: before, CSV and float npz were standardised).
fn check(path: &Path, opts: &LoadOptions, want: &Dataset) {
    let raw = data::load(
        path,
        &LoadOptions {
            preprocessing: Preprocessing::None,
            ..opts.clone()
        },
    )
    .unwrap();
    assert_eq!((raw.n, raw.d), (want.n, want.d), "{}", path.display());
    assert_eq!(raw.x, want.x, "{}: features differ", path.display());
    let l = raw.labels.as_ref().unwrap();
    let names: Vec<String> = l.iter().map(|&c| raw.class_name(c)).collect();
    let want_names: Vec<String> = want
        .labels
        .as_ref()
        .unwrap()
        .iter()
        .map(|&c| want.class_name(c))
        .collect();
    assert_eq!(names, want_names, "{}: labels differ", path.display());
    let ds = data::load(path, opts).unwrap();
    assert_eq!(
        ds.preprocessing,
        Preprocessing::UnitRange,
        "{}: auto preprocessing ({:?})",
        path.display(),
        ds.preprocessing_reason
    );
    assert_eq!(
        ds.image_shape.map(|s| s.len()),
        Some(784),
        "28x28 guessed or known"
    );
    let acc = tiny_train(&ds);
    assert_eq!(
        acc,
        reference_acc(),
        "{}: the same pixels as the IDX files train to another ACC",
        path.display()
    );
}

#[test]
fn csv_with_header_and_label_column() {
    let m = mnist();
    let p = tmp("csv").join("digits.csv");
    let mut f = std::fs::File::create(&p).unwrap();
    let header: Vec<String> = (0..784).map(|i| format!("px{i}")).collect();
    writeln!(f, "{},label", header.join(",")).unwrap();
    for i in 0..N {
        let row: Vec<String> = m.row(i).iter().map(|v| v.to_string()).collect();
        writeln!(f, "{},{}", row.join(","), m.labels.as_ref().unwrap()[i]).unwrap();
    }
    drop(f);
    check(&p, &LoadOptions::default(), &m);
}

/// The labels as NumPy scripts save them (int64).
fn labels_i64(m: &Dataset) -> Array1<i64> {
    m.labels.iter().flatten().map(|&v| i64::from(v)).collect()
}

#[test]
fn npy_with_sibling_labels_and_npz() {
    let m = mnist();
    let dir = tmp("npy");
    let x = Array2::from_shape_vec((N, 784), m.x.iter().map(|&v| v as u8).collect()).unwrap();
    let y = labels_i64(&m);
    ndarray_npy::write_npy(dir.join("x.npy"), &x).unwrap();
    ndarray_npy::write_npy(dir.join("y.npy"), &y).unwrap();
    check(&dir.join("x.npy"), &LoadOptions::default(), &m);
    let mut z =
        decscope::data::npy::NpzWriter::new(std::fs::File::create(dir.join("d.npz")).unwrap());
    z.add_array("X", &x.mapv(|v| v as f32)).unwrap();
    z.add_array("labels", &y).unwrap();
    z.finish().unwrap();
    check(&dir.join("d.npz"), &LoadOptions::default(), &m);
}

#[test]
fn svmlight_sparse_text() {
    let m = mnist();
    let p = tmp("svm").join("digits.svm");
    let mut f = std::fs::File::create(&p).unwrap();
    for i in 0..N {
        write!(f, "{}", m.labels.as_ref().unwrap()[i]).unwrap();
        for (j, v) in m.row(i).iter().enumerate() {
            if *v != 0.0 {
                write!(f, " {}:{v}", j + 1).unwrap();
            }
        }
        writeln!(f).unwrap();
    }
    drop(f);
    // Trailing all-zero columns shrink d in svmlight; MNIST's last pixel is zero in
    // these rows, so pass the shape explicitly as a user would.
    let raw = data::load(
        &p,
        &LoadOptions {
            preprocessing: Preprocessing::None,
            ..Default::default()
        },
    )
    .unwrap();
    let d = raw.d;
    assert!(d <= 784 && d > 700);
    assert_eq!(raw.labels, m.labels);
    for i in 0..N {
        assert_eq!(raw.row(i), &m.row(i)[..d]);
    }
    let ds = data::load(&p, &LoadOptions::default()).unwrap();
    assert_eq!(ds.preprocessing, Preprocessing::L2Rows);
    // Row-normalised sparse pixels: measured 0.42; chance is 0.1.
    let acc = tiny_train(&ds);
    assert!(acc >= 0.35, "svmlight digits trained to ACC {acc}");
}

#[test]
fn image_folder_with_class_subfolders() {
    let m = mnist();
    let dir = tmp("img");
    for i in 0..N {
        let class = format!("digit{}", m.labels.as_ref().unwrap()[i]);
        std::fs::create_dir_all(dir.join(&class)).unwrap();
        let px: Vec<u8> = m.row(i).iter().map(|&v| v as u8).collect();
        let img = image::GrayImage::from_raw(28, 28, px).unwrap();
        img.save(dir.join(&class).join(format!("{i:05}.png")))
            .unwrap();
    }
    let ds = data::load(&dir, &LoadOptions::default()).unwrap();
    assert_eq!((ds.n, ds.d), (N, 784));
    assert_eq!(ds.preprocessing, Preprocessing::UnitRange);
    assert_eq!(ds.class_names.as_ref().unwrap()[0], "digit0");
    // Files are read class by class: compare as multisets of (label, image).
    let mut want: Vec<(String, Vec<u32>)> = (0..N)
        .map(|i| {
            (
                format!("digit{}", m.labels.as_ref().unwrap()[i]),
                m.row(i).iter().map(|&v| v as u32).collect(),
            )
        })
        .collect();
    let mut got: Vec<(String, Vec<u32>)> = (0..ds.n)
        .map(|i| {
            (
                ds.class_name(ds.labels.as_ref().unwrap()[i]),
                ds.row(i)
                    .iter()
                    .map(|&v| (v * 255.0).round() as u32)
                    .collect(),
            )
        })
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    // The same pixels in class order (another row order): measured 0.51.
    let acc = tiny_train(&ds);
    assert!(acc >= 0.4, "image folder trained to ACC {acc}");
    // A requested size resamples every image.
    let small = data::load(
        &dir,
        &LoadOptions {
            image_size: Some((14, 14)),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(small.d, 196);
}

/// Documents of three topics, made from topic words and shared filler, seeded:
/// (topic, title, text).
fn topic_docs(per_topic: usize) -> Vec<(String, String, String)> {
    use rand::{Rng, SeedableRng};
    let topics = [
        ("oil", ["crude", "barrels", "opec", "refinery", "petroleum"]),
        ("grain", ["wheat", "harvest", "corn", "farmers", "tonnes"]),
        (
            "banks",
            ["interest", "lending", "deposits", "central", "loans"],
        ),
    ];
    let filler = [
        "the",
        "said",
        "market",
        "week",
        "report",
        "officials",
        "new",
    ];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let mut out = Vec::new();
    for i in 0..per_topic {
        for (t, words) in &topics {
            let mut text: Vec<&str> = Vec::new();
            for _ in 0..30 {
                text.push(if rng.random_bool(0.6) {
                    words[rng.random_range(0..words.len())]
                } else {
                    filler[rng.random_range(0..filler.len())]
                });
            }
            out.push((t.to_string(), format!("{t} story {i}"), text.join(" ")));
        }
    }
    out
}

/// Text arrives three ways, each becomes unit tf-idf rows with the same vocabulary
/// rule: a gzip CSV with a text column, a folder of .txt files by class, and a .txt
/// file with one document per line (no labels). DEC separates the topics.
#[test]
fn text_as_csv_gz_folders_and_lines() {
    let docs = topic_docs(40);
    let dir = tmp("text");
    // CSV, gzip-compressed, with quotes and commas in the text.
    let mut csv = String::from("id,topic,title,text\n");
    for (i, (t, title, text)) in docs.iter().enumerate() {
        csv += &format!("{i},{t},{title},\"{text}, indeed\"\n");
    }
    let gz = dir.join("news.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(csv.as_bytes()).unwrap();
    enc.finish().unwrap();
    let a = data::load(
        &gz,
        &LoadOptions {
            label_col: "topic".parse().unwrap(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!((a.n, a.n_classes()), (120, Some(3)));
    assert_eq!(a.preprocessing, Preprocessing::L2Rows);
    assert!(a.text.is_some());
    assert_eq!(a.title(0), Some("oil story 0"));
    assert!(a.d < 30, "vocabulary {}", a.d);
    // A folder of .txt files, one subfolder per topic.
    let folder = dir.join("corpus");
    for (i, (t, _, text)) in docs.iter().enumerate() {
        let sub = folder.join(t);
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(format!("{i:03}.txt")), format!("{text}, indeed")).unwrap();
    }
    let b = data::load(&folder, &LoadOptions::default()).unwrap();
    assert_eq!((b.n, b.n_classes()), (120, Some(3)));
    assert_eq!(
        b.class_names,
        Some(vec!["banks".into(), "grain".into(), "oil".into()])
    );
    assert_eq!(a.d, b.d, "the same words give the same vocabulary size");
    // One document per line, no labels.
    let lines: String = docs.iter().map(|d| format!("{}\n", d.2)).collect();
    let txt = dir.join("lines.txt");
    std::fs::write(&txt, lines).unwrap();
    let c = data::load(&txt, &LoadOptions::default()).unwrap();
    assert_eq!((c.n, c.labels.is_none()), (120, true));
    // --vocab caps the vocabulary.
    let small = data::load(
        &txt,
        &LoadOptions {
            vocab: 5,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(small.d, 5);
    let acc = tiny_train(&a);
    // Three topics with disjoint words: measured 1.0.
    assert!(acc >= 0.95, "DEC on three clear topics: ACC {acc}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--features hog` on MNIST: 144 HOG values per digit (3x3 cells of the central
/// 24x24 pixels), the pixels kept for pictures, and a run that scores.
#[test]
fn hog_features_replace_pixels_and_keep_them_for_pictures() {
    let ds = data::load(
        &data::default_dataset_path(),
        &LoadOptions {
            limit: Some(N),
            features: data::Features::Hog,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!((ds.n, ds.d), (N, 144));
    assert_eq!(ds.display_d(), 784);
    assert_eq!(ds.display_row(0), &mnist().x[..784]);
    assert!(
        ds.features_note
            .as_deref()
            .unwrap()
            .starts_with("HOG: 144 values")
    );
    // 3x3 HOG cells of 300 digits: measured 0.37; chance is 0.1.
    let acc = tiny_train(&ds);
    assert!(acc >= 0.3, "HOG features trained to ACC {acc}");
    let table = tmp("hog").join("table.csv");
    std::fs::write(&table, "a,b,c\n1,2,3\n4,5,6\n").unwrap();
    let e = data::load(
        &table,
        &LoadOptions {
            features: data::Features::Hog,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("--features hog needs images"), "{e}");
}

/// Images in the shapes NumPy scripts hold them: (n, 28, 28) u8 as Keras' and
/// torchvision's MNIST, (n, 1, 28, 28) float as a PyTorch batch, in `.npy` and `.npz`.
/// Each loads as the same 784 pixels per digit as the IDX files, with the 28x28 image
/// shape kept (galleries, HOG, augmentation) and a note of how the array was read.
#[test]
fn npy_and_npz_image_arrays_keep_their_image_shape() {
    use decscope::data::ImageShape;
    let m = mnist();
    let dir = tmp("npy-images");
    let y = labels_i64(&m);
    let px: Vec<u8> = m.x.iter().map(|&v| v as u8).collect();
    let hw = ndarray::Array3::from_shape_vec((N, 28, 28), px.clone()).unwrap();
    ndarray_npy::write_npy(dir.join("images.npy"), &hw).unwrap();
    ndarray_npy::write_npy(dir.join("images_labels.npy"), &y).unwrap();
    let chw = ndarray::Array4::from_shape_vec((N, 1, 28, 28), m.x.clone()).unwrap();
    let mut z =
        decscope::data::npy::NpzWriter::new(std::fs::File::create(dir.join("t.npz")).unwrap());
    z.add_array("x", &chw).unwrap();
    z.add_array("y", &y).unwrap();
    z.finish().unwrap();
    let grey = ImageShape {
        height: 28,
        width: 28,
        channels: 1,
    };
    for (f, phrase) in [("images.npy", "grey images"), ("t.npz", "channels first")] {
        let p = dir.join(f);
        check(&p, &LoadOptions::default(), &m);
        let ds = data::load(&p, &LoadOptions::default()).unwrap();
        assert_eq!(ds.image_shape, Some(grey), "{f}");
        let note = ds.features_note.clone().unwrap_or_default();
        assert!(note.contains(phrase), "{f}: {note}");
        // Pixels 0..255 with an image shape: scaled like the IDX files.
        assert_eq!(ds.preprocessing, Preprocessing::UnitRange, "{f}");
        // DEC-DA's augmentation takes them.
        let aug = decscope::engine::nn::augment::AugmentConfig::default().for_dataset(&ds);
        assert!(aug.is_ok(), "{f}: {:?}", aug.err());
    }
}

/// Colour images channels first (n, 3, H, W) are stored channels last, as every image
/// here: by hand, for one 2x2 image with R = 0..3, G = 10..13, B = 20..23 (row-major),
/// pixel (0, 1) is (1, 11, 21). Channels last (n, H, W, 3) is read as it is.
#[test]
fn channels_first_colour_images_are_transposed_to_channels_last() {
    let dir = tmp("npy-colour");
    let v: Vec<f32> = [
        0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 13.0, 20.0, 21.0, 22.0, 23.0,
    ]
    .repeat(4);
    let chw = ndarray::Array4::from_shape_vec((4, 3, 2, 2), v).unwrap();
    ndarray_npy::write_npy(dir.join("chw.npy"), &chw).unwrap();
    let opts = LoadOptions {
        preprocessing: Preprocessing::None,
        ..Default::default()
    };
    let ds = data::load(&dir.join("chw.npy"), &opts).unwrap();
    assert_eq!((ds.n, ds.d), (4, 12));
    assert_eq!(
        &ds.x[..12],
        &[
            0.0, 10.0, 20.0, 1.0, 11.0, 21.0, 2.0, 12.0, 22.0, 3.0, 13.0, 23.0
        ]
    );
    assert_eq!(ds.image_shape.map(|s| s.channels), Some(3));
    let hwc = chw
        .permuted_axes([0, 2, 3, 1])
        .as_standard_layout()
        .to_owned();
    ndarray_npy::write_npy(dir.join("hwc.npy"), &hwc).unwrap();
    let ds2 = data::load(&dir.join("hwc.npy"), &opts).unwrap();
    assert_eq!(ds2.x, ds.x);
    assert!(ds2.features_note.unwrap().contains("channels last"));
}

/// Run the binary; (exit status, stdout, stderr).
fn cli(args: &[&str]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_decscope"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A table as people keep them: a quoted name column with commas, two measurements
/// and a class column of words, no option given. Before, "'pet 0, the cat' is not a
/// number". Now the name is each sample's title (in `predict`'s table too), the word
/// column is found as the label, and DEC separates the three clear classes.
#[test]
fn a_table_with_a_name_column_and_word_labels_trains_as_is() {
    let dir = tmp("pets");
    let mut csv = String::from("name,weight,height,animal\n");
    for i in 0..60 {
        let (a, w, h) = [("cat", 4, 25), ("dog", 20, 50), ("emu", 40, 170)][i % 3];
        csv += &format!("\"pet {i}, the {a}\",{w}.{},{h}.{},{a}\n", i % 10, i % 7);
    }
    let p = dir.join("pets.csv");
    std::fs::write(&p, csv).unwrap();
    let ps = p.to_str().unwrap();
    let (code, out, err) = cli(&["inspect", ps]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("labels       3 classes: cat=20 dog=20 emu=20"),
        "{out}"
    );
    assert!(out.contains("labels from column 'animal'"), "{out}");
    assert!(out.contains("column 'name' holds words"), "{out}");
    let model = dir.join("model");
    let (code, out, err) = cli(&[
        "train",
        "--data",
        ps,
        "--seed",
        "0",
        "--save",
        model.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("k 3 (the labels' classes)"), "{err}");
    let dec = out
        .lines()
        .find(|l| l.starts_with("DEC "))
        .unwrap_or_default();
    assert!(dec.contains("1.0000"), "three clear classes: {out}");
    // The same measurements without the class column: k falls back to 10, and the
    // run says so; --clusters names its own k.
    let bare = dir.join("bare.csv");
    let rows: String = (0..60)
        .map(|i| {
            format!(
                "{}.{},{}.{}\n",
                [4, 20, 40][i % 3],
                i % 10,
                [25, 50, 170][i % 3],
                i % 7
            )
        })
        .collect();
    std::fs::write(&bare, format!("weight,height\n{rows}")).unwrap();
    let short = ["--finetune-iters", "20", "--max-iter", "20", "--seed", "0"];
    let (code, _, err) = cli(&[&["train", "--data", bare.to_str().unwrap()][..], &short].concat());
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("k 10 (no labels to count classes; --clusters K sets it)"),
        "{err}"
    );
    let (code, _, err) = cli(&[
        &["train", "--data", bare.to_str().unwrap(), "--clusters", "3"][..],
        &short,
    ]
    .concat());
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("method DEC, k 3, augmentation"), "{err}");
    let table = dir.join("pred.csv");
    let (code, _, err) = cli(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--data",
        ps,
        "--out",
        table.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let t = std::fs::read_to_string(&table).unwrap();
    let mut lines = t.lines();
    assert_eq!(lines.next(), Some("index,cluster,confidence,label,title"));
    let row1 = lines.nth(1).unwrap();
    assert!(
        row1.starts_with("1,") && row1.ends_with(",dog,\"pet 1, the dog\""),
        "{row1}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// One column of 100 identical short documents under a header: before, "line 1,
/// column 1: 'text' is not a number"; now it reads as text and is refused up front
/// like identical rows.
#[test]
fn identical_documents_are_refused_up_front() {
    let dir = tmp("same-docs");
    let p = dir.join("docs.csv");
    std::fs::write(&p, format!("text\n{}", "the cat sat\n".repeat(100))).unwrap();
    let (code, _, err) = cli(&["train", "--data", p.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("decscope: error"))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains(
            "every one of the 100 documents of docs.csv is identical: there is nothing to cluster"
        ),
        "{err}"
    );
    // Varied short documents in one column load as text.
    let varied: String = (0..40)
        .map(|i| format!("{} news\n", ["oil", "grain"][i % 2]))
        .collect();
    std::fs::write(&p, format!("text\n{varied}")).unwrap();
    let ds = data::load(&p, &LoadOptions::default()).unwrap();
    assert_eq!((ds.n, ds.text.is_some()), (40, true));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Empty and NA cells: refused with the count per column and the flag, or handled
/// as `--missing` says (rows dropped with their labels, or column means).
#[test]
fn missing_values_follow_the_missing_flag() {
    let dir = tmp("gaps");
    let p = dir.join("gaps.csv");
    // Row i: a = i % 4 (empty where i % 10 == 3), b = i % 3 ("NA" at i = 5), label i % 2.
    let rows = (0..30).map(|i| {
        let a = if i % 10 == 3 {
            String::new()
        } else {
            (i % 4).to_string()
        };
        let b = if i == 5 {
            "NA".to_string()
        } else {
            (i % 3).to_string()
        };
        format!("{a},{b},{}\n", i % 2)
    });
    std::fs::write(&p, format!("a,b,label\n{}", rows.collect::<String>())).unwrap();
    let ps = p.to_str().unwrap();
    let (code, _, err) = cli(&["train", "--data", ps]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("4 missing values (empty or NA cells, NaN) in 2 column(s) (a: 3, b: 1)"),
        "{err}"
    );
    assert!(
        err.contains("--missing drop-rows") && err.contains("--missing mean"),
        "{err}"
    );
    let load = |m: data::Missing| {
        data::load(
            &p,
            &LoadOptions {
                missing: m,
                preprocessing: Preprocessing::None,
                ..Default::default()
            },
        )
        .unwrap()
    };
    let dropped = load(data::Missing::DropRows);
    assert_eq!(dropped.n, 26);
    assert_eq!(
        dropped.labels.as_ref().unwrap()[3],
        0,
        "row 4 of the file (i = 4) follows row 3 (i = 2)"
    );
    let filled = load(data::Missing::Mean);
    assert_eq!(filled.n, 30);
    // Column a without rows 3, 13, 23: values i % 4 over the other 27 rows.
    let present: Vec<f32> = (0..30)
        .filter(|i| i % 10 != 3)
        .map(|i| (i % 4) as f32)
        .collect();
    let mean = present.iter().sum::<f32>() / present.len() as f32;
    assert!(
        (filled.x[3 * 2] - mean).abs() < 1e-6,
        "{} vs {mean}",
        filled.x[6]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// NaN in a NumPy array is a missing value too: refused with its count and column, or
/// filled with the column's mean.
#[test]
fn nan_in_a_numpy_array_is_missing_too() {
    let dir = tmp("gaps-npy");
    let npy = dir.join("gaps.npy");
    let arr = Array2::from_shape_vec((3, 2), vec![1.0f32, 2.0, f32::NAN, 4.0, 5.0, 6.0]).unwrap();
    ndarray_npy::write_npy(&npy, &arr).unwrap();
    let e = data::load(&npy, &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("1 missing values") && e.contains("column 0: 1"),
        "{e}"
    );
    let ds = data::load(
        &npy,
        &LoadOptions {
            missing: data::Missing::Mean,
            preprocessing: Preprocessing::None,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(ds.x[2], 3.0, "the mean of 1 and 5");
    let _ = std::fs::remove_dir_all(&dir);
}
