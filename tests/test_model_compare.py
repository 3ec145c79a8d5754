"""Model comparison on the synthetic truth: splits, metrics, labels, and no label leakage into the hybrid."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import fraudmine.models.compare.run as run_mod
from fraudmine.models.compare.metrics import auprc, recall_at_budget
from fraudmine.models.compare.oof import out_of_fold
from fraudmine.models.compare.run import EntityInputs, compare
from fraudmine.models.compare.splits import strata_of, stratified_split
from fraudmine.models.compare.targets import tabular_columns, typology_labels
from fraudmine.models.hetero.data import build_hetero
from fraudmine.models.hetero.train import HeteroConfig, MultiTaskResult, NodeTask, fit_hetero_tasks


def test_stratified_split_partitions_each_stratum_and_is_fixed_by_seed() -> None:
    strata = np.array([1] * 10 + [0] * 50 + [-1] * 5 + [2] * 5)
    s = stratified_split(strata, seed=3)
    allrows = np.concatenate([s.train, s.val, s.test])
    assert sorted(allrows.tolist()) == list(range(len(strata)))
    for value, n in ((1, 10), (0, 50), (-1, 5), (2, 5)):
        counts = [int((strata[p] == value).sum()) for p in (s.train, s.val, s.test)]
        assert counts == [round(0.4 * n), round(0.2 * n), n - round(0.4 * n) - round(0.2 * n)]
    again = stratified_split(strata, seed=3)
    assert np.array_equal(s.test, again.test)
    assert not np.array_equal(s.test, stratified_split(strata, seed=4).test)


def test_strata_prefer_the_rarest_positive_typology() -> None:
    labels = {
        "common": np.array([1, 1, 1, 0, -1, 0], dtype=np.int8),
        "rare": np.array([1, 0, -1, 0, 1, -1], dtype=np.int8),
    }
    # rare (2 positives) wins over common; row 3 negative everywhere -> 0; row 5 only unlabelled/neg -> -1
    assert strata_of(labels).tolist() == [2, 1, 1, 0, 2, -1]


def test_recall_at_budget_counts_unlabelled_rows_in_the_population() -> None:
    y = np.array([1, -1, 0, 1, 0, 0, 0, 0, 0, 0] * 10, dtype=np.int8)
    score = np.zeros(100)
    score[1], score[0] = 2.0, 1.0  # an unlabelled row takes the first slot
    rows = np.arange(100)
    assert recall_at_budget(y, score, rows, budget=0.01) == 0.0  # k = 1
    assert recall_at_budget(y, score, rows, budget=0.02) == pytest.approx(1 / 20)  # k = 2
    with pytest.raises(ValueError, match="budget"):
        recall_at_budget(y, score, rows, budget=0.0)


def test_auprc_ignores_unlabelled_rows() -> None:
    y = np.array([1, 0, -1, 0], dtype=np.int8)
    score = np.array([0.9, 0.1, 1.0, 0.2])
    assert auprc(y, score, np.arange(4)) == pytest.approx(1.0)


def test_typology_labels_follow_evaluate() -> None:
    ids = pd.Series(["a", "b", "c", "d", "e"])
    out = typology_labels(ids, {"ring": {"a"}, "dup": {"b"}}, bad={"a", "b"}, low_quality={"c"})
    assert out["ring"].tolist() == [1, -1, -1, 0, 0]
    assert out["dup"].tolist() == [-1, 1, -1, 0, 0]
    assert tabular_columns("merchant", ["n_reports", "n_shared_identifiers", "refund_rate"]) == [
        "n_reports",
        "refund_rate",
    ]


def _memoriser(y: np.ndarray) -> Any:
    """A 'model' that outputs the label of every row it trained or early-stopped on, 0.5 elsewhere."""

    def fit(train: Any, val: Any, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        s = np.full(len(y), 0.5)
        seen = np.concatenate([train["g"], val["g"]])
        s[seen] = y[seen]
        return {"g": (s[:, None], s[:, None].astype(np.float32))}

    return fit


def test_out_of_fold_score_never_comes_from_a_model_that_saw_the_label() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=200).astype(np.float64)
    split = stratified_split(y.astype(np.int64), seed=1)
    oof = out_of_fold({"g": len(y)}, {"g": split.train}, {"g": split.val}, folds=3, seed=7, fit=_memoriser(y))["g"]
    assert np.all(oof.scores == 0.5)  # every row's feature from a model blind to its label
    assert np.all(oof.embeddings == 0.5)
    assert np.all(oof.mean_scores[split.test] == 0.5)  # the GNN's own test score: no model saw a test label
    with pytest.raises(ValueError, match="folds"):
        out_of_fold({"g": len(y)}, {"g": split.train}, {"g": split.val}, folds=1, seed=7, fit=_memoriser(y))


def test_hybrid_feature_carries_no_label_of_its_own_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end through compare_entity: a memorising GNN must not leak into the hybrid's GNN column."""
    n = 120
    rng = np.random.default_rng(2)
    y = np.zeros(n, dtype=np.int8)
    y[rng.choice(n, 30, replace=False)] = 1
    nodes = pd.DataFrame({"node_id": [f"merchant:m{i:03d}" for i in range(n)], "node_type": "merchant"})
    nodes = pd.concat([nodes, pd.DataFrame({"node_id": ["identifier:i0"], "node_type": ["identifier"]})])
    edges = pd.DataFrame(
        {
            "src": [f"merchant:m{i:03d}" for i in range(n)],
            "dst": "identifier:i0",
            "edge_type": "merchant__uses__identifier",
        }
    )
    graph = build_hetero(nodes, edges)

    def fake_gnn(g: Any, tasks: list[NodeTask], cfg: Any, seed: int) -> MultiTaskResult:
        scores = []
        for t in tasks:
            s = np.full(len(t.labels), 0.5)
            seen = np.concatenate([t.train, t.val])
            s[seen] = t.labels[seen]
            scores.append(s)
        return MultiTaskResult(scores, {"merchant": scores[0][:, None].astype(np.float32)}, 1.0)

    seen_x: list[np.ndarray] = []

    def fake_fit(x: np.ndarray, *args: Any, **kw: Any) -> Any:
        seen_x.append(x)
        return np.asarray(x[:, -1], dtype=np.float64), 0.0, {}

    monkeypatch.setattr(run_mod, "fit_hetero_tasks", fake_gnn)
    monkeypatch.setattr(run_mod, "fit_select", fake_fit)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    inp = EntityInputs("merchant", x[:, :2], x, {"fraud": y}, {}, "merchant", np.arange(n, dtype=np.int64))
    out = compare({"merchant": inp}, graph, seeds=[0, 1], models=["graph", "gnn", "hybrid"], folds=2)["entities"][
        "merchant"
    ]
    hybrid_x = [a for a in seen_x if a.shape[1] == 4]
    assert len(hybrid_x) == 2
    for a in hybrid_x:
        assert np.all(a[:, -1] == 0.5), "a node's hybrid GNN feature came from a model that saw its label"
    assert out["typologies"]["fraud"]["splits"] == 2
    assert set(out["typologies"]["fraud"]["models"]) == {"graph", "gnn", "hybrid"}


def test_multi_task_hetero_gnn_scores_every_task_and_is_fixed_by_seed() -> None:
    rng = np.random.default_rng(4)
    n_m, n_b = 40, 60
    nodes = pd.DataFrame(
        [(f"merchant:m{i:02d}", "merchant") for i in range(n_m)] + [(f"buyer:b{i:02d}", "buyer") for i in range(n_b)],
        columns=["node_id", "node_type"],
    )
    edges = pd.DataFrame(
        [(f"buyer:b{rng.integers(0, n_b):02d}", f"merchant:m{rng.integers(0, n_m):02d}") for _ in range(150)],
        columns=["src", "dst"],
    ).assign(edge_type="buyer__reported__merchant")
    feats = {"merchant": pd.DataFrame({"a": rng.normal(size=n_m)}, index=[f"merchant:m{i:02d}" for i in range(n_m)])}
    graph = build_hetero(nodes, edges.drop_duplicates(), feats, degrees=True)
    assert graph.data["merchant"].x.shape[1] == 2  # the feature + one log degree
    y_m = (np.arange(n_m) % 4 == 0).astype(np.int8)
    y_b = (np.arange(n_b) % 5 == 0).astype(np.int8)
    y_b[::7] = -1
    tasks = [
        NodeTask("merchant", y_m, np.arange(0, n_m, 2), np.arange(1, n_m, 2)),
        NodeTask("buyer", y_b, np.arange(0, n_b, 2), np.arange(1, n_b, 2)),
    ]
    cfg = HeteroConfig(hidden=8, epochs=4, patience=4)
    a = fit_hetero_tasks(graph, tasks, cfg, seed=1)
    b = fit_hetero_tasks(graph, tasks, cfg, seed=1)
    assert [s.shape for s in a.scores] == [(n_m,), (n_b,)]
    assert all(np.array_equal(x, z) for x, z in zip(a.scores, b.scores, strict=True))
    with pytest.raises(ValueError, match="node type"):
        fit_hetero_tasks(graph, [NodeTask("creator", y_m, tasks[0].train, tasks[0].val)], cfg, seed=1)
