//! The symmetric k-nearest-neighbour graph of Z, and the modularity of a partition on
//! it: how much more of the graph's links a partition keeps inside its clusters than
//! chance would.
//!
//! Why: the pretrained Z's neighbour graph keeps the shape of each class after DEC has
//! folded its own Z ([`crate::engine::cluster::spectral`] starts DEC from it). Two DEC
//! outcomes from two starts can then be compared without labels by how well each
//! partition follows that graph; the pipeline keeps the one with the higher modularity
//! (docs/steering.md, "The start check").

use crate::engine::cluster::neighbors::exact_knn;

/// The symmetric kNN graph: row i's neighbours are `cols[offsets[i]..offsets[i + 1]]`.
pub struct Graph {
    pub(crate) offsets: Vec<usize>,
    pub(crate) cols: Vec<u32>,
}

impl Graph {
    /// The rows of `x` (`m x e`) and their `neighbours` nearest others (exact, ties to
    /// the smaller index): A_ij = 1 when i is among j's neighbours or j among i's.
    pub fn knn(x: &[f32], e: usize, neighbours: usize) -> Graph {
        let m = x.len() / e.max(1);
        let mut rows: Vec<Vec<u32>> = exact_knn(x, e, neighbours.min(m.saturating_sub(1)))
            .into_iter()
            .map(|nb| nb.iter().map(|n| n.index).collect())
            .collect();
        for i in 0..m {
            for t in 0..rows[i].len() {
                let j = rows[i][t] as usize;
                rows[j].push(i as u32);
            }
        }
        let mut offsets = vec![0];
        let mut cols = Vec::new();
        for mut r in rows {
            r.sort_unstable();
            r.dedup();
            cols.extend(r);
            offsets.push(cols.len());
        }
        Graph { offsets, cols }
    }

    /// Nodes in the graph.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether the graph has no node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Links of node i.
    pub fn degree(&self, i: usize) -> usize {
        self.offsets[i + 1] - self.offsets[i]
    }

    /// Newman's modularity of the partition `labels` (one per node, values below `k`):
    /// Q = Σ_c [ L_c / L − (d_c / 2L)² ], with L the graph's links, L_c the links
    /// inside cluster c and d_c the sum of its members' degrees. 0 for a graph without
    /// links. Q is 1 − 1/k at most (k equal clusters with no link between them) and
    /// below 0 when a partition keeps fewer links inside than chance.
    pub fn modularity(&self, labels: &[u32], k: usize) -> f64 {
        let mut inside = vec![0usize; k];
        let mut volume = vec![0usize; k];
        for (i, &li) in labels.iter().enumerate().take(self.len()) {
            let nb = &self.cols[self.offsets[i]..self.offsets[i + 1]];
            volume[li as usize] += nb.len();
            inside[li as usize] += nb.iter().filter(|&&j| labels[j as usize] == li).count();
        }
        // Each link is counted from both ends: Σ degrees = 2L, Σ inside_c = 2 L_c.
        let two_l = volume.iter().sum::<usize>() as f64;
        if two_l == 0.0 {
            return 0.0;
        }
        inside
            .iter()
            .zip(&volume)
            .map(|(&i, &v)| i as f64 / two_l - (v as f64 / two_l).powi(2))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two triangles {0, 1, 2} and {3, 4, 5} joined by the link 2-3, given link by link.
    fn two_triangles() -> Graph {
        let links: [&[u32]; 6] = [&[1, 2], &[0, 2], &[0, 1, 3], &[2, 4, 5], &[3, 5], &[3, 4]];
        let mut offsets = vec![0];
        let mut cols = Vec::new();
        for l in links {
            cols.extend_from_slice(l);
            offsets.push(cols.len());
        }
        Graph { offsets, cols }
    }

    /// By hand: L = 7 links; the triangles as clusters keep 3 links each and have
    /// d_c = 7 each: Q = 2 (3/7 − (7/14)²) = 6/7 − 1/2. One cluster of all: 7/7 − 1 = 0.
    /// Cutting across the triangles ({0, 1, 3} against {2, 4, 5}): inside only 0-1 and
    /// 4-5, d = 7 each side: 2/7 − 1/2. networkx agrees:
    /// `G = nx.Graph([(0,1),(0,2),(1,2),(2,3),(3,4),(3,5),(4,5)])`,
    /// `nx.community.modularity(G, [{0,1,2},{3,4,5}])` = 0.35714285714285715 and
    /// `[{0,1,3},{2,4,5}]` gives -0.21428571428571425.
    #[test]
    fn modularity_matches_a_hand_computation() {
        let g = two_triangles();
        let q = g.modularity(&[0, 0, 0, 1, 1, 1], 2);
        assert!((q - (6.0 / 7.0 - 0.5)).abs() < 1e-12, "{q}");
        assert!(g.modularity(&[0; 6], 1).abs() < 1e-12);
        let q = g.modularity(&[0, 0, 1, 0, 1, 1], 2);
        assert!((q - (2.0 / 7.0 - 0.5)).abs() < 1e-12, "{q}");
    }

    /// Two groups of 5 points on a line, 100 apart, 2 neighbours each: no link between
    /// the groups, and the groups mirror each other, so each holds half the degree sum:
    /// Q = 2 (1/2 − 1/4) = 1/2 exactly. Labels that alternate within the groups keep
    /// fewer links inside and score well below.
    #[test]
    fn the_knn_graph_of_two_far_groups_has_no_link_between_them() {
        let mut x = Vec::new();
        for g in 0..2 {
            for i in 0..5 {
                x.extend_from_slice(&[100.0 * g as f32 + i as f32, 0.0]);
            }
        }
        let graph = Graph::knn(&x, 2, 2);
        assert_eq!(graph.len(), 10);
        for i in 0..10 {
            let nb = &graph.cols[graph.offsets[i]..graph.offsets[i + 1]];
            assert!(nb.iter().all(|&j| (j as usize) / 5 == i / 5), "{i}: {nb:?}");
            assert!((2..=4).contains(&nb.len()), "{i}: {nb:?}");
        }
        let groups = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
        let q = graph.modularity(&groups, 2);
        assert!((q - 0.5).abs() < 1e-12, "{q}");
        let mixed = [0, 1, 0, 1, 0, 1, 0, 1, 0, 1];
        assert!(graph.modularity(&mixed, 2) < q - 0.3);
    }
}
