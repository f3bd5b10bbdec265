//! Tests of the Steer panel (`steer`): must-link and cannot-link pairs from a selection,
//! a pair kept once and the last link winning, on a view without a window.
//!
//! Apart from the code so that each reads in one file; they see its private items.

use super::*;

#[test]
fn must_and_cannot_links_from_a_selection() {
    let mut v = SteerView::default();
    v.must_link(&[4, 7, 9]);
    assert_eq!(v.constraints.len(), 3);
    assert!(v.constraints.iter().all(|c| c.link == Link::Must));
    // Cluster 1 has samples 0, 2, 3 (confidences .5, .9, .7); 2 is the most confident.
    let a = [1, 0, 1, 1, 0];
    let q = [0.5, 0.9, 0.9, 0.7, 0.9];
    v.cannot_link(&[4], 1, &a, &q);
    let cannot: Vec<(usize, usize)> = v
        .constraints
        .iter()
        .filter(|c| c.link == Link::Cannot)
        .map(|c| (c.i, c.j))
        .collect();
    assert_eq!(cannot, vec![(4, 2), (4, 3), (4, 0)]);
}

/// The links in force between samples `x` and `y` (in either order).
fn link(v: &SteerView, x: usize, y: usize) -> Vec<Link> {
    v.constraints
        .iter()
        .filter(|c| (c.i, c.j) == (x, y) || (c.i, c.j) == (y, x))
        .map(|c| c.link)
        .collect()
}

/// Picking the same samples twice adds no pair twice; picking a pair again with the
/// other link turns it (before, the pairs doubled and one pair could be both).
#[test]
fn a_pair_is_kept_once_and_the_last_link_wins() {
    let mut v = SteerView::default();
    v.must_link(&[4, 7, 9]);
    v.must_link(&[9, 7, 4]);
    assert_eq!(v.constraints.len(), 3, "{:?}", v.constraints);
    assert!(v.note.contains("0 must-link pair(s)"), "{}", v.note);
    assert!(v.note.contains("3 already picked"), "{}", v.note);
    // Sample 7 is cluster 1's most confident member: (4, 7) turns to cannot-link.
    let a = [0, 0, 0, 0, 0, 0, 0, 1, 0, 0];
    let q = [0.5; 10];
    v.cannot_link(&[4], 1, &a, &q);
    assert_eq!(v.constraints.len(), 3, "{:?}", v.constraints);
    assert_eq!(link(&v, 4, 7), vec![Link::Cannot]);
    assert_eq!(link(&v, 4, 9), vec![Link::Must]);
    assert!(v.note.contains("1 turned from must-link"), "{}", v.note);
    // Three picks listed; removing the cannot-link one gives (4, 7) back its
    // must-link, removing the first must-link pick leaves the second's three.
    assert_eq!(v.pair_groups.len(), 3);
    assert_eq!(
        v.pair_groups[2].what,
        "cannot-link 1 samples with cluster 1"
    );
    v.remove_pairs(2);
    assert_eq!(link(&v, 4, 7), vec![Link::Must]);
    v.remove_pairs(0);
    assert_eq!(v.pair_groups.len(), 1);
    assert_eq!(v.constraints.len(), 3);
    assert!(v.constraints.iter().all(|c| c.link == Link::Must));
    v.remove_pairs(0);
    assert!(v.constraints.is_empty() && v.pair_groups.is_empty());
}

/// After a run from k-means on Z the suggestions' note says what to compare with; after
/// any other start it only counts them.
#[test]
fn the_suggestions_note_names_self_correct_after_a_kmeans_start() {
    let found = |kmeans_start: bool| {
        let mut v = SteerView {
            kmeans_start,
            ..SteerView::default()
        };
        let (tx, rx) = crossbeam_channel::bounded(1);
        tx.send(Vec::new()).unwrap();
        v.finding = Some(rx);
        v.poll();
        v.note
    };
    assert_eq!(found(false), "0 suggested edit(s)");
    let note = found(true);
    assert!(
        note.starts_with("0 suggested edit(s); from a k-means start on Z"),
        "{note}"
    );
    assert!(
        note.ends_with(
            "compare with a run with self-correct ticked (under start, in the Training panel)"
        ),
        "{note}"
    );
}
