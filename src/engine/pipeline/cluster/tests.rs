//! Tests of `cluster`: the DEC phase (section 3.1 of the paper): minimise KL(P‖Q) by SGD on the encoder.
//!
//! Apart from the code so that each reads in one file; they see its private items.

use super::*;
use crate::engine::config::DecConfig;

/// An emptied cluster is named as such; no message prints a threshold of 0.
#[test]
fn an_empty_cluster_is_called_empty_not_below_a_zero_threshold() {
    let c = DecConfig::default().cluster;
    // k close to n: a cluster k-means left with 1 sample has threshold 0.25.
    let th = collapse_thresholds(&[1, 9], 10, c.collapse_fraction);
    let m = collapse_message(0, 40, 0, (1, "after k-means"), th[0], 5.0, &c);
    assert!(m.starts_with("cluster 0 emptied at DEC step 40"), "{m}");
    assert!(!m.contains("threshold of 0"), "{m}");
    let m = collapse_message(
        1,
        40,
        1,
        (9, "at the hand edit of DEC step 20"),
        th[1],
        5.0,
        &c,
    );
    assert!(m.contains("1 samples, below its threshold of 1.2"), "{m}");
    assert!(
        m.contains("its 9 samples at the hand edit of DEC step 20,"),
        "{m}"
    );
}
