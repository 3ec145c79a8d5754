"""Stage ``publish``: audit gates, then atomically point ``<out>/current`` at this run.

Consumers (API snapshot loader, Neo4j export, analysts) read ``<out>/current``;
a run that fails a gate (:mod:`fraudmine.audit`) raises :class:`AuditFailed`, its
``audit.json`` is kept under ``<run>/_failed/publish/`` and the pointer keeps naming
the last good run.  ``--force`` publishes anyway and records the overridden gates
in ``audit.json`` and the manifest.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from fraudmine.audit import AuditFailed, RunStats, collect_run_stats, evaluate_gates
from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.models.registry import make_registry

OUTPUT = "publish"
CURRENT = "current"


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
    return RunStats.from_dict(json.loads(audit_file.read_text())["stats"])


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Audit the run; on success (or ``--force``) point ``current`` at it and promote the model alias ``champion``.

    Raises:
        AuditFailed: listing every failed gate (nothing is published).
    """
    prev = None
    current = ctx.out_dir / CURRENT
    if current.exists() and current.resolve() != ctx.run_dir.resolve():
        prev = previous_stats(ctx.out_dir)
    stats = collect_run_stats(ctx.read("scores"), ctx.read("decisions"), prev, ctx.config.publish)
    gates = evaluate_gates(stats, prev, ctx.config.publish)
    failures = [f"[{g.gate}] {g.message}" for g in gates if not g.passed]
    forced = bool(failures) and ctx.force_publish
    record = {
        "run_id": ctx.run_id,
        "stats": stats.to_dict(),
        "gates": [g.__dict__ for g in gates],
        "failures": failures,
        "forced": forced,
        "previous_run": str(current.resolve()) if prev is not None else None,
    }
    if failures and not forced:
        failed = ctx.run_dir / "_failed" / OUTPUT
        failed.mkdir(parents=True, exist_ok=True)
        (failed / "audit.json").write_text(json.dumps(record, indent=2))
        raise AuditFailed(
            f"{len(failures)} publish gate(s) failed, `current` still names the last published run "
            f"(details: {failed / 'audit.json'}; rerun with --force to publish anyway): " + "; ".join(failures)
        )
    (staging / "audit.json").write_text(json.dumps(record, indent=2))
    version = str(json.loads(ctx.path("model", "model.json").read_text())["model_version"])
    make_registry(ctx.config.model.registry, ctx.out_dir).promote(version, "champion")
    point_current(ctx.out_dir, ctx.run_dir)
    return StageResult(
        rows_in={"scores": stats.scored_rows, "decisions": stats.decisions_rows},
        versions={"model": version},
        notes={"forced": forced, "overridden_gates": failures if forced else []},
    )
