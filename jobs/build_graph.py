"""Stage ``graph``: clean tables → typed nodes, events, edges as of D, report attributes and stats."""

from __future__ import annotations

from pathlib import Path

from fraudmine.contracts.raw import RAW_TABLES
from fraudmine.graph.asof import edges_as_of
from fraudmine.graph.build import build_events, build_nodes, build_report_attrs
from fraudmine.graph.stats import graph_stats
from fraudmine.jobs.context import StageContext, StageResult

OUTPUT = "graph"


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Build the heterogeneous graph from the committed clean tables.

    Writes ``nodes`` (by node_type), ``events`` (by edge_type), ``edges`` (as of D, by edge_type),
    ``reports`` (report node attributes) and ``stats`` (counts, degree quantiles, hubs).
    """
    t = {s.name: ctx.read("validate", "clean", s.name) for s in RAW_TABLES}
    build_nodes(t, ctx.config.graph.hub_identifier_min_degree).write.partitionBy("node_type").parquet(
        str(staging / "nodes")
    )
    build_events(t).write.partitionBy("edge_type").parquet(str(staging / "events"))
    events = ctx.spark.read.parquet(str(staging / "events"))
    edges_as_of(events, ctx.as_of).write.partitionBy("edge_type").parquet(str(staging / "edges"))
    build_report_attrs(t).write.parquet(str(staging / "reports"))
    nodes, edges = ctx.spark.read.parquet(str(staging / "nodes")), ctx.spark.read.parquet(str(staging / "edges"))
    stats = graph_stats(nodes, edges)
    stats.coalesce(1).write.parquet(str(staging / "stats"))
    rows = {
        f"{r['kind']}s.{r['type']}": int(r["count"]) for r in ctx.spark.read.parquet(str(staging / "stats")).collect()
    }
    return StageResult(
        rows_in={k: ctx.read("validate", "clean", k).count() for k in ("orders", "identities")}, rows_out=rows
    )
