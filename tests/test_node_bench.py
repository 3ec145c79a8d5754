"""``fraudmine bench nodes``: bundle parsing, protocols, out-of-fold label features, JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fraudmine.models.nodes.bench import recall_at_k, run_benchmark
from fraudmine.models.nodes.data import BundleError, from_arrays, load_npz
from fraudmine.models.nodes.features import graph_features, label_feature_views, label_features, neighbour_max
from fraudmine.models.nodes.splits import make_splits


def _arrays(n: int = 300, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(np.int64)
    y[:10] = -1
    x = rng.normal(size=(n, 3)).astype(np.float32)
    pos = np.flatnonzero(y == 1)
    return {
        "node_features": x,
        "node_labels": y,
        "edges__random": rng.integers(0, n, size=(600, 2)),
        "edge_index__ring": np.vstack([rng.choice(pos, 200), rng.choice(pos, 200)]),
    }


def test_relations_are_symmetric_without_self_loops_and_edges_or_edge_index_agree() -> None:
    a = from_arrays(
        {
            "node_features": np.zeros((3, 1)),
            "node_labels": np.array([1, 0, -1]),
            "edges": np.array([[0, 1], [1, 0], [2, 2], [1, 2]]),
        }
    )
    b = from_arrays(
        {
            "node_features": np.zeros((3, 1)),
            "node_labels": np.array([1, 0, -1]),
            "edge_index": np.array([[0, 1], [1, 2]]),
        }
    )
    for bundle in (a, b):
        m = bundle.adjacency["edge"].toarray()
        assert (m == m.T).all() and m.diagonal().sum() == 0 and m.sum() == 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"node_labels": np.array([0, 1, 2])}, "values \\[2\\]"),
        ({"edges": np.array([[0, 1, 2]])}, "'edges' has shape \\(1, 3\\); expected \\(m, 2\\)"),
        ({"edges": np.array([[0, 5]])}, "outside \\[0, 3\\)"),
        ({"train_masks": np.ones((2, 3), bool)}, "not all of"),
    ],
)
def test_bad_bundles_are_named(change: dict[str, np.ndarray], message: str) -> None:
    arrays = {"node_features": np.zeros((3, 2)), "node_labels": np.array([0, 1, 0]), "edges": np.array([[0, 1]])}
    with pytest.raises(BundleError, match=message):
        from_arrays(arrays | change)


def test_protocol_splits_are_disjoint_labelled_and_sized() -> None:
    bundle = from_arrays(_arrays())
    labelled = np.flatnonzero(bundle.y >= 0)
    for s in make_splits(bundle, "gadbench-fully", 2):
        parts = [s.train, s.val, s.test]
        assert sum(len(p) for p in parts) == len(labelled) == len(np.unique(np.concatenate(parts)))
        assert abs(len(s.train) / len(labelled) - 0.4) < 0.01 and abs(len(s.val) / len(labelled) - 0.2) < 0.01
    semi = make_splits(bundle, "gadbench-semi", 1)[0]
    assert bundle.y[semi.train].sum() == 20 and len(semi.train) == 100 and bundle.y[semi.val].sum() == 20
    with pytest.raises(BundleError, match="needs train_masks"):
        make_splits(bundle, "given-splits", None)


def test_neighbour_max_and_label_features_never_see_own_label() -> None:
    bundle = from_arrays(_arrays())
    a = bundle.adjacency["random"]
    mx = neighbour_max(a, bundle.x)
    i = int(np.flatnonzero(np.diff(a.indptr))[0])
    np.testing.assert_allclose(mx[i], bundle.x[a.indices[a.indptr[i] : a.indptr[i + 1]]].max(axis=0))
    train = np.flatnonzero(bundle.y >= 0)
    base, names = label_features(bundle, train, seed=1)
    flipped = from_arrays(_arrays() | {"node_labels": np.where(bundle.y >= 0, 1 - bundle.y, -1)})
    node = int(train[0])
    # flipping only node's own label leaves its own features unchanged
    one = from_arrays(_arrays() | {"node_labels": np.where(np.arange(bundle.n) == node, 1 - bundle.y, bundle.y)})
    np.testing.assert_array_equal(label_features(one, train, seed=1)[0][node], base[node])
    assert not np.allclose(np.nan_to_num(label_features(flipped, train, seed=1)[0]), np.nan_to_num(base))
    assert graph_features(bundle)[0].shape[0] == bundle.n and len(names) == base.shape[1]


def test_label_features_use_training_labels_of_other_folds_only() -> None:
    bundle = from_arrays(_arrays())
    labelled = np.flatnonzero(bundle.y >= 0)
    train, held = labelled[::2], labelled[1::2]
    base, _ = label_features(bundle, train, seed=3)
    # val/test labels never enter: flipping every non-training label changes no feature of any node
    y_held = bundle.y.copy()
    y_held[held] = 1 - y_held[held]
    np.testing.assert_array_equal(
        label_features(from_arrays(_arrays() | {"node_labels": y_held}), train, seed=3)[0], base
    )
    # nor any fold's view (the held-out rows' test-time averaging reads every view)
    views = label_feature_views(bundle, train, seed=3)[1]
    flipped_views = label_feature_views(from_arrays(_arrays() | {"node_labels": y_held}), train, seed=3)[1]
    assert len(views) == 5
    for v, w in zip(views, flipped_views, strict=True):
        np.testing.assert_array_equal(v, w)
    # a node's own label never enters its features: dropping it from the training set changes nothing of its row
    for node in train[:5]:
        dropped, _ = label_features(bundle, train[train != node], seed=3)
        np.testing.assert_array_equal(dropped[node], base[node])


def test_fit_select_averages_views_on_held_out_rows_only() -> None:
    from fraudmine.models.nodes.lgbm import GRID, fit_select

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3)).astype(np.float32)
    y = (x[:, 0] + rng.normal(size=400) > 1).astype(np.int8)
    train, val = np.arange(200), np.arange(200, 300)
    plain, _, _ = fit_select(x, y, train, val, 0, grid=GRID[:1])
    same, _, _ = fit_select(x, y, train, val, 0, grid=GRID[:1], views=[x, x])
    np.testing.assert_allclose(same, plain)
    shifted = x.copy()
    shifted[:, 0] += 5.0
    mixed, _, _ = fit_select(x, y, train, val, 0, grid=GRID[:1], views=[x, shifted])
    np.testing.assert_array_equal(mixed[train], plain[train])
    assert not np.allclose(mixed[200:], plain[200:])


def test_recall_at_k() -> None:
    assert recall_at_k(np.array([1, 0, 1, 0], dtype=np.int8), np.array([0.9, 0.8, 0.1, 0.2])) == 0.5


def test_benchmark_runs_on_any_bundle_and_graph_beats_features_only(tmp_path: Path) -> None:
    path = tmp_path / "b.npz"
    np.savez(path, **_arrays())
    res = run_benchmark(load_npz(path), "gadbench-fully", ["lgbm", "features-only"], seeds=1)
    assert set(res["lgbm"]) == {"auroc", "auprc", "rec_at_k", "seconds"}
    assert set(res["lgbm"]["auroc"]) == {"mean", "std"}
    assert res["lgbm"]["auroc"]["mean"] > res["features-only"]["auroc"]["mean"] + 10


@pytest.mark.slow
def test_cli_json_with_gnn_and_hybrid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from fraudmine.cli import main

    path = tmp_path / "b.npz"
    np.savez(path, **_arrays(n=150))
    assert (
        main(
            [
                "bench",
                "nodes",
                "--npz",
                str(path),
                "--protocol",
                "gadbench-fully",
                "--seeds",
                "1",
                "--models",
                "gnn,hybrid",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"gnn", "hybrid"} and 0 <= out["hybrid"]["auprc"]["mean"] <= 100
