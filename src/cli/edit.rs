//! `decscope edit`: hand edits of a saved model's clusters (merge, split, remove, add,
//! name), suggested edits, and the edited model saved for `train --resume`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use decscope::engine::cluster::metrics::scores;
use decscope::engine::config::DecConfig;
use decscope::engine::curation::edit::{ClusterState, Edit, apply_all, members};
use decscope::engine::curation::record::EditMark;
use decscope::engine::curation::suggest::{
    KMEANS_START_NOTE, Suggestion, after_kmeans_start, split_and_merge, suggest,
};
use decscope::engine::model::DecModel;

use super::{DataArgs, fmt_scores};

#[derive(Args, Debug, Clone)]
pub struct EditArgs {
    /// The model to edit: a folder written by `decscope train --save`.
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Merge two clusters: A,B (B joins A). Repeatable.
    #[arg(long, value_name = "A,B")]
    pub merge: Vec<String>,
    /// Split a cluster by k-means on its members' z: C:M (into M). Repeatable.
    #[arg(long, value_name = "C:M")]
    pub split: Vec<String>,
    /// Remove a cluster (its members go where q sends them next). Repeatable.
    #[arg(long, value_name = "C")]
    pub remove: Vec<usize>,
    /// A new cluster at the mean z of these samples (0-based rows, comma separated).
    #[arg(long, value_name = "I,J,...", value_delimiter = ',')]
    pub add: Vec<usize>,
    /// Name a cluster: C=NAME. Repeatable.
    #[arg(long, value_name = "C=NAME")]
    pub name: Vec<String>,
    /// Print the suggested merges and splits (found without labels).
    #[arg(long)]
    pub suggest: bool,
    /// Apply the first N suggestions (before the edits given by hand).
    #[arg(long, value_name = "N")]
    pub apply_suggested: Option<usize>,
    /// Seed of the splits' k-means.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Save the edited model here (then `decscope train --init-from DIR --resume`).
    #[arg(long)]
    pub save: Option<PathBuf>,
}

/// Parse "A,B" of `--merge`.
fn parse_merge(s: &str) -> Result<Edit> {
    let bad = || anyhow::anyhow!("--merge {s}: expected two cluster numbers A,B, e.g. --merge 3,7");
    let (a, b) = s.split_once(',').ok_or_else(bad)?;
    Ok(Edit::Merge {
        a: a.trim().parse().map_err(|_| bad())?,
        b: b.trim().parse().map_err(|_| bad())?,
    })
}

/// Parse "C:M" of `--split`.
fn parse_split(s: &str, seed: u64) -> Result<Edit> {
    let bad = || anyhow::anyhow!("--split {s}: expected C:M (cluster C into M), e.g. --split 4:2");
    let (c, m) = s.split_once(':').ok_or_else(bad)?;
    Ok(Edit::Split {
        cluster: c.trim().parse().map_err(|_| bad())?,
        into: m.trim().parse().map_err(|_| bad())?,
        seed,
    })
}

/// Parse "C=NAME" of `--name` (an empty name unnames).
fn parse_name(s: &str) -> Result<Edit> {
    let bad = || anyhow::anyhow!("--name {s}: expected C=NAME, e.g. --name 2=sevens");
    let (c, name) = s.split_once('=').ok_or_else(bad)?;
    let name = name.trim();
    Ok(Edit::Name {
        cluster: c.trim().parse().map_err(|_| bad())?,
        name: (!name.is_empty()).then(|| name.to_string()),
    })
}

impl EditArgs {
    /// The hand edits in the order they are applied: merges, splits, removals, the
    /// new cluster, names.
    fn edits(&self) -> Result<Vec<Edit>> {
        let mut out = Vec::new();
        for m in &self.merge {
            out.push(parse_merge(m)?);
        }
        for s in &self.split {
            out.push(parse_split(s, self.seed)?);
        }
        out.extend(self.remove.iter().map(|&cluster| Edit::Remove { cluster }));
        if !self.add.is_empty() {
            out.push(Edit::Add {
                samples: self.add.clone(),
            });
        }
        for n in &self.name {
            out.push(parse_name(n)?);
        }
        Ok(out)
    }
}

/// What to try when no rule sees a failure in a model that started from k-means on Z
/// (see [`KMEANS_START_NOTE`]); `None` where the spectral start ran already or would
/// not (text).
fn kmeans_start_hint(cfg: &DecConfig, text: bool) -> Option<String> {
    let start = cfg.cluster.start.resolved(cfg.cluster.self_correct, text);
    after_kmeans_start(start, text).then(|| {
        format!(
            "no split-and-merge failure found (one class cut in two beside a cluster that holds two); {KMEANS_START_NOTE}. Without labels, compare with `decscope train --self-correct` on the same data"
        )
    })
}

/// One line per cluster: number, name, size and, with labels, its largest class.
fn print_clusters(state: &ClusterState, labels: &[u32], ds: &decscope::data::Dataset) {
    let k = state.k();
    for j in 0..k {
        let idx: Vec<usize> = (0..labels.len())
            .filter(|&i| labels[i] as usize == j)
            .collect();
        let name = state.names()[j]
            .as_deref()
            .map(|n| format!(" \"{n}\""))
            .unwrap_or_default();
        let class = ds.labels.as_ref().and_then(|t| {
            let mut counts = std::collections::BTreeMap::new();
            idx.iter()
                .for_each(|&i| *counts.entry(t[i]).or_insert(0usize) += 1);
            let (c, m) = counts
                .into_iter()
                .max_by_key(|&(c, m)| (m, std::cmp::Reverse(c)))?;
            Some(format!(
                ", largest class {} ({:.0}%)",
                ds.class_name(c),
                100.0 * m as f64 / idx.len() as f64
            ))
        });
        println!(
            "  cluster {j}{name}: {} samples{}",
            idx.len(),
            class.unwrap_or_default()
        );
    }
}

pub fn edit(a: EditArgs) -> Result<()> {
    let (model, ds) = super::predict::model_and_data(&a.model, &a.data)?;
    let (before, _, z, _) = model.assign(&ds.x, ds.n);
    let state = model.cluster_state();
    println!(
        "{}: {} clusters on {} samples",
        a.model.display(),
        state.k(),
        ds.n
    );
    if let Some(t) = &ds.labels {
        println!("  before: {}", fmt_scores(&scores(t, &before)));
    }
    let suggestions: Vec<Suggestion> = if a.suggest || a.apply_suggested.is_some() {
        suggest(&state, &z, model.alpha, a.seed)
    } else {
        Vec::new()
    };
    if a.suggest {
        println!("suggested edits ({}):", suggestions.len());
        for (i, s) in suggestions.iter().enumerate() {
            println!("  {}. {} (strength {:.2})", i + 1, s.evidence, s.strength);
        }
        match split_and_merge(&z, state.e(), &before, state.k()) {
            Some(f) => println!(
                "split-and-merge failure: {} (strength {:.2}); DEC's Z folds the two classes of cluster {} together, so mend it from the pretrained encoder: `decscope train --self-correct` (which starts from the spectral clusters of the pretrained Z)",
                f.evidence, f.strength, f.split
            ),
            None => {
                if let Some(hint) = kmeans_start_hint(&model.config, ds.text.is_some()) {
                    println!("{hint}");
                }
            }
        }
    }
    let mut edits: Vec<Edit> = suggestions
        .iter()
        .take(a.apply_suggested.unwrap_or(0))
        .map(|s| s.edit.clone())
        .collect();
    edits.extend(a.edits()?);
    if edits.is_empty() {
        if a.save.is_some() {
            bail!(
                "no edit to save: give --merge, --split, --remove, --add, --name or --apply-suggested"
            );
        }
        return Ok(());
    }
    let (after, applied) =
        apply_all(&state, &edits, &z, model.alpha).context("the edit cannot be made")?;
    for e in &applied {
        println!("  applied: {e}");
    }
    let labels = members(&after, &z, model.alpha);
    println!("after the edits: {} clusters", after.k());
    print_clusters(&after, &labels, &ds);
    if let Some(t) = &ds.labels {
        println!("  after: {}", fmt_scores(&scores(t, &labels)));
    }
    if let Some(dir) = &a.save {
        save(&model, &after, applied, dir)?;
    }
    Ok(())
}

/// `model` with the edited clusters `after` (names, and the edits marked at the
/// model's DEC step) into `dir`.
fn save(
    model: &DecModel,
    after: &ClusterState,
    applied: Vec<Edit>,
    dir: &std::path::Path,
) -> Result<()> {
    let mut m = model.clone();
    m.centroids = after.centroids().to_vec();
    m.config.n_clusters = after.k();
    m.curation.names = after.kept_names();
    let step = m.curation.dec_steps;
    m.curation
        .edits
        .extend(applied.into_iter().map(|edit| EditMark { step, edit }));
    m.save(dir)?;
    println!(
        "edited model: {} (go on with `decscope train --data ... --init-from {} --resume`)",
        dir.display(),
        dir.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use decscope::engine::config::Start;

    /// The hint is for a model whose run started from k-means on Z (the paper's, as
    /// `--no-self-correct` and `--preset paper` run it), not a run with
    /// self-correction (the default) or an explicit spectral start, and never for
    /// text, where the spectral start is not taken.
    #[test]
    fn the_hint_is_given_only_after_a_kmeans_start_on_non_text_data() {
        let mut cfg = DecConfig::default();
        assert!(
            kmeans_start_hint(&cfg, false).is_none(),
            "the default self-corrects"
        );
        cfg.cluster.self_correct = false;
        assert!(kmeans_start_hint(&cfg, false).is_some());
        assert!(kmeans_start_hint(&cfg, true).is_none());
        cfg.cluster.self_correct = true;
        assert!(kmeans_start_hint(&cfg, false).is_none());
        cfg.cluster.self_correct = false;
        cfg.cluster.start = Start::Spectral;
        assert!(kmeans_start_hint(&cfg, false).is_none());
        cfg.cluster.start = Start::Kmeans;
        let hint = kmeans_start_hint(&cfg, false).unwrap();
        assert!(hint.contains("decscope train --self-correct"), "{hint}");
    }
}
