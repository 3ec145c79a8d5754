"""Fit and score the compared models of every entity type on shared stratified splits.

Models (each fitted per typology on the same split; LightGBM by :func:`fraudmine.models.nodes.lgbm.fit_select`,
its small grid and early stopping on validation AUPRC):

- ``baseline``: the one-count baseline of ``fraudmine evaluate`` (a raw count of the feature table), no fit;
- ``tabular``: LightGBM on the entity's tabular features (:data:`~fraudmine.models.compare.targets.TABULAR_BY_TYPE`);
- ``graph``: LightGBM on every column of the run's feature table;
- ``gnn``: a heterogeneous GNN over the typed graph (:func:`fraudmine.models.hetero.train.fit_hetero_tasks`):
  per split and fold one network with a head per (entity type, typology), trained on every type's
  training rows outside the fold; its test score is the mean of the out-of-fold bag;
- ``hybrid``: ``graph``'s features plus the out-of-fold GNN score of the typology (:mod:`.oof`), and the
  out-of-fold embeddings with ``embeddings``.

Metrics per split: test AUPRC (labelled test rows) and recall at the review budget (top
``budget`` of the whole test population of the type).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fraudmine.models.compare.metrics import auprc, recall_at_budget
from fraudmine.models.compare.oof import OutOfFold, Rows, out_of_fold
from fraudmine.models.compare.splits import strata_of, stratified_split
from fraudmine.models.hetero.data import TypedHeteroGraph
from fraudmine.models.hetero.train import HeteroConfig, NodeTask, fit_hetero_tasks
from fraudmine.models.nodes.lgbm import GRID, fit_select
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

    def summary(self) -> dict[str, dict[str, Any]]:
        """``{"auprc": {"mean", "std", "values"}, "recall_at_budget": {...}}`` (fractions, population std)."""
        return {
            k: {"mean": float(np.mean(v)), "std": float(np.std(v)), "values": [float(a) for a in v]}
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
        graph_target: node type of the typed graph holding these entities.
        graph_rows: ``(n,)`` row of each entity in ``graph.ids[graph_target]`` (-1: not in the graph).
    """

    entity_type: str
    x_tabular: NDArray[np.float32]
    x_graph: NDArray[np.float32]
    labels: Mapping[str, NDArray[np.int8]]
    baselines: Mapping[str, NDArray[np.float64]]
    graph_target: str
    graph_rows: NDArray[np.int64]

    @property
    def n(self) -> int:
        """Number of entities."""
        return int(self.x_graph.shape[0])


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


def _gnn_fit(
    graph: TypedHeteroGraph, inputs: Mapping[str, EntityInputs], typs: Mapping[str, list[str]], cfg: HeteroConfig
) -> Any:
    """The out-of-fold ``fit``: one multi-task network over every (entity type, typology) of ``typs``."""

    def graph_labels(inp: EntityInputs, typ: str) -> NDArray[np.int8]:
        lab = np.full(len(graph.ids[inp.graph_target]), -1, dtype=np.int8)
        ok = inp.graph_rows >= 0
        lab[inp.graph_rows[ok]] = inp.labels[typ][ok]
        return lab

    def to_graph(inp: EntityInputs, rows: Rows) -> Rows:
        g = inp.graph_rows[rows]
        return np.sort(g[g >= 0])

    def fit(train: Mapping[str, Rows], val: Mapping[str, Rows], seed: int) -> dict[str, tuple[Any, Any]]:
        keys = [(e, t) for e in typs for t in typs[e]]
        tasks = [
            NodeTask(
                inputs[e].graph_target,
                graph_labels(inputs[e], t),
                to_graph(inputs[e], train[e]),
                to_graph(inputs[e], val[e]),
            )
            for e, t in keys
        ]
        res = fit_hetero_tasks(graph, tasks, cfg, seed)
        log.info("gnn fold fit (seed %d, %d tasks): val mean AUPRC %.4f", seed, len(tasks), res.val_auprc)
        out: dict[str, tuple[Any, Any]] = {}
        for e in typs:
            inp = inputs[e]
            ok = inp.graph_rows >= 0
            scores = np.zeros((inp.n, len(typs[e])))
            emb = np.zeros((inp.n, cfg.hidden), np.float32)
            for j, t in enumerate(typs[e]):
                scores[ok, j] = res.scores[keys.index((e, t))][inp.graph_rows[ok]]
            if res.embeddings:
                emb[ok] = res.embeddings[inp.graph_target][inp.graph_rows[ok]]
            out[e] = (scores, emb)
        return out

    return fit


def _lgbm_rows(
    inp: EntityInputs,
    split: Split,
    typs: list[str],
    oof: OutOfFold | None,
    models: list[str],
    res: dict[str, dict[str, Scores]],
    seconds: dict[str, float],
    budget: float,
    threads: int,
    embeddings: bool,
    grid: tuple[dict[str, Any], ...],
) -> None:
    """Baseline, the LightGBM models and the GNN's test metrics of one entity type on one split."""
    for j, typ in enumerate(typs):
        y = inp.labels[typ]
        tr, va, te = split.train[y[split.train] >= 0], split.val[y[split.val] >= 0], split.test
        per = res.setdefault(typ, {m: Scores() for m in models})
        if "baseline" in models and typ in inp.baselines:
            per["baseline"].add(y, inp.baselines[typ], te, budget)
        for name, x in (("tabular", inp.x_tabular), ("graph", inp.x_graph)):
            if name in models:
                t = time.perf_counter()
                score, _, _ = fit_select(x, y, tr, va, split.seed, grid, threads=threads)
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
            score, _, _ = fit_select(x_h, y, tr, va, split.seed, grid, threads=threads)
            seconds["hybrid"] += time.perf_counter() - t
            per["hybrid"].add(y, score, te, budget)


def compare(
    inputs: Mapping[str, EntityInputs],
    graph: TypedHeteroGraph | None,
    seeds: list[int],
    models: list[str],
    budget: float = 0.01,
    folds: int = 2,
    cfg: HeteroConfig | None = None,
    threads: int = 1,
    embeddings: bool = False,
    grid: tuple[dict[str, Any], ...] = GRID,
    on_split: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run the comparison of every entity type of ``inputs`` over one split per seed.

    ``grid`` is the LightGBM grid searched on validation AUPRC; ``on_split`` gets the result so far
    (same shape as the return value) after every split, so a long run leaves partial figures.

    Per seed: a stratified 40/20/40 split of each entity type's population; the out-of-fold GNN bag
    (one multi-task network per fold for all types, when ``gnn`` or ``hybrid`` is asked and a graph
    is given); then per type and typology the baseline and LightGBM models.

    Returns:
        ``{"entities": {type: {"typologies": {typ: {"n_pos", "n_neg", "n_population", "splits",
        "models": {model: summary}}}, "seconds": {model: seconds}, "skipped": {typ: reason}}},
        "gnn_seconds": float}``.  Per-type seconds are LightGBM fit seconds (``hybrid``: its LightGBM
        fits only); ``gnn_seconds`` is the joint GNN bag's total, which serves every type (the hybrid
        costs its LightGBM seconds plus the bag).

    Raises:
        ValueError: an unknown model name.
    """
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; choose from {list(MODELS)}")
    cfg = cfg or HeteroConfig()
    use_gnn = bool({"gnn", "hybrid"} & set(models)) and graph is not None
    strata = {e: strata_of(dict(inp.labels)) for e, inp in inputs.items()}
    res: dict[str, dict[str, dict[str, Scores]]] = {e: {} for e in inputs}
    seconds = {e: dict.fromkeys([m for m in models if m != "baseline"], 0.0) for e in inputs}
    skipped: dict[str, dict[str, str]] = {e: {} for e in inputs}
    used: dict[str, dict[str, int]] = {e: {} for e in inputs}
    gnn_seconds = 0.0
    for seed in seeds:
        splits = {e: stratified_split(strata[e], seed) for e in inputs}
        typs = {e: usable_typologies(inp.labels, splits[e]) for e, inp in inputs.items()}
        for e, inp in inputs.items():
            for typ in set(inp.labels) - set(typs[e]):
                skipped[e][typ] = f"fewer than {MIN_POSITIVES_PER_PART} positives in a split part"
        typs = {e: t for e, t in typs.items() if t}
        if not typs:
            continue
        oof: dict[str, OutOfFold] = {}
        if use_gnn:
            assert graph is not None
            t = time.perf_counter()
            oof = out_of_fold(
                {e: inputs[e].n for e in typs},
                {e: splits[e].train for e in typs},
                {e: splits[e].val for e in typs},
                folds,
                seed,
                _gnn_fit(graph, inputs, typs, cfg),
            )
            gnn_seconds += time.perf_counter() - t
        for e, ts in typs.items():
            for typ in ts:
                used[e][typ] = used[e].get(typ, 0) + 1
            _lgbm_rows(
                inputs[e], splits[e], ts, oof.get(e), models, res[e], seconds[e], budget, threads, embeddings, grid
            )
        log.info("split %d done: %s", seed, ", ".join(f"{e} {len(t)}" for e, t in typs.items()))
        if on_split is not None:
            on_split(_assemble(inputs, res, seconds, skipped, used, gnn_seconds))
    return _assemble(inputs, res, seconds, skipped, used, gnn_seconds)


def _assemble(
    inputs: Mapping[str, EntityInputs],
    res: dict[str, dict[str, dict[str, Scores]]],
    seconds: dict[str, dict[str, float]],
    skipped: dict[str, dict[str, str]],
    used: dict[str, dict[str, int]],
    gnn_seconds: float,
) -> dict[str, Any]:
    out: dict[str, Any] = {"entities": {}, "gnn_seconds": round(gnn_seconds, 1)}
    for e, inp in inputs.items():
        er: dict[str, Any] = {"typologies": {}, "seconds": {m: round(s, 1) for m, s in seconds[e].items()}}
        er["skipped"] = {t: skipped[e].get(t, "no split") for t in inp.labels if t not in res[e]}
        for typ, y in inp.labels.items():
            if typ in res[e]:
                er["typologies"][typ] = {
                    "n_pos": int((y == 1).sum()),
                    "n_neg": int((y == 0).sum()),
                    "n_population": len(y),
                    "splits": used[e][typ],
                    "models": {m: s.summary() for m, s in res[e][typ].items() if s.auprc},
                }
        out["entities"][e] = er
    return out
