//! Edits of a clustering by hand: merge two clusters, split one by k-means on its
//! members' embeddings, remove one, add one seeded at some samples, name one; each
//! leaves a valid DEC state (centroids in Z, one optional name per cluster), and a
//! [`crate::engine::curation::undo::UndoLog`] undoes and redoes them.
//!
//! Why: the views show what DEC got wrong (the 4/9 cluster, a split class), and a user
//! can fix it in a few clicks, then let DEC go on from the edited centroids (P is
//! recomputed from them). Edits are plain data (serde), so a run can record them.
//!
//! Membership is the hard assignment argmax_j q_ij of eq. 1 on the embeddings given.

use serde::{Deserialize, Serialize};

use crate::engine::cluster::assign::assign;
use crate::engine::cluster::kmeans::{KMeansParams, KMeansResult, kmeans};

/// Centroids (`k x e`, row-major) and a name slot per cluster. The fields are private
/// so that the invariant holds: `centroids.len() == k * e` with `k` the number of name
/// slots; only the constructors and the edits of this module make a state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterState {
    centroids: Vec<f32>,
    e: usize,
    names: Vec<Option<String>>,
}

impl ClusterState {
    /// Unnamed clusters at `centroids`.
    pub fn new(centroids: Vec<f32>, e: usize) -> ClusterState {
        let k = centroids.len() / e.max(1);
        ClusterState {
            centroids,
            e,
            names: vec![None; k],
        }
    }

    /// Clusters at `centroids`, named by `names` when it has one name slot per cluster
    /// (a model saved with names), else unnamed.
    pub fn with_names(centroids: Vec<f32>, e: usize, names: &[Option<String>]) -> ClusterState {
        let mut s = ClusterState::new(centroids, e);
        if names.len() == s.k() {
            s.names = names.to_vec();
        }
        s
    }

    /// The centroids, `k x e` row-major.
    pub fn centroids(&self) -> &[f32] {
        &self.centroids
    }

    /// The embedding's dimension.
    pub fn e(&self) -> usize {
        self.e
    }

    /// One name slot per cluster.
    pub fn names(&self) -> &[Option<String>] {
        &self.names
    }

    /// The centroids and the names, taken apart (DEC trains the centroids on).
    pub fn into_parts(self) -> (Vec<f32>, Vec<Option<String>>) {
        (self.centroids, self.names)
    }

    /// The number of clusters: one name slot each.
    pub fn k(&self) -> usize {
        self.names.len()
    }

    /// The names as a model or a report keeps them ([`kept_names`]).
    pub fn kept_names(&self) -> Vec<Option<String>> {
        kept_names(&self.names)
    }

    fn centroid(&self, j: usize) -> &[f32] {
        &self.centroids[j * self.e..(j + 1) * self.e]
    }
}

/// Names as a model or a report keeps them: one per cluster when any cluster is named,
/// none at all when no cluster is.
pub fn kept_names(names: &[Option<String>]) -> Vec<Option<String>> {
    if names.iter().any(Option::is_some) {
        names.to_vec()
    } else {
        Vec::new()
    }
}

/// One edit. Cluster numbers are those of the state it applies to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Edit {
    /// Cluster `b` joins `a`: the new centroid is the member-weighted mean of the two
    /// (the plain mean when both are empty); `a` keeps its name, `b` is gone.
    Merge { a: usize, b: usize },
    /// Cluster `cluster` becomes `into` clusters by k-means (seeded) on its members'
    /// z: the first keeps its number and name, the others are added at the end.
    Split {
        cluster: usize,
        into: usize,
        seed: u64,
    },
    /// Cluster `cluster` is gone; its members go where q sends them next.
    Remove { cluster: usize },
    /// A new cluster at the mean z of `samples`.
    Add { samples: Vec<usize> },
    /// Name (or with `None`, unname) a cluster.
    Name {
        cluster: usize,
        name: Option<String>,
    },
}

impl Edit {
    /// The existing clusters the edit is about (the pair of a merge, the cluster of a
    /// split, a removal or a name; none for a new cluster), for views that point at
    /// them.
    pub fn clusters(&self) -> Vec<usize> {
        match self {
            Edit::Merge { a, b } => vec![*a, *b],
            Edit::Split { cluster, .. } | Edit::Remove { cluster } | Edit::Name { cluster, .. } => {
                vec![*cluster]
            }
            Edit::Add { .. } => Vec::new(),
        }
    }
}

impl std::fmt::Display for Edit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Edit::Merge { a, b } => write!(f, "merge cluster {b} into {a}"),
            Edit::Split { cluster, into, .. } => write!(f, "split cluster {cluster} into {into}"),
            Edit::Remove { cluster } => write!(f, "remove cluster {cluster}"),
            Edit::Add { samples } => write!(
                f,
                "add a cluster at the mean z of {} sample(s)",
                samples.len()
            ),
            Edit::Name {
                cluster,
                name: Some(n),
            } => write!(f, "name cluster {cluster} \"{n}\""),
            Edit::Name {
                cluster,
                name: None,
            } => write!(f, "unname cluster {cluster}"),
        }
    }
}

/// Why an edit cannot be made; the message says what to pick instead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EditError {
    #[error("there is no cluster {cluster}: the clustering has {k} (0..{k})")]
    NoCluster { cluster: usize, k: usize },
    #[error("merge needs two different clusters, not {0} twice")]
    SameCluster(usize),
    #[error("cluster {cluster} has {members} members, too few to split into {into}")]
    TooFewToSplit {
        cluster: usize,
        members: usize,
        into: usize,
    },
    #[error("split into at least 2 clusters, not {0}")]
    SplitInto(usize),
    #[error("DEC needs at least 2 clusters; this edit would leave {0}")]
    TooFewClusters(usize),
    #[error("a new cluster needs some samples; {0}")]
    NoSamples(String),
    #[error(
        "cluster {0} is gone by an earlier edit of the same list (merged into another or removed); refer to the cluster it went into"
    )]
    Gone(usize),
}

/// The hard assignment of the `n x e` embeddings `z` to the state's centroids.
pub fn members(state: &ClusterState, z: &[f32], alpha: f32) -> Vec<u32> {
    assign(z, &state.centroids, state.e, alpha).0
}

/// `state` after `edit`, with memberships taken from `z` (`n x e`) under `alpha`.
pub fn apply(
    state: &ClusterState,
    edit: &Edit,
    z: &[f32],
    alpha: f32,
) -> Result<ClusterState, EditError> {
    let k = state.k();
    let check = |c: usize| {
        if c < k {
            Ok(())
        } else {
            Err(EditError::NoCluster { cluster: c, k })
        }
    };
    let mut out = state.clone();
    match edit {
        Edit::Merge { a, b } => {
            check(*a)?;
            check(*b)?;
            if a == b {
                return Err(EditError::SameCluster(*a));
            }
            if k - 1 < 2 {
                return Err(EditError::TooFewClusters(k - 1));
            }
            merge(&mut out, *a, *b, &members(state, z, alpha));
        }
        Edit::Split {
            cluster,
            into,
            seed,
        } => {
            check(*cluster)?;
            split(
                &mut out,
                *cluster,
                *into,
                *seed,
                z,
                &members(state, z, alpha),
            )?;
        }
        Edit::Remove { cluster } => {
            check(*cluster)?;
            if k - 1 < 2 {
                return Err(EditError::TooFewClusters(k - 1));
            }
            remove(&mut out, *cluster);
        }
        Edit::Add { samples } => add(&mut out, samples, z)?,
        Edit::Name { cluster, name } => {
            check(*cluster)?;
            out.names[*cluster] = name.clone().filter(|n| !n.trim().is_empty());
        }
    }
    Ok(out)
}

/// Cluster `b` joins `a` at the member-weighted mean of the two centroids (the plain
/// mean when both are empty); `labels` are the memberships before the merge.
fn merge(s: &mut ClusterState, a: usize, b: usize, labels: &[u32]) {
    let count = |c: usize| labels.iter().filter(|&&l| l as usize == c).count() as f64;
    let (na, nb) = (count(a), count(b));
    let (wa, wb) = if na + nb > 0.0 {
        (na / (na + nb), nb / (na + nb))
    } else {
        (0.5, 0.5)
    };
    let merged: Vec<f32> = s
        .centroid(a)
        .iter()
        .zip(s.centroid(b))
        .map(|(x, y)| (wa * f64::from(*x) + wb * f64::from(*y)) as f32)
        .collect();
    s.centroids[a * s.e..(a + 1) * s.e].copy_from_slice(&merged);
    remove(s, b);
}

/// Cluster `c` becomes `into` clusters by seeded k-means on its members' z: the first
/// keeps its place and name, the others go at the end.
fn split(
    s: &mut ClusterState,
    c: usize,
    into: usize,
    seed: u64,
    z: &[f32],
    labels: &[u32],
) -> Result<(), EditError> {
    if into < 2 {
        return Err(EditError::SplitInto(into));
    }
    let e = s.e;
    let rows: Vec<f32> = z
        .chunks_exact(e)
        .zip(labels)
        .filter(|(_, l)| **l as usize == c)
        .flat_map(|(r, _)| r.iter().copied())
        .collect();
    let m = rows.len() / e;
    if m < into {
        return Err(EditError::TooFewToSplit {
            cluster: c,
            members: m,
            into,
        });
    }
    let r = split_kmeans(&rows, e, into, seed);
    s.centroids[c * e..(c + 1) * e].copy_from_slice(&r.centroids[..e]);
    s.centroids.extend_from_slice(&r.centroids[e..]);
    s.names.extend(std::iter::repeat_n(None, into - 1));
    Ok(())
}

/// Restarts of the k-means that splits a cluster.
pub const SPLIT_RESTARTS: usize = 10;

/// The k-means that splits a cluster's members (`rows`, `m x e`) into `into`: the one
/// [`Edit::Split`] makes and [`crate::engine::curation::suggest`] rates, so a suggestion's
/// evidence describes the split that applying it makes.
pub fn split_kmeans(rows: &[f32], e: usize, into: usize, seed: u64) -> KMeansResult {
    let mut p = KMeansParams::new(into);
    p.seed = seed;
    p.n_init = SPLIT_RESTARTS;
    kmeans(rows, e, &p)
}

/// A new, unnamed cluster at the mean z of `samples`.
fn add(s: &mut ClusterState, samples: &[usize], z: &[f32]) -> Result<(), EditError> {
    let n = z.len() / s.e.max(1);
    if samples.is_empty() {
        return Err(EditError::NoSamples("none were selected".into()));
    }
    if let Some(bad) = samples.iter().find(|&&i| i >= n) {
        return Err(EditError::NoSamples(format!(
            "sample {bad} is out of range (the data has {n})"
        )));
    }
    let mut mean = vec![0.0f64; s.e];
    for &i in samples {
        for (m, v) in mean.iter_mut().zip(&z[i * s.e..(i + 1) * s.e]) {
            *m += f64::from(*v);
        }
    }
    let count = samples.len() as f64;
    s.centroids.extend(mean.iter().map(|m| (m / count) as f32));
    s.names.push(None);
    Ok(())
}

/// Apply `edits` in order, each of whose cluster numbers refers to `state`'s clusters
/// as they were before any of the edits (so `--merge 3,7 --remove 5` means the clusters
/// that were 3, 7 and 5, whatever the merge renumbered). A cluster merged into another
/// is then that other one; a split's new clusters are numbered after the last. Returns
/// the new state and the edits as applied (each in the numbering of the state it met),
/// which [`crate::engine::curation::undo::UndoLog::edit`] replays.
pub fn apply_all(
    state: &ClusterState,
    edits: &[Edit],
    z: &[f32],
    alpha: f32,
) -> Result<(ClusterState, Vec<Edit>), EditError> {
    let k0 = state.k();
    // Where each original cluster is now (None: removed).
    let mut now: Vec<Option<usize>> = (0..k0).map(Some).collect();
    let mut cur = state.clone();
    let mut applied = Vec::with_capacity(edits.len());
    for edit in edits {
        let to = |c: usize| match now.get(c) {
            None => Err(EditError::NoCluster { cluster: c, k: k0 }),
            Some(None) => Err(EditError::Gone(c)),
            Some(Some(j)) => Ok(*j),
        };
        let renumbered = match edit {
            Edit::Merge { a, b } => Edit::Merge {
                a: to(*a)?,
                b: to(*b)?,
            },
            Edit::Split {
                cluster,
                into,
                seed,
            } => Edit::Split {
                cluster: to(*cluster)?,
                into: *into,
                seed: *seed,
            },
            Edit::Remove { cluster } => Edit::Remove {
                cluster: to(*cluster)?,
            },
            Edit::Name { cluster, name } => Edit::Name {
                cluster: to(*cluster)?,
                name: name.clone(),
            },
            Edit::Add { samples } => Edit::Add {
                samples: samples.clone(),
            },
        };
        cur = apply(&cur, &renumbered, z, alpha)?;
        let (gone, into) = match renumbered {
            Edit::Merge { a, b } => (Some(b), Some(a)),
            Edit::Remove { cluster } => (Some(cluster), None),
            _ => (None, None),
        };
        if let Some(g) = gone {
            for slot in now.iter_mut() {
                if *slot == Some(g) {
                    *slot = into;
                }
                if let Some(j) = slot.as_mut()
                    && *j > g
                {
                    *j -= 1;
                }
            }
        }
        applied.push(renumbered);
    }
    Ok((cur, applied))
}

/// Drop cluster `c` (its centroid and name); later clusters move down by one.
fn remove(s: &mut ClusterState, c: usize) {
    s.centroids.drain(c * s.e..(c + 1) * s.e);
    s.names.remove(c);
}

/// Where each of the `k` clusters before `edit` is after it: `Some(new number)`, or
/// `None` for a removed one. A merged-away cluster maps to the one it joined; a split
/// or an added cluster only appends, so the old numbers stay.
pub fn renumbering(edit: &Edit, k: usize) -> Vec<Option<usize>> {
    let shift = |gone: usize| move |i: usize| if i > gone { i - 1 } else { i };
    match *edit {
        Edit::Merge { a, b } => (0..k)
            .map(|i| Some(shift(b)(if i == b { a } else { i })))
            .collect(),
        Edit::Remove { cluster } => (0..k)
            .map(|i| (i != cluster).then(|| shift(cluster)(i)))
            .collect(),
        Edit::Split { .. } | Edit::Add { .. } | Edit::Name { .. } => (0..k).map(Some).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1-D embeddings: three points at 0, one at 1 (cluster 0 at 0.2), two groups at
    /// 10 and 20 (cluster 1 at 15), one point at -10 (cluster 2 at -10).
    fn data() -> (ClusterState, Vec<f32>) {
        let z = vec![0.0, 0.0, 0.0, 1.0, 10.0, 10.0, 20.0, 20.0, -10.0];
        (ClusterState::new(vec![0.2, 15.0, -10.0], 1), z)
    }

    #[test]
    fn merge_takes_the_member_weighted_mean_and_keeps_the_first_name() {
        let (mut s, z) = data();
        s.names[0] = Some("zeros".into());
        // Cluster 0 has 4 members, cluster 2 has 1: (4 * 0.2 + 1 * -10) / 5 = -1.84.
        let m = apply(&s, &Edit::Merge { a: 0, b: 2 }, &z, 1.0).unwrap();
        assert_eq!(m.k(), 2);
        assert!((m.centroids[0] - -1.84).abs() < 1e-6, "{:?}", m.centroids);
        assert_eq!(m.centroids[1], 15.0);
        assert_eq!(m.names, vec![Some("zeros".to_string()), None]);
        assert_eq!(
            apply(&s, &Edit::Merge { a: 1, b: 1 }, &z, 1.0),
            Err(EditError::SameCluster(1))
        );
    }

    #[test]
    fn split_finds_the_two_groups_inside_a_cluster() {
        let (s, z) = data();
        let t = apply(
            &s,
            &Edit::Split {
                cluster: 1,
                into: 2,
                seed: 0,
            },
            &z,
            1.0,
        )
        .unwrap();
        assert_eq!(t.k(), 4);
        let mut halves = [t.centroids[1], t.centroids[3]];
        halves.sort_by(f32::total_cmp);
        assert_eq!(halves, [10.0, 20.0]);
        assert_eq!((t.centroids[0], t.centroids[2]), (0.2, -10.0));
        let e = apply(
            &s,
            &Edit::Split {
                cluster: 2,
                into: 2,
                seed: 0,
            },
            &z,
            1.0,
        )
        .unwrap_err();
        assert_eq!(
            e,
            EditError::TooFewToSplit {
                cluster: 2,
                members: 1,
                into: 2
            }
        );
    }

    /// Renumbering by hand: merging 1 into 3 of 5 moves 1 to 3, then 3 and 4 down by
    /// one (1 -> 2); removing 0 of 3 drops it and moves the rest down.
    #[test]
    fn renumbering_follows_merges_and_removals() {
        assert_eq!(
            renumbering(&Edit::Merge { a: 3, b: 1 }, 5),
            vec![Some(0), Some(2), Some(1), Some(2), Some(3)]
        );
        assert_eq!(
            renumbering(&Edit::Remove { cluster: 0 }, 3),
            vec![None, Some(0), Some(1)]
        );
        let split = Edit::Split {
            cluster: 1,
            into: 3,
            seed: 0,
        };
        assert_eq!(renumbering(&split, 2), vec![Some(0), Some(1)]);
    }

    #[test]
    fn remove_add_and_name() {
        let (s, z) = data();
        let r = apply(&s, &Edit::Remove { cluster: 0 }, &z, 1.0).unwrap();
        assert_eq!(r.centroids, vec![15.0, -10.0]);
        assert_eq!(
            apply(&r, &Edit::Remove { cluster: 0 }, &z, 1.0),
            Err(EditError::TooFewClusters(1))
        );
        // A new cluster at the mean of samples 3 and 8: (1 - 10) / 2.
        let a = apply(
            &s,
            &Edit::Add {
                samples: vec![3, 8],
            },
            &z,
            1.0,
        )
        .unwrap();
        assert_eq!(a.centroids, vec![0.2, 15.0, -10.0, -4.5]);
        assert!(apply(&s, &Edit::Add { samples: vec![] }, &z, 1.0).is_err());
        assert!(apply(&s, &Edit::Add { samples: vec![99] }, &z, 1.0).is_err());
        let n = apply(
            &s,
            &Edit::Name {
                cluster: 1,
                name: Some("tens".into()),
            },
            &z,
            1.0,
        )
        .unwrap();
        assert_eq!(n.names[1].as_deref(), Some("tens"));
        assert_eq!(
            apply(
                &s,
                &Edit::Name {
                    cluster: 5,
                    name: None
                },
                &z,
                1.0
            ),
            Err(EditError::NoCluster { cluster: 5, k: 3 })
        );
    }

    /// Numbers refer to the clusters before the list: removing "2" after merging 1
    /// into 0 removes the cluster that was 2 (now 1); naming "1" names the merged one.
    #[test]
    fn a_list_of_edits_uses_the_original_numbers() {
        let (s, z) = data();
        let edits = [
            Edit::Merge { a: 1, b: 0 },
            Edit::Name {
                cluster: 0,
                name: Some("merged".into()),
            },
            Edit::Add { samples: vec![8] },
            Edit::Remove { cluster: 2 },
        ];
        let (t, applied) = apply_all(&s, &edits, &z, 1.0).unwrap();
        assert_eq!(
            applied,
            vec![
                Edit::Merge { a: 1, b: 0 },
                Edit::Name {
                    cluster: 0,
                    name: Some("merged".into())
                },
                Edit::Add { samples: vec![8] },
                Edit::Remove { cluster: 1 },
            ]
        );
        // Merged: (4 members at 0.2 and 4 at 15) -> 7.6; then -10 is added and the old
        // cluster 2 (-10) removed.
        assert_eq!(t.k(), 2);
        assert!((t.centroids[0] - 7.6).abs() < 1e-5, "{:?}", t.centroids);
        assert_eq!(t.centroids[1], -10.0);
        assert_eq!(t.names, vec![Some("merged".to_string()), None]);
        // Replaying the applied list one by one gives the same state.
        let mut h = s.clone();
        for e in applied {
            h = apply(&h, &e, &z, 1.0).unwrap();
        }
        assert_eq!(h, t);
        let gone = apply_all(
            &s,
            &[Edit::Remove { cluster: 2 }, Edit::Merge { a: 0, b: 2 }],
            &z,
            1.0,
        );
        assert_eq!(gone, Err(EditError::Gone(2)));
    }
}
