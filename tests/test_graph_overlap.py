"""Most neighbours shared with one other node: local sparse product == brute force == Spark self-join."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pytest

from fraudmine.graph.algorithms.overlap import max_shared_local, max_shared_neighbours


def _brute(left: np.ndarray, right: np.ndarray, n_left: int) -> np.ndarray:
    nb = [set() for _ in range(n_left)]
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        nb[a].add(b)
    best = np.zeros(n_left, dtype=np.int64)
    for a, b in combinations(range(n_left), 2):
        k = len(nb[a] & nb[b])
        best[a], best[b] = max(best[a], k), max(best[b], k)
    return best


def _random_edges(seed: int, n_left: int = 40, n_right: int = 25) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    m = rng.random((n_left, n_right)) < rng.uniform(0.02, 0.3)
    m[rng.integers(n_left)] = True  # a hub buyer of every product
    left, right = np.nonzero(m)
    return left.astype(np.int64), right.astype(np.int64)


@pytest.mark.parametrize("seed", range(20))
def test_local_equals_brute_force(seed: int) -> None:
    left, right = _random_edges(seed)
    want = _brute(left, right, 40)
    assert max_shared_local(left, right, 40).tolist() == want.tolist()
    assert max_shared_local(left, right, 40, block_rows=7).tolist() == want.tolist()  # blocks split rows


def test_local_edge_cases() -> None:
    e = np.zeros(0, dtype=np.int64)
    assert max_shared_local(e, e, 3).tolist() == [0, 0, 0]
    # two buyers of one product share 1; a lone buyer shares nothing; isolated nodes stay 0
    assert max_shared_local(np.array([0, 1, 2]), np.array([0, 0, 1]), 4).tolist() == [1, 1, 0, 0]


@pytest.mark.spark
def test_engines_agree(spark: Any) -> None:
    left, right = _random_edges(3, 30, 12)
    rows = [(f"b{a}", f"p{b}") for a, b in zip(left.tolist(), right.tolist(), strict=True)]
    edges = spark.createDataFrame(rows, "buyer_id string, product_id string")
    got = {}
    for engine in ("local", "spark", "auto"):
        df = max_shared_neighbours(edges, "buyer_id", "product_id", "overlap", engine=engine, local_max_edges=10)
        assert df.columns == ["buyer_id", "overlap"]
        got[engine] = {r["buyer_id"]: r["overlap"] for r in df.collect()}
    want = {f"b{i}": int(v) for i, v in enumerate(_brute(left, right, 30).tolist()) if v > 0}
    assert got["local"] == want and got["spark"] == want and got["auto"] == want
