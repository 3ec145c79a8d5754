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
from pathlib import Path

from fraudmine.features.creator import TRAIN_CLUSTER_KINDS
from fraudmine.graph.mining import mine_clusters
from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.jobs.parquet import parquet_rows, read_parquet

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
    res = mine_clusters(nodes, events, reports, labels, ctx.as_of, cfg, dup)
    rows: dict[str, int] = {}
    for kind, df in res.clusters.items():
        df.write.parquet(str(staging / kind))
        rows[kind] = parquet_rows(staging / kind)
    res.members.orderBy("cluster_type", "cluster_id", "node_id").write.parquet(str(staging / "members"))
    res.features.orderBy("node_id").write.parquet(str(staging / "entity_features"))
    rows["entity_features"] = parquet_rows(staging / "entity_features")
    if cfg.train_features:
        train = mine_clusters(nodes, events, reports, labels, ctx.train_as_of, cfg, dup, TRAIN_CLUSTER_KINDS)
        train.features.orderBy("node_id").write.parquet(str(staging / "entity_features_train"))
        rows["entity_features_train"] = parquet_rows(staging / "entity_features_train")
    return StageResult(
        rows_out=rows,
        versions={f"engine.{k}": v for k, v in res.engines.items()},
    )
