//! The projection thread: t-SNE layouts of the latest snapshot, off the GUI and
//! training threads.
//!
//! Why a thread of its own: a warm update takes ~0.5 s; the window must keep drawing at
//! 60 frames a second and training must not wait for the picture.

use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};

use super::{Layout, TsneParams, WarmTsne, balanced_sample, manifold_kmeans};

/// A request to the projection thread.
pub struct ProjectRequest {
    pub z: Arc<Vec<f32>>,
    pub e: usize,
    pub step: usize,
    /// Groups for the balanced sample, used when the sample is first drawn.
    pub groups: Option<Vec<u32>>,
    /// Clusters for k-means on the layout (manifold clustering); 0 or 1: none.
    pub clusters: usize,
}

/// Runs t-SNE on its own thread: takes the latest snapshot's Z, warm-starts from the
/// previous layout, aligns, sends the layout back. Never on the GUI or training thread.
pub struct TsneWorker {
    requests: Sender<ProjectRequest>,
    pub layouts: Receiver<Layout>,
    pub params: TsneParams,
}

impl TsneWorker {
    pub fn spawn(params: TsneParams, wake: impl Fn() + Send + 'static) -> TsneWorker {
        let (req_tx, req_rx) = bounded::<ProjectRequest>(1);
        let (lay_tx, lay_rx) = bounded::<Layout>(2);
        let p = params.clone();
        std::thread::Builder::new()
            .name("decscope-tsne".into())
            .spawn(move || {
                // bhtsne parallelises with rayon: give it a pool of its own, so its work
                // never queues in front of the training thread's GEMMs in the global pool.
                let Ok(pool) = rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .thread_name(|_| "decscope-tsne-pool".into())
                    .build()
                else {
                    return;
                };
                serve(&pool, &req_rx, &lay_tx, &p, wake);
            })
            .ok();
        TsneWorker {
            requests: req_tx,
            layouts: lay_rx,
            params,
        }
    }

    /// Offer a new snapshot; dropped if the thread is still busy with one queued.
    pub fn offer(&self, req: ProjectRequest) {
        match self.requests.try_send(req) {
            Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

/// The projection thread's loop: for the newest request, the sample's rows of Z laid
/// out (warm from the last layout) and sent back; then the neighbour search when due.
/// A panic inside t-SNE drops that layout and starts the next one afresh.
fn serve(
    pool: &rayon::ThreadPool,
    requests: &Receiver<ProjectRequest>,
    layouts: &Sender<Layout>,
    p: &TsneParams,
    wake: impl Fn(),
) {
    let mut sample = Sample::default();
    let mut warm = WarmTsne::new();
    while let Ok(mut req) = requests.recv() {
        // Only the newest snapshot matters.
        while let Ok(newer) = requests.try_recv() {
            req = newer;
        }
        let idx = sample.for_request(&req, p, &mut warm);
        let x: Vec<f32> = idx
            .iter()
            .flat_map(|&i| req.z[i * req.e..(i + 1) * req.e].iter().copied())
            .collect();
        let t = Instant::now();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.install(|| {
                let (y, kl, _) = warm.update(&x, req.e, p);
                let km = (req.clusters > 1).then(|| manifold_kmeans(&y, req.clusters, p.seed));
                (y, kl, km)
            })
        }));
        let Ok((y, kl, km)) = r else {
            warm.reset();
            continue;
        };
        let layout = Layout {
            points: y.chunks_exact(2).map(|c| [c[0], c[1]]).collect(),
            indices: idx,
            kl: Some(kl),
            seconds: t.elapsed().as_secs_f64(),
            step: req.step,
            kmeans: km,
        };
        if layouts.send(layout).is_err() {
            break;
        }
        wake();
        // The neighbour search, when due, runs now, before the next snapshot.
        let prep = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.install(|| warm.prepare(&x, req.e, p))
        }));
        if prep.is_err() {
            warm.reset();
        }
    }
}

/// The points that get a t-SNE position, drawn once per data size.
#[derive(Default)]
struct Sample {
    indices: Option<Arc<Vec<usize>>>,
    n: usize,
}

impl Sample {
    /// The sample for `req`'s Z: the one drawn before, or a new balanced one (and a
    /// layout from scratch) when there is none yet or the number of rows changed.
    fn for_request(
        &mut self,
        req: &ProjectRequest,
        p: &TsneParams,
        warm: &mut WarmTsne,
    ) -> Arc<Vec<usize>> {
        let n = req.z.len() / req.e.max(1);
        if self.indices.is_none() || n != self.n {
            let groups = req.groups.as_deref();
            self.indices = Some(Arc::new(balanced_sample(n, groups, p.sample, p.seed)));
            warm.reset();
            self.n = n;
        }
        self.indices.clone().unwrap_or_default()
    }
}
