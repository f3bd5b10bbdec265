//! Tests of the Embedding view (`embedding`): the point image's squares and which point
//! wins a pixel, without a window.
//!
//! Apart from the code so that each reads in one file; they see its private items.

use super::*;
use points::over;

/// By hand: at 1 pixel per point, a square of half-side 1 centred on (2, 2) covers
/// the pixels whose centres lie in [1, 3) x [1, 3): columns and rows 1 and 2. A
/// second, opaque point drawn later covers the first where they overlap; a half
/// transparent one blends over it.
#[test]
fn squares_cover_the_pixels_whose_centres_they_contain_and_later_points_win() {
    let red = Color32::from_rgb(200, 0, 0);
    let blue = Color32::from_rgb(0, 0, 200);
    let pts = [[2.0, 2.0], [3.0, 3.0]];
    let cols = [red, blue];
    let img = point_image(
        &pts,
        &|i| cols[i],
        &|p| Pos2::new(p[0], p[1]),
        1.0,
        Pos2::ZERO,
        [5, 5],
        1.0,
    );
    let at = |x: usize, y: usize| img.pixels[y * 5 + x];
    assert_eq!(at(1, 1), red);
    assert_eq!(at(2, 1), red);
    assert_eq!(at(1, 2), red);
    assert_eq!(at(2, 2), blue, "the later point is on top");
    assert_eq!(at(3, 3), blue);
    assert_eq!(at(0, 0), Color32::TRANSPARENT);
    assert_eq!(at(3, 1), Color32::TRANSPARENT);
    assert_eq!(at(4, 4), Color32::TRANSPARENT);
    // Two pixels per point: the same square spans 4 x 4 pixels from (2, 2).
    let img2 = point_image(
        &pts[..1],
        &|_| red,
        &|p| Pos2::new(p[0], p[1]),
        1.0,
        Pos2::ZERO,
        [10, 10],
        2.0,
    );
    let covered: Vec<usize> = (0..100).filter(|&i| img2.pixels[i] == red).collect();
    let want: Vec<usize> = (2..6)
        .flat_map(|y| (2..6).map(move |x| y * 10 + x))
        .collect();
    assert_eq!(covered, want);
    // Half-transparent white (premultiplied 128) over opaque blue (0, 0, 200):
    // 200 * (255 - 128) / 255 + 128 = 228 in blue, 128 in red and green.
    let half = Color32::from_rgba_premultiplied(128, 128, 128, 128);
    assert_eq!(
        over(half, blue),
        Color32::from_rgba_premultiplied(128, 128, 228, 255)
    );
}

/// A suggestion's clusters keep their colour; every other point (of another cluster,
/// or of none) is drawn at an eighth of its opacity or less; with nothing picked out
/// every colour stays.
#[test]
fn picked_out_clusters_keep_their_colour_and_the_rest_fade() {
    let c = Color32::from_rgb(200, 100, 0);
    let h: &[usize] = &[2, 5];
    assert_eq!(picked_out(c, Some(2), Some(h)), c);
    assert_eq!(picked_out(c, Some(5), Some(h)), c);
    for faded in [
        picked_out(c, Some(3), Some(h)),
        picked_out(c, None, Some(h)),
    ] {
        assert!(faded.a() <= 255 / 8, "{faded:?}");
    }
    assert_eq!(picked_out(c, Some(3), None), c);
    assert_eq!(picked_out(c, None, None), c);
}

/// Before a run the raw input's caption asks for Start; while a run has sent no
/// embedding yet it says that training runs, in which phase and step.
#[test]
fn the_raw_caption_says_training_runs_until_the_first_snapshot() {
    let mut run = crate::app::state::RunView::default();
    assert_eq!(
        raw_caption(&run),
        "PCA of the raw input (press Start to train)"
    );
    run.phase = Some(Phase::Finetune);
    run.step = 16;
    run.total = 16_000;
    let cap = raw_caption(&run);
    assert!(
        cap.contains("training runs (finetune step 16 of 16000)"),
        "{cap}"
    );
}
