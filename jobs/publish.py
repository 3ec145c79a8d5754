"""Stage ``publish``: audit gates, then atomically point ``<out>/current`` at this run.

Consumers (API snapshot loader, Neo4j export, analysts) read ``<out>/current``;
a run that fails a gate raises :class:`AuditFailed` and the pointer keeps naming
the last good run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraudmine.audit import AuditFailed, RunStats, audit
from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.jobs.runtime import utc_now_iso
from fraudmine.models.registry import make_registry
from fraudmine.serving import activate_snapshot, build_snapshot

OUTPUT = "publish"
CURRENT = "current"


def run_stats(scores: DataFrame, decisions: DataFrame) -> RunStats:
    """Gather the audited statistics in two Spark aggregations."""
    s = scores.agg(
        F.count(F.lit(1)).alias("n"),
        F.sum(F.col("fraud_risk").isNull().cast("long")).alias("null"),
        F.sum(((F.col("fraud_risk") < 0) | (F.col("fraud_risk") > 1)).cast("long")).alias("oor"),
        F.countDistinct("run_id").alias("runs"),
        F.sum(F.col("model_version").isNull().cast("long")).alias("nomv"),
    ).first()
    d = decisions.agg(F.count(F.lit(1)).alias("n"), F.sum(F.col("run_id").isNull().cast("long")).alias("norun")).first()
    assert s is not None and d is not None
    return RunStats(
        scored_rows=int(s["n"]),
        null_scores=int(s["null"] or 0),
        out_of_range_scores=int(s["oor"] or 0),
        distinct_run_ids=int(s["runs"]),
        missing_model_version=int(s["nomv"] or 0),
        decisions_rows=int(d["n"]),
        decisions_missing_run_id=int(d["norun"] or 0),
    )


def point_current(out_dir: Path, run_dir: Path) -> None:
    """Atomically replace the ``current`` symlink with one to ``run_dir`` (relative link)."""
    tmp = out_dir / f".{CURRENT}.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(os.path.relpath(run_dir, out_dir))
    os.replace(tmp, out_dir / CURRENT)


def previous_stats(out_dir: Path) -> RunStats | None:
    """Stats of the published run, if any."""
    audit_file = out_dir / CURRENT / OUTPUT / "audit.json"
    if not audit_file.exists():
        return None
    return RunStats(**json.loads(audit_file.read_text())["stats"])


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Audit the run; on success point ``current`` at it and promote the model alias ``champion``.

    The serving snapshot is built before any pointer moves (a published run always
    has one) and made current after the run is.

    Raises:
        AuditFailed: listing every failed gate.
    """
    stats = run_stats(ctx.read("scores"), ctx.read("decisions"))
    prev = None
    current = ctx.out_dir / CURRENT
    if current.exists() and current.resolve() != ctx.run_dir.resolve():
        prev = previous_stats(ctx.out_dir)
    failures = audit(stats, prev, ctx.config.publish)
    (staging / "audit.json").write_text(
        json.dumps({"stats": stats.to_dict(), "failures": failures, "run_id": ctx.run_id}, indent=2)
    )
    if failures:
        raise AuditFailed("; ".join(failures))
    snapshot = build_snapshot(ctx.run_dir, ctx.out_dir)
    version = str(json.loads(ctx.path("model", "model.json").read_text())["model_version"])
    make_registry(ctx.config.model.registry, ctx.out_dir).promote(version, "champion")
    point_current(ctx.out_dir, ctx.run_dir)
    activate_snapshot(ctx.out_dir, snapshot, ctx.run_dir, utc_now_iso(), keep=ctx.config.serving.keep_snapshots)
    return StageResult(
        rows_in={"scores": stats.scored_rows, "decisions": stats.decisions_rows},
        versions={"model": version, "snapshot": snapshot.name},
    )
