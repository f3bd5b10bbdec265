"""decscope from Python: Deep Embedded Clustering (Xie, Girshick & Farhadi, ICML 2016)
as a scikit-learn estimator, and the live desktop window on a NumPy array.

The engine is decscope's Rust library, the same one `decscope train` runs: the same
array, settings and seed give the same clusters and the same ACC/NMI/ARI from Python as
from the command line. Training runs with the GIL released; Ctrl-C stops it within a
fraction of a second and leaves the estimator unfitted.

    import decscope
    dec = decscope.DEC(n_clusters=10, seed=0).fit(X)        # X: (n, d) or (n, H, W[, C])
    dec.labels_, dec.predict_proba(X), dec.transform(X)     # clusters, q, embedding z
    decscope.show(X, y)                                     # the app, on this array
"""

import json
import os
import tempfile

import numpy as np

from . import _decscope
from ._decscope import Model

try:  # scikit-learn is optional: with it, DEC is a full sklearn estimator.
    from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
    from sklearn.exceptions import NotFittedError
except ImportError:  # pragma: no cover - exercised only without scikit-learn
    BaseEstimator = object

    class ClusterMixin:
        pass

    class TransformerMixin:
        pass

    class NotFittedError(ValueError, AttributeError):
        pass


__all__ = ["DEC", "Model", "show", "__version__"]
__version__ = _decscope.__version__

# Estimator parameters that map one to one onto the engine's settings (the keys of
# decscope::engine::settings::Settings, which `decscope train` fills from its flags).
_SETTINGS = {
    "preset": "preset",
    "method": "method",
    "seed": "seed",
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
}


def _as_array(X):
    """X as a NumPy array without copying when it already is one; object arrays (of
    numbers) are converted, anything else non-numeric is a ValueError."""
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(
            "Sparse data is not supported: DEC trains on dense rows; pass X.toarray()"
        )
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


class DEC(ClusterMixin, TransformerMixin, BaseEstimator):
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
        (CPUs with AVX512-BF16; elsewhere a ValueError), "auto" bf16 where the CPU has
        it. Weights, optimizer state, q/p and k-means stay f32; report_["precision"]
        says which ran.
    seed : int, default 0
    dims : tuple of int or None
        Widths of the encoder after the input, default (500, 500, 2000, 10).
    batch_size, pretrain_epochs, pretrain_steps, update_interval, tol, max_iter,
    idec_gamma, kmeans_n_init : optional overrides of the preset's (data-fitted) values,
        as `decscope train --batch-size ...` etc.
    baselines : bool, default True
        With y, also score k-means on the input (the paper's baseline) in report_.
    preprocess : str, default "auto"
        "auto" (pixel-like -> unit-range, counts -> l2-rows, other tables ->
        standardize), "none", "unit-range", "standardize", "l2-rows" or "paper".
    init_from : path or None
        A model folder (`save`, `decscope train --save-pretrained`) whose autoencoder
        replaces pretraining.
    verbose : int, default 1
        0: silent; 1: progress and baselines on stderr.

    Attributes (after fit)
    ----------------------
    labels_ : (n,) int64, cluster_centers_ : (k, e) centroids in the embedded space Z,
    embedding_ : (n, e) z of the training rows, n_iter_ : DEC iterations,
    history_ : list of dicts (pretraining epochs and P updates), report_ : the JSON
    report as a dict, model_ : decscope.Model, n_features_in_.
    """

    def __init__(
        self,
        n_clusters=10,
        preset="fast",
        method="dec",
        augment=None,
        image_shape=None,
        precision="f32",
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
        verbose=1,
    ):
        self.n_clusters = n_clusters
        self.preset = preset
        self.method = method
        self.augment = augment
        self.image_shape = image_shape
        self.precision = precision
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
        if self.augment is not None:
            s["augment"] = bool(self.augment)
        return json.dumps(s)

    def fit(self, X, y=None):
        """Train on X (labels y only score the result in report_); returns self."""
        X = _as_array(X)
        out = _decscope.fit(
            X,
            _labels(y, X.shape[0]),
            self._settings_json(),
            _shape(self.image_shape),
            self.preprocess,
            int(self.verbose),
            None if self.init_from is None else os.fspath(self.init_from),
        )
        self.model_ = out["model"]
        self.labels_ = out["labels"]
        self.embedding_ = out["z"]
        self.cluster_centers_ = self.model_.centroids
        self.n_iter_ = out["n_iter"]
        self.report_ = json.loads(out["report"])
        self.history_ = self.report_["history"]
        self.n_features_in_ = self.model_.n_features
        return self

    def fit_predict(self, X, y=None):
        return self.fit(X, y).labels_

    def fit_transform(self, X, y=None):
        return self.fit(X, y).embedding_

    def _assign(self, X):
        if not hasattr(self, "model_"):
            raise NotFittedError(
                "This DEC instance is not fitted yet. Call 'fit' with appropriate arguments before using this estimator."
            )
        X = _as_array(X)
        d = int(np.prod(X.shape[1:]))
        if d != self.n_features_in_:
            raise ValueError(
                f"X has {d} features, but DEC is expecting {self.n_features_in_} features as input."
            )
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
        """The cluster of each row (argmax of q)."""
        return self._clustered(X, "labels")

    def predict_proba(self, X):
        """DEC's soft assignment q (Student's t), each row summing to 1."""
        return self._clustered(X, "q")

    def transform(self, X):
        """The embedding z of each row (the encoder's output)."""
        return self._assign(X)["z"]

    def save(self, path):
        """Write the model folder that `decscope predict --model` and the app read."""
        if not hasattr(self, "model_"):
            raise NotFittedError("fit the estimator before saving it")
        self.model_.save(os.fspath(path))

    @classmethod
    def load(cls, path, **params):
        """A fitted DEC from a model folder (`save`, `decscope train --save`). The
        training run's labels_ and report_ are not in the folder; predict, transform
        and predict_proba work."""
        model = Model.load(os.fspath(path))
        config = json.loads(model.config_json)
        params.setdefault("n_clusters", model.n_clusters)
        params.setdefault("seed", config.get("seed", 0))
        est = cls(**params)
        est.model_ = model
        est.cluster_centers_ = model.centroids
        est.n_features_in_ = model.n_features
        return est

    # Pickling: the model travels as its two files' bytes.
    def __getstate__(self):
        state = self.__dict__.copy()
        model = state.pop("model_", None)
        if model is not None:
            with tempfile.TemporaryDirectory() as d:
                model.save(d)
                state["_model_files"] = {
                    f: open(os.path.join(d, f), "rb").read() for f in os.listdir(d)
                }
        return state

    def __setstate__(self, state):
        files = state.pop("_model_files", None)
        self.__dict__.update(state)
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


def show(X, y=None, image_shape=None, preprocess="auto", name="array", exit_after=None, start=False):
    """Open decscope's desktop app on the array X (labels y optional) and block until
    its window closes. Needs a desktop (DISPLAY or WAYLAND_DISPLAY): in a notebook
    kernel without one it raises RuntimeError at once, saying so. Call it from the
    main thread. `start=True` presses Start; `exit_after` closes the window after
    that many seconds."""
    X = _as_array(X)
    _decscope.show(
        X,
        _labels(y, X.shape[0]),
        _shape(image_shape),
        preprocess,
        name,
        exit_after,
        bool(start),
    )
