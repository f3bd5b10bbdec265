//! How long the Steer panel's edits keep the GUI thread busy on the MNIST test set
//! (10,000 samples, Z of the bundled autoencoder, k-means centroids): the edit itself
//! (membership by q, and k-means on the members for a split), the new assignment of
//! every sample, and the PCA of Z that the embedding view redraws from; and, for
//! comparison, the suggestions, which the app computes on their own thread.
//!
//! Then a run still in DEC, steered as the app does it: the worker runs DEC from the
//! bundled autoencoder on its own thread, the main thread pauses it, sends each edit
//! and waits for the live state that answers it. Printed: the wait from sending to
//! the answer (the worker's pass over all data, the edit, P again) and what the GUI
//! thread then does with it (the PCA of the new Z).
//!
//! `cargo run --release --example steer_timing`

use std::sync::Arc;
use std::time::Instant;

use decscope::data::{self, LoadOptions};
use decscope::engine::cluster::assign::assign;
use decscope::engine::cluster::kmeans::{KMeansParams, kmeans};
use decscope::engine::config::DecConfig;
use decscope::engine::curation::edit::{ClusterState, Edit, apply};
use decscope::engine::curation::suggest::suggest;
use decscope::engine::model::DecModel;
use decscope::engine::nn::autoencoder::Autoencoder;
use decscope::engine::pipeline::{
    AeSource, Controller, Event, LiveState, Phase, Sink, Steer, control_channel, run,
};
use decscope::projection::pca::pca_2d;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ds = data::load(&data::default_dataset_path(), &LoadOptions::default())?;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/pretrained-mnist-test");
    let ae = DecModel::load(&dir)?.ae;
    let z = ae.encode(&ds.x, ds.n);
    let e = ae.encoder.n_out();
    let mut p = KMeansParams::new(10);
    p.n_init = 2;
    let state = ClusterState::new(kmeans(&z, e, &p).centroids, e);
    for (what, edit) in [
        ("merge", Edit::Merge { a: 0, b: 1 }),
        (
            "split in 2",
            Edit::Split {
                cluster: 2,
                into: 2,
                seed: 0,
            },
        ),
        ("remove", Edit::Remove { cluster: 3 }),
        (
            "name",
            Edit::Name {
                cluster: 4,
                name: Some("fours".into()),
            },
        ),
    ] {
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let s = apply(&state, &edit, &z, 1.0)?;
            let t_edit = ms(t);
            let t = Instant::now();
            let _ = assign(&z, s.centroids(), e, 1.0);
            let t_assign = ms(t);
            let t = Instant::now();
            let _ = pca_2d(&z, e);
            times.push((t_edit, t_assign, ms(t)));
        }
        times.sort_by(|a, b| (a.0 + a.1 + a.2).total_cmp(&(b.0 + b.1 + b.2)));
        let (a, b, c) = times[2];
        println!(
            "{what:>10}: edit {a:6.2} ms, assign {b:5.2} ms, PCA of Z {c:5.2} ms, total {:6.2} ms (median of 5)",
            a + b + c
        );
    }
    let t = Instant::now();
    let s = suggest(&state, &z, 1.0, 0);
    println!(
        "suggestions ({} found): {:.0} ms (on their own thread in the app)",
        s.len(),
        ms(t)
    );
    live_edits(ds, ae)
}

/// Pauses the run when DEC begins and forwards its live states to the main thread.
struct LiveSink(crossbeam_channel::Sender<Arc<LiveState>>, Controller);

impl Sink for LiveSink {
    fn event(&mut self, e: Event) {
        match e {
            Event::Phase {
                phase: Phase::Clustering,
                ..
            } => self.1.pause(),
            Event::Live(l) => {
                let _ = self.0.send(l);
            }
            _ => {}
        }
    }
}

/// Pause a DEC run on another thread, steer it, and time each answer.
fn live_edits(ds: data::Dataset, ae: Autoencoder) -> Result<(), Box<dyn std::error::Error>> {
    let (ctl, control) = control_channel();
    let (tx, rx) = crossbeam_channel::unbounded();
    let mut cfg = DecConfig {
        baselines: false,
        ..DecConfig::default()
    };
    cfg.cluster.max_iter = 1_000_000;
    cfg.cluster.tol = 0.0;
    let pauser = ctl.clone();
    let worker = std::thread::spawn(move || {
        let src = AeSource::Given(ae, "bundled".into());
        let mut sink = LiveSink(tx, pauser);
        run(&ds, &cfg, src, &mut sink, &control).map(|o| o.report.steered.len())
    });
    rx.recv()?;
    let split = Edit::Split {
        cluster: 2,
        into: 2,
        seed: 0,
    };
    let steps = [
        ("split in 2", Steer::Edit(split)),
        ("undo", Steer::Undo),
        ("merge", Steer::Edit(Edit::Merge { a: 0, b: 1 })),
        ("undo", Steer::Undo),
    ];
    for (what, cmd) in steps {
        let t = Instant::now();
        ctl.steer(cmd);
        let l = rx.recv()?;
        let answer = ms(t);
        let t = Instant::now();
        let _ = pca_2d(&l.snapshot.z, l.snapshot.e);
        println!(
            "live {what:>10}: answered after {answer:6.1} ms ({} clusters), then the GUI thread's PCA {:5.2} ms",
            l.clusters.k(),
            ms(t)
        );
    }
    ctl.stop();
    let changes = worker.join().map_err(|_| "the worker panicked")??;
    println!("the run's report lists {changes} changes");
    Ok(())
}
