"""Read a run's outputs and write its Neo4j bulk-import bundle (the job behind ``fraudmine export neo4j``)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from pyspark.sql import SparkSession

from fraudmine.analyst import clusters, frames
from fraudmine.analyst.bundle import BundleOptions, write_bundle
from fraudmine.analyst.model import ATTRIBUTES
from fraudmine.graph import schemas as S

log = logging.getLogger(__name__)


class RunNotFound(FileNotFoundError):
    """The folder is not a run (no ``graph/nodes`` and ``graph/edges``)."""


def run_id_of(run_dir: Path) -> str:
    """The run id from ``manifest.json`` (empty if the run has none)."""
    mf = run_dir / "manifest.json"
    return str(json.loads(mf.read_text()).get("run_id", "")) if mf.exists() else ""


def read_run(spark: SparkSession, run_dir: Path) -> frames.RunTables:
    """The tables of ``run_dir`` the export uses; optional ones are None when absent.

    Raises:
        RunNotFound: if the typed graph is missing.
        GraphSchemaError: if the graph tables do not have their declared schemas.
    """
    graph = run_dir / "graph"
    if not (graph / "nodes").exists() or not (graph / "edges").exists():
        raise RunNotFound(
            f"{run_dir}: no graph/nodes and graph/edges; pass a run folder (out/runs/<date> or out/current) "
            "whose graph stage has committed"
        )
    nodes = S.check_schema(spark.read.parquet(str(graph / "nodes")), S.NODES_SCHEMA, "graph.nodes")
    edges = S.check_schema(spark.read.parquet(str(graph / "edges")), S.EDGES_SCHEMA, "graph.edges")
    scores = spark.read.parquet(str(run_dir / "scores")) if (run_dir / "scores").exists() else None
    members, cluster_rows = clusters.read_clusters(spark, run_dir)
    attributes = {}
    for table, _key, _props in ATTRIBUTES.values():
        path = run_dir / "validate" / "clean" / table
        if path.exists():
            attributes[table] = spark.read.parquet(str(path))
    bv_path = run_dir / "brand_violations"
    bv = spark.read.parquet(str(bv_path)) if bv_path.exists() else None
    for name, present in (
        ("scores", scores is not None),
        ("clusters", members is not None),
        ("brand_violations", bv is not None),
    ):
        if not present:
            log.info("neo4j export: %s absent in %s, exported without it", name, run_dir)
    return frames.RunTables(nodes, edges, scores, members, cluster_rows, attributes, bv)


def export_run(
    spark: SparkSession, run_dir: Path, out: Path, rows_per_file: int = 1_000_000, database: str = "neo4j"
) -> dict[str, object]:
    """Write the bulk-import bundle of ``run_dir`` to ``out``.

    Args:
        spark: the session.
        run_dir: a run folder (``<out>/runs/<date>`` or ``<out>/current``).
        out: bundle folder (replaced).
        rows_per_file: target rows per CSV part.
        database: database name written into ``import.sh``.

    Returns:
        The bundle manifest.
    """
    t0 = time.monotonic()
    tables = read_run(spark, run_dir)
    opts = BundleOptions(rows_per_file=rows_per_file, run_id=run_id_of(run_dir), database=database)
    manifest = write_bundle(tables, out, opts)
    log.info("neo4j bundle written to %s in %.1fs", out, time.monotonic() - t0)
    return manifest
