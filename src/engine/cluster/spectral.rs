//! The spectral start: DEC's first centroids from the clusters of the
//! k-nearest-neighbour graph of Z, instead of k-means on Z itself.
//!
//! Why: k-means on Z favours round clusters of similar spread, and DEC sharpens
//! whatever its start holds; a start that merged the 4s and 9s of MNIST ends with them
//! merged. The neighbour graph of the pretrained Z keeps the shape of each class
//! (N2D and spectral clustering rest on the same fact), and its leading eigenvectors
//! separate classes that touch in Z without overlapping. Measured on the MNIST test
//! set's fast autoencoder (seed 0): k-means on Z scores ACC 0.739, k-means on this
//! embedding 0.933, and DEC from it ends at 0.929 instead of 0.803 (docs/steering.md, "A better
//! start"). Own code, not a crate: the graph is sparse and only its leading subspace is
//! needed, which a few hundred products with a block of 2k vectors give in about a
//! second; the crates at hand solve dense problems (10,000² here).
//!
//! The method (Ng, Jordan & Weiss, 2002, on a kNN graph):
//! 1. the [`NEIGHBOURS`] nearest neighbours of each sample in Z (an evenly spaced
//!    subset of at most [`MAX_SAMPLES`] samples beyond that); A_ij = 1 when either is
//!    among the other's neighbours; d_i = Σ_j A_ij;
//! 2. N = D^-1/2 A D^-1/2 has the eigenvalue 1 with eigenvector √d; the k eigenvectors
//!    after it, found by subspace iteration on M = (I + N)/2 (eigenvalues in [0, 1], the
//!    same order) with √d projected out, are the embedding, each row scaled to length 1;
//! 3. k-means on those rows (the configured restarts); each centroid is the mean z of
//!    its cluster's members, and every sample's label is its nearest centroid in Z.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::engine::cluster::graph::Graph;
use crate::engine::cluster::kmeans::{KMeansParams, KMeansResult, kmeans_interruptible};
use crate::engine::cluster::neighbors::exact_knn;
use crate::engine::nn::linalg::{row_sq_norms, sq_distances};

/// Neighbours per sample in the graph.
pub const NEIGHBOURS: usize = 10;
/// Most samples in the graph (an evenly spaced subset beyond).
pub const MAX_SAMPLES: usize = 20_000;
/// Products with M between two orthonormalisations of the block.
const PRODUCTS_PER_QR: usize = 5;
/// Orthonormalisations between two checks of the Ritz values.
const QR_PER_CHECK: usize = 10;
/// Most products with M.
const MAX_PRODUCTS: usize = 3_000;
/// The check passes when no leading Ritz value moved more than this since the last.
const RITZ_TOL: f64 = 1e-7;

/// DEC's start from the spectral clusters of Z (`n x e`): `k x e` centroids (the
/// clusters' mean z), each sample's nearest centroid and the squared distances to
/// it. `None` when `interrupt` said stop.
pub fn spectral_start(
    z: &[f32],
    e: usize,
    k: usize,
    n_init: usize,
    seed: u64,
    interrupt: &dyn Fn() -> bool,
) -> Option<KMeansResult> {
    let (_, centroids) = spectral_clusters(z, e, None, k, n_init, seed, interrupt)?;
    Some(nearest(z, e, centroids))
}

/// [`spectral_start`] on a graph built already: `graph` must be
/// [`Graph::knn`] of [`even_subset`]`(z, e, MAX_SAMPLES)` with [`NEIGHBOURS`] (the
/// start check keeps it to judge DEC's outcomes on, and builds it once).
pub fn spectral_start_on(
    z: &[f32],
    e: usize,
    graph: &Graph,
    k: usize,
    (n_init, seed): (usize, u64),
    interrupt: &dyn Fn() -> bool,
) -> Option<KMeansResult> {
    let (_, centroids) = spectral_clusters(z, e, Some(graph), k, n_init, seed, interrupt)?;
    Some(nearest(z, e, centroids))
}

/// The spectral clusters of the rows of `z` (`n x e`) themselves: each row's label
/// (rows outside the graph's subset: the nearest cluster mean), as the
/// self-correction's split uses them.
pub fn spectral_labels(
    z: &[f32],
    e: usize,
    k: usize,
    n_init: usize,
    seed: u64,
    interrupt: &dyn Fn() -> bool,
) -> Option<Vec<u32>> {
    let (sub_labels, centroids) = spectral_clusters(z, e, None, k, n_init, seed, interrupt)?;
    if sub_labels.len() * e == z.len() {
        return Some(sub_labels);
    }
    let mut labels = nearest(z, e, centroids).labels;
    let (rows, _) = even_subset(z, e, MAX_SAMPLES);
    rows.into_iter()
        .zip(sub_labels)
        .for_each(|(i, l)| labels[i] = l);
    Some(labels)
}

/// Most members of a cluster that [`split_cut`] looks at (an evenly spaced subset
/// beyond): the figure is a share, so a sample of this size measures it to about a
/// percent, and every cluster of a large data set is measured alike.
pub const CUT_SAMPLES: usize = 2_000;

/// How cleanly the rows of one cluster (`m x e`) fall into two: the share of their
/// directed [`NEIGHBOURS`]-nearest-neighbour links that cross between the two halves
/// of their spectral split (steps 1-3 with k = 2), on an evenly spaced subset of at
/// most [`CUT_SAMPLES`] rows. Two classes that touch in one cluster keep few links
/// across, one class cut by the split more (MNIST in bf16, seed 0, pretrained Z: the
/// 4s and 9s' cluster 5.3%, the median cluster 8.4%; docs/steering.md, "Corroboration
/// in the pretrained Z"). `None` for fewer than 4 rows or when the
/// split puts every row on one side.
pub fn split_cut(rows: &[f32], e: usize, n_init: usize, seed: u64) -> Option<f64> {
    let (_, sub) = even_subset(rows, e, CUT_SAMPLES);
    let m = sub.len() / e.max(1);
    if m < 4 {
        return None;
    }
    let halves = spectral_labels(&sub, e, 2, n_init, seed, &|| false)?;
    if halves.iter().all(|&h| h == halves[0]) {
        return None;
    }
    let knn = exact_knn(&sub, e, NEIGHBOURS);
    let (mut across, mut links) = (0usize, 0usize);
    for (i, nb) in knn.iter().enumerate() {
        links += nb.len();
        across += nb
            .iter()
            .filter(|n| halves[n.index as usize] != halves[i])
            .count();
    }
    Some(across as f64 / links.max(1) as f64)
}

/// Steps 1-3 on the evenly spaced subset (its graph built here unless `built`): the
/// subset's labels and the `k x e` means.
fn spectral_clusters(
    z: &[f32],
    e: usize,
    built: Option<&Graph>,
    k: usize,
    n_init: usize,
    seed: u64,
    interrupt: &dyn Fn() -> bool,
) -> Option<(Vec<u32>, Vec<f32>)> {
    let (_, sub) = even_subset(z, e, MAX_SAMPLES);
    let own;
    let graph = match built {
        Some(g) => g,
        None => {
            own = Graph::knn(&sub, e, NEIGHBOURS);
            &own
        }
    };
    let (emb, dims) = embedding(graph, k, seed, interrupt)?;
    let params = KMeansParams {
        n_init,
        seed,
        ..KMeansParams::new(k)
    };
    let km = kmeans_interruptible(&emb, dims, &params, interrupt)?;
    let centroids = member_means(&sub, e, &km.labels, k, &km.centroids, (&emb, dims));
    Some((km.labels, centroids))
}

/// The mean of each cluster's rows of `x`; a cluster k-means left empty takes the row
/// whose embedding lies nearest its centroid.
fn member_means(
    x: &[f32],
    e: usize,
    labels: &[u32],
    k: usize,
    emb_centroids: &[f32],
    (emb, dims): (&[f32], usize),
) -> Vec<f32> {
    let (mut c, count) = label_means(x, e, labels, k);
    for j in 0..k {
        if count[j] == 0 {
            let centre = &emb_centroids[j * dims..(j + 1) * dims];
            let d2 =
                |r: &[f32]| -> f32 { r.iter().zip(centre).map(|(a, b)| (a - b).powi(2)).sum() };
            let best = emb
                .chunks_exact(dims)
                .enumerate()
                .min_by(|a, b| d2(a.1).total_cmp(&d2(b.1)))
                .map_or(0, |(i, _)| i);
            c[j * e..(j + 1) * e].copy_from_slice(&x[best * e..(best + 1) * e]);
        }
    }
    c
}

/// The mean row of `x` (`n x e`) of each label's members (`k x e`; zeros for a label
/// with none) and the members' counts.
pub fn label_means(x: &[f32], e: usize, labels: &[u32], k: usize) -> (Vec<f32>, Vec<usize>) {
    let mut sum = vec![0.0f64; k * e];
    let mut count = vec![0usize; k];
    for (r, &l) in x.chunks_exact(e).zip(labels) {
        let l = l as usize;
        count[l] += 1;
        sum[l * e..(l + 1) * e]
            .iter_mut()
            .zip(r)
            .for_each(|(s, v)| *s += f64::from(*v));
    }
    let means = sum
        .chunks_exact(e)
        .zip(&count)
        .flat_map(|(s, &c)| s.iter().map(move |v| (v / c.max(1) as f64) as f32))
        .collect();
    (means, count)
}

/// An evenly spaced subset of at most `max` rows of `z` (`n x e`): the rows' indices
/// and their values. All rows when there are no more than `max`.
pub fn even_subset(z: &[f32], e: usize, max: usize) -> (Vec<usize>, Vec<f32>) {
    let n = z.len() / e;
    let step = n.div_ceil(max.max(1)).max(1);
    let rows: Vec<usize> = (0..n).step_by(step).collect();
    let sub = rows
        .iter()
        .flat_map(|&i| z[i * e..(i + 1) * e].iter().copied())
        .collect();
    (rows, sub)
}

/// Every row of `z` labelled by its nearest centroid.
fn nearest(z: &[f32], e: usize, centroids: Vec<f32>) -> KMeansResult {
    let n = z.len() / e;
    let k = centroids.len() / e;
    let norms = row_sq_norms(z, e);
    let mut dist = vec![0.0f32; n * k];
    sq_distances(z, &norms, &centroids, e, &mut dist);
    let mut labels = vec![0u32; n];
    let mut inertia = 0.0f64;
    for (i, row) in dist.chunks_exact(k).enumerate() {
        let (j, d) = row
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map_or((0, 0.0), |(j, d)| (j, *d));
        labels[i] = j as u32;
        inertia += f64::from(d.max(0.0));
    }
    KMeansResult {
        centroids,
        labels,
        inertia,
    }
}

/// The spectral embedding of the graph (step 2 of the module's method): `m x dims`
/// rows of length 1, `dims` = k (fewer only for a graph of under 2k nodes).
fn embedding(
    g: &Graph,
    k: usize,
    seed: u64,
    interrupt: &dyn Fn() -> bool,
) -> Option<(Vec<f32>, usize)> {
    let m = g.offsets.len() - 1;
    let b = (2 * k).max(k + 4).min(m.saturating_sub(1)).max(1);
    let s: Vec<f64> = (0..m)
        .map(|i| 1.0 / (g.degree(i).max(1) as f64).sqrt())
        .collect();
    let vol: f64 = (0..m).map(|i| g.degree(i) as f64).sum();
    let u0: Vec<f64> = (0..m)
        .map(|i| (g.degree(i) as f64 / vol.max(1.0)).sqrt())
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x: Vec<f64> = (0..m * b).map(|_| rng.random::<f64>() - 0.5).collect();
    orthonormalise(&mut x, b, &u0);
    let mut last: Vec<f64> = Vec::new();
    let mut products = 0;
    while products < MAX_PRODUCTS {
        for _ in 0..QR_PER_CHECK {
            if interrupt() {
                return None;
            }
            for _ in 0..PRODUCTS_PER_QR {
                x = apply_m(g, &s, &x, b);
            }
            products += PRODUCTS_PER_QR;
            orthonormalise(&mut x, b, &u0);
        }
        let (vals, _) = ritz(g, &s, &x, b);
        let settled = last.len() == vals.len()
            && vals[..k.min(b)]
                .iter()
                .zip(&last)
                .all(|(a, c)| (a - c).abs() < RITZ_TOL);
        last = vals;
        if settled {
            break;
        }
    }
    let (_, w) = ritz(g, &s, &x, b);
    let dims = k.min(b);
    Some((leading_rows(&x, &w, m, b, dims), dims))
}

/// Y = M X = (X + D^-1/2 A D^-1/2 X) / 2 for the `m x b` block X (rows in parallel;
/// each row's sum runs in a fixed order, so the result does not depend on threads).
fn apply_m(g: &Graph, s: &[f64], x: &[f64], b: usize) -> Vec<f64> {
    let mut y = vec![0.0f64; x.len()];
    y.par_chunks_mut(b).enumerate().for_each(|(i, yr)| {
        for &j in &g.cols[g.offsets[i]..g.offsets[i + 1]] {
            let j = j as usize;
            let w = s[j];
            yr.iter_mut()
                .zip(&x[j * b..(j + 1) * b])
                .for_each(|(a, v)| *a += w * v);
        }
        let xr = &x[i * b..(i + 1) * b];
        yr.iter_mut()
            .zip(xr)
            .for_each(|(a, v)| *a = 0.5 * (v + s[i] * *a));
    });
    y
}

/// Project `u0` out of every column of the `m x b` block and make the columns
/// orthonormal (Gram-Schmidt, twice for the rounding).
fn orthonormalise(x: &mut [f64], b: usize, u0: &[f64]) {
    for _ in 0..2 {
        for c in 0..b {
            let dot: f64 = u0.iter().enumerate().map(|(i, u)| u * x[i * b + c]).sum();
            u0.iter()
                .enumerate()
                .for_each(|(i, u)| x[i * b + c] -= dot * u);
            for p in 0..c {
                let dot: f64 = x.chunks_exact(b).map(|r| r[p] * r[c]).sum();
                x.chunks_exact_mut(b).for_each(|r| r[c] -= dot * r[p]);
            }
            let norm = x.chunks_exact(b).map(|r| r[c] * r[c]).sum::<f64>().sqrt();
            let inv = if norm > 1e-300 { 1.0 / norm } else { 0.0 };
            x.chunks_exact_mut(b).for_each(|r| r[c] *= inv);
        }
    }
}

/// Rayleigh-Ritz on the block: the eigenvalues of H = Xᵀ M X, largest first, and
/// their eigenvectors as the columns of a `b x b` matrix.
fn ritz(g: &Graph, s: &[f64], x: &[f64], b: usize) -> (Vec<f64>, Vec<f64>) {
    let mx = apply_m(g, s, x, b);
    let mut h = vec![0.0f64; b * b];
    for (xr, yr) in x.chunks_exact(b).zip(mx.chunks_exact(b)) {
        for p in 0..b {
            for q in 0..b {
                h[p * b + q] += xr[p] * yr[q];
            }
        }
    }
    for p in 0..b {
        for q in 0..p {
            let v = 0.5 * (h[p * b + q] + h[q * b + p]);
            h[p * b + q] = v;
            h[q * b + p] = v;
        }
    }
    symmetric_eigen(h, b)
}

/// Rows of X W for W's first `k` columns, each scaled to length 1.
fn leading_rows(x: &[f64], w: &[f64], m: usize, b: usize, k: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; m * k];
    for (xr, or) in x.chunks_exact(b).zip(out.chunks_exact_mut(k)) {
        let row: Vec<f64> = (0..k)
            .map(|c| (0..b).map(|p| xr[p] * w[p * b + c]).sum())
            .collect();
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300);
        or.iter_mut()
            .zip(&row)
            .for_each(|(o, v)| *o = (v / norm) as f32);
    }
    out
}

/// Eigenvalues (largest first) and eigenvectors (columns, in the same order) of the
/// symmetric `b x b` matrix `a`, by cyclic Jacobi rotations.
fn symmetric_eigen(mut a: Vec<f64>, b: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0f64; b * b];
    (0..b).for_each(|i| v[i * b + i] = 1.0);
    for _sweep in 0..100 {
        let off: f64 = (0..b)
            .flat_map(|p| (0..b).filter(move |&q| q != p).map(move |q| (p, q)))
            .map(|(p, q)| a[p * b + q].powi(2))
            .sum();
        if off < 1e-30 {
            break;
        }
        for p in 0..b {
            for q in p + 1..b {
                rotate(&mut a, &mut v, b, p, q);
            }
        }
    }
    let mut order: Vec<usize> = (0..b).collect();
    order.sort_by(|&i, &j| a[j * b + j].total_cmp(&a[i * b + i]));
    let vals = order.iter().map(|&i| a[i * b + i]).collect();
    let mut vecs = vec![0.0f64; b * b];
    for (c, &i) in order.iter().enumerate() {
        for r in 0..b {
            vecs[r * b + c] = v[r * b + i];
        }
    }
    (vals, vecs)
}

/// One Jacobi rotation zeroing a[p][q] (Golub & Van Loan, algorithm 8.4.1).
fn rotate(a: &mut [f64], v: &mut [f64], b: usize, p: usize, q: usize) {
    let apq = a[p * b + q];
    if apq.abs() < 1e-300 {
        return;
    }
    let theta = (a[q * b + q] - a[p * b + p]) / (2.0 * apq);
    // signum(0.0) is 1: a 45-degree rotation when the diagonal entries are equal.
    let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
    let c = 1.0 / (t * t + 1.0).sqrt();
    let s = t * c;
    for r in 0..b {
        let (arp, arq) = (a[r * b + p], a[r * b + q]);
        a[r * b + p] = c * arp - s * arq;
        a[r * b + q] = s * arp + c * arq;
    }
    for r in 0..b {
        let (apr, aqr) = (a[p * b + r], a[q * b + r]);
        a[p * b + r] = c * apr - s * aqr;
        a[q * b + r] = s * apr + c * aqr;
    }
    for r in 0..b {
        let (vrp, vrq) = (v[r * b + p], v[r * b + q]);
        v[r * b + p] = c * vrp - s * vrq;
        v[r * b + q] = s * vrp + c * vrq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::cluster::kmeans::kmeans;

    /// [[2, 1, 0], [1, 2, 0], [0, 0, 5]] has eigenvalues 5, 3, 1 with eigenvectors
    /// (0, 0, 1), (1, 1, 0)/√2 and (1, -1, 0)/√2 (by hand: the top-left block's are
    /// 2 ± 1).
    #[test]
    fn jacobi_finds_a_hand_computed_spectrum() {
        let (vals, vecs) = symmetric_eigen(vec![2.0, 1.0, 0.0, 1.0, 2.0, 0.0, 0.0, 0.0, 5.0], 3);
        for (v, want) in vals.iter().zip([5.0, 3.0, 1.0]) {
            assert!((v - want).abs() < 1e-12, "{vals:?}");
        }
        let col = |c: usize| [vecs[c], vecs[3 + c], vecs[6 + c]];
        let h = 0.5f64.sqrt();
        for (c, want) in [[0.0, 0.0, 1.0], [h, h, 0.0], [h, -h, 0.0]]
            .iter()
            .enumerate()
        {
            let v = col(c);
            let dot: f64 = v.iter().zip(want).map(|(a, b)| a * b).sum();
            assert!((dot.abs() - 1.0).abs() < 1e-12, "column {c}: {v:?}");
        }
    }

    /// Two parallel bars, 10 long and 1.5 apart, 200 points each: k-means (k = 2)
    /// cuts them across the middle (two halves of 10 x 1.5 spread less than two bars
    /// of 10), the neighbour graph falls into the two bars, and the spectral start
    /// puts each bar in a cluster of its own.
    #[test]
    fn the_spectral_start_keeps_apart_two_bars_that_kmeans_cuts_across() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut z = Vec::new();
        for bar in 0..2 {
            for i in 0..200 {
                z.push(i as f32 * 0.05 + 0.01 * rng.random::<f32>());
                z.push(1.5 * bar as f32 + 0.2 * (rng.random::<f32>() - 0.5));
            }
        }
        let bar_purity = |labels: &[u32]| {
            let same = labels[..200].iter().filter(|&&l| l == labels[0]).count()
                + labels[200..].iter().filter(|&&l| l != labels[0]).count();
            same as f64 / 400.0
        };
        let km = kmeans(&z, 2, &KMeansParams::new(2));
        assert!(bar_purity(&km.labels) < 0.75, "k-means found the bars");
        let sp = spectral_start(&z, 2, 2, 20, 0, &|| false).unwrap();
        assert_eq!(bar_purity(&sp.labels), 1.0);
        // Each centroid is its bar's mean: x near 5, y at 0 or 1.5.
        let mut ys = [sp.centroids[1], sp.centroids[3]];
        ys.sort_by(f32::total_cmp);
        assert!(
            ys[0].abs() < 0.05 && (ys[1] - 1.5).abs() < 0.05,
            "{:?}",
            sp.centroids
        );
        assert!((sp.centroids[0] - 5.0).abs() < 0.1, "{:?}", sp.centroids);
    }

    /// `split_cut` against a hand computation. 400 points uniform on the unit square:
    /// the 10 nearest neighbours lie within about r = √(10 / (400π)) ≈ 0.089, so a
    /// straight cut through the middle has the points within r of it (2r ≈ 18%) send
    /// on average 2/(3π) ≈ 21% of their links across (a disc's share beyond a chord at
    /// a distance uniform in [0, r]): about 3.8% of all links (4.1% ± 0.7% over 20
    /// draws with scikit-learn's neighbours, the square's edges included). The
    /// spectral split minimises the normalised cut, so it finds that cut or a cheaper
    /// one along the draw's sparse seams, not a much dearer one. Two such squares 0.5
    /// apart (wider than any neighbour's distance) have no link across.
    #[test]
    fn split_cut_counts_the_neighbour_links_across_the_spectral_split() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let square: Vec<f32> = (0..400 * 2).map(|_| rng.random::<f32>()).collect();
        let one = split_cut(&square, 2, 10, 0).unwrap();
        assert!((0.015..0.055).contains(&one), "one square: {one}");
        let mut two = square.clone();
        two.iter_mut().step_by(2).skip(200).for_each(|x| *x += 1.5);
        assert_eq!(split_cut(&two, 2, 10, 0), Some(0.0));
        assert_eq!(split_cut(&square[..6], 2, 10, 0), None);
    }

    /// The same seed gives the same start; a stop request ends it with `None`.
    #[test]
    fn the_start_is_deterministic_and_can_be_stopped() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let z: Vec<f32> = (0..600 * 3).map(|_| rng.random::<f32>()).collect();
        let a = spectral_start(&z, 3, 4, 5, 7, &|| false).unwrap();
        let b = spectral_start(&z, 3, 4, 5, 7, &|| false).unwrap();
        assert_eq!(a.centroids, b.centroids);
        assert_eq!(a.labels, b.labels);
        assert!(spectral_start(&z, 3, 4, 5, 7, &|| true).is_none());
    }
}
