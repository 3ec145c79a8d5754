"""Stage ``publish``: write-audit-publish.

1. :func:`run` (the stage) audits the run with the gates of :mod:`fraudmine.audit`
   (schema, row volume, PSI per model, auto-reject share, and every table the
   contract expects rows in), builds the run's immutable serving snapshot (a
   malformed output fails here, before any pointer moves) and commits
   ``publish/audit.json``; a failed gate raises :class:`AuditFailed` (the audit is
   kept under ``_failed/publish``) unless ``--force``, which is recorded.
2. :func:`release` (called by the orchestrator once the stage is committed) makes
   the run the published one by applying :data:`PUBLISH_STEPS` in order: swap
   ``<out>/current`` to this run, move the model alias ``champion``, then make the
   snapshot the served one (``<out>/serving/current``).  If a step fails, the steps
   already applied are undone in reverse order, so ``current``, ``champion`` and
   the served snapshot never disagree.  Every step is idempotent, so a
   run killed mid-release completes on resume.  A run older than the published
   one does not move ``current`` unless asked (``--publish-older``).

To publish something more (an export), add a :class:`PublishStep` whose ``apply``
returns its own undo.
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

from fraudmine.audit import AuditFailed, RunStats, collect_run_stats, evaluate_gates, table_gates
from fraudmine.contracts import serving as SERVING
from fraudmine.contracts.raw import RAW_TABLES
from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.jobs.runtime import CURRENT, current_target, read_manifest, utc_now_iso
from fraudmine.models.registry import make_registry
from fraudmine.serving import activate_snapshot, build_snapshot
from fraudmine.serving.publishing import current_snapshot, point_symlink, serving_dir

OUTPUT = "publish"
CHAMPION = "champion"
log = logging.getLogger(__name__)


class PublishFailed(RuntimeError):
    """A publish step failed; the steps already applied were undone."""


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
    return RunStats.from_dict(json.loads(audit_file.read_text())["stats"])


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Audit the run, build its serving snapshot and commit ``publish/audit.json``.

    Publishing itself is :func:`release`.

    Raises:
        AuditFailed: listing every failed gate, unless ``ctx.force_publish`` (then the
            overridden gates are recorded in ``audit.json`` and the manifest).
    """
    prev = None
    target = current_target(ctx.out_dir)
    if target is not None and target != ctx.run_dir.resolve():
        prev = previous_stats(ctx.out_dir)
    workers = ctx.workers
    stats = collect_run_stats(ctx.read("scores"), ctx.read("decisions"), prev, ctx.config.publish, workers)
    counts = json.loads(ctx.path("validate", "counts.json").read_text())
    clean_rows = {t: int(c["clean"]) for t, c in counts.items()}
    optional = frozenset(t.name for t in RAW_TABLES if t.optional)
    gates = table_gates(clean_rows, ctx.config.publish, optional) + evaluate_gates(stats, prev, ctx.config.publish)
    failures = [f"[{g.gate}] {g.message}" for g in gates if not g.passed]
    forced = bool(failures) and ctx.force_publish
    record = {
        "run_id": ctx.run_id,
        "stats": stats.to_dict(),
        "clean_rows": clean_rows,
        "gates": [g.__dict__ for g in gates],
        "failures": failures,
        "forced": forced,
        "previous_run": str(target) if prev is not None else None,
    }
    if failures and not forced:
        failed = ctx.run_dir / "_failed" / OUTPUT
        if failed.exists():
            shutil.rmtree(failed)
        failed.mkdir(parents=True)
        (failed / "audit.json").write_text(json.dumps(record, indent=2))
        raise AuditFailed(
            f"{len(failures)} publish gate(s) failed, `current` still names the last published run "
            f"(details: {failed / 'audit.json'}; rerun with --force to publish anyway): " + "; ".join(failures)
        )
    snapshot = build_snapshot(ctx.run_dir, ctx.out_dir)
    (staging / "audit.json").write_text(json.dumps({**record, "snapshot": snapshot.name}, indent=2))
    version = str(json.loads(ctx.path("model", "model.json").read_text())["model_version"])
    return StageResult(
        rows_in={"scores": stats.scored_rows, "decisions": stats.decisions_rows},
        versions={"model": version, "snapshot": snapshot.name},
        notes={"forced": forced, "overridden_gates": failures if forced else []},
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


def serve_snapshot(ctx: StageContext) -> Undo:
    """Make the run's snapshot (built by :func:`run`) the served one; the undo re-points the previous one."""
    name = str(json.loads(ctx.path(OUTPUT, "audit.json").read_text())["snapshot"])
    snapshot = serving_dir(ctx.out_dir) / SERVING.SNAPSHOTS_DIR / name
    before = current_snapshot(ctx.out_dir)
    activate_snapshot(ctx.out_dir, snapshot, ctx.run_dir, utc_now_iso(), keep=ctx.config.serving.keep_snapshots)

    def undo() -> None:
        link = serving_dir(ctx.out_dir) / SERVING.CURRENT
        if before is not None and before.exists():
            point_symlink(link, before)
        else:
            link.unlink(missing_ok=True)

    return undo


PUBLISH_STEPS: tuple[PublishStep, ...] = (
    PublishStep("current", swap_current),
    PublishStep(CHAMPION, move_champion),
    PublishStep("serving", serve_snapshot),
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
