"""Stage ``neo4j`` (off by default, ``neo4j.export_bundle: true``): the run's Neo4j bulk-import bundle."""

from __future__ import annotations

from pathlib import Path

from fraudmine.analyst.export import export_run
from fraudmine.config import Config
from fraudmine.jobs.context import StageContext, StageResult

OUTPUT = "neo4j"


def enabled(cfg: Config) -> bool:
    """Whether the stage runs: ``neo4j.export_bundle`` in the config."""
    return cfg.neo4j.export_bundle


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Write ``neo4j/`` (nodes and relationship CSVs, headers, ``import.sh``, ``schema.cypher``)."""
    manifest = export_run(
        ctx.spark,
        ctx.run_dir,
        staging,
        rows_per_file=ctx.config.neo4j.rows_per_file,
        database=ctx.config.neo4j.database,
    )
    rows_out = {f"nodes.{e['id_space']}": int(e["rows"]) for e in manifest["nodes"]}  # type: ignore[attr-defined]
    rows_out.update({f"relationships.{e['name']}": int(e["rows"]) for e in manifest["relationships"]})  # type: ignore[attr-defined]
    return StageResult(rows_out=rows_out)
