"""The generic node benchmark behind ``fraudmine bench nodes``.

For every split of the protocol (:mod:`~fraudmine.models.nodes.splits`) each requested model is
fitted on the training nodes, selected on validation AUPRC and scored on the test nodes:

- ``lgbm``: LightGBM on raw + neighbour-aggregated features + out-of-fold neighbour-label
  features (:mod:`~fraudmine.models.nodes.features`); a validation or test node's score is the
  mean of the booster over the label features of every fold (each computed without one fifth of
  the training labels, none with the node's own label, which is not a training label);
- ``gnn``: multi-relation GraphSAGE (:mod:`~fraudmine.models.nodes.gnn`), a bag of ``gnn_folds``
  models, model ``k`` trained on the training nodes outside fold ``k``; the test score is the
  mean of the bag;
- ``hybrid``: ``lgbm``'s features plus each node's GNN score taken from the bag model that never
  saw its label (the one of the node's own fold), so the training rows' GNN feature is out of fold
  like those of the test rows.  The 64-d embeddings are added only with ``hybrid_embeddings``: on
  two Tolokers splits they cost 0.1-0.7 AUROC points against the score alone (LightGBM over-fits
  the embeddings of models trained on half the training nodes).
- ``features-only`` (baseline, always available): LightGBM on the raw node features, no graph.

Metrics in percent: AUROC, AUPRC (average precision) and Rec@K (recall among the top K test nodes,
K = the number of test positives), mean and population std over the splits.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import average_precision_score, roc_auc_score

from fraudmine.models.nodes.data import NodeBundle
from fraudmine.models.nodes.features import fold_of, graph_features, label_feature_views, out_of_fold
from fraudmine.models.nodes.lgbm import fit_select
from fraudmine.models.nodes.splits import Protocol, Split, make_splits

log = logging.getLogger(__name__)

MODELS = ("lgbm", "gnn", "hybrid", "features-only")


@dataclass
class ModelResult:
    """Per-split test metrics (percent) and total seconds of one model."""

    auroc: list[float] = field(default_factory=list)
    auprc: list[float] = field(default_factory=list)
    rec_at_k: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """``{"auroc": {"mean", "std"}, "auprc": …, "rec_at_k": …, "seconds"}``."""
        out: dict[str, Any] = {
            k: {"mean": round(float(np.mean(v)), 2), "std": round(float(np.std(v)), 2)}
            for k, v in (("auroc", self.auroc), ("auprc", self.auprc), ("rec_at_k", self.rec_at_k))
        }
        out["seconds"] = round(self.seconds, 1)
        return out


def recall_at_k(y: NDArray[np.int8], score: NDArray[np.float64]) -> float:
    """Share of positives among the top ``K`` scores, ``K`` = number of positives."""
    k = int(y.sum())
    if k == 0:
        return float("nan")
    top = np.argsort(-score, kind="stable")[:k]
    return float(y[top].sum() / k)


def _record(res: ModelResult, y: NDArray[np.int8], score: NDArray[np.float64], seconds: float) -> None:
    res.auroc.append(100 * float(roc_auc_score(y, score)))
    res.auprc.append(100 * float(average_precision_score(y, score)))
    res.rec_at_k.append(100 * recall_at_k(y, score))
    res.seconds += seconds


def _gnn_bag(
    bundle: NodeBundle, split: Split, folds: int, aggs: list[Any], gnn_x: NDArray[np.float32]
) -> tuple[NDArray[np.float64], NDArray[np.float32]]:
    """Bag of fold GNNs: (mean score of every node, out-of-fold score + embedding per node)."""
    from fraudmine.models.nodes.gnn import GNNConfig, train_gnn

    fold = fold_of(bundle.n, folds, split.seed + 1000)
    mean = np.zeros(bundle.n)
    oof: NDArray[np.float32] | None = None
    for k in range(folds):
        train_k = split.train[fold[split.train] != k]
        score, emb, ap = train_gnn(gnn_x, aggs, bundle.y, train_k, split.val, GNNConfig(), split.seed * 100 + k)
        log.info("split %d gnn fold %d/%d: val AUPRC %.4f", split.seed, k + 1, folds, ap)
        mean += score / folds
        feats = np.column_stack([score, emb]).astype(np.float32)
        if oof is None:
            oof = np.zeros_like(feats)
        oof[fold == k] = feats[fold == k]
    assert oof is not None
    return mean, oof


def run_benchmark(
    bundle: NodeBundle,
    protocol: Protocol,
    models: list[str],
    seeds: int | None,
    gnn_folds: int = 2,
    threads: int = 1,
    hybrid_embeddings: bool = False,
) -> dict[str, dict[str, Any]]:
    """Run the benchmark; returns per model the :meth:`ModelResult.summary`.

    ``threads`` is given to LightGBM and torch.  One thread is the default: on the shared 2-core
    machine LightGBM's OpenMP with 2 threads ran 7 times slower than with 1 under a load of 7.

    Raises:
        ValueError: an unknown model name.
        BundleError: the protocol does not apply to the bundle.
    """
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; choose from {list(MODELS)}")
    splits = make_splits(bundle, protocol, seeds)
    t0 = time.perf_counter()
    graph_x, _ = graph_features(bundle)
    shared = time.perf_counter() - t0
    log.info("features: %d nodes x %d columns in %.1fs", bundle.n, graph_x.shape[1], shared)
    results = {m: ModelResult() for m in models}
    aggs: list[Any] = []
    gnn_x = bundle.x
    if {"gnn", "hybrid"} & set(models):
        import torch

        from fraudmine.models.nodes.gnn import MeanAggregator

        torch.set_num_threads(threads)

        aggs = [MeanAggregator(a) for a in bundle.adjacency.values()]
        deg = [np.log1p(np.asarray(a.sum(axis=1)).ravel()) for a in bundle.adjacency.values()]
        gnn_x = np.column_stack([bundle.x, *deg]).astype(np.float32)
    for split in splits:
        y_test = bundle.y[split.test]
        if "features-only" in models:
            t = time.perf_counter()
            score, _, _ = fit_select(bundle.x, bundle.y, split.train, split.val, split.seed, threads=threads)
            _record(results["features-only"], y_test, score[split.test], time.perf_counter() - t)
        t = time.perf_counter()
        fold, lab_views, _ = label_feature_views(bundle, split.train, seed=split.seed)
        tab_x = np.hstack([graph_x, out_of_fold(fold, lab_views)])
        lab_seconds = time.perf_counter() - t
        if "lgbm" in models:
            t = time.perf_counter()
            views = [np.hstack([graph_x, v]) for v in lab_views]
            score, _, _ = fit_select(tab_x, bundle.y, split.train, split.val, split.seed, threads=threads, views=views)
            _record(results["lgbm"], y_test, score[split.test], time.perf_counter() - t + lab_seconds + shared)
        if {"gnn", "hybrid"} & set(models):
            t = time.perf_counter()
            gnn_mean, gnn_oof = _gnn_bag(bundle, split, gnn_folds, aggs, gnn_x)
            gnn_seconds = time.perf_counter() - t
            if "gnn" in models:
                _record(results["gnn"], y_test, gnn_mean[split.test], gnn_seconds)
            if "hybrid" in models:
                t = time.perf_counter()
                hyb_x = np.hstack([tab_x, gnn_oof if hybrid_embeddings else gnn_oof[:, :1]])
                score, _, _ = fit_select(hyb_x, bundle.y, split.train, split.val, split.seed, threads=threads)
                _record(
                    results["hybrid"],
                    y_test,
                    score[split.test],
                    time.perf_counter() - t + gnn_seconds + lab_seconds + shared,
                )
        log.info(
            "split %d: %s",
            split.seed,
            ", ".join(f"{m} AUROC {r.auroc[-1]:.2f} AUPRC {r.auprc[-1]:.2f}" for m, r in results.items()),
        )
    return {m: r.summary() for m, r in results.items()}
