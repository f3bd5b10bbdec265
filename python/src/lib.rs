//! `decscope._decscope`: the Rust side of the Python package. It turns NumPy arrays into
//! the engine's datasets, runs the one training pipeline with the GIL released, and hands
//! back arrays, the JSON report and the model.
//!
//! Why thin: the estimator (`decscope.DEC`, in Python) only states settings and reads
//! results; loading, preprocessing, training and scoring are the library's, exactly as
//! `decscope train` runs them, so the same data and seed give the same numbers from
//! Python as from the command line.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;
use decscope::data::npy::Raw;
use decscope::data::{Dataset, ImageShape, LoadOptions, Preprocessing};
use decscope::engine::model::DecModel;
use decscope::engine::pipeline::{
    AeSource, Event, PipelineError, RunOutput, Sink, control_channel, run,
};
use decscope::engine::settings::Settings;
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArrayDyn};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// A library error as Python's `ValueError`, with the command line's one-line message.
fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// The values of a NumPy array of any real dtype and layout, read once in C order into
/// the engine's f32 buffer (the only copy: no intermediate array is made for another
/// dtype or layout). A C-contiguous array is copied with the GIL released, so other
/// Python threads run meanwhile; the read-only borrow keeps it alive and unchanged.
fn read_array(x: &Bound<'_, PyAny>) -> PyResult<Raw> {
    let py = x.py();
    macro_rules! try_dtype {
        ($($t:ty => $name:literal),*) => {$(
            if let Ok(a) = x.extract::<PyReadonlyArrayDyn<'_, $t>>() {
                let v = a.as_array();
                let values = match v.as_slice() {
                    Some(s) => py.detach(|| s.iter().map(|&e| e as f32).collect()),
                    None => v.iter().map(|&e| e as f32).collect(),
                };
                return Ok(Raw { x: values, shape: v.shape().to_vec(), dtype: $name });
            }
        )*};
    }
    try_dtype!(f32 => "f32", f64 => "f64", u8 => "u8", i8 => "i8", u16 => "u16",
        i16 => "i16", u32 => "u32", i32 => "i32", u64 => "u64", i64 => "i64");
    if let Ok(a) = x.extract::<PyReadonlyArrayDyn<'_, bool>>() {
        let v = a.as_array();
        return Ok(Raw {
            x: v.iter().map(|&e| f32::from(u8::from(e))).collect(),
            shape: v.shape().to_vec(),
            dtype: "bool",
        });
    }
    let kind = x
        .getattr("dtype")
        .map(|d| d.to_string())
        .unwrap_or_else(|_| x.get_type().to_string());
    Err(PyValueError::new_err(format!(
        "X must be a NumPy array of real numbers (float, int, uint or bool); got {kind}: convert it with numpy.asarray(X, dtype=numpy.float32)"
    )))
}

/// Loading options from the estimator's arguments.
fn load_options(
    image_shape: Option<(usize, usize, usize)>,
    preprocess: &str,
) -> PyResult<LoadOptions> {
    let preprocessing: Preprocessing = serde_json::from_value(serde_json::json!(preprocess))
        .map_err(|_| {
            PyValueError::new_err(format!(
                "preprocess={preprocess:?}: unknown; use \"auto\", \"none\", \"unit-range\", \"standardize\", \"l2-rows\" or \"paper\""
            ))
        })?;
    Ok(LoadOptions {
        preprocessing,
        image_shape: image_shape.map(|(height, width, channels)| ImageShape {
            height,
            width,
            channels,
        }),
        ..LoadOptions::default()
    })
}

/// The dataset of an array (and labels), read as the same array saved with `np.save`;
/// with a model, read as that model reads new data (its fitted preprocessing).
fn dataset(
    x: &Bound<'_, PyAny>,
    y: Option<Vec<String>>,
    image_shape: Option<(usize, usize, usize)>,
    preprocess: &str,
    name: &str,
    model: Option<(&DecModel, &Path)>,
) -> PyResult<Dataset> {
    let raw = read_array(x)?;
    let mut opts = load_options(image_shape, preprocess)?;
    if let Some((m, dir)) = model {
        opts = m.load_options(&opts, dir).map_err(value_error)?;
    }
    decscope::data::from_array(raw, y, name, &opts).map_err(value_error)
}

/// Progress on stderr: on a terminal one line per phase, rewritten at most twice a
/// second; into a file or pipe only each phase's last step (no carriage returns).
struct Progress {
    verbose: u8,
    last: Instant,
    open_line: bool,
    terminal: bool,
}

impl Progress {
    fn line(&mut self, s: String) {
        if self.open_line {
            eprintln!();
            self.open_line = false;
        }
        eprintln!("decscope: {s}");
    }
}

impl Sink for Progress {
    fn event(&mut self, e: Event) {
        if self.verbose == 0 {
            return;
        }
        match e {
            Event::Step {
                phase, step, total, ..
            } if step + 1 == total && !self.terminal => {
                self.line(format!("{} {total}/{total}", phase.name()))
            }
            Event::Step {
                phase, step, total, ..
            } if self.terminal
                && (self.last.elapsed() > Duration::from_millis(500) || step + 1 == total) =>
            {
                self.last = Instant::now();
                eprint!("\rdecscope: {} {}/{}   ", phase.name(), step + 1, total);
                self.open_line = true;
            }
            Event::Baseline { name, scores } => self.line(format!(
                "{name}: ACC {:.4}  NMI {:.4}  ARI {:.4}",
                scores.acc, scores.nmi, scores.ari
            )),
            Event::Message(m) => self.line(m),
            Event::Warning(w) => self.line(format!("warning: {}", w.message)),
            _ => {}
        }
    }
}

/// Run the pipeline on a thread with the GIL released; Ctrl-C (a pending
/// `KeyboardInterrupt`, checked every 100 ms) stops it at its next checkpoint (between
/// batches) and is raised here, so the estimator stays unfitted.
fn run_interruptible(
    py: Python<'_>,
    ds: Arc<Dataset>,
    settings: Settings,
    source: AeSource,
    verbose: u8,
) -> PyResult<RunOutput> {
    let cfg = settings.config(ds.n).map_err(value_error)?;
    cfg.validate(ds.n, ds.n_classes()).map_err(value_error)?;
    decscope::engine::pipeline::augmenter(&ds, &cfg).map_err(value_error)?;
    let (controller, control) = control_channel();
    let (tx, rx) = crossbeam_channel::bounded::<Result<RunOutput, PipelineError>>(1);
    let worker = std::thread::spawn(move || {
        let mut sink = Progress {
            verbose,
            last: Instant::now(),
            open_line: false,
            terminal: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        };
        let out = run(&ds, &cfg, source, &mut sink, &control);
        if sink.open_line {
            eprintln!();
        }
        let _ = tx.send(out);
    });
    loop {
        match py.detach(|| rx.recv_timeout(Duration::from_millis(100))) {
            Ok(out) => {
                let _ = py.detach(|| worker.join());
                return out.map_err(value_error);
            }
            Err(RecvTimeoutError::Timeout) => {
                if let Err(interrupt) = py.check_signals() {
                    controller.stop();
                    let _ = py.detach(|| worker.join());
                    return Err(interrupt);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                let why = match py.detach(|| worker.join()) {
                    Err(p) => p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default(),
                    Ok(()) => String::new(),
                };
                return Err(PyRuntimeError::new_err(format!(
                    "decscope's training thread ended without a result ({why}); please report this with the data's shape and the settings"
                )));
            }
        }
    }
}

/// A trained model: the autoencoder's encoder and the centroids, as `decscope train
/// --save` writes them.
#[pyclass(module = "decscope._decscope", name = "Model")]
struct Model {
    inner: DecModel,
}

/// Rows of `v` (`n x m`, row-major) as a 2-D NumPy array.
fn matrix<'py>(py: Python<'py>, v: Vec<f32>, m: usize) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let n = v.len() / m.max(1);
    Array2::from_shape_vec((n, m), v)
        .map(|a| a.into_pyarray(py))
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

#[pymethods]
impl Model {
    /// Read a model folder written by `decscope train --save` or `Model.save`.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Model> {
        DecModel::load(&path)
            .map(|inner| Model { inner })
            .map_err(value_error)
    }

    /// Write the model folder (`model.safetensors`, `model.json`), readable by
    /// `decscope predict --model` and the app.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        self.inner.save(&path).map_err(value_error)
    }

    #[getter]
    fn n_clusters(&self) -> usize {
        self.inner.n_clusters()
    }

    #[getter]
    fn n_features(&self) -> usize {
        self.inner.ae.encoder.n_in()
    }

    /// Width of the embedded space Z (the encoder's output).
    #[getter]
    fn n_embedding(&self) -> usize {
        self.inner.ae.encoder.n_out()
    }

    /// The centroids in the embedded space, `k x e`.
    #[getter]
    fn centroids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        matrix(
            py,
            self.inner.centroids.clone(),
            self.inner.ae.encoder.n_out(),
        )
    }

    /// The model's configuration as JSON (what `model.json` records).
    #[getter]
    fn config_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner.config).map_err(value_error)
    }

    /// The settings the model was trained with, as JSON (`null` when not recorded).
    #[getter]
    fn settings_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner.settings).map_err(value_error)
    }

    /// The fitted preprocessing as JSON (`preprocess.json`; `null` for a model saved
    /// before decscope kept it).
    #[getter]
    fn preprocess_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner.preprocess.as_deref()).map_err(value_error)
    }

    /// (cluster, confidence, z, q) of each row of `x`, read as `fit` read its data.
    #[pyo3(signature = (x, image_shape=None, preprocess="auto"))]
    fn assign<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        image_shape: Option<(usize, usize, usize)>,
        preprocess: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let here = Path::new("this model");
        let ds = dataset(
            x,
            None,
            image_shape,
            preprocess,
            "X",
            Some((&self.inner, here)),
        )?;
        self.inner.check_input(ds.d, here).map_err(value_error)?;
        let (k, e) = (self.inner.n_clusters(), self.inner.ae.encoder.n_out());
        let model = &self.inner;
        let (labels, conf, z, q) = py.detach(|| model.assign(&ds.x, ds.n));
        let out = PyDict::new(py);
        out.set_item("z", matrix(py, z, e)?)?;
        if k == 0 {
            // An autoencoder only: z, and no clusters to assign.
            for key in ["labels", "confidence", "q"] {
                out.set_item(key, py.None())?;
            }
            return Ok(out);
        }
        let labels: Vec<i64> = labels.into_iter().map(i64::from).collect();
        out.set_item("labels", PyArray1::from_vec(py, labels))?;
        out.set_item("confidence", PyArray1::from_vec(py, conf))?;
        out.set_item("q", matrix(py, q, k)?)?;
        Ok(out)
    }
}

/// Train DEC (or IDEC, DEC-DA) on `x` with the settings given as JSON (the keys of
/// `decscope.engine.settings.Settings`: preset, seed, method, augment, dims, ...).
/// Returns a dict: labels, confidence, z, q, report (JSON text), model, n_iter.
#[pyfunction]
#[pyo3(signature = (x, y=None, settings_json="{}", image_shape=None, preprocess="auto", verbose=1, init_from=None))]
#[allow(clippy::too_many_arguments)]
fn fit<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    y: Option<Vec<String>>,
    settings_json: &str,
    image_shape: Option<(usize, usize, usize)>,
    preprocess: &str,
    verbose: u8,
    init_from: Option<PathBuf>,
) -> PyResult<Bound<'py, PyDict>> {
    let settings: Settings = serde_json::from_str(settings_json).map_err(value_error)?;
    let init = match &init_from {
        Some(dir) => Some(DecModel::load(dir).map_err(value_error)?),
        None => None,
    };
    // An autoencoder saved with its preprocessing sees X scaled as in its training.
    let with = init
        .as_ref()
        .zip(init_from.as_deref())
        .filter(|(m, _)| m.preprocess.is_some());
    let ds = dataset(x, y, image_shape, preprocess, "X", with)?;
    let source = match (init, init_from) {
        (Some(m), Some(dir)) => {
            m.check_input(ds.d, &dir).map_err(value_error)?;
            AeSource::Given(m.ae, format!("init-from {}", dir.display()))
        }
        _ => AeSource::Pretrain,
    };
    let mut out = run_interruptible(py, Arc::new(ds), settings.clone(), source, verbose)?;
    out.model.settings = Some(settings);
    let k = out.model.n_clusters();
    let e = out.model.ae.encoder.n_out();
    let report = serde_json::to_string(&out.report).map_err(value_error)?;
    let n_iter = out.report.final_.iterations;
    let q = out.model.soft_assignment(&out.z);
    let d = PyDict::new(py);
    let labels: Vec<i64> = out.assignments.iter().map(|&l| i64::from(l)).collect();
    d.set_item("labels", PyArray1::from_vec(py, labels))?;
    d.set_item("confidence", PyArray1::from_vec(py, out.confidence))?;
    d.set_item("z", matrix(py, out.z, e)?)?;
    d.set_item("q", matrix(py, q, k)?)?;
    d.set_item("report", report)?;
    d.set_item("n_iter", n_iter)?;
    d.set_item("model", Model { inner: out.model })?;
    Ok(d)
}

/// Open the desktop app on `x` (and labels `y`), blocking until its window closes.
/// `exit_after` closes it after that many seconds (for tests and demos).
#[pyfunction]
#[pyo3(signature = (x, y=None, image_shape=None, preprocess="auto", name="array", exit_after=None, start=false))]
#[allow(clippy::too_many_arguments)]
fn show(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    y: Option<Vec<String>>,
    image_shape: Option<(usize, usize, usize)>,
    preprocess: &str,
    name: &str,
    exit_after: Option<f64>,
    start: bool,
) -> PyResult<()> {
    let ds = dataset(x, y, image_shape, preprocess, name, None)?;
    // Ctrl-C: the window's event loop runs on this (the main) thread, so each frame can
    // take the GIL back and let Python run its SIGINT handler; its KeyboardInterrupt
    // closes the window and is raised here, as `fit` raises it.
    let interrupt: Arc<std::sync::Mutex<Option<PyErr>>> = Arc::default();
    let seen = interrupt.clone();
    let check = move || {
        Python::attach(|py| match py.check_signals() {
            Ok(()) => false,
            Err(e) => {
                if let Ok(mut slot) = seen.lock() {
                    *slot = Some(e);
                }
                true
            }
        })
    };
    let opened = py.detach(move || {
        let mut app = decscope::app::DecApp::new(ds);
        app.interrupt = Some(Box::new(check));
        decscope::app::window::run_window(app, move |app, ctx| {
            app.exit_after = exit_after.map(|s| (Instant::now(), s));
            if start {
                app.start(ctx);
            }
        })
        .map_err(|e| e.to_string())
    });
    if let Some(e) = interrupt.lock().ok().and_then(|mut slot| slot.take()) {
        return Err(e);
    }
    opened.map_err(|e| {
        PyRuntimeError::new_err(format!(
            "could not open the window: {e}. decscope.show needs a desktop (DISPLAY or WAYLAND_DISPLAY); in a notebook on a server without one, use DEC(...).fit and plot its results instead"
        ))
    })
}

#[pymodule]
fn _decscope(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_function(wrap_pyfunction!(show, m)?)?;
    m.add_class::<Model>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
