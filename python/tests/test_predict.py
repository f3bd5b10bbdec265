"""A fitted DEC predicts new rows the way it read its training rows (the preprocessing
fitted once and kept in the model), and follows scikit-learn's rules: random_state,
validation and feature names, pandas output, load and pickle, Ctrl-C in the window.

Run from the repository root after `pip install "./python[test]"`: `pytest python/tests`.
"""

import os
import pickle
import subprocess
import textwrap

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.datasets import load_digits, load_wine

import decscope
from conftest import interrupt_child

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("DECSCOPE_BIN", os.path.join(ROOT, "target", "release", "decscope"))
SMALL = dict(dims=(32, 16, 3), pretrain_steps=300, max_iter=300, kmeans_n_init=3)


def subsets(n):
    """One row, ten rows, and a shuffled half."""
    half = np.random.default_rng(1).permutation(n)[: n // 2]
    return [np.array([7]), np.arange(20, 30), half]


def assert_subsets_agree(est, X):
    """predict and predict_proba of each subset equal those rows among all, bit for bit."""
    labels, q, z = est.predict(X), est.predict_proba(X), est.transform(X)
    assert len(set(labels.tolist())) >= 2, "one cluster for everything proves nothing"
    for rows in subsets(len(X)):
        np.testing.assert_array_equal(est.predict(X[rows]), labels[rows])
        np.testing.assert_array_equal(est.predict_proba(X[rows]), q[rows])
        np.testing.assert_array_equal(est.transform(X[rows]), z[rows])


def test_wine_standardized_rows_predict_alone_as_among_all():
    """The issue's case: wine's 13 columns on different scales, `standardize` chosen;
    ten rows alone used to land in other clusters (standardised by their own mean)."""
    X, y = load_wine(return_X_y=True)
    d = decscope.DEC(n_clusters=3, random_state=0, **SMALL).fit(X, y)
    assert d.report_["dataset"]["preprocessing"] == "standardize"
    assert_subsets_agree(d, X)
    # One row alone is not all zeros after preprocessing: its z is its z among all.
    np.testing.assert_array_equal(d.transform(X[:1]), d.embedding_[:1])


def test_digit_images_predict_alone_as_among_all():
    """8x8 digit images (0..16 counts, unit-range by the training maximum) as a 3-D
    uint8 array; a batch whose maximum is below 16 is still divided by 16."""
    digits = load_digits()
    imgs = digits.images.astype(np.uint8)
    d = decscope.DEC(n_clusters=10, random_state=0, **SMALL).fit(imgs)
    assert_subsets_agree(d, imgs)
    faint = np.minimum(imgs[:10], 8)  # a batch whose own maximum is 8
    z_alone = d.transform(faint)
    z_among = d.transform(np.concatenate([faint, imgs[10:]]))[:10]
    np.testing.assert_array_equal(z_alone, z_among)


def test_random_state_as_scikit_learn_reads_it():
    X, _ = load_wine(return_X_y=True)
    a = decscope.DEC(n_clusters=3, random_state=5, **SMALL).fit(X)
    b = decscope.DEC(n_clusters=3, seed=5, **SMALL).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.report_["config"]["seed"] == 5
    r1 = decscope.DEC(n_clusters=3, random_state=np.random.RandomState(3), **SMALL).fit(X)
    r2 = decscope.DEC(n_clusters=3, random_state=np.random.RandomState(3), **SMALL).fit(X)
    np.testing.assert_array_equal(r1.labels_, r2.labels_)
    assert r1.report_["config"]["seed"] == np.random.RandomState(3).randint(np.iinfo(np.int32).max)
    with pytest.raises(ValueError, match="random_state"):
        decscope.DEC(n_clusters=3, random_state="zero", **SMALL).fit(X)


def test_quiet_by_default(capfd):
    X, _ = load_wine(return_X_y=True)
    assert decscope.DEC().verbose == 0
    decscope.DEC(n_clusters=3, **SMALL).fit(X)
    assert capfd.readouterr().err == ""


def test_dataframes_keep_their_column_names_and_pandas_output():
    data = load_wine(as_frame=True)
    X = data.data
    d = decscope.DEC(n_clusters=3, random_state=0, **SMALL).fit(X)
    np.testing.assert_array_equal(d.feature_names_in_, np.array(X.columns, dtype=object))
    assert list(d.get_feature_names_out()) == ["dec0", "dec1", "dec2"]
    renamed = X.rename(columns={"alcohol": "ethanol"})
    with pytest.raises(ValueError, match="feature names"):
        d.predict(renamed)
    d.set_output(transform="pandas")
    z = d.transform(X)
    assert isinstance(z, pd.DataFrame) and list(z.columns) == ["dec0", "dec1", "dec2"]
    assert list(z.index) == list(X.index)
    np.testing.assert_array_equal(z.to_numpy(), d.embedding_)


def test_load_restores_every_parameter(tmp_path):
    X, _ = load_wine(return_X_y=True)
    est = decscope.DEC(n_clusters=4, random_state=7, method="idec", idec_gamma=0.2,
                       batch_size=64, update_interval=30, tol=0.01, preprocess="standardize",
                       baselines=False, **SMALL)
    est.fit(X)
    est.save(tmp_path / "m")
    back = decscope.DEC.load(tmp_path / "m")
    assert back.get_params() == est.get_params()
    np.testing.assert_array_equal(back.predict(X), est.labels_)


def test_load_of_a_command_line_model_restores_its_settings(tmp_path):
    if not os.path.exists(BIN):
        pytest.skip(f"{BIN} not built (cargo build --release)")
    X, y = load_wine(return_X_y=True)
    path = tmp_path / "wine.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", fmt="%.6f")
    model = tmp_path / "m"
    out = subprocess.run([BIN, "train", "--quiet", "--data", str(path), "--label-col", "last",
                          "--clusters", "3", "--seed", "4", "--dims", "32,16,3", "--batch-size", "64",
                          "--finetune-iters", "300", "--max-iter", "300", "--kmeans-n-init", "3",
                          "--save", str(model)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    d = decscope.DEC.load(model)
    p = d.get_params()
    assert (p["n_clusters"], p["seed"], p["dims"], p["batch_size"], p["pretrain_steps"]) == (3, 4, (32, 16, 3), 64, 300)
    assert p["preprocess"] == "auto"
    assert d.n_features_in_ == 13


def test_pickle_keeps_scikit_learns_version_stamp():
    X, _ = load_wine(return_X_y=True)
    d = decscope.DEC(n_clusters=3, random_state=0, **SMALL).fit(X)
    state = d.__getstate__()
    assert state["_sklearn_version"] == sklearn.__version__
    assert "model_" in d.__dict__, "pickling must not take the model off the estimator"
    copy = pickle.loads(pickle.dumps(d))
    np.testing.assert_array_equal(copy.predict_proba(X), d.predict_proba(X))
    state["_sklearn_version"] = "0.1"
    other = decscope.DEC.__new__(decscope.DEC)
    with pytest.warns(sklearn.exceptions.InconsistentVersionWarning):
        other.__setstate__(state)


def test_arrays_of_every_layout_read_the_same():
    X, _ = load_wine(return_X_y=True)
    d = decscope.DEC(n_clusters=3, random_state=0, **SMALL).fit(X)
    z = d.transform(X.astype(np.float32))
    for other in [np.asfortranarray(X.astype(np.float32)), X.astype(np.float32)[::-1][::-1], X]:
        np.testing.assert_array_equal(d.transform(other), z)


def test_a_model_from_before_preprocessing_was_kept_is_refused(tmp_path):
    X, _ = load_wine(return_X_y=True)
    d = decscope.DEC(n_clusters=3, random_state=0, **SMALL).fit(X)
    d.save(tmp_path / "m")
    os.remove(tmp_path / "m" / "preprocess.json")
    old = decscope.DEC.load(tmp_path / "m")
    with pytest.raises(ValueError, match="saved without its preprocessing"):
        old.predict(X)


# The child restores Python's own SIGINT handler (see test_estimator.py's CHILD).
SHOW_CTRL_C = textwrap.dedent(
    """
    import signal, sys, time, numpy as np, decscope
    signal.signal(signal.SIGINT, signal.default_int_handler)
    X = np.random.default_rng(0).random((300, 8))
    print("showing", flush=True)
    try:
        decscope.show(X, exit_after=60)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(0)
    print("closed without an interrupt", flush=True)
    """
)


def test_ctrl_c_closes_the_window(display_env):
    # After 4 s the window is up.
    code, out, err, waited = interrupt_child(SHOW_CTRL_C, "showing", 4.0, env=display_env)
    assert code == 0, err
    assert "interrupted" in out, out + err
    assert waited < 2.0, f"show returned {waited:.2f} s after SIGINT"
