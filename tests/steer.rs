//! Steering DEC (issue 21) end to end: pairwise constraints in training, DEC resumed
//! from a saved state after hand edits, and the command line's edit/resume flow.

use std::path::PathBuf;

use decscope::data;
use decscope::engine::cluster::constraints::{Constraint, Constraints, Link, satisfied};
use decscope::engine::config::DecConfig;
use decscope::engine::curation::edit::Edit;
use decscope::engine::pipeline::{
    AeSource, Control, Controller, Event, LiveReason, LiveState, NullSink, Resume, RunOutput, Sink,
    Steer, control_channel, pretrain_autoencoder, run,
};
use decscope::engine::report::WarningKind;

mod common;
use common::{decscope, fails_with, mnist};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn config() -> DecConfig {
    let mut c = DecConfig::default().with_seed(3).with_hidden(vec![256, 10]);
    c.pretrain.batch_size = 128;
    c.cluster.batch_size = 128;
    c.pretrain.finetune_epochs = Some(30);
    c.cluster.update_interval = 40;
    c.cluster.max_iter = 2000;
    c.cluster.tol = 0.005;
    c.cluster.kmeans_n_init = 4;
    c.baselines = false;
    c
}

/// Every pair among `a`, must-link; every pair among `b`, must-link; every a-b pair,
/// cannot-link (the bar's picks: two digits told apart).
fn pairs(a: &[usize], b: &[usize]) -> Vec<Constraint> {
    let mut out = Vec::new();
    for g in [a, b] {
        for x in 0..g.len() {
            for y in x + 1..g.len() {
                out.push(Constraint {
                    i: g[x],
                    j: g[y],
                    link: Link::Must,
                });
            }
        }
    }
    for &i in a {
        for &j in b {
            out.push(Constraint {
                i,
                j,
                link: Link::Cannot,
            });
        }
    }
    out
}

fn resume(out: &RunOutput) -> AeSource {
    AeSource::Resume(Box::new(Resume::from_model(&out.model, "test".into())))
}

/// DEC on 800 digits, then resumed with 12 fours and 12 nines picked (must-link within
/// a digit, cannot-link across): the picks' pairs end satisfied, where plain DEC left
/// many of them broken; resumed without constraints, the state stays where it was
/// (fewer than 1% of labels move).
#[test]
fn constraints_move_dec_to_the_picks_and_none_change_nothing() {
    let ds = mnist(800);
    let cfg = config();
    let plain = run(
        &ds,
        &cfg,
        AeSource::Pretrain,
        &mut NullSink,
        &Control::default(),
    )
    .unwrap();
    let t = ds.labels.as_ref().unwrap();
    let of = |d: u32| -> Vec<usize> { (0..ds.n).filter(|&i| t[i] == d).take(12).collect() };
    assert!(plain.report.final_.converged, "{:?}", plain.report.final_);
    let picks = pairs(&of(4), &of(9));
    let before = satisfied(&picks, &plain.assignments);
    assert!(
        before < 0.9,
        "plain DEC already satisfies {before}: the test shows nothing"
    );

    let mut guided = cfg.clone();
    guided.constraints = Constraints {
        pairs: picks.clone(),
        weight: 1.0,
    };
    let steered = run(
        &ds,
        &guided,
        resume(&plain),
        &mut NullSink,
        &Control::default(),
    )
    .unwrap();
    let after = satisfied(&picks, &steered.assignments);
    assert!(after >= 0.97, "satisfied {before:.3} -> {after:.3}");
    // The report's figure against a count by hand: a must-link pair is kept when both
    // samples share a cluster, a cannot-link pair when they do not.
    let a = &steered.assignments;
    let kept = picks
        .iter()
        .filter(|c| (a[c.i] == a[c.j]) == (c.link == Link::Must))
        .count();
    assert_eq!(
        steered.report.final_.constraints_satisfied,
        Some(kept as f64 / picks.len() as f64)
    );
    let r = steered
        .report
        .resumed
        .as_ref()
        .expect("a resumed run says so");
    assert_eq!(r.step, plain.report.final_.iterations);
    let first = steered
        .report
        .history
        .iter()
        .find(|h| h.phase == "dec")
        .unwrap();
    assert_eq!(
        first.step, r.step,
        "the history goes on from the saved step"
    );

    let control = run(
        &ds,
        &cfg,
        resume(&plain),
        &mut NullSink,
        &Control::default(),
    )
    .unwrap();
    let moved = control
        .assignments
        .iter()
        .zip(&plain.assignments)
        .filter(|(a, b)| a != b)
        .count();
    assert!(moved * 100 < ds.n, "{moved} of {} labels moved", ds.n);
}

/// A constraints file naming a sample past the data, or a kind that is not must or
/// cannot, stops `train` before any work with one line naming the row; so does
/// `--resume` from an autoencoder without clusters.
#[test]
fn bad_constraints_and_resume_exit_2_naming_the_row() {
    let data = data::default_dataset_path();
    let data = data.to_str().unwrap();
    let base = ["train", "--data", data, "--limit", "300", "--constraints"];
    let f = fixture("constraints_out_of_range.csv");
    let out = decscope(&[&base[..], &[f.to_str().unwrap()]].concat());
    fails_with(
        &out,
        &[
            "constraints_out_of_range.csv",
            "line 3",
            "sample 600",
            "300 samples",
        ],
    );
    let f = fixture("constraints_unknown_kind.csv");
    let out = decscope(&[&base[..], &[f.to_str().unwrap()]].concat());
    fails_with(&out, &["line 2", "'0,1,maybe'", "i,j,must or i,j,cannot"]);
    let bare = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/pretrained-mnist-test");
    let out = decscope(&[
        "train",
        "--data",
        data,
        "--limit",
        "300",
        "--init-from",
        bare.to_str().unwrap(),
        "--resume",
    ]);
    fails_with(&out, &["--resume needs a model with clusters"]);
}

/// The headless curation of the issue: train and save, `edit` (merge, split, name) and
/// save, `train --init-from --resume`, then `predict`: the name reaches the report and
/// the assignments CSV, the report lists the edits and goes on from the saved step.
#[test]
fn edit_then_resume_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("decscope-steer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let data = data::default_dataset_path();
    let common = vec!["--data", data.to_str().unwrap(), "--limit", "600"];
    let ok = |args: Vec<&str>| {
        let out = decscope(&[args.clone(), common.clone()].concat());
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let (m0, m1, m2) = (p("m0"), p("m1"), p("m2"));
    let fast =
        "--dims 64,10 --finetune-iters 300 --update-interval 50 --kmeans-n-init 2 --no-baseline -q";
    let trained = ok(argv(&format!("train {fast} --max-iter 200 --save"), &[&m0]));
    // The default self-corrects and says what it did, if only that it found nothing.
    assert!(trained.contains("self-correction"), "{trained}");
    let edits = "--merge 0,1 --split 2:2 --name 3=threes? --suggest";
    let shown = ok(argv(
        &format!("edit {edits} --model"),
        &[&m0, "--save", &m1],
    ));
    assert!(shown.contains("applied: merge cluster 1 into 0"), "{shown}");
    // The suggestions are listed, numbered, as many as the heading says, and at least
    // one: this small model has clusters that look like one.
    let listed = shown
        .lines()
        .find_map(|l| l.strip_prefix("suggested edits (")?.strip_suffix("):"))
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("no suggestion heading in {shown}"));
    assert!(listed >= 1, "{shown}");
    for i in 1..=listed {
        assert!(
            shown.contains(&format!("  {i}. ")),
            "suggestion {i} in {shown}"
        );
    }
    // After merging 1 into 0, the clusters that were 2 and 3 are 1 and 2.
    assert!(shown.contains("applied: split cluster 1 into 2"), "{shown}");
    assert!(shown.contains("cluster 2 \"threes?\""), "{shown}");
    let report = p("r.json");
    let resume = format!("train {fast} --resume --max-iter 100 --init-from");
    let went_on = ok(argv(&resume, &[&m1, "--report", &report, "--save", &m2]));
    // A resume has no start and does not self-correct, so it says nothing of it.
    assert!(!went_on.contains("self-correction"), "{went_on}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let resumed = &r["resumed"];
    assert_eq!(resumed["edits"].as_array().unwrap().len(), 3, "{resumed}");
    let step = resumed["step"].as_u64().unwrap();
    assert!(step > 0);
    let first = &r["history"][0];
    assert_eq!(first["step"].as_u64(), Some(step), "{first}");
    assert_eq!(r["final"]["cluster_names"][2], "threes?");
    assert_eq!(r["final"]["n_clusters"], 10);
    let csv_path = p("a.csv");
    ok(argv("predict --model", &[&m2, "--out", &csv_path]));
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert!(
        csv.starts_with("index,cluster,cluster_name,confidence,label\n"),
        "{csv}"
    );
    let named = csv.lines().filter(|l| l.contains(",2,threes?,")).count();
    assert!(named > 0, "no sample of the named cluster in {csv}");
    std::fs::remove_dir_all(&dir).ok();
}

/// `words` split at spaces, then `rest` as they are (paths may hold spaces).
fn argv<'a>(words: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    words
        .split_whitespace()
        .chain(rest.iter().copied())
        .collect()
}

/// A sink that steers the run from inside it, as the app's user would: `on` sees each
/// event (with the run's controller) and the sink keeps the live states it was sent.
struct Steering<F: FnMut(&Event, &Controller)> {
    ctl: Controller,
    on: F,
    live: Vec<std::sync::Arc<LiveState>>,
}

impl<F: FnMut(&Event, &Controller)> Sink for Steering<F> {
    fn event(&mut self, e: Event) {
        (self.on)(&e, &self.ctl);
        if let Event::Live(l) = e {
            self.live.push(l);
        }
    }
}

/// One pretraining for the steering tests, and their configuration: exactly 200 DEC
/// steps (tol 0), a P update every 40.
fn steering_setup() -> (decscope::data::Dataset, DecConfig, AeSource) {
    let ds = mnist(800);
    let mut cfg = config();
    cfg.cluster.tol = 0.0;
    cfg.cluster.max_iter = 200;
    let ae = pretrain_autoencoder(&ds, &cfg, &mut NullSink, &Control::default()).unwrap();
    (ds, cfg, AeSource::Given(ae, "test".into()))
}

fn is_dec_update(e: &Event, step: usize) -> bool {
    matches!(e, Event::History(h) if h.phase == "dec" && h.step == step)
}

/// Steering sent while DEC trains waits for the next P update (step 80 here, sent
/// after the one at 40): a merge and a name, then DEC goes on with 9 clusters to the
/// end, and the report, the model and the live state all say what was done and when.
#[test]
fn steering_a_running_dec_applies_at_the_next_update() {
    let (ds, cfg, ae) = steering_setup();
    let (ctl, control) = control_channel();
    let mut sink = Steering {
        ctl,
        live: Vec::new(),
        on: |e: &Event, c: &Controller| {
            if is_dec_update(e, 40) {
                c.steer(Steer::Edit(Edit::Merge { a: 0, b: 1 }));
                c.steer(Steer::Edit(Edit::Name {
                    cluster: 0,
                    name: Some("zero-one".into()),
                }));
            }
        },
    };
    let out = run(&ds, &cfg, ae, &mut sink, &control).unwrap();
    let r = &out.report;
    let steps: Vec<(usize, usize)> = r.steered.iter().map(|m| (m.step, m.k)).collect();
    assert_eq!(steps, vec![(80, 9), (80, 9)], "{:?}", r.steered);
    assert_eq!(r.steered[0].what, "merge cluster 1 into 0");
    // "Labels changed" at the edit's update counts samples that moved, in the merged
    // numbering: 0.166 here (the merged centroid lets some members go), where counting
    // against the old numbering gave 0.876 (the merge renumbered clusters 2..9).
    let changed = |step: usize| {
        r.history
            .iter()
            .find(|h| h.phase == "dec" && h.step == step)
            .and_then(|h| h.changed)
            .unwrap()
    };
    assert!(
        changed(80) < 0.3,
        "{} at the edit, {} before",
        changed(80),
        changed(40)
    );
    assert_eq!(r.final_.n_clusters, 9);
    assert_eq!(r.config.n_clusters, 9);
    assert_eq!(r.final_.iterations, 200, "DEC went on to max_iter");
    assert!(out.assignments.iter().all(|&a| a < 9));
    assert_eq!(r.final_.cluster_names[0].as_deref(), Some("zero-one"));
    assert_eq!(out.model.curation.edits.len(), 2);
    assert!(out.model.curation.edits.iter().all(|m| m.step == 80));
    assert_eq!(sink.live.len(), 1);
    let l = &sink.live[0];
    assert_eq!((l.step, l.clusters.k(), l.can_undo), (80, 9, true));
    assert_eq!(
        l.snapshot.centroids.as_ref().map(|c| c.len()),
        Some(9 * 10),
        "the live snapshot shows the edited state"
    );
}

/// Steering sent while paused applies at once, at the pause's step: a split, then its
/// undo, which gives back the paused centroids exactly; the run then ends with 10.
#[test]
fn steering_a_paused_dec_applies_at_once_and_undo_restores_it() {
    let (ds, cfg, ae) = steering_setup();
    let (ctl, control) = control_channel();
    let mut seen = 0;
    let mut sink = Steering {
        ctl,
        live: Vec::new(),
        on: |e: &Event, c: &Controller| match e {
            e if is_dec_update(e, 120) => c.pause(),
            Event::Live(_) => {
                seen += 1;
                match seen {
                    1 => c.steer(Steer::Edit(Edit::Split {
                        cluster: 2,
                        into: 2,
                        seed: 0,
                    })),
                    2 => c.steer(Steer::Undo),
                    _ => c.resume(),
                }
            }
            _ => {}
        },
    };
    let out = run(&ds, &cfg, ae, &mut sink, &control).unwrap();
    let live = &sink.live;
    assert_eq!(live.len(), 3);
    assert_eq!(live[0].reason, LiveReason::Paused);
    assert_eq!(
        live[1].reason,
        LiveReason::Steered(vec!["split cluster 2 into 2".into()])
    );
    assert!(live.iter().all(|l| l.step == 120), "applied at the pause");
    assert_eq!(live[1].clusters.k(), 11);
    assert_eq!(
        live[2].clusters, live[0].clusters,
        "undo gives back the paused state exactly"
    );
    assert!(live[2].can_redo && !live[2].can_undo);
    let r = &out.report;
    assert_eq!(r.steered.len(), 2);
    assert_eq!(r.final_.n_clusters, 10);
    assert_eq!(r.final_.iterations, 200);
    assert!(
        out.model.curation.edits.is_empty(),
        "the undone split is gone"
    );
    let at_120 = r.history.iter().filter(|h| h.step == 120).count();
    assert_eq!(at_120, 3, "the update, then P again after each change");
}

/// A model resumed with a cluster that has no members (an edit left it empty) goes on
/// training: the guard says the cluster is empty once and does not count it as a
/// collapse (before, DEC stopped at its first update, having run 0 steps).
#[test]
fn a_resumed_model_with_an_empty_cluster_goes_on() {
    let (ds, mut cfg, ae) = steering_setup();
    cfg.cluster.max_iter = 80;
    let plain = run(&ds, &cfg, ae, &mut NullSink, &Control::default()).unwrap();
    let mut model = plain.model.clone();
    let e = model.ae.encoder.n_out();
    // An eleventh centroid far from every embedding: nobody's nearest.
    model.centroids.extend(std::iter::repeat_n(1.0e4f32, e));
    model.curation.names.clear();
    let mut resumed_cfg = cfg.clone();
    resumed_cfg.n_clusters = 11;
    let out = run(
        &ds,
        &resumed_cfg,
        AeSource::Resume(Box::new(Resume::from_model(&model, "test".into()))),
        &mut NullSink,
        &Control::default(),
    )
    .unwrap();
    let f = &out.report.final_;
    assert_eq!(f.iterations, 80, "{f:?}");
    let empty: Vec<&str> = out
        .report
        .warnings
        .iter()
        .filter(|w| w.cluster == Some(10))
        .map(|w| w.message.as_str())
        .collect();
    assert_eq!(empty.len(), 1, "{:?}", out.report.warnings);
    assert!(
        empty[0].contains("cluster 10 has had no members"),
        "{empty:?}"
    );
    // tol 0: not converged, and the warning's step is the run's last in the history's
    // numbering (the model's steps, then 80 more), not this run's count alone. The
    // model's steps are the start check's two DEC phases, 80 each.
    assert_eq!(plain.report.final_.iterations, 160);
    let nc: Vec<usize> = out
        .report
        .warnings
        .iter()
        .filter(|w| w.kind == WarningKind::NotConverged)
        .map(|w| w.step)
        .collect();
    assert_eq!(nc, vec![240], "{:?}", out.report.warnings);
}
