//! Tests of the text features (`text`): tokens, stop words, stems, the vocabulary cut,
//! tf-idf against scikit-learn's values, and the text CSV's columns.
//!
//! Apart from the code so that each reads in one file; they see its private items.

use super::*;

#[test]
fn tokens_are_lowercase_letters_without_stop_words_and_stemmed() {
    let t = Tokenizer::default();
    assert_eq!(
        t.stems("The companies' SHARES were rising, 25 pct; oil-prices fell a bit."),
        vec![
            "compani", "share", "rise", "pct", "oil", "price", "fell", "bit"
        ]
    );
}

/// The oracles' four token lists (the last document empty).
fn toy_docs() -> Vec<Vec<String>> {
    [
        vec!["oil", "price", "oil"],
        vec!["share", "price"],
        vec!["oil", "rate"],
        vec![],
    ]
    .iter()
    .map(|d| d.iter().map(|s| s.to_string()).collect())
    .collect()
}

/// The oracle's four rows: `first`, then the three rows raw and sublinear tf share
/// (no term repeats in documents 1 and 2; document 3 is empty).
fn oracle_rows(first: [f32; 3]) -> Vec<f32> {
    let rest = [0.0, 1.0, 0.0, 0.619_130_3, 0.0, 0.785_288_3, 0.0, 0.0, 0.0];
    first.iter().chain(&rest).copied().collect()
}

fn assert_close(x: &[f32], want: &[f32]) {
    assert_eq!(x.len(), want.len());
    for (g, w) in x.iter().zip(want) {
        assert!((g - w).abs() < 1e-5, "{x:?}");
    }
}

/// Oracle: scikit-learn's formula in plain Python (equivalent to
/// `TfidfVectorizer(analyzer=lambda d: d, smooth_idf=True, norm="l2")` with the
/// vocabulary cut to the 3 most frequent tokens):
///
/// ```text
/// import math
/// docs = [["oil","price","oil"], ["share","price"], ["oil","rate"], []]
/// vocab = ["oil", "price", "rate"]  # counts 3, 2, 1 (rate < share by name)
/// n = len(docs); df = [sum(t in d for d in docs) for t in vocab]
/// idf = [math.log((1+n)/(1+f)) + 1 for f in df]
/// rows = [[d.count(t)*w for t, w in zip(vocab, idf)] for d in docs]
/// [[v/math.sqrt(sum(u*u for u in r)) if any(r) else 0 for v in r] for r in rows]
/// [[0.8944271909999159, 0.4472135954999579, 0.0], [0.0, 1.0, 0.0], [0.6191302964899972, 0.0, 0.7852882757103967], [0, 0, 0]]
/// ```
#[test]
fn tfidf_matches_the_sklearn_formula() {
    let (x, terms) = tfidf(&toy_docs(), 3, Tf::Raw);
    assert_eq!(terms, vec!["oil", "price", "rate"]);
    let want = [0.894_427_2, 0.447_213_6, 0.0];
    assert_close(&x, &oracle_rows(want));
}

/// Oracle: scikit-learn 1.x itself, with sublinear tf:
///
/// ```text
/// from sklearn.feature_extraction.text import TfidfVectorizer
/// docs = [["oil","price","oil"], ["share","price"], ["oil","rate"], []]
/// v = TfidfVectorizer(analyzer=lambda d: d, vocabulary=["oil","price","rate"],
///                     sublinear_tf=True, smooth_idf=True, norm="l2")
/// v.fit_transform(docs).toarray().tolist()
/// [[0.8610369959439763, 0.5085423203783267, 0.0], [0.0, 1.0, 0.0],
///  [0.6191302964899972, 0.0, 0.7852882757103967], [0.0, 0.0, 0.0]]
/// ```
#[test]
fn sublinear_tf_matches_sklearn() {
    let (x, _) = tfidf(&toy_docs(), 3, Tf::Sublinear);
    let want = [0.861_037, 0.508_542_3, 0.0];
    assert_close(&x, &oracle_rows(want));
}

#[test]
fn a_csv_with_a_text_column_becomes_tfidf_with_labels_and_titles() {
    let csv = "id,topic,title,text\n1,oil,CRUDE UP,\"Crude oil prices rose sharply today, oil traders said.\"\n2,earn,PROFIT,\"The company reported a quarterly profit and dividend.\"\n3,oil,OPEC,\"OPEC oil output and crude prices, ministers said.\"\n";
    let ds = load_csv(
        csv.as_bytes(),
        Path::new("t.csv"),
        &LabelCol::Auto,
        &TextOptions::default(),
    )
    .unwrap();
    assert_eq!(ds.n, 3);
    assert_eq!(ds.labels, Some(vec![1, 0, 1]));
    assert_eq!(ds.class_names, Some(vec!["earn".into(), "oil".into()]));
    let t = ds.text.as_ref().unwrap();
    assert_eq!(ds.title(0), Some("CRUDE UP"));
    assert_eq!(t.vocabulary[0], "oil", "the most frequent stem comes first");
    for i in 0..3 {
        let norm: f32 = ds.row(i).iter().map(|v| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-5);
    }
    let terms = top_terms(&ds, &[1, 0, 1], 2, 2);
    assert_eq!(terms[1][0].0, "oil");
    assert!(ds.label_note.as_deref().unwrap().contains("column 'text'"));
}

#[test]
fn text_errors_say_what_to_do() {
    let p = Path::new("t.csv");
    let o = TextOptions::default();
    let e = load_csv(
        b"id,text\n1,\n2,\n",
        p,
        &LabelCol::Auto,
        &TextOptions {
            text_col: Some("text".into()),
            ..o.clone()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("empty in every row"), "{e}");
    let e = load_csv(b"a,b\n1,2\n", p, &LabelCol::Auto, &o)
        .unwrap_err()
        .to_string();
    assert!(e.contains("--text-col"), "{e}");
    let e = load_lines(&[0xff, 0xfe, 0x00, 0x41], Path::new("x.txt"), &o)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not UTF-8"), "{e}");
    let e = load_lines(
        "one single line of words".as_bytes(),
        Path::new("x.txt"),
        &o,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("at least 2"), "{e}");
}
