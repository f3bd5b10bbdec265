//! Where a t-SNE warm update spends its time, and what it costs in quality:
//! `cargo run --release --example tsne_warm -- z.csv` on an embedding dumped with
//! `decscope project --dump-input z.csv`. Compares the FFT-interpolated gradient with
//! Barnes-Hut at several θ, from the same converged layout and neighbour table, scoring
//! each result with one exact KL(P||Q) (O(n²), on the same P).

use std::time::Instant;

use decscope::engine::cluster::neighbors::{Neighbor, exact_knn, refresh_distances};
use decscope::projection::barnes_hut::{Descent, affinities, optimize};
use decscope::projection::tsne::to_bhtsne;
use decscope::projection::{TsneParams, tsne};

type Tsne<'a> = bhtsne::tSNE<'a, f32, &'a [f32], 2>;

fn main() {
    let path = std::env::args().nth(1).expect("usage: tsne_warm Z.csv");
    let (x, d) = read_rows(&path);
    let n = x.len() / d;
    let t = Instant::now();
    let (y, _) = tsne(&x, d, &TsneParams::default(), None);
    println!(
        "{n} x {d}: fit from scratch {:.2}s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let mut table = exact_knn(&x, d, 90);
    println!("exact kNN (k = 90): {:.3}s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    refresh_distances(&mut table, &x, d);
    println!("distance refresh: {:.4}s", t.elapsed().as_secs_f64());
    let nb = to_bhtsne(&table);
    let rows: Vec<&[f32]> = x.chunks_exact(d).collect();
    let mut reference: Tsne = bhtsne::tSNE::new(&rows);
    reference
        .perplexity(30.0)
        .epochs(1)
        .initial_embedding(y.clone());
    reference.barnes_hut_with_neighbors(0.5, &nb);
    let aff = reference.affinities().expect("affinities after a fit");
    let exact_kl = |y: &[f32]| exact_kl(y, &aff);
    println!("exact KL of the start layout: {:.4}", exact_kl(&y));
    for theta in [0.0f32, 0.5, 0.6, 0.7, 0.8] {
        let t = Instant::now();
        let out = bhtsne_warm(&rows, &y, &nb, theta);
        let secs = t.elapsed().as_secs_f64();
        let label = if theta > 0.0 {
            format!("Barnes-Hut θ={theta}")
        } else {
            "FFT".into()
        };
        println!(
            "100 iterations, {label:18}: {secs:.3}s, exact KL {:.4}",
            exact_kl(&out)
        );
    }
    // decscope's own Barnes-Hut (src/projection/barnes_hut.rs), as the warm updates use it.
    for theta in [0.5f32, 0.3] {
        let t = Instant::now();
        let out = own_warm(&table, &y, theta);
        let secs = t.elapsed().as_secs_f64();
        println!(
            "100 iterations, decscope BH θ={theta}: {secs:.3}s (P included), exact KL {:.4}",
            exact_kl(&out)
        );
    }
}

/// The rows of a CSV of numbers, and their width.
fn read_rows(path: &str) -> (Vec<f32>, usize) {
    let text = std::fs::read_to_string(path).expect("readable CSV");
    let mut x = Vec::new();
    let mut d = 0;
    for line in text.lines() {
        let row: Vec<f32> = line
            .split(',')
            .filter_map(|v| v.trim().parse().ok())
            .collect();
        if !row.is_empty() {
            d = row.len();
            x.extend(row);
        }
    }
    (x, d)
}

/// KL(P‖Q) of layout `y` over the edges of `aff`, with Q's normaliser summed over every
/// pair (O(n²)).
fn exact_kl(y: &[f32], aff: &bhtsne::SparseAffinities<f32>) -> f64 {
    let n = y.len() / 2;
    let d2 = |i: usize, j: usize| {
        let (a, b) = (
            (y[2 * i] - y[2 * j]) as f64,
            (y[2 * i + 1] - y[2 * j + 1]) as f64,
        );
        a * a + b * b
    };
    let z: f64 = (0..n)
        .map(|i| {
            (0..n)
                .filter(|&j| j != i)
                .map(|j| 1.0 / (1.0 + d2(i, j)))
                .sum::<f64>()
        })
        .sum();
    let (r, c, v) = (aff.rows(), aff.columns(), aff.values());
    let total: f64 = v.iter().map(|&p| p as f64).sum();
    (0..n)
        .flat_map(|i| (r[i]..r[i + 1]).map(move |e| (i, e)))
        .map(|(i, e)| {
            let p = v[e] as f64 / total;
            let q = 1.0 / (1.0 + d2(i, c[e] as usize)) / z;
            if p > 0.0 { p * (p / q).ln() } else { 0.0 }
        })
        .sum()
}

/// 100 warm iterations of the bhtsne crate from `y`: its FFT gradient (θ = 0) or its
/// Barnes-Hut at `theta`, on the given neighbour table.
fn bhtsne_warm(
    rows: &[&[f32]],
    y: &[f32],
    nb: &[Vec<bhtsne::Neighbor<f32>>],
    theta: f32,
) -> Vec<f32> {
    let mut ts: Tsne = bhtsne::tSNE::new(rows);
    ts.perplexity(30.0)
        .epochs(100)
        .early_exaggeration(1.0)
        .stop_lying_epoch(0)
        .momentum(0.8)
        .momentum_switch_epoch(0)
        .learning_rate(rows.len() as f32)
        .initial_embedding(y.to_vec());
    if theta > 0.0 {
        ts.barnes_hut_with_neighbors(theta, nb);
    } else {
        ts.fit_sne_with_neighbors(nb);
    }
    ts.embedding()
}

/// 100 warm iterations of decscope's own Barnes-Hut from `y`, P included.
fn own_warm(table: &[Vec<Neighbor>], y: &[f32], theta: f32) -> Vec<f32> {
    let p = affinities(table, 30.0);
    let mut out = y.to_vec();
    optimize(
        &mut out,
        &p,
        &Descent {
            epochs: 100,
            learning_rate: (y.len() / 2) as f32,
            momentum: 0.8,
            theta,
            exaggeration: 1.0,
        },
    );
    out
}
