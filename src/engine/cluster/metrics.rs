//! Clustering metrics against ground truth: unsupervised accuracy (Hungarian
//! matching), NMI (arithmetic and geometric normalisation), ARI, and the confusion
//! matrix.
//!
//! DEC's paper reports ACC = max over one-to-one maps m of (1/n) Σ_i 1{l_i = m(c_i)},
//! the map found with the Hungarian algorithm (`pathfinding::kuhn_munkres`).

use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;
use serde::{Deserialize, Serialize};

/// ACC, NMI and ARI of one clustering.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub acc: f64,
    /// NMI with the arithmetic mean of the entropies (scikit-learn's default).
    pub nmi: f64,
    /// NMI with the geometric mean, as in older papers.
    pub nmi_geometric: f64,
    pub ari: f64,
}

/// `counts[c][l]`: how many samples of true label `l` are in cluster `c`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Confusion {
    pub n_clusters: usize,
    pub n_labels: usize,
    pub counts: Vec<Vec<u64>>,
}

impl Confusion {
    pub fn new(truth: &[u32], pred: &[u32]) -> Confusion {
        let n_labels = truth.iter().copied().max().map_or(0, |m| m as usize + 1);
        let n_clusters = pred.iter().copied().max().map_or(0, |m| m as usize + 1);
        let mut counts = vec![vec![0u64; n_labels]; n_clusters];
        for (&t, &p) in truth.iter().zip(pred) {
            counts[p as usize][t as usize] += 1;
        }
        Confusion {
            n_clusters,
            n_labels,
            counts,
        }
    }

    /// The one-to-one map cluster -> label maximising the matched count
    /// (`None` for clusters left without a label when there are more clusters).
    pub fn hungarian(&self) -> Vec<Option<usize>> {
        let size = self.n_clusters.max(self.n_labels);
        if size == 0 {
            return Vec::new();
        }
        let w = Matrix::from_fn(size, size, |(c, l)| {
            if c < self.n_clusters && l < self.n_labels {
                self.counts[c][l] as i64
            } else {
                0
            }
        });
        let (_, assign) = kuhn_munkres(&w);
        (0..self.n_clusters)
            .map(|c| (assign[c] < self.n_labels).then_some(assign[c]))
            .collect()
    }

    /// Each true class's recall under the Hungarian map: the share of its samples in
    /// the cluster matched to it (0 when no cluster is matched to it). With the paper's
    /// imbalanced data this shows which small classes DEC absorbed into big ones.
    pub fn per_class_recall(&self) -> Vec<ClassRecall> {
        let map = self.hungarian();
        (0..self.n_labels)
            .map(|l| {
                let size: u64 = self.counts.iter().map(|row| row[l]).sum();
                let cluster = map.iter().position(|m| *m == Some(l));
                let hit = cluster.map_or(0, |c| self.counts[c][l]);
                ClassRecall {
                    class: l,
                    name: None,
                    size,
                    cluster,
                    recall: if size > 0 {
                        hit as f64 / size as f64
                    } else {
                        0.0
                    },
                }
            })
            .collect()
    }

    /// The majority true label of each cluster (`None` for an empty cluster).
    pub fn majority(&self) -> Vec<Option<usize>> {
        self.counts
            .iter()
            .map(|row| {
                let (l, &m) = row
                    .iter()
                    .enumerate()
                    .max_by_key(|(l, v)| (**v, std::cmp::Reverse(*l)))?;
                (m > 0).then_some(l)
            })
            .collect()
    }
}

/// One true class's size and recall under the Hungarian cluster-label map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassRecall {
    pub class: usize,
    /// The class's name, when the data has names (set by the pipeline).
    #[serde(default)]
    pub name: Option<String>,
    pub size: u64,
    /// The cluster matched to the class, if any.
    pub cluster: Option<usize>,
    /// Share of the class's samples in that cluster.
    pub recall: f64,
}

/// Unsupervised clustering accuracy with the best one-to-one cluster-label map.
pub fn cluster_acc(truth: &[u32], pred: &[u32]) -> f64 {
    if truth.is_empty() {
        return 0.0;
    }
    let conf = Confusion::new(truth, pred);
    let map = conf.hungarian();
    let hit: u64 = map
        .iter()
        .enumerate()
        .filter_map(|(c, l)| l.map(|l| conf.counts[c][l]))
        .sum();
    hit as f64 / truth.len() as f64
}

fn entropy(counts: impl Iterator<Item = u64>, n: f64) -> f64 {
    counts
        .filter(|&c| c > 0)
        .map(|c| {
            let p = c as f64 / n;
            -p * p.ln()
        })
        .sum()
}

/// Normalised mutual information: (arithmetic, geometric) normalisation.
pub fn nmi(truth: &[u32], pred: &[u32]) -> (f64, f64) {
    let conf = Confusion::new(truth, pred);
    let n = truth.len() as f64;
    if n == 0.0 {
        return (0.0, 0.0);
    }
    let rows: Vec<u64> = conf.counts.iter().map(|r| r.iter().sum()).collect();
    let cols: Vec<u64> = (0..conf.n_labels)
        .map(|l| conf.counts.iter().map(|r| r[l]).sum())
        .collect();
    let hu = entropy(rows.iter().copied(), n);
    let hv = entropy(cols.iter().copied(), n);
    let mut mi = 0.0;
    for (c, row) in conf.counts.iter().enumerate() {
        for (l, &v) in row.iter().enumerate() {
            if v > 0 {
                let v = v as f64;
                mi += v / n * (v * n / (rows[c] as f64 * cols[l] as f64)).ln();
            }
        }
    }
    if hu == 0.0 && hv == 0.0 {
        // Both partitions are a single block: identical, by scikit-learn's convention.
        return (1.0, 1.0);
    }
    let mi = mi.max(0.0);
    let arith = if hu + hv > 0.0 {
        mi / ((hu + hv) / 2.0)
    } else {
        0.0
    };
    let geo = if hu * hv > 0.0 {
        mi / (hu * hv).sqrt()
    } else {
        0.0
    };
    (arith.min(1.0), geo.min(1.0))
}

/// Adjusted Rand index (Hubert & Arabie 1985).
pub fn ari(truth: &[u32], pred: &[u32]) -> f64 {
    let conf = Confusion::new(truth, pred);
    let comb2 = |v: u64| (v as f64) * (v as f64 - 1.0) / 2.0;
    let n = truth.len() as u64;
    let sum_ij: f64 = conf.counts.iter().flatten().map(|&v| comb2(v)).sum();
    let a: f64 = conf.counts.iter().map(|r| comb2(r.iter().sum())).sum();
    let b: f64 = (0..conf.n_labels)
        .map(|l| comb2(conf.counts.iter().map(|r| r[l]).sum()))
        .sum();
    let total = comb2(n);
    if total == 0.0 {
        return 1.0;
    }
    let expected = a * b / total;
    let max = (a + b) / 2.0;
    if max == expected {
        return 1.0;
    }
    (sum_ij - expected) / (max - expected)
}

/// All scores at once.
pub fn scores(truth: &[u32], pred: &[u32]) -> Scores {
    let (nmi, nmi_geometric) = nmi(truth, pred);
    Scores {
        acc: cluster_acc(truth, pred),
        nmi,
        nmi_geometric,
        ari: ari(truth, pred),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Oracle (scikit-learn 1.x, scipy):
    // >>> from sklearn.metrics import normalized_mutual_info_score as nmi, adjusted_rand_score as ari
    // >>> from scipy.optimize import linear_sum_assignment
    // >>> t = [0,0,0,1,1,1,2,2,2,2]; p = [1,1,0,0,0,0,2,2,1,2]
    // >>> nmi(t,p), nmi(t,p,average_method='geometric'), ari(t,p)
    // (0.6180656462921543, 0.6180656462921543, 0.4318181818181818)
    // >>> from sklearn.metrics import confusion_matrix
    // >>> C = confusion_matrix(t, p); r, c = linear_sum_assignment(-C); C[r, c].sum() / len(t)
    // 0.8
    const T: [u32; 10] = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2];
    const P: [u32; 10] = [1, 1, 0, 0, 0, 0, 2, 2, 1, 2];

    // >>> from sklearn.metrics import recall_score
    // >>> m = dict(zip(c, r)); recall_score(t, [m[x] for x in p], average=None)
    // array([0.66666667, 1.        , 0.75      ])
    #[test]
    fn per_class_recall_matches_sklearn() {
        let r = Confusion::new(&T, &P).per_class_recall();
        let got: Vec<(u64, Option<usize>, f64)> =
            r.iter().map(|c| (c.size, c.cluster, c.recall)).collect();
        assert_eq!(got[0].0, 3);
        assert_eq!(got[2].0, 4);
        assert_eq!(
            got.iter().map(|g| g.1).collect::<Vec<_>>(),
            vec![Some(1), Some(0), Some(2)]
        );
        for (g, want) in got.iter().zip([2.0 / 3.0, 1.0, 0.75]) {
            assert!((g.2 - want).abs() < 1e-12, "{got:?}");
        }
    }

    #[test]
    fn metrics_match_sklearn() {
        let s = scores(&T, &P);
        assert!((s.acc - 0.8).abs() < 1e-12, "acc {}", s.acc);
        assert!(
            (s.nmi - 0.618_065_646_292_154_3).abs() < 1e-9,
            "nmi {}",
            s.nmi
        );
        assert!(
            (s.nmi_geometric - 0.618_065_646_292_154_3).abs() < 1e-9,
            "{}",
            s.nmi_geometric
        );
        assert!(
            (s.ari - 0.431_818_181_818_181_8).abs() < 1e-9,
            "ari {}",
            s.ari
        );
    }

    #[test]
    fn geometric_nmi_differs_when_entropies_differ() {
        // >>> t = [0,0,0,0,0,1,1,2]; p = [0,0,1,1,1,1,1,1]
        // >>> nmi(t,p), nmi(t,p,average_method='geometric'), ari(t,p)
        // (0.19376959622959128, 0.1991580913311831, -0.1782178217821782)
        let s = scores(&[0, 0, 0, 0, 0, 1, 1, 2], &[0, 0, 1, 1, 1, 1, 1, 1]);
        assert!((s.nmi - 0.193_769_596_229_591_28).abs() < 1e-9, "{}", s.nmi);
        assert!(
            (s.nmi_geometric - 0.199_158_091_331_183_1).abs() < 1e-9,
            "{}",
            s.nmi_geometric
        );
        assert!((s.ari - -0.178_217_821_782_178_2).abs() < 1e-9, "{}", s.ari);
    }

    #[test]
    fn perfect_up_to_renaming_scores_one() {
        let p: Vec<u32> = T.iter().map(|&t| (t + 1) % 3).collect();
        let s = scores(&T, &p);
        assert_eq!((s.acc, s.nmi, s.ari), (1.0, 1.0, 1.0));
    }

    #[test]
    fn more_clusters_than_labels() {
        let t = [0, 0, 1, 1];
        let p = [0, 1, 2, 3];
        assert_eq!(cluster_acc(&t, &p), 0.5);
        let m = Confusion::new(&t, &p).hungarian();
        assert_eq!(m.iter().filter(|x| x.is_some()).count(), 2);
    }
}
