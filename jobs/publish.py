"""Stage ``publish``: write-audit-publish.

1. :func:`run` (the stage) audits the run - scores, decisions, and every table the
   contract expects rows in - and commits ``publish/audit.json``; a failed gate
   raises :class:`AuditFailed` (the audit is kept under ``_failed/publish``).
2. :func:`release` (called by the orchestrator once the stage is committed) makes
   the run the published one by applying :data:`PUBLISH_STEPS` in order: swap
   ``<out>/current`` to this run, then move the model alias ``champion``.  If a
   step fails, the steps already applied are undone in reverse order, so
   ``current`` and ``champion`` never disagree.  Every step is idempotent, so a
   run killed mid-release completes on resume.  A run older than the published
   one does not move ``current`` unless asked (``--publish-older``).

To publish something more (a serving snapshot pointer, an export), add a
:class:`PublishStep` whose ``apply`` returns its own undo.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraudmine.audit import AuditFailed, RunStats, audit, table_gates
from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.jobs.runtime import CURRENT, current_target, read_manifest
from fraudmine.models.registry import make_registry

OUTPUT = "publish"
CHAMPION = "champion"
log = logging.getLogger(__name__)


class PublishFailed(RuntimeError):
    """A publish step failed; the steps already applied were undone."""


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


def point_current(out_dir: Path, run_dir: Path | None) -> None:
    """Atomically replace the ``current`` symlink with one to ``run_dir`` (relative), or remove it."""
    link = out_dir / CURRENT
    if run_dir is None:
        link.unlink(missing_ok=True)
        return
    tmp = out_dir / f".{CURRENT}.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(os.path.relpath(run_dir, out_dir))
    os.replace(tmp, link)


def previous_stats(out_dir: Path) -> RunStats | None:
    """Stats of the published run, if any."""
    audit_file = out_dir / CURRENT / OUTPUT / "audit.json"
    if not audit_file.exists():
        return None
    return RunStats(**json.loads(audit_file.read_text())["stats"])


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Audit the run and commit ``publish/audit.json`` (publishing itself is :func:`release`).

    Raises:
        AuditFailed: listing every failed gate.
    """
    stats = run_stats(ctx.read("scores"), ctx.read("decisions"))
    prev = None
    target = current_target(ctx.out_dir)
    if target is not None and target != ctx.run_dir.resolve():
        prev = previous_stats(ctx.out_dir)
    counts = json.loads(ctx.path("validate", "counts.json").read_text())
    clean_rows = {t: int(c["clean"]) for t, c in counts.items()}
    failures = table_gates(clean_rows, ctx.config.publish) + audit(stats, prev, ctx.config.publish)
    body = {"stats": stats.to_dict(), "clean_rows": clean_rows, "failures": failures, "run_id": ctx.run_id}
    (staging / "audit.json").write_text(json.dumps(body, indent=2))
    if failures:
        failed = ctx.run_dir / "_failed" / OUTPUT
        if failed.exists():
            shutil.rmtree(failed)
        failed.mkdir(parents=True)
        shutil.copy2(staging / "audit.json", failed / "audit.json")
        raise AuditFailed("; ".join(failures))
    version = str(json.loads(ctx.path("model", "model.json").read_text())["model_version"])
    return StageResult(
        rows_in={"scores": stats.scored_rows, "decisions": stats.decisions_rows}, versions={"model": version}
    )


Undo = Callable[[], None]


@dataclass(frozen=True)
class PublishStep:
    """One step of :func:`release`: ``apply(ctx)`` does it and returns how to undo it."""

    name: str
    apply: Callable[[StageContext], Undo]


def swap_current(ctx: StageContext) -> Undo:
    """Point ``<out>/current`` at this run; the undo points it back."""
    before = current_target(ctx.out_dir)
    point_current(ctx.out_dir, ctx.run_dir)
    return lambda: point_current(ctx.out_dir, before)


def move_champion(ctx: StageContext) -> Undo:
    """Set the registry alias ``champion`` to this run's model; the undo restores the previous version."""
    version = str(json.loads(ctx.path("model", "model.json").read_text())["model_version"])
    registry = make_registry(ctx.config.model.registry, ctx.out_dir)
    before = registry.alias_version(CHAMPION)
    registry.promote(version, CHAMPION)

    def undo() -> None:
        if before is not None:
            registry.promote(before, CHAMPION)

    return undo


PUBLISH_STEPS: tuple[PublishStep, ...] = (
    PublishStep("current", swap_current),
    PublishStep(CHAMPION, move_champion),
)


def apply_steps(ctx: StageContext, steps: tuple[PublishStep, ...]) -> list[str]:
    """Apply ``steps`` in order; on failure undo the applied ones in reverse and raise.

    Returns:
        The names of the applied steps.

    Raises:
        PublishFailed: naming the failed step (the cause is chained).
    """
    undos: list[tuple[str, Undo]] = []
    for step in steps:
        try:
            undos.append((step.name, step.apply(ctx)))
        except Exception as exc:
            for name, undo in reversed(undos):
                try:
                    undo()
                except Exception:
                    log.exception("publish: undoing step %r failed", name)
            raise PublishFailed(
                f"publish step {step.name!r} failed ({type(exc).__name__}: {exc}); "
                f"undone: {[n for n, _ in undos] or 'nothing'}; the previous run stays published"
            ) from exc
    return [n for n, _ in undos]


def release(ctx: StageContext, allow_older: bool = False) -> dict[str, Any]:
    """Publish an audited, committed run (see the module docstring).

    Args:
        ctx: the run's context.
        allow_older: publish even when the published run has a later date.

    Returns:
        ``{"published": bool, "steps": [...], "reason": str | None}`` for the manifest.

    Raises:
        PublishFailed: a step failed and the applied ones were undone.
    """
    target = current_target(ctx.out_dir)
    if target is not None and target != ctx.run_dir.resolve():
        published_date = str(read_manifest(target).get("run_date", ""))
        if published_date > ctx.run_date.isoformat() and not allow_older:
            reason = (
                f"run {ctx.run_date} passed the audit but is older than the published run {published_date}; "
                "current not moved (pass --publish-older to publish it)"
            )
            log.warning("publish: %s", reason)
            return {"published": False, "steps": [], "reason": reason}
    steps = apply_steps(ctx, PUBLISH_STEPS)
    return {"published": True, "steps": steps, "reason": None}
