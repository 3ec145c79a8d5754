"""Stage ``graph``: clean tables → typed nodes and edges (Parquet, partitioned by type)."""

from __future__ import annotations

from pathlib import Path

from fraudmine.contracts.raw import RAW_TABLES
from fraudmine.graph.build import build_edges, build_nodes
from fraudmine.jobs.context import StageContext, StageResult

OUTPUT = "graph"


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Build the heterogeneous graph from the committed clean tables."""
    t = {s.name: ctx.read("validate", "clean", s.name) for s in RAW_TABLES}
    nodes = build_nodes(t, ctx.config.graph.hub_identifier_min_degree)
    edges = build_edges(t)
    nodes.write.partitionBy("node_type").parquet(str(staging / "nodes"))
    edges.write.partitionBy("edge_type").parquet(str(staging / "edges"))
    node_counts = {
        f"nodes.{r['node_type']}": int(r["count"])
        for r in ctx.spark.read.parquet(str(staging / "nodes")).groupBy("node_type").count().collect()
    }
    edge_counts = {
        f"edges.{r['edge_type']}": int(r["count"])
        for r in ctx.spark.read.parquet(str(staging / "edges")).groupBy("edge_type").count().collect()
    }
    return StageResult(rows_out={**node_counts, **edge_counts})
