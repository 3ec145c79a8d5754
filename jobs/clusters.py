"""Stage ``clusters``: identity clusters, collusion communities, brushing blocks, reporter rings.

Reads the committed typed graph (nodes, events, report attributes), the clean labels and the
``duplicates`` stage's near-duplicate listing pairs (``clusters.duplicate_edges``, an evidence
channel of the collusion projection: the ``duplicates`` stage runs before this one);
writes ``clusters/{identity,collusion,brushing,reporter_rings}`` (schema ``CLUSTERS_SCHEMA``),
``clusters/members`` and ``clusters/entity_features`` (as of D), plus
``clusters/entity_features_train`` (as of D - label window) when ``clusters.train_features``: that one
mines only the kinds the training features read (:data:`~fraudmine.features.creator.TRAIN_CLUSTER_KINDS`)
and has only their columns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path

from pyspark.sql import DataFrame

from fraudmine.features.creator import TRAIN_CLUSTER_KINDS
from fraudmine.graph.mining import MiningResult, mine_clusters
from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.jobs.parquet import parquet_rows, read_parquet
from fraudmine.spark import run_concurrently

OUTPUT = "clusters"
log = logging.getLogger(__name__)


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Mine clusters as of D (and entity features as of the training cut-off)."""
    cfg = ctx.config.clusters
    nodes, events, reports = ctx.read("graph", "nodes"), ctx.read("graph", "events"), ctx.read("graph", "reports")
    labels = ctx.read("validate", "clean", "labels")
    dup = None
    if cfg.duplicate_edges:
        dup_path = ctx.path(cfg.duplicate_edges)
        if dup_path.exists():
            dup = read_parquet(ctx.spark, dup_path)
        else:
            log.warning(
                "clusters: no near-duplicate pairs at %s (run the duplicates stage first, or set "
                "clusters.duplicate_edges: null); the collusion 'duplicate' channel is off",
                dup_path,
            )
    rows: dict[str, int] = {}

    def write(df: DataFrame, name: str, order: tuple[str, ...] = ()) -> None:
        (df.orderBy(*order) if order else df).write.parquet(str(staging / name))
        rows[name] = parquet_rows(staging / name)

    def mine_train() -> None:
        train = mine_clusters(nodes, events, reports, labels, ctx.train_as_of, cfg, dup, TRAIN_CLUSTER_KINDS)
        write(train.features, "entity_features_train", ("node_id",))

    # The mining as of D and as of the training cut-off are independent: on a small input they run at once
    # (one's driver work overlaps the other's jobs), then the outputs as of D are written two at a time.
    workers = ctx.workers
    tasks: list[Callable[[], MiningResult | None]] = [
        lambda: mine_clusters(nodes, events, reports, labels, ctx.as_of, cfg, dup)
    ]
    if cfg.train_features:
        tasks.append(mine_train)
    res = run_concurrently(ctx.spark, tasks, workers)[0]
    assert res is not None
    writes: list[tuple[DataFrame, str, tuple[str, ...]]] = [(df, kind, ()) for kind, df in res.clusters.items()]
    writes += [
        (res.members, "members", ("cluster_type", "cluster_id", "node_id")),
        (res.features, "entity_features", ("node_id",)),
    ]
    run_concurrently(ctx.spark, [partial(write, *w) for w in writes], workers)
    rows.pop("members")
    order = [*res.clusters, "entity_features", "entity_features_train"]
    return StageResult(
        rows_out={k: rows[k] for k in order if k in rows},
        versions={f"engine.{k}": v for k, v in res.engines.items()},
    )
