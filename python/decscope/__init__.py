"""decscope from Python: Deep Embedded Clustering (Xie, Girshick & Farhadi, ICML 2016)
as a scikit-learn estimator, and the live desktop window on a NumPy array.

The engine is decscope's Rust library, the same one `decscope train` runs: the same
array, settings and seed give the same clusters and the same ACC/NMI/ARI from Python as
from the command line. Training runs with the GIL released; Ctrl-C stops it within a
fraction of a second and leaves the estimator unfitted.

    import decscope
    dec = decscope.DEC(n_clusters=10, random_state=0).fit(X)  # X: (n, d) or (n, H, W[, C])
    dec.labels_, dec.predict_proba(X), dec.transform(X)     # clusters, q, embedding z
    decscope.show(X, y)                                     # the app, on this array
"""

import json
import numbers
import os
import sys
import tempfile

import numpy as np

from . import _decscope
from ._decscope import Model

import sklearn
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import InconsistentVersionWarning, NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted, validate_data


__all__ = ["DEC", "Model", "show", "__version__"]
__version__ = _decscope.__version__

# Estimator parameters that map one to one onto the engine's settings (the keys of
# decscope::engine::settings::Settings, which `decscope train` fills from its flags).
_SETTINGS = {
    "preset": "preset",
    "method": "method",
    "dims": "dims",
    "batch_size": "batch_size",
    "pretrain_epochs": "finetune_epochs",
    "pretrain_steps": "finetune_iters",
    "update_interval": "update_interval",
    "tol": "tol",
    "max_iter": "max_iter",
    "idec_gamma": "idec_gamma",
    "kmeans_n_init": "kmeans_n_init",
    "baselines": "baselines",
    "precision": "precision",
    "start": "start",
    "self_correct": "self_correct",
    "settle": "settle",
}


def _as_array(X):
    """X as a NumPy array without copying when it already is one; object arrays (of
    numbers) are converted, anything else non-numeric is a ValueError."""
    _reject_sparse(X)
    X = np.asarray(X)
    if X.dtype == object:
        X = X.astype(np.float64)
    if X.dtype.kind == "c":
        raise ValueError("Complex data not supported: X must hold real numbers")
    if X.dtype.kind not in "biuf":
        raise ValueError(
            f"X must hold real numbers; got dtype {X.dtype}: convert it with "
            "numpy.asarray(X, dtype=numpy.float32)"
        )
    if X.ndim < 2:
        raise ValueError(
            f"Expected a 2-D array (samples x features) or images (n, H, W[, C]), got "
            f"shape {X.shape}; reshape a single feature with X.reshape(-1, 1) or a "
            "single sample with X.reshape(1, -1)"
        )
    if X.shape[0] == 0:
        raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required.")
    if int(np.prod(X.shape[1:])) == 0:
        raise ValueError(f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
    return X


def _labels(y, n):
    if y is None:
        return None
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"y must be one label per sample ({n}); got shape {y.shape}")
    return [str(v) for v in y.tolist()]


def _shape(image_shape):
    if image_shape is None:
        return None
    s = tuple(int(v) for v in image_shape)
    if len(s) == 2:
        s = s + (1,)
    if len(s) != 3:
        raise ValueError(f"image_shape must be (height, width) or (height, width, channels); got {image_shape}")
    return s


def _reject_sparse(X):
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(
            "Sparse data is not supported: DEC trains on dense rows; pass X.toarray()"
        )


def _seed_of(random_state, seed):
    """The engine's seed: `seed` when random_state is None (so a fit repeats), the int
    itself when random_state is one (as `decscope train --seed`), else an int drawn
    from the RandomState it stands for (scikit-learn's check_random_state)."""
    if random_state is None:
        return int(seed)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state={random_state}: give a non-negative int")
        return int(random_state)
    try:
        rs = check_random_state(random_state)
    except ValueError as e:
        raise ValueError(f"random_state={random_state!r}: {e}; give an int, a numpy.random.RandomState or None") from None
    return int(rs.randint(np.iinfo(np.int32).max))


# Parameters that `save` writes beside the model and `load` reads back, and their JSON
# form (tuples become lists).
_ESTIMATOR_FILE = "estimator.json"


class DEC(ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, BaseEstimator):
    """Deep Embedded Clustering, and its successors IDEC and DEC-DA.

    Parameters
    ----------
    n_clusters : int, default 10
    preset : {"fast", "augmented", "paper"}, default "fast"
        "fast": end-to-end Adam pretraining fitted to n, then DEC. "augmented": DEC-DA's
        random shifts and rotations and a longer pretraining (images only). "paper": the
        paper's layer-wise schedule.
    method : {"dec", "idec"}, default "dec"
    augment : bool or None, default None
        Random shifts and rotations of every batch (DEC-DA); None: as the preset does.
    image_shape : (height, width[, channels]) or None
        The image shape of a row of a 2-D X (a 3-D or 4-D X carries its own).
    precision : {"f32", "bf16", "auto"}, default "f32"
        Precision of the training products: "bf16" takes bf16 operands with f32 sums
        (CPUs with AVX512-BF16, on AMX tiles where the CPU has them; elsewhere a
        ValueError), "auto" bf16 where it is faster than f32 on this CPU (AMX, or AMD's
        AVX512-BF16). Weights, optimizer state, q/p and k-means stay f32;
        report_["precision"] and report_["bf16_kernel"] say which ran.
    start : {"auto", "kmeans", "spectral"} or None, default None
        Where DEC's centroids start: k-means on the pretrained Z (the paper's), the
        spectral clusters of Z's 10-nearest-neighbour graph (`decscope train --start
        spectral`), or "auto": when self_correct is on and X is not text, DEC runs from
        both and keeps the outcome that the pretrained Z's neighbour graph agrees with
        more (report_["start_check"] has both modularities), else k-means. None takes
        the preset's, which is "auto"; report_["start"] says which start was kept.
    self_correct : bool or None, default None
        After DEC converges, find its own split-and-merge failure without labels (a
        pair of clusters that looks like one class cut in two, a cluster far above the
        median size), mend it in the pretrained Z and run DEC again, up to 3 rounds;
        report_["self_correct"] lists each round with its evidence. None takes the
        preset's: on in "fast" and "augmented", off in "paper"; False runs DEC as the
        paper does (k-means start, no rounds).
    settle : {"off", "watch", "stop"} or None, default None
        Settle checks of end-to-end pretraining (`decscope train --settle`): "watch"
        runs k-means on z of a 2,000-row sample every few epochs and reports in
        report_["settle"] how much it agrees with the last check (the run is unchanged
        bit for bit); "stop" also ends pretraining once the partition has settled
        (report_["pretrain_stopped_at"]); None takes the preset's, which is "off".
    random_state : int, numpy.random.RandomState or None, default None
        As scikit-learn reads it (check_random_state). An int seeds the run as `decscope
        train --seed` does; a RandomState draws the seed; None uses `seed`.
    seed : int, default 0
        The seed when random_state is None, so that by default a fit repeats exactly.
    dims : tuple of int or None
        Widths of the encoder after the input, default (500, 500, 2000, 10).
    batch_size, pretrain_epochs, pretrain_steps, update_interval, tol, max_iter,
    idec_gamma, kmeans_n_init : optional overrides of the preset's (data-fitted) values,
        as `decscope train --batch-size ...` etc.
    baselines : bool, default True
        With y, also score k-means on the input (the paper's baseline) in report_.
    preprocess : str, default "auto"
        "auto" (pixel-like -> unit-range, counts -> l2-rows, other tables ->
        standardize), "none", "unit-range", "standardize", "l2-rows" or "paper". It is
        fitted on the training X (its statistics kept in the model) and applied
        unchanged to the X of predict, transform and predict_proba.
    init_from : path or None
        A model folder (`save`, `decscope train --save-pretrained`) whose autoencoder
        replaces pretraining.
    verbose : int, default 0
        0: silent; 1: progress and baselines on stderr.

    Attributes (after fit)
    ----------------------
    labels_ : (n,) int64, cluster_centers_ : (k, e) centroids in the embedded space Z,
    embedding_ : (n, e) z of the training rows, n_iter_ : DEC iterations,
    history_ : list of dicts (pretraining epochs and P updates), report_ : the JSON
    report as a dict, model_ : decscope.Model, n_features_in_, feature_names_in_ (when X
    was a DataFrame with string column names).
    """

    def __init__(
        self,
        n_clusters=10,
        preset="fast",
        method="dec",
        augment=None,
        image_shape=None,
        precision="f32",
        start=None,
        self_correct=None,
        settle=None,
        random_state=None,
        seed=0,
        dims=None,
        batch_size=None,
        pretrain_epochs=None,
        pretrain_steps=None,
        update_interval=None,
        tol=None,
        max_iter=None,
        idec_gamma=None,
        kmeans_n_init=None,
        baselines=True,
        preprocess="auto",
        init_from=None,
        verbose=0,
    ):
        self.n_clusters = n_clusters
        self.preset = preset
        self.method = method
        self.augment = augment
        self.image_shape = image_shape
        self.precision = precision
        self.start = start
        self.self_correct = self_correct
        self.settle = settle
        self.random_state = random_state
        self.seed = seed
        self.dims = dims
        self.batch_size = batch_size
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_steps = pretrain_steps
        self.update_interval = update_interval
        self.tol = tol
        self.max_iter = max_iter
        self.idec_gamma = idec_gamma
        self.kmeans_n_init = kmeans_n_init
        self.baselines = baselines
        self.preprocess = preprocess
        self.init_from = init_from
        self.verbose = verbose

    def _settings_json(self):
        s = {"clusters": int(self.n_clusters)}
        for param, key in _SETTINGS.items():
            v = getattr(self, param)
            if v is not None:
                s[key] = list(v) if isinstance(v, (tuple, list)) else v
        s["seed"] = _seed_of(self.random_state, self.seed)
        if self.augment is not None:
            s["augment"] = bool(self.augment)
        return json.dumps(s)

    def _check_X(self, X, reset):
        """X validated by scikit-learn's own helpers: a 2-D table
        through validate_data (n_features_in_, feature_names_in_), images (n, H, W[, C])
        through check_array; numeric dtypes kept as they are (bytes stay bytes for the
        `auto` preprocessing), NaN and infinity refused."""
        _reject_sparse(X)
        if isinstance(X, np.ndarray):
            nd = X.ndim
        elif isinstance(X, (list, tuple)):
            nd = np.asarray(X).ndim
        else:  # a DataFrame or another array-like: a table
            nd = 2
        if nd <= 2:
            return validate_data(self, X, reset=reset, dtype="numeric")
        X = check_array(X, allow_nd=True, dtype="numeric")
        d = int(np.prod(X.shape[1:]))
        if reset:
            self.n_features_in_ = d
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        elif d != self.n_features_in_:
            raise ValueError(
                f"X has {d} features, but DEC is expecting {self.n_features_in_} features as input."
            )
        return X

    def fit(self, X, y=None):
        """Train on X (labels y only score the result in report_); returns self."""
        X = self._check_X(X, reset=True)
        out = _decscope.fit(
            X,
            _labels(y, X.shape[0]),
            self._settings_json(),
            _shape(self.image_shape),
            self.preprocess,
            int(self.verbose),
            None if self.init_from is None else os.fspath(self.init_from),
        )
        self._set_model(out["model"])
        self.labels_ = out["labels"]
        self.embedding_ = out["z"]
        self.n_iter_ = out["n_iter"]
        self.report_ = json.loads(out["report"])
        self.history_ = self.report_["history"]
        return self

    def _set_model(self, model):
        self.model_ = model
        self.cluster_centers_ = model.centroids
        self.n_features_in_ = model.n_features

    @property
    def _n_features_out(self):
        """Width of transform's output (get_feature_names_out: dec0, dec1, ...)."""
        return self.model_.n_embedding

    def fit_predict(self, X, y=None):
        return self.fit(X, y).labels_

    def fit_transform(self, X, y=None):
        return self.fit(X, y).embedding_

    def _assign(self, X):
        check_is_fitted(self, "model_")
        X = self._check_X(X, reset=False)
        return self.model_.assign(X, _shape(self.image_shape), self.preprocess)

    def _clustered(self, X, key):
        out = self._assign(X)[key]
        if out is None:
            raise ValueError(
                "this model is an autoencoder only (no clusters yet): transform works, "
                "predict needs a model written by `decscope train --save` or DEC.fit"
            )
        return out

    def predict(self, X):
        """The cluster of each row (argmax of q), X preprocessed as the training X was."""
        return self._clustered(X, "labels")

    def predict_proba(self, X):
        """DEC's soft assignment q (Student's t), each row summing to 1."""
        return self._clustered(X, "q")

    def transform(self, X):
        """The embedding z of each row (the encoder's output)."""
        return self._assign(X)["z"]

    def _params_json(self):
        """The constructor's parameters as JSON (a RandomState, which JSON cannot hold,
        as the seed it drew: the one the fit ran with)."""
        p = dict(self.get_params(deep=False))
        if p["random_state"] is not None and not isinstance(p["random_state"], numbers.Integral):
            p["random_state"] = int(self.report_["config"]["seed"]) if hasattr(self, "report_") else None
        for k, v in p.items():
            if isinstance(v, tuple):
                p[k] = list(v)
            elif isinstance(v, os.PathLike):
                p[k] = os.fspath(v)
        return json.dumps(p, indent=2)

    def save(self, path):
        """Write the model folder that `decscope predict --model` and the app read (with
        the fitted preprocessing), and the estimator's parameters for `DEC.load`."""
        if not hasattr(self, "model_"):
            raise NotFittedError("fit the estimator before saving it")
        path = os.fspath(path)
        self.model_.save(path)
        with open(os.path.join(path, _ESTIMATOR_FILE), "w") as f:
            f.write(self._params_json())

    @classmethod
    def load(cls, path, **params):
        """A fitted DEC from a model folder (`save`, `decscope train --save`), with every
        parameter it was fitted with (from `save`'s estimator.json, else from the
        settings and preprocessing `decscope train` recorded); `params` override them.
        The training run's labels_ and report_ are not in the folder; predict,
        transform and predict_proba work."""
        path = os.fspath(path)
        model = Model.load(path)
        est_file = os.path.join(path, _ESTIMATOR_FILE)
        if os.path.exists(est_file):
            with open(est_file) as f:
                saved = json.load(f)
        else:
            saved = _params_of_model(model)
        names = set(cls().get_params(deep=False))
        saved = {k: tuple(v) if isinstance(v, list) else v for k, v in saved.items() if k in names}
        saved.update(params)
        est = cls(**saved)
        est._set_model(model)
        return est

    # Pickling: the model travels as its files' bytes; scikit-learn's version stamp
    # (BaseEstimator's state) travels too, and unpickling under another version warns.
    def __getstate__(self):
        # A copy: object.__getstate__ may hand back the instance's own __dict__.
        state = dict(super().__getstate__())
        # BaseEstimator stamps only scikit-learn's own estimators; DEC stamps itself.
        state["_sklearn_version"] = sklearn.__version__
        state["_decscope_version"] = __version__
        model = state.pop("model_", None)
        if model is not None:
            with tempfile.TemporaryDirectory() as d:
                model.save(d)
                state["_model_files"] = {}
                for f in os.listdir(d):
                    with open(os.path.join(d, f), "rb") as fh:
                        state["_model_files"][f] = fh.read()
        return state

    def __setstate__(self, state):
        files = state.pop("_model_files", None)
        _warn_if_other_versions(state.pop("_sklearn_version", None), state.pop("_decscope_version", None))
        super().__setstate__(state)
        if files is not None:
            with tempfile.TemporaryDirectory() as d:
                for f, b in files.items():
                    with open(os.path.join(d, f), "wb") as fh:
                        fh.write(b)
                self.model_ = Model.load(d)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


def _warn_if_other_versions(sklearn_version, decscope_version):
    """Unpickling under other versions than pickling warns, as scikit-learn does for its
    own estimators (InconsistentVersionWarning)."""
    import warnings

    if sklearn_version is not None and sklearn_version != sklearn.__version__:
        warnings.warn(
            InconsistentVersionWarning(
                estimator_name="DEC",
                current_sklearn_version=sklearn.__version__,
                original_sklearn_version=sklearn_version,
            )
        )
    if decscope_version is not None and decscope_version != __version__:
        warnings.warn(
            f"this DEC was pickled by decscope {decscope_version} and is loaded by "
            f"{__version__}; refit it if its predictions look wrong"
        )


def _params_of_model(model):
    """Estimator parameters from what `decscope train --save` records: its settings
    (the flags given) and the preprocessing asked for."""
    settings = json.loads(model.settings_json) or {}
    config = json.loads(model.config_json)
    p = {"n_clusters": model.n_clusters, "seed": settings.get("seed", config.get("seed", 0))}
    for param, key in _SETTINGS.items():
        if settings.get(key) is not None and param != "seed":
            p[param] = settings[key]
    if settings.get("augment") is not None:
        p["augment"] = settings["augment"]
    pre = json.loads(model.preprocess_json)
    if pre is not None:
        p["preprocess"] = pre.get("asked", "auto")
    return p


def show(X, y=None, image_shape=None, preprocess="auto", name="array", exit_after=None, start=False):
    """Open decscope's desktop app on the array X (labels y optional) and block until
    its window closes; Ctrl-C closes it and raises KeyboardInterrupt, as in `fit`. Needs
    a desktop: where there is none (a notebook kernel on a server: neither DISPLAY nor
    WAYLAND_DISPLAY set on Linux) it says so in one line on stderr and returns False.
    Call it from the main thread. `start=True` presses Start; `exit_after` closes the
    window after that many seconds. Returns True once the window has closed."""
    X = _as_array(X)
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        print(
            "decscope.show: no display here (neither DISPLAY nor WAYLAND_DISPLAY is set), "
            "so no window can open; use decscope.DEC(...).fit(X) and plot its embedding_ instead",
            file=sys.stderr,
        )
        return False
    _decscope.show(
        X,
        _labels(y, X.shape[0]),
        _shape(image_shape),
        preprocess,
        name,
        exit_after,
        bool(start),
    )
    return True
