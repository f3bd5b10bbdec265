"""decscope.DEC as a scikit-learn estimator, against the command line and sklearn's own
estimator checks; Ctrl-C; the window on an array.

Run from the repository root after `pip install ./python`: `pytest python/tests`.
The command-line comparisons use target/release/decscope (or $DECSCOPE_BIN) and are
skipped when neither exists.
"""

import json
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import decscope
from conftest import interrupt_child

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("DECSCOPE_BIN", os.path.join(ROOT, "target", "release", "decscope"))

# A small network and schedule, so that each fit takes a fraction of a second.
SMALL = dict(dims=(32, 16, 3), pretrain_steps=300, max_iter=300, kmeans_n_init=3, verbose=0)


def blobs(n=300, k=3, d=8, seed=0):
    X, y = make_blobs(n_samples=n, centers=k, n_features=d, random_state=seed, cluster_std=1.0)
    return X.astype(np.float32), y


def acc(truth, pred):
    """ACC under the best one-to-one map, by brute force over permutations (k <= 4)."""
    import itertools

    ks = sorted(set(pred.tolist()) | set(truth.tolist()))
    best = 0
    for perm in itertools.permutations(ks):
        m = dict(zip(ks, perm))
        best = max(best, sum(m[p] == t for p, t in zip(pred.tolist(), truth.tolist())))
    return best / len(truth)


def test_separable_blobs_are_found():
    X, y = blobs()
    d = decscope.DEC(n_clusters=3, **SMALL).fit(X, y)
    assert acc(y, d.labels_) == 1.0
    assert d.report_["final"]["acc"] == 1.0
    assert d.labels_.shape == (300,) and d.labels_.dtype == np.int64
    assert d.cluster_centers_.shape == (3, 3)
    assert d.embedding_.shape == (300, 3)
    assert d.n_iter_ > 0 and d.n_features_in_ == 8
    q = d.predict_proba(X)
    np.testing.assert_allclose(q.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(q.argmax(axis=1), d.labels_)
    np.testing.assert_array_equal(d.predict(X), d.labels_)
    assert any(h["phase"] == "dec" for h in d.history_)


def test_spectral_start_and_self_correction_reach_the_engine():
    """start and self_correct are estimator parameters that the run's configuration
    and report carry: the spectral start's baseline row is scored, and self_correct
    lists its rounds (none on four separable blobs, which stay found)."""
    X, y = blobs(n=600, k=4)
    d = decscope.DEC(n_clusters=4, start="spectral", self_correct=True, **SMALL).fit(X, y)
    cl = d.report_["config"]["cluster"]
    assert cl["start"] == "spectral" and cl["self_correct"] is True
    assert d.report_["baselines"]["ae_spectral"]["acc"] > 0.25
    assert d.report_.get("self_correct", []) == []
    assert acc(y, d.labels_) == 1.0
    params = decscope.DEC(n_clusters=4, **SMALL).get_params()
    assert params["start"] is None and params["self_correct"] is None
    # The preset's: self-correction on, so "auto" is the spectral start; with
    # self_correct=False it is the paper's k-means start.
    auto = decscope.DEC(n_clusters=4, **SMALL).fit(X, y)
    assert auto.report_["config"]["cluster"]["start"] == "auto"
    assert auto.report_["config"]["cluster"]["self_correct"] is True
    assert auto.report_["start"] == "spectral"
    assert "ae_spectral" in auto.report_["baselines"]
    plain = decscope.DEC(n_clusters=4, self_correct=False, **SMALL).fit(X, y)
    assert plain.report_["start"] == "kmeans"
    assert "ae_spectral" not in plain.report_["baselines"]


def test_settle_watch_reports_checks_without_changing_the_fit():
    """settle="watch" fills report_["settle"] with the pretraining checks (a first
    check with no agreement, later ones with one in [0, 1]) and leaves the fit as it
    is without it; an unknown value is a ValueError naming the choices."""
    X, y = blobs(n=600, k=4)
    plain = decscope.DEC(n_clusters=4, **SMALL).fit(X, y)
    watched = decscope.DEC(n_clusters=4, settle="watch", **SMALL).fit(X, y)
    checks = watched.report_["settle"]
    assert len(checks) >= 3
    assert checks[0]["agreement"] is None
    assert all(0.0 <= c["agreement"] <= 1.0 for c in checks[1:])
    assert [c["step"] for c in checks] == sorted({c["step"] for c in checks})
    assert "settle" not in plain.report_
    np.testing.assert_array_equal(plain.labels_, watched.labels_)
    np.testing.assert_array_equal(plain.embedding_, watched.embedding_)
    with pytest.raises(ValueError, match="watch"):
        decscope.DEC(n_clusters=4, settle="sometimes", **SMALL).fit(X)


def test_same_seed_same_result_and_layouts_agree():
    X, y = blobs(seed=1)
    a = decscope.DEC(n_clusters=3, seed=4, **SMALL).fit(X)
    b = decscope.DEC(n_clusters=3, seed=4, **SMALL).fit(np.asfortranarray(X.astype(np.float64)))
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.embedding_, b.embedding_)


def run_cli(args):
    if not os.path.exists(BIN):
        pytest.skip(f"{BIN} not built (cargo build --release)")
    out = subprocess.run([BIN] + args, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out


def test_same_scores_and_clusters_as_the_command_line(tmp_path):
    """A table through numpy.loadtxt gives what `decscope train` gives on its CSV."""
    X, y = blobs(n=400, k=4, d=6, seed=3)
    path = tmp_path / "blobs.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", fmt="%.6f")
    report = tmp_path / "r.json"
    model = tmp_path / "m"
    run_cli(["train", "--quiet", "--data", str(path), "--seed", "2", "--dims", "32,16,3",
             "--finetune-iters", "300", "--max-iter", "300", "--kmeans-n-init", "3",
             "--report", str(report), "--save", str(model)])
    cli = json.loads(report.read_text())["final"]
    table = np.loadtxt(path, delimiter=",")
    d = decscope.DEC(n_clusters=4, seed=2, **SMALL).fit(table[:, :-1], table[:, -1])
    py = d.report_["final"]
    for key in ["acc", "nmi", "ari", "iterations", "cluster_sizes"]:
        assert py[key] == cli[key], key
    out = tmp_path / "assign.csv"
    run_cli(["predict", "--model", str(model), "--data", str(path), "--out", str(out)])
    cli_labels = np.loadtxt(out, delimiter=",", skiprows=1, usecols=1).astype(int)
    np.testing.assert_array_equal(d.labels_, cli_labels)


def test_save_load_round_trip_and_the_cli_reads_it(tmp_path):
    X, y = blobs(seed=5)
    d = decscope.DEC(n_clusters=3, **SMALL).fit(X, y)
    d.save(tmp_path / "m")
    back = decscope.DEC.load(tmp_path / "m")
    np.testing.assert_array_equal(back.predict(X), d.labels_)
    np.testing.assert_allclose(back.transform(X), d.transform(X))
    assert back.n_clusters == 3
    copy = pickle.loads(pickle.dumps(d))
    np.testing.assert_array_equal(copy.predict(X), d.labels_)
    if os.path.exists(BIN):
        np.save(tmp_path / "x.npy", X)
        out = tmp_path / "a.csv"
        run_cli(["predict", "--model", str(tmp_path / "m"), "--data", str(tmp_path / "x.npy"), "--out", str(out)])
        cli_labels = np.loadtxt(out, delimiter=",", skiprows=1, usecols=1).astype(int)
        np.testing.assert_array_equal(cli_labels, d.labels_)


def test_a_bare_autoencoder_transforms_and_refuses_to_predict():
    """The bundled pretrained autoencoder has no clusters: transform gives z, predict
    says why it cannot (it used to panic inside the binding)."""
    bare = decscope.DEC.load(os.path.join(ROOT, "assets", "pretrained-mnist-test"))
    X = np.random.default_rng(0).random((5, 28, 28)).astype(np.float32)
    assert bare.transform(X).shape == (5, 10)
    with pytest.raises(ValueError, match="autoencoder only"):
        bare.predict(X)
    with pytest.raises(ValueError, match="autoencoder only"):
        bare.predict_proba(X)


def test_clone_and_pipeline():
    X, y = blobs(seed=6)
    est = decscope.DEC(n_clusters=3, seed=1, **SMALL)
    c = clone(est)
    assert c.get_params() == est.get_params() and c is not est
    pipe = Pipeline([("scale", StandardScaler()), ("dec", clone(est))]).fit(X)
    labels = pipe.predict(X)
    assert acc(y, labels) == 1.0
    np.testing.assert_array_equal(labels, pipe.named_steps["dec"].labels_)
    z = pipe.transform(X)
    assert z.shape == (300, 3)


def test_errors_are_value_errors_with_the_cli_messages():
    """The array's form is checked by scikit-learn's own validation (its messages);
    what DEC needs of the data and the settings, by the engine (the CLI's messages)."""
    X, _ = blobs()
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        decscope.DEC(n_clusters=3, **SMALL).fit(bad)
    with pytest.raises(ValueError, match="too few to cluster"):
        decscope.DEC(n_clusters=3, **SMALL).fit(X[:4])
    with pytest.raises(ValueError, match="identical"):
        decscope.DEC(n_clusters=3, **SMALL).fit(np.ones((50, 4)))
    with pytest.raises(ValueError, match="augment"):
        decscope.DEC(n_clusters=3, preset="augmented", **SMALL).fit(X)
    with pytest.raises(ValueError, match="unknown variant"):
        decscope.DEC(n_clusters=3, method="kmeans", **SMALL).fit(X)
    with pytest.raises(ValueError, match="preprocess"):
        decscope.DEC(n_clusters=3, preprocess="zscore", **SMALL).fit(X)
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        decscope.DEC(**SMALL).fit(X[:, 0])
    d = decscope.DEC(n_clusters=3, **SMALL).fit(X)
    with pytest.raises(ValueError, match="X has 5 features, but DEC is expecting 8"):
        d.predict(X[:, :5])
    with pytest.raises(ValueError, match="unknown variant `fp16`"):
        decscope.DEC(precision="fp16", **SMALL).fit(X)


def test_bf16_precision_runs_where_the_cpu_has_it():
    X, y = blobs()
    # Widths of 64 so that the hidden products are wide enough for the bf16 path.
    small = dict(SMALL, dims=(64, 64, 3))
    try:
        d = decscope.DEC(n_clusters=3, precision="bf16", **small).fit(X, y)
    except ValueError as e:
        assert "AVX512-BF16" in str(e)
        return
    assert d.report_["precision"] == "bf16"
    assert acc(y, d.labels_) == 1.0
    f = decscope.DEC(n_clusters=3, **small).fit(X, y)
    assert f.report_["precision"] == "f32"
    assert not np.array_equal(d.embedding_, f.embedding_)


def test_images_keep_their_shape():
    rng = np.random.default_rng(0)
    imgs = (rng.random((60, 12, 12)) * 255).astype(np.uint8)
    imgs[:30, :6] = 0
    imgs[30:, 6:] = 0
    d = decscope.DEC(n_clusters=2, **SMALL).fit(imgs)
    assert d.n_features_in_ == 144
    assert "12x12 grey images" in json.dumps(d.report_["dataset"])
    assert acc(np.repeat([0, 1], 30), d.labels_) == 1.0


# The child restores Python's own SIGINT handler: a process started in the background
# by a non-interactive shell (as CI may start this suite) inherits SIGINT ignored, and
# Python then installs no KeyboardInterrupt handler at all.
CHILD = textwrap.dedent(
    """
    import signal, sys, numpy as np, decscope
    signal.signal(signal.SIGINT, signal.default_int_handler)
    X = np.random.default_rng(0).random((3000, 784), dtype=np.float32)
    d = decscope.DEC(verbose=0)
    print("fitting", flush=True)
    try:
        d.fit(X)
    except KeyboardInterrupt:
        print("interrupted; fitted:", hasattr(d, "model_"), flush=True)
        sys.exit(0)
    print("finished", flush=True)
    """
)


def test_ctrl_c_stops_fit_within_a_second():
    # After 3 s the fit is well inside pretraining (minutes at these settings).
    code, out, err, waited = interrupt_child(CHILD, "fitting", 3.0)
    assert code == 0, err
    assert "interrupted; fitted: False" in out, out + err
    assert waited < 1.0, f"fit returned {waited:.2f} s after SIGINT"


SHOW = textwrap.dedent(
    """
    import numpy as np, decscope, time
    from sklearn.datasets import make_blobs
    X, y = make_blobs(n_samples=300, centers=3, n_features=8, random_state=0)
    t = time.time()
    decscope.show(X, y, name="blobs", exit_after=3, start=True)
    print("closed after", round(time.time() - t, 1), flush=True)
    """
)


def test_show_opens_the_window_and_returns_when_it_closes(display_env):
    out = subprocess.run([sys.executable, "-c", SHOW], capture_output=True, text=True, env=display_env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "closed after" in out.stdout


def test_show_without_a_display_says_so():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    code = "import numpy as np, decscope\nprint('returned', decscope.show(np.eye(20)))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "returned False", out.stdout + out.stderr
    lines = [l for l in out.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, out.stderr
    assert "no display here" in lines[0] and "DISPLAY" in lines[0], out.stderr


# scikit-learn's estimator checks, on the small configuration used throughout and on
# n_clusters=2. Five checks set n_clusters=1 themselves, which DEC refuses with a
# ValueError naming the field (its target p = q^2/f needs two clusters to mean
# anything); they are expected to fail here, and test_checks_that_set_one_cluster
# runs the same five at n_clusters=2.
ONE_CLUSTER = (
    "sets n_clusters=1, which DEC refuses (p = q^2/f needs two clusters); "
    "run at n_clusters=2 in test_checks_that_set_one_cluster"
)
EXPECTED_FAILED = {
    "check_dont_overwrite_parameters": ONE_CLUSTER,
    "check_methods_subset_invariance": ONE_CLUSTER,
    "check_fit2d_1sample": ONE_CLUSTER,
    "check_fit2d_1feature": ONE_CLUSTER,
    "check_fit2d_predict1d": ONE_CLUSTER,
}
CHECKED = dict(dims=(16, 8, 2), pretrain_steps=60, max_iter=60, kmeans_n_init=2, verbose=0)


@parametrize_with_checks(
    [decscope.DEC(n_clusters=3, **CHECKED), decscope.DEC(n_clusters=2, **CHECKED)],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


class AtLeastTwoClusters(decscope.DEC):
    """DEC whose n_clusters never drops below 2: the checks below assign
    `estimator.n_clusters = 1`, and with this they run DEC at n_clusters=2 instead."""

    @property
    def n_clusters(self):
        return self._k

    @n_clusters.setter
    def n_clusters(self, k):
        self._k = max(2, int(k))


@pytest.mark.parametrize("name", sorted(EXPECTED_FAILED))
def test_checks_that_set_one_cluster(name):
    from sklearn.utils import estimator_checks

    est = AtLeastTwoClusters(n_clusters=2, **CHECKED)
    est.n_clusters = 1
    assert est.n_clusters == 2
    getattr(estimator_checks, name)("DEC", est)
