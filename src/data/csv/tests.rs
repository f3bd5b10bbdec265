//! Tests of the CSV / TSV reader (`csv`): headers, the label column, word columns as
//! titles, missing cells and the refusals of bad tables.
//!
//! Apart from the code so that each reads in one file; they see its private items.

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

#[test]
fn name_columns_become_titles_and_stay_out_of_the_features() {
    let t = b"id,name,w,h\n7,\"item 0, x\",1.5,2\n8,\"item 1, y\",3,4\n9,\"item 2, z\",5,6\n";
    let ds = parse(t, Path::new("t.csv"), &LabelCol::Auto).unwrap();
    assert_eq!((ds.n, ds.d), (3, 3));
    assert_eq!(ds.x, vec![7., 1.5, 2., 8., 3., 4., 9., 5., 6.]);
    assert_eq!(ds.title(1), Some("item 1, y"));
    assert_eq!(
        ds.column_names,
        Some(vec!["id".into(), "w".into(), "h".into()])
    );
    assert!(ds.labels.is_none());
    assert_eq!(
            ds.notes,
            vec!["column 'name' holds words, not numbers: kept out of the features and used as each sample's title".to_string()]
        );
}

#[test]
fn a_column_of_few_words_is_the_label() {
    let mut t = String::from("animal_name,x,animal\n");
    for i in 0..30 {
        t += &format!("pet {i},{},{}\n", i % 7, ["cat", "dog", "emu"][i % 3]);
    }
    let ds = parse(t.as_bytes(), Path::new("t.csv"), &LabelCol::Auto).unwrap();
    assert_eq!(ds.d, 1);
    assert_eq!(ds.n_classes(), Some(3));
    assert_eq!(ds.class_name(ds.labels.as_ref().unwrap()[4]), "dog");
    assert!(
        ds.label_note
            .as_deref()
            .unwrap()
            .starts_with("labels from column 'animal' (3 distinct words"),
        "{:?}",
        ds.label_note
    );
    assert_eq!(ds.title(2), Some("pet 2"));
    // --label-col none: no labels; both word columns make the title.
    let ds = parse(t.as_bytes(), Path::new("t.csv"), &LabelCol::None).unwrap();
    assert!(ds.labels.is_none());
    assert_eq!(ds.title(2), Some("pet 2 · emu"));
    // Without a header, the same.
    let body = t.split_once('\n').unwrap().1;
    let ds = parse(body.as_bytes(), Path::new("t.csv"), &LabelCol::Auto).unwrap();
    assert_eq!((ds.d, ds.n_classes()), (1, Some(3)));
    assert!(ds.label_note.as_deref().unwrap().contains("column 2"));
}

#[test]
fn missing_cells_read_as_nan_and_words_only_tables_are_refused() {
    let t = b"a,b\n1,\n,NA\n3,4\n";
    let ds = parse(t, Path::new("t.csv"), &LabelCol::Auto).unwrap();
    assert_eq!(ds.n, 3);
    assert!(ds.x[1].is_nan() && ds.x[2].is_nan() && ds.x[3].is_nan());
    assert_eq!(ds.x[4], 3.0);
    let e = parse(
        b"name,animal\nrex,dog\nfelix,cat\nbo,dog\nkit,cat\n",
        Path::new("t.csv"),
        &LabelCol::Auto,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("no numeric feature columns"), "{e}");
    assert!(e.contains("--text-col"), "{e}");
}
