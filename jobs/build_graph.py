"""Stage ``graph``: clean tables → typed nodes, events, edges as of D, report attributes and stats."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from fraudmine.contracts.raw import RAW_TABLES
from fraudmine.graph.asof import edges_as_of
from fraudmine.graph.build import build_events, build_nodes, build_report_attrs
from fraudmine.graph.stats import graph_stats
from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.jobs.parquet import read_parquet

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
    events = read_parquet(ctx.spark, staging / "events")
    edges_as_of(events, ctx.as_of).write.partitionBy("edge_type").parquet(str(staging / "edges"))
    build_report_attrs(t).write.parquet(str(staging / "reports"))
    nodes, edges = read_parquet(ctx.spark, staging / "nodes"), read_parquet(ctx.spark, staging / "edges")
    stats = graph_stats(nodes, edges)
    stats.coalesce(1).write.parquet(str(staging / "stats"))
    # The counts are read back from the written files on the driver: no further Spark job.
    written = pq.read_table(staging / "stats", columns=["kind", "type", "count"]).to_pylist()
    rows = {f"{r['kind']}s.{r['type']}": int(r["count"]) for r in written}
    return StageResult(rows_in={k: ctx.rows("validate", "clean", k) for k in ("orders", "identities")}, rows_out=rows)
