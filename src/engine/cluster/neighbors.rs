//! Exact k-nearest neighbours of the rows of a small dense matrix (the t-SNE sample of
//! the embedding Z), by brute force: each row's squared distances to all others in `d`
//! vectorised passes over the coordinates stored column by column, then one scan with a
//! bounded heap.
//!
//! Why not the vantage-point tree inside the bhtsne crate: t-SNE's warm updates need
//! the neighbour table itself, to keep it between snapshots and to refresh only its
//! distances (see [`crate::projection`]); bhtsne does not expose its tree. On 10,000
//! points of 10-D with k = 90 this takes ~0.2 s on two threads (bhtsne's tree search
//! plus P: ~0.5 s; `examples/tsne_warm`). The fits from scratch use it too: the tree
//! draws its vantage points from an unseeded generator, so among tied distances it chose
//! other neighbours on each run, and t-SNE gave another layout of the same input.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;

/// One neighbour: its row index and its Euclidean distance (not squared).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Neighbor {
    pub index: u32,
    pub distance: f32,
}

/// Max-heap entry ordered by distance, then index (so ties break deterministically).
#[derive(Clone, Copy, PartialEq)]
struct Entry(f32, u32);

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1))
    }
}

/// Rows per parallel task.
const BLOCK: usize = 256;

/// The `k` nearest other rows of each row of `x` (`n x d`), nearest first. Ties are
/// broken by the smaller index, so the result is deterministic. `k` is capped at
/// `n - 1`.
pub fn exact_knn(x: &[f32], d: usize, k: usize) -> Vec<Vec<Neighbor>> {
    let d = d.max(1);
    let n = x.len() / d;
    let k = k.min(n.saturating_sub(1));
    if k == 0 {
        return vec![Vec::new(); n];
    }
    // Coordinates stored column by column, so that one row's distances to all others
    // are d vectorised passes over contiguous memory (exact: no |a|² - 2a·b + |b|²
    // cancellation).
    let mut xt = vec![0.0f32; n * d];
    for (j, row) in x.chunks_exact(d).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            xt[c * n + j] = v;
        }
    }
    let blocks: Vec<usize> = (0..n).step_by(BLOCK).collect();
    let per_block: Vec<Vec<Vec<Neighbor>>> = blocks
        .par_iter()
        .map(|&r0| {
            let rows = BLOCK.min(n - r0);
            let mut heap: BinaryHeap<Entry> = BinaryHeap::with_capacity(k + 1);
            let mut dist = vec![0.0f32; n];
            (r0..r0 + rows)
                .map(|i| {
                    dist.fill(0.0);
                    for (c, &xc) in x[i * d..(i + 1) * d].iter().enumerate() {
                        for (o, &v) in dist.iter_mut().zip(&xt[c * n..(c + 1) * n]) {
                            let t = v - xc;
                            *o += t * t;
                        }
                    }
                    dist[i] = f32::INFINITY;
                    heap.clear();
                    // Seed with the first k others, then scan the rest.
                    let mut j = 0;
                    while heap.len() < k && j < n {
                        if j != i {
                            heap.push(Entry(dist[j], j as u32));
                        }
                        j += 1;
                    }
                    let mut thr = heap.peek().map_or(f32::INFINITY, |e| e.0);
                    for (jj, &dj) in dist.iter().enumerate().skip(j) {
                        if dj <= thr {
                            let e = Entry(dj, jj as u32);
                            if heap.peek().is_some_and(|top| e < *top) {
                                heap.pop();
                                heap.push(e);
                                thr = heap.peek().map_or(f32::INFINITY, |e| e.0);
                            }
                        }
                    }
                    let mut out: Vec<Neighbor> = heap
                        .drain()
                        .map(|Entry(s, j)| Neighbor {
                            index: j,
                            distance: s.sqrt(),
                        })
                        .collect();
                    out.sort_by(|a, b| {
                        a.distance
                            .total_cmp(&b.distance)
                            .then(a.index.cmp(&b.index))
                    });
                    out
                })
                .collect()
        })
        .collect();
    per_block.into_iter().flatten().collect()
}

/// Recompute the distances of a kept neighbour table on new coordinates `x` (same rows,
/// same `d`), and re-sort each row. Cost: `n x k x d`, about a millisecond for 10,000
/// points, where a new search costs a hundred.
pub fn refresh_distances(table: &mut [Vec<Neighbor>], x: &[f32], d: usize) {
    let d = d.max(1);
    table.par_iter_mut().enumerate().for_each(|(i, row)| {
        let a = &x[i * d..(i + 1) * d];
        for nb in row.iter_mut() {
            let j = nb.index as usize;
            let b = &x[j * d..(j + 1) * d];
            nb.distance = a
                .iter()
                .zip(b)
                .map(|(p, q)| (p - q) * (p - q))
                .sum::<f32>()
                .sqrt();
        }
        row.sort_by(|a, b| {
            a.distance
                .total_cmp(&b.distance)
                .then(a.index.cmp(&b.index))
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn matches_a_naive_search_and_breaks_ties_by_index() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let (n, d, k) = (700, 3, 12);
        let mut x: Vec<f32> = (0..n * d).map(|_| rng.random_range(-1.0..1.0)).collect();
        // Two exact duplicates of row 0: equal distances, ordered by index.
        x.copy_within(0..d, 5 * d);
        x.copy_within(0..d, 9 * d);
        let got = exact_knn(&x, d, k);
        assert_eq!(got.len(), n);
        for (i, row) in got.iter().enumerate() {
            let mut want: Vec<(f32, u32)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| {
                    let s: f32 = (0..d).map(|c| (x[i * d + c] - x[j * d + c]).powi(2)).sum();
                    (s.sqrt(), j as u32)
                })
                .collect();
            want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let got_idx: Vec<u32> = row.iter().map(|nb| nb.index).collect();
            let want_idx: Vec<u32> = want[..k].iter().map(|w| w.1).collect();
            // Round-off may swap near-equal neighbours; the sets of distances agree.
            for (g, w) in row.iter().zip(&want[..k]) {
                assert!(
                    (g.distance - w.0).abs() < 1e-4,
                    "row {i}: {got_idx:?} vs {want_idx:?}"
                );
            }
        }
        assert_eq!(got[0][0].index, 5);
        assert_eq!(got[0][1].index, 9);
        assert_eq!(got[0][0].distance, 0.0);
    }

    #[test]
    fn refreshed_distances_follow_the_new_coordinates() {
        let x = [0.0f32, 1.0, 3.0, 10.0];
        let mut t = exact_knn(&x, 1, 2);
        assert_eq!(t[0].iter().map(|n| n.index).collect::<Vec<_>>(), vec![1, 2]);
        let moved = [0.0f32, 5.0, 2.0, 10.0];
        refresh_distances(&mut t, &moved, 1);
        assert_eq!(t[0].iter().map(|n| n.index).collect::<Vec<_>>(), vec![2, 1]);
        assert_eq!(t[0][0].distance, 2.0);
    }
}
