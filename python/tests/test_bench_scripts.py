"""The arithmetic in the benchmark scripts under benches/, against independent oracles.

`benches/steer.py` is standard library only, so it matches clusters to classes with its
own exact search (`best_match`); scipy's Hungarian solver (`linear_sum_assignment`, a
dependency of scikit-learn) is the oracle here. Run with the rest of `pytest python/tests`.
"""

import csv
import importlib.util
import os

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_steer():
    spec = importlib.util.spec_from_file_location("steer", os.path.join(ROOT, "benches", "steer.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def as_counts(table):
    """A clusters x classes array as the dict of dicts best_match takes."""
    return {
        str(c): {str(j): int(v) for j, v in enumerate(row) if v} for c, row in enumerate(table)
    }


@pytest.mark.parametrize("shape", [(10, 10), (7, 10), (10, 6), (1, 4), (12, 12)])
def test_best_match_equals_scipys_hungarian_solver(shape):
    steer = load_steer()
    rng = np.random.default_rng(sum(shape))
    for _ in range(5):
        table = rng.integers(0, 60, size=shape)
        rows, cols = linear_sum_assignment(-table)
        assert steer.best_match(as_counts(table)) == table[rows, cols].sum()


def test_ceiling_moves_every_four_and_nine_to_the_best_pair(tmp_path):
    # Hand-made assignments: cluster 0 holds 6 fours and 4 nines, cluster 1 holds
    # 10 sevens and 3 nines, cluster 2 holds 5 ones. As left: 0->4, 1->7, 2->1 put
    # 6 + 10 + 5 = 21 of 28 right. With every 4 in cluster 0 and every 9 in cluster 2,
    # the ones (5) lose their cluster to the nines (7): 6 + 10 + 7 = 23 of 28 right.
    rows = [("4", 0)] * 6 + [("9", 0)] * 4 + [("7", 1)] * 10 + [("9", 1)] * 3 + [("1", 2)] * 5
    table = tmp_path / "assignments.csv"
    with open(table, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["index", "label", "cluster", "confidence"])
        for i, (label, c) in enumerate(rows):
            w.writerow([i, label, c, 0.5])
    before, top, a, b = load_steer().ceiling(str(table))
    assert before == pytest.approx(21 / 28)
    assert top == pytest.approx(23 / 28)
    assert (a, b) in (("0", "2"), ("2", "0"))
