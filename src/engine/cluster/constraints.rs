//! Pairwise constraints on DEC's soft assignments: must-link ("these two belong
//! together") and cannot-link ("these two differ"), read from a CSV of `i,j,must|cannot`,
//! and their loss with its gradients for the embeddings and the centroids.
//!
//! Why: a user who sees what DEC got wrong can say so about a few samples, and training
//! can then move toward it. The losses are those of Zhang, Basu & Davidson, "A Framework
//! for Deep Constrained Clustering" (ECML-PKDD 2019), on DEC's Student's t assignment.
//!
//! With s = Σ_k q_ik q_jk, the chance that i and j fall in the same cluster:
//!
//! - must-link:   l = -ln s
//! - cannot-link: l = -ln(1 - s)
//!
//! and the loss is `weight` times the mean of l over the pairs. Its gradient reaches z
//! and μ through q (eq. 1). With g_ij = ∂L/∂q_ij, h_ij = q_ij (g_ij - Σ_m q_im g_im) and
//! w_ij = ((α + 1)/α) / (1 + |z_i - μ_j|²/α):
//!
//! - ∂L/∂z_i = -Σ_j h_ij w_ij (z_i - μ_j)
//! - ∂L/∂μ_j =  Σ_i h_ij w_ij (z_i - μ_j)
//!
//! (from ∂ln k_ij/∂z_i = -w_ij (z_i - μ_j) for the kernel k_ij of eq. 1, and
//! ∂q_ij = q_ij (∂ln k_ij - Σ_l q_il ∂ln k_il)). `tests` check both against finite
//! differences.

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::engine::cluster::assign::soft_assign;

/// What a pair says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Link {
    Must,
    Cannot,
}

/// One pairwise constraint between samples `i` and `j` (0-based rows).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    pub i: usize,
    pub j: usize,
    pub link: Link,
}

/// The pairs a run is steered by and the weight of their loss (λ in
/// L = KL(P‖Q) + λ·mean pair loss). Empty: plain DEC, bit for bit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Constraints {
    pub pairs: Vec<Constraint>,
    pub weight: f32,
}

/// λ when none is given: the pair loss then moves the encoder about as much as KL does
/// (measured on the MNIST test set; docs/steering.md, "Steering the clusters").
pub const DEFAULT_WEIGHT: f32 = 1.0;

/// Most distinct samples one step embeds for the pair loss; with more, each step takes
/// a random subset of the pairs (from [`crate::engine::streams::Stream::Constraints`]).
pub const MAX_PAIR_ROWS: usize = 256;

impl Default for Constraints {
    fn default() -> Self {
        Constraints {
            pairs: Vec::new(),
            weight: DEFAULT_WEIGHT,
        }
    }
}

impl Constraints {
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Count of must-links and of cannot-links.
    pub fn counts(&self) -> (usize, usize) {
        let must = self.pairs.iter().filter(|c| c.link == Link::Must).count();
        (must, self.pairs.len() - must)
    }
}

/// What [`add_pairs`] did with the pairs it was given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Added {
    /// Pairs that were not there before.
    pub new: usize,
    /// Pairs already there with the same link, left as they were.
    pub already: usize,
    /// Pairs there with the other link, turned to the new one.
    pub turned: usize,
}

/// Add `new` pairs to `pairs`: a pair of the same two samples (in either order) is
/// kept once, and a pair picked again with the other link takes that link (the last
/// pick wins), so no pair is counted twice and none is both must- and cannot-link.
pub fn add_pairs(pairs: &mut Vec<Constraint>, new: impl IntoIterator<Item = Constraint>) -> Added {
    let key = |c: &Constraint| (c.i.min(c.j), c.i.max(c.j));
    let mut at: std::collections::HashMap<(usize, usize), usize> =
        pairs.iter().enumerate().map(|(n, c)| (key(c), n)).collect();
    let mut added = Added::default();
    for c in new {
        if c.i == c.j {
            continue;
        }
        match at.get(&key(&c)) {
            Some(&n) if pairs[n].link == c.link => added.already += 1,
            Some(&n) => {
                pairs[n].link = c.link;
                added.turned += 1;
            }
            None => {
                at.insert(key(&c), pairs.len());
                pairs.push(c);
                added.new += 1;
            }
        }
    }
    added
}

/// The pairs of one step: the distinct samples they touch (`rows`, rows of the data)
/// and the pairs renumbered into `rows`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PairBatch {
    pub rows: Vec<usize>,
    pub pairs: Vec<Constraint>,
}

/// Add `c` to `batch` (rows renumbered through `at`, a map from data row to batch
/// row) unless that would take the batch past `cap` rows; true when added.
fn push_pair(
    batch: &mut PairBatch,
    at: &mut std::collections::HashMap<usize, usize>,
    c: &Constraint,
    cap: usize,
) -> bool {
    let new = [c.i, c.j].iter().filter(|r| !at.contains_key(r)).count();
    if batch.rows.len() + new > cap {
        return false;
    }
    let mut local = |r: usize| {
        *at.entry(r).or_insert_with(|| {
            batch.rows.push(r);
            batch.rows.len() - 1
        })
    };
    let (i, j) = (local(c.i), local(c.j));
    batch.pairs.push(Constraint { i, j, link: c.link });
    true
}

/// Pairs for each DEC step: all of them when they touch at most `cap` samples (the
/// same batch every step), else a new random subset filling `cap` rows each step.
pub struct PairBatches {
    all: Vec<Constraint>,
    fixed: Option<PairBatch>,
    cap: usize,
}

impl PairBatches {
    pub fn new(pairs: &[Constraint], cap: usize) -> PairBatches {
        let mut whole = PairBatch::default();
        let mut at = std::collections::HashMap::new();
        let fits = pairs.iter().all(|c| push_pair(&mut whole, &mut at, c, cap));
        PairBatches {
            all: pairs.to_vec(),
            fixed: fits.then_some(whole),
            cap,
        }
    }

    /// Most rows a batch can have.
    pub fn max_rows(&self) -> usize {
        self.fixed.as_ref().map_or(self.cap, |b| b.rows.len())
    }

    /// The next step's pairs (draws from `rng` only when the pairs do not all fit).
    pub fn next(&self, rng: &mut ChaCha8Rng) -> PairBatch {
        if let Some(b) = &self.fixed {
            return b.clone();
        }
        let mut order: Vec<usize> = (0..self.all.len()).collect();
        order.shuffle(rng);
        let mut b = PairBatch::default();
        let mut at = std::collections::HashMap::new();
        for o in order {
            push_pair(&mut b, &mut at, &self.all[o], self.cap);
        }
        b
    }
}

/// Why a constraints file could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConstraintError {
    #[error("line {line}: expected i,j,must or i,j,cannot (0-based sample rows), found '{found}'")]
    Format { line: usize, found: String },
    #[error("line {line}: sample {index} is out of range: the data has {n} samples (rows 0..{n})")]
    OutOfRange { line: usize, index: usize, n: usize },
    #[error("line {line}: a sample cannot be linked with itself ({index}, {index})")]
    SelfLink { line: usize, index: usize },
    #[error("{path}: cannot read the constraints file: {reason}")]
    Read { path: String, reason: String },
    #[error("{path}: {source}")]
    InFile {
        path: String,
        #[source]
        source: Box<ConstraintError>,
    },
    #[error(
        "{path}: no constraints in the file; write one `i,j,must` or `i,j,cannot` line per pair"
    )]
    Empty { path: String },
}

/// Read the constraints file at `path` for data of `n` samples; errors name the file
/// and the line.
pub fn read_file(path: &std::path::Path, n: usize) -> Result<Vec<Constraint>, ConstraintError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConstraintError::Read {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    let pairs = parse_csv(&text, n).map_err(|e| ConstraintError::InFile {
        path: shown.clone(),
        source: Box::new(e),
    })?;
    if pairs.is_empty() {
        return Err(ConstraintError::Empty { path: shown });
    }
    Ok(pairs)
}

/// `pairs` as the CSV [`parse_csv`] reads, with a header line.
pub fn to_csv(pairs: &[Constraint]) -> String {
    let mut s = String::from("i,j,link\n");
    for c in pairs {
        let kind = match c.link {
            Link::Must => "must",
            Link::Cannot => "cannot",
        };
        s.push_str(&format!("{},{},{kind}\n", c.i, c.j));
    }
    s
}

/// Read `i,j,must|cannot` lines (a header line and blank lines are skipped; `ml` and
/// `cl` are accepted too) for data of `n` samples.
pub fn parse_csv(text: &str, n: usize) -> Result<Vec<Constraint>, ConstraintError> {
    let mut out = Vec::new();
    for (no, raw) in text.lines().enumerate() {
        let line = no + 1;
        let t = raw.trim();
        if t.is_empty() || (no == 0 && t.to_ascii_lowercase().starts_with('i')) {
            continue;
        }
        let bad = || ConstraintError::Format {
            line,
            found: t.to_string(),
        };
        let cells: Vec<&str> = t.split(',').map(str::trim).collect();
        let [i, j, kind] = cells[..] else {
            return Err(bad());
        };
        let (i, j): (usize, usize) = (i.parse().map_err(|_| bad())?, j.parse().map_err(|_| bad())?);
        let link = match kind.to_ascii_lowercase().as_str() {
            "must" | "ml" | "must-link" => Link::Must,
            "cannot" | "cl" | "cannot-link" => Link::Cannot,
            _ => return Err(bad()),
        };
        if let Some(&index) = [i, j].iter().find(|&&v| v >= n) {
            return Err(ConstraintError::OutOfRange { line, index, n });
        }
        if i == j {
            return Err(ConstraintError::SelfLink { line, index: i });
        }
        out.push(Constraint { i, j, link });
    }
    Ok(out)
}

/// The pairwise loss and its gradients: `dz` has the shape of `z`, `dmu` of `mu`.
#[derive(Clone, Debug, PartialEq)]
pub struct PairLoss {
    pub loss: f32,
    pub dz: Vec<f32>,
    pub dmu: Vec<f32>,
}

/// Smallest s (or 1 - s) inside a log, so a pair on the wrong side never gives inf.
const EPS: f64 = 1e-12;

/// The loss of `pairs` (rows of `z`, `n x e`) under centroids `mu` (`k x e`) and
/// Student's t with `alpha`, times `weight`, with its gradients (formulas in the
/// module's doc). No pairs: zero loss and zero gradients.
pub fn pairwise_loss(
    z: &[f32],
    mu: &[f32],
    e: usize,
    alpha: f32,
    pairs: &[Constraint],
    weight: f32,
) -> PairLoss {
    let (n, k) = (z.len() / e, mu.len() / e);
    let mut q = vec![0.0f32; n * k];
    let mut ker = vec![0.0f32; n * k];
    soft_assign(z, mu, e, alpha, &mut q, &mut ker);
    // g = ∂L/∂q, only on the rows that appear in a pair.
    let mut g = vec![0.0f64; n * k];
    let mut loss = 0.0f64;
    let scale = f64::from(weight) / pairs.len().max(1) as f64;
    for c in pairs {
        let (qi, qj) = (&q[c.i * k..(c.i + 1) * k], &q[c.j * k..(c.j + 1) * k]);
        let s: f64 = qi
            .iter()
            .zip(qj)
            .map(|(a, b)| f64::from(*a) * f64::from(*b))
            .sum();
        // dl/ds: -1/s (must), 1/(1 - s) (cannot); ∂s/∂q_ik = q_jk.
        let dl_ds = match c.link {
            Link::Must => {
                loss -= s.max(EPS).ln();
                -1.0 / s.max(EPS)
            }
            Link::Cannot => {
                loss -= (1.0 - s).max(EPS).ln();
                1.0 / (1.0 - s).max(EPS)
            }
        };
        for m in 0..k {
            g[c.i * k + m] += scale * dl_ds * f64::from(qj[m]);
            g[c.j * k + m] += scale * dl_ds * f64::from(qi[m]);
        }
    }
    let mut dz = vec![0.0f32; z.len()];
    let mut dmu = vec![0.0f64; mu.len()];
    let w0 = f64::from((alpha + 1.0) / alpha);
    for i in 0..n {
        let gi = &g[i * k..(i + 1) * k];
        if gi.iter().all(|v| *v == 0.0) {
            continue;
        }
        let qi = &q[i * k..(i + 1) * k];
        let mean: f64 = qi.iter().zip(gi).map(|(a, b)| f64::from(*a) * b).sum();
        let zi = &z[i * e..(i + 1) * e];
        for j in 0..k {
            // h_ij w_ij, times (z_i - μ_j) below.
            let hw = f64::from(qi[j]) * (gi[j] - mean) * w0 * f64::from(ker[i * k + j]);
            let mj = &mu[j * e..(j + 1) * e];
            for t in 0..e {
                let diff = f64::from(zi[t] - mj[t]);
                dz[i * e + t] -= (hw * diff) as f32;
                dmu[j * e + t] += hw * diff;
            }
        }
    }
    PairLoss {
        loss: (loss * scale) as f32,
        dz,
        dmu: dmu.into_iter().map(|v| v as f32).collect(),
    }
}

/// Share of `pairs` that hard labels (`assignments`) satisfy: must-links in one
/// cluster, cannot-links in two. 1 when there are no pairs.
pub fn satisfied(pairs: &[Constraint], assignments: &[u32]) -> f64 {
    if pairs.is_empty() {
        return 1.0;
    }
    let ok = pairs
        .iter()
        .filter(|c| (assignments[c.i] == assignments[c.j]) == (c.link == Link::Must))
        .count();
    ok as f64 / pairs.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four points in 2-D and three centroids, not symmetric.
    fn setup() -> (Vec<f32>, Vec<f32>) {
        let z = vec![0.1, 0.2, 1.5, -0.3, -0.7, 1.1, 0.4, 0.9];
        let mu = vec![0.0, 0.0, 1.2, 0.1, -0.5, 1.3];
        (z, mu)
    }

    fn pairs() -> Vec<Constraint> {
        vec![
            Constraint {
                i: 0,
                j: 1,
                link: Link::Must,
            },
            Constraint {
                i: 2,
                j: 3,
                link: Link::Cannot,
            },
            Constraint {
                i: 0,
                j: 3,
                link: Link::Must,
            },
        ]
    }

    /// Central differences of `loss` at each coordinate of `v` against `analytic`.
    fn fd_check(what: &str, v: &[f32], analytic: &[f32], loss: impl Fn(&[f32]) -> f64) {
        let h = 1e-3f32;
        for t in 0..v.len() {
            let (mut a, mut b) = (v.to_vec(), v.to_vec());
            a[t] += h;
            b[t] -= h;
            let fd = (loss(&a) - loss(&b)) / (2.0 * f64::from(h));
            let an = f64::from(analytic[t]);
            assert!(
                (fd - an).abs() < 2e-3 * (1.0 + fd.abs()),
                "{what}[{t}]: fd {fd} vs {an}"
            );
        }
    }

    /// Central differences of the loss against the analytic gradient, every
    /// coordinate of z and μ, for alpha 1 and 2.
    #[test]
    fn gradients_match_finite_differences() {
        for alpha in [1.0f32, 2.0] {
            let (z, mu) = setup();
            let p = pairs();
            let got = pairwise_loss(&z, &mu, 2, alpha, &p, 0.7);
            let loss =
                |z: &[f32], mu: &[f32]| f64::from(pairwise_loss(z, mu, 2, alpha, &p, 0.7).loss);
            fd_check(&format!("alpha {alpha} dz"), &z, &got.dz, |v| loss(v, &mu));
            fd_check(&format!("alpha {alpha} dmu"), &mu, &got.dmu, |v| {
                loss(&z, v)
            });
        }
    }

    /// By hand: two points, two centroids at distance 0 and 1 from each (alpha 1).
    /// z0 = (0,0), z1 = (1,0), mu0 = (0,0), mu1 = (1,0): kernels 1 and 1/2, so
    /// q0 = (2/3, 1/3), q1 = (1/3, 2/3), s = 2/9 + 2/9 = 4/9; must-link loss
    /// -ln(4/9) = 0.81093, cannot-link -ln(5/9) = 0.58779.
    #[test]
    fn loss_by_hand() {
        let z = [0.0, 0.0, 1.0, 0.0];
        let mu = [0.0, 0.0, 1.0, 0.0];
        let pair = |link| [Constraint { i: 0, j: 1, link }];
        let ml = pairwise_loss(&z, &mu, 2, 1.0, &pair(Link::Must), 1.0);
        let cl = pairwise_loss(&z, &mu, 2, 1.0, &pair(Link::Cannot), 1.0);
        assert!((ml.loss - 0.810_930_2).abs() < 1e-5, "{}", ml.loss);
        assert!((cl.loss - 0.587_786_7).abs() < 1e-5, "{}", cl.loss);
        // Must-link pulls the two points together (z0 moves toward +x, z1 toward -x).
        assert!(ml.dz[0] < 0.0 && ml.dz[2] > 0.0, "{:?}", ml.dz);
        let none = pairwise_loss(&z, &mu, 2, 1.0, &[], 1.0);
        assert_eq!(none.loss, 0.0);
        assert!(none.dz.iter().chain(&none.dmu).all(|v| *v == 0.0));
    }

    #[test]
    fn csv_reads_pairs_and_says_what_is_wrong() {
        let c = parse_csv("i,j,link\n0,1,must\n\n2, 3, cannot\n4,5,CL\n", 6).unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(
            c[1],
            Constraint {
                i: 2,
                j: 3,
                link: Link::Cannot
            }
        );
        assert_eq!(c[2].link, Link::Cannot);
        assert_eq!(
            parse_csv("0,9,must\n", 6),
            Err(ConstraintError::OutOfRange {
                line: 1,
                index: 9,
                n: 6
            })
        );
        let e = parse_csv("0,1,maybe\n", 6).unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("'0,1,maybe'"), "{e}");
        assert_eq!(
            parse_csv("3,3,must\n", 6),
            Err(ConstraintError::SelfLink { line: 1, index: 3 })
        );
    }

    #[test]
    fn satisfied_counts_pairs_on_the_right_side() {
        let p = pairs();
        // 0,1 together (ok); 2,3 apart (ok); 0,3 apart (broken).
        assert!((satisfied(&p, &[0, 0, 1, 2]) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(satisfied(&[], &[0]), 1.0);
    }
}
