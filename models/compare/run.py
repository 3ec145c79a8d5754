"""Fit and score the compared models of one entity type on shared stratified splits.

Models (each fitted per typology on the same split; LightGBM by :func:`fraudmine.models.nodes.lgbm.fit_select`,
its small grid and early stopping on validation AUPRC):

- ``baseline``: the one-count baseline of ``fraudmine evaluate`` (a raw count of the feature table), no fit;
- ``tabular``: LightGBM on the entity's tabular features (:data:`~fraudmine.models.compare.targets.TABULAR_BY_TYPE`);
- ``graph``: LightGBM on every column of the run's feature table;
- ``gnn``: a heterogeneous GNN (:func:`fraudmine.models.hetero.train.fit_hetero_multi`, one network for all
  typologies of the type) over the typed graph; its test score is the mean of the out-of-fold bag;
- ``hybrid``: ``graph``'s features plus the out-of-fold GNN score of the typology (:mod:`.oof`), and the
  out-of-fold embeddings with ``embeddings``.

Metrics per split: test AUPRC (labelled test rows) and recall at the review budget (top
``budget`` of the whole test population of the type).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fraudmine.models.compare.metrics import auprc, recall_at_budget
from fraudmine.models.compare.oof import OutOfFold, out_of_fold
from fraudmine.models.compare.splits import strata_of, stratified_split
from fraudmine.models.hetero.data import TypedHeteroGraph
from fraudmine.models.hetero.train import HeteroConfig, fit_hetero_multi
from fraudmine.models.nodes.lgbm import fit_select
from fraudmine.models.nodes.splits import Split

log = logging.getLogger(__name__)

MODELS = ("baseline", "tabular", "graph", "gnn", "hybrid")
MIN_POSITIVES_PER_PART = 2


@dataclass
class Scores:
    """Per-split test AUPRC and recall at the budget of one (typology, model)."""

    auprc: list[float] = field(default_factory=list)
    recall: list[float] = field(default_factory=list)

    def add(self, y: NDArray[np.int8], score: NDArray[np.float64], test: NDArray[np.int64], budget: float) -> None:
        """Record the metrics of ``score`` on the ``test`` rows."""
        self.auprc.append(auprc(y, score, test))
        self.recall.append(recall_at_budget(y, score, test, budget))

    def summary(self) -> dict[str, dict[str, float]]:
        """``{"auprc": {"mean", "std"}, "recall_at_budget": {...}}`` (fractions, population std)."""
        return {
            k: {"mean": float(np.mean(v)), "std": float(np.std(v))}
            for k, v in (("auprc", self.auprc), ("recall_at_budget", self.recall))
        }


@dataclass(frozen=True)
class EntityInputs:
    """Everything one entity type's comparison needs, row-aligned with its feature table.

    Attributes:
        entity_type: scored entity type (``merchant``, ``reporter``...).
        x_tabular: ``(n, f_tab)`` tabular features.
        x_graph: ``(n, f_all)`` every feature of the run's table.
        labels: typology → ``(n,)`` 1 / 0 / -1.
        baselines: typology → ``(n,)`` baseline score (absent: no baseline row).
        graph: the typed graph with node features, or ``None`` (no GNN / hybrid).
        graph_target: node type of the graph holding these entities.
        graph_rows: ``(n,)`` row of each entity in ``graph.ids[graph_target]`` (-1: not in the graph).
    """

    entity_type: str
    x_tabular: NDArray[np.float32]
    x_graph: NDArray[np.float32]
    labels: Mapping[str, NDArray[np.int8]]
    baselines: Mapping[str, NDArray[np.float64]]
    graph: TypedHeteroGraph | None
    graph_target: str
    graph_rows: NDArray[np.int64]


def usable_typologies(labels: Mapping[str, NDArray[np.int8]], split: Split) -> list[str]:
    """Typologies with at least :data:`MIN_POSITIVES_PER_PART` positives and a negative in each part."""
    out = []
    for typ, y in labels.items():
        if all(
            (y[p] == 1).sum() >= MIN_POSITIVES_PER_PART and (y[p] == 0).sum() >= 1
            for p in (split.train, split.val, split.test)
        ):
            out.append(typ)
    return out


def _gnn_fit(inp: EntityInputs, typs: list[str], cfg: HeteroConfig) -> Any:
    assert inp.graph is not None
    n_graph = len(inp.graph.ids[inp.graph_target])
    present = inp.graph_rows >= 0
    lab = np.full((n_graph, len(typs)), -1, dtype=np.int8)
    lab[inp.graph_rows[present]] = np.column_stack([inp.labels[t] for t in typs])[present]

    def fit(train: NDArray[np.int64], val: NDArray[np.int64], seed: int) -> tuple[Any, Any]:
        g_tr = inp.graph_rows[train[present[train]]]
        g_va = inp.graph_rows[val[present[val]]]
        res = fit_hetero_multi(inp.graph, inp.graph_target, lab, np.sort(g_tr), np.sort(g_va), cfg, seed)  # type: ignore[arg-type]
        n = len(inp.graph_rows)
        scores = np.zeros((n, len(typs)))
        emb = np.zeros((n, cfg.hidden), np.float32)
        scores[present] = res.scores[inp.graph_rows[present]]
        if res.embeddings:
            emb[present] = res.embeddings[inp.graph_target][inp.graph_rows[present]]
        log.info("%s gnn fold fit (seed %d): val mean AUPRC %.4f", inp.entity_type, seed, res.val_auprc)
        return scores, emb

    return fit


def compare_entity(
    inp: EntityInputs,
    seeds: list[int],
    models: list[str],
    budget: float = 0.01,
    folds: int = 2,
    cfg: HeteroConfig | None = None,
    threads: int = 1,
    embeddings: bool = False,
) -> dict[str, Any]:
    """Run the comparison of one entity type over ``seeds`` splits.

    Returns:
        ``{"typologies": {typ: {"n_pos", "n_neg", "n_population", "splits", "models": {model: summary}}},
        "seconds": {model: total seconds over the splits}, "skipped": {typ: reason}}``.

    Raises:
        ValueError: an unknown model name.
    """
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; choose from {list(MODELS)}")
    cfg = cfg or HeteroConfig()
    use_gnn = bool({"gnn", "hybrid"} & set(models)) and inp.graph is not None
    strata = strata_of(dict(inp.labels))
    res: dict[str, dict[str, Scores]] = {}
    seconds = dict.fromkeys(models, 0.0)
    skipped: dict[str, str] = {}
    used_splits: dict[str, int] = {}
    for seed in seeds:
        split = stratified_split(strata, seed)
        typs = usable_typologies(inp.labels, split)
        for typ in set(inp.labels) - set(typs):
            skipped[typ] = f"fewer than {MIN_POSITIVES_PER_PART} positives in a split part"
        if not typs:
            continue
        oof: OutOfFold | None = None
        gnn_seconds = 0.0
        if use_gnn:
            t = time.perf_counter()
            oof = out_of_fold(len(inp.graph_rows), split.train, split.val, folds, seed, _gnn_fit(inp, typs, cfg))
            gnn_seconds = time.perf_counter() - t
            if "gnn" in seconds:
                seconds["gnn"] += gnn_seconds
        for j, typ in enumerate(typs):
            y = inp.labels[typ]
            tr, va, te = split.train[y[split.train] >= 0], split.val[y[split.val] >= 0], split.test
            per = res.setdefault(typ, {m: Scores() for m in models})
            used_splits[typ] = used_splits.get(typ, 0) + 1
            if "baseline" in models and typ in inp.baselines:
                per["baseline"].add(y, inp.baselines[typ], te, budget)
            for name, x in (("tabular", inp.x_tabular), ("graph", inp.x_graph)):
                if name in models:
                    t = time.perf_counter()
                    score, _, _ = fit_select(x, y, tr, va, seed, threads=threads)
                    seconds[name] += time.perf_counter() - t
                    per[name].add(y, score, te, budget)
            if oof is not None and "gnn" in models:
                per["gnn"].add(y, oof.mean_scores[:, j], te, budget)
            if oof is not None and "hybrid" in models:
                t = time.perf_counter()
                blocks: list[NDArray[Any]] = [inp.x_graph, oof.scores[:, j : j + 1]]
                if embeddings:
                    blocks.append(oof.embeddings)
                x_h = np.hstack(blocks).astype(np.float32)
                score, _, _ = fit_select(x_h, y, tr, va, seed, threads=threads)
                seconds["hybrid"] += time.perf_counter() - t
                per["hybrid"].add(y, score, te, budget)
        if oof is not None and "hybrid" in seconds:
            seconds["hybrid"] += gnn_seconds
        log.info("%s split %d: %d typologies done", inp.entity_type, seed, len(typs))
    out: dict[str, Any] = {"typologies": {}, "seconds": {m: round(s, 1) for m, s in seconds.items()}, "skipped": {}}
    for typ, y in inp.labels.items():
        if typ not in res:
            out["skipped"][typ] = skipped.get(typ, "no split")
            continue
        out["typologies"][typ] = {
            "n_pos": int((y == 1).sum()),
            "n_neg": int((y == 0).sum()),
            "n_population": len(y),
            "splits": used_splits[typ],
            "models": {m: s.summary() for m, s in res[typ].items() if s.auprc},
        }
    return out
