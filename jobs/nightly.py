"""The nightly orchestrator: runs the stages for a date, resumable, idempotent and never stale.

Also runnable under ``spark-submit``::

    spark-submit --master yarn jobs/nightly.py --input hdfs:///raw --out /mnt/out --date 2026-11-01

One invocation: check paths and config (before Spark starts) → take the output
folder's lock → fingerprint inputs, config and code → plan (which stages are
out of date, in which attempt) → run the stages, each committed atomically →
release the publish (``current`` and the ``champion`` alias) if it ran.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fraudmine.config import CONF_ROOT, Config, load_config
from fraudmine.contracts.raw import RAW_TABLES
from fraudmine.jobs import fingerprint as fp
from fraudmine.jobs import runtime
from fraudmine.jobs.args import add_arguments
from fraudmine.jobs.console import setup_logging, short_error
from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.jobs.lock import OutputLock
from fraudmine.jobs.plan import Plan, make_plan
from fraudmine.jobs.preflight import check_paths, policy_file

if TYPE_CHECKING:
    from fraudmine.jobs.stages import Stage
    from fraudmine.spark import JobTally, Resources

log = logging.getLogger("fraudmine.nightly")


class StageFailed(RuntimeError):
    """A stage raised; its output was not committed and nothing was published."""


def active_stages(cfg: Config) -> list[Stage]:
    """The stages the config switches on, in run order (a disabled stage is never planned or recorded)."""
    from fraudmine.jobs.stages import STAGES  # the stage modules (and their libraries) load here

    return [s for s in STAGES if s.enabled(cfg)]


def _start_spark(cfg: Config, input_dir: Path, out_dir: Path, verbose: bool) -> tuple[Any, Resources, float]:
    """Size and start the Spark session: ``(session, resources, seconds)``."""
    from fraudmine.spark import get_spark, plan_resources

    t0 = time.monotonic()
    resources = plan_resources(cfg.spark, input_dir)
    spark = get_spark(cfg.spark, out_dir / "_checkpoints", resources=resources, quiet=not verbose)
    return spark, resources, time.monotonic() - t0


def _early_spark(
    cfg: Config, input_dir: Path, out_dir: Path, run_date: date, verbose: bool
) -> Future[tuple[Any, Resources, float]] | None:
    """Start Spark in the background when this run will certainly need it, else ``None``.

    A first run of a date computes every selected stage, so its JVM (several seconds of start-up,
    mostly in its own process) can start while this process loads the stage modules and
    fingerprints the inputs.  Not when a session exists already (tests, ``spark-submit``: its JVM
    is up) or the date has attempts (a rerun may find nothing to compute).
    """
    import os

    import pyspark.sql  # noqa: F401  # imported here, before the thread: never by two threads at once
    from pyspark import SparkContext

    import fraudmine.spark  # noqa: F401

    if runtime.attempts(out_dir, run_date) or SparkContext._active_spark_context is not None:
        return None
    if os.environ.get("PYSPARK_GATEWAY_PORT"):
        return None
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spark-start")
    future = pool.submit(_start_spark, cfg, input_dir, out_dir, verbose)
    pool.shutdown(wait=False)
    return future


def _header(cfg: Config, input_dir: Path, run_date: date) -> tuple[dict[str, Any], dict[str, str]]:
    """The manifest header of this invocation and the stage keys it implies."""
    stages = active_stages(cfg)
    config = fp.effective_config(cfg)
    inputs = fp.input_fingerprints(input_dir, [t.name for t in RAW_TABLES])
    code = fp.code_fingerprint()
    policy = fp.digest(policy_file(cfg).read_text())
    config_fp = fp.result_config_fingerprint(config, policy)
    run_id = runtime.make_run_id(run_date.isoformat(), config_fp, fp.digest(inputs), code)
    extras = {s.name: run_id for s in stages if s.uses_run_id}
    extras["decide"] = fp.digest(extras.get("decide", ""), policy)
    keys = fp.stage_keys([(s.name, s.config) for s in stages], config, inputs, code, extras)
    dataset = input_dir / "_dataset.json"
    header = {
        "run_id": run_id,
        "run_date": run_date.isoformat(),
        "input_dir": str(input_dir),
        "dataset_id": json.loads(dataset.read_text()).get("dataset_id") if dataset.exists() else None,
        "code_version": runtime.code_version(),
        "fingerprints": {"inputs": inputs, "code": code, "config": config_fp, "policy": policy},
        "config": config,
    }
    return header, keys


def _prepare(
    stages: list[Stage],
    out_dir: Path,
    run_date: date,
    header: dict[str, Any],
    keys: dict[str, str],
    sel: list[str],
    forced: list[str],
) -> tuple[Path, Plan]:
    """Pick the attempt, repair crash leftovers, plan, and lay out a new attempt if needed."""
    found = runtime.attempts(out_dir, run_date)
    number, run_dir = found[-1] if found else (1, runtime.attempt_dir(out_dir, run_date, 1))
    old = runtime.Manifest(run_dir)
    sealed = bool(found) and runtime.is_sealed(run_dir, out_dir)
    for s in stages:
        repaired = runtime.recover(run_dir, old, s.name, s.output, may_delete=not sealed) if found else None
        if repaired:
            log.warning("%s", repaired)
    sealed = bool(found) and runtime.is_sealed(run_dir, out_dir)  # a recovered publish seals it
    changes = fp.describe_changes(old.data, header) if found else []
    on_disk = {s.name: (run_dir / s.output).exists() for s in stages}
    plan = make_plan([s.name for s in stages], keys, old.stages, on_disk, sel, forced, sealed, changes)
    for name, why in plan.stale.items():
        if name in plan.run:
            log.info("stage %s is out of date: %s", name, why)
    if plan.new_attempt:
        src, run_dir = run_dir, runtime.attempt_dir(out_dir, run_date, number + 1)
        log.info("run %s is published and is never modified: writing attempt %s", src.name, run_dir.name)
        new = runtime.Manifest(run_dir, {**header, "attempt": number + 1, "previous_attempt": src.name})
        new.save()
        by_name = {s.name: s for s in stages}
        for name in plan.reuse:
            stage = by_name[name]
            runtime.clone_output(src, run_dir, stage.output)
            rec = runtime.StageRecord.from_dict(old.stages[name])
            rec.reused_from = src.name
            runtime.commit(run_dir, stage.output, rec)
            new.set_stage(name, rec)
    elif plan.run:  # an attempt with nothing to run is left exactly as it is
        by_name = {s.name: s for s in stages}
        manifest = runtime.Manifest(run_dir, {**header, "attempt": number})
        for name in plan.run:
            runtime.uncommit(run_dir, by_name[name].output)
            manifest.stages.pop(name, None)
        manifest.save()
    return run_dir, plan


def _total(counts: dict[str, int]) -> int:
    plain = [v for k, v in counts.items() if "." not in k]
    return sum(plain if plain else counts.values())


@contextlib.contextmanager
def _jobs_counted(ctx: StageContext, name: str) -> Iterator[JobTally | None]:
    """Count the stage's Spark jobs (recorded in the manifest as ``spark_jobs``) when Spark runs."""
    if ctx.spark is None:
        yield None
        return
    from fraudmine.spark import counting_jobs

    with counting_jobs(ctx.spark, name) as tally:
        yield tally


def _run_stage(stage: Stage, ctx: StageContext, manifest: runtime.Manifest, key: str) -> None:
    staging = runtime.staging_dir(ctx.run_dir, stage.output)
    rec = runtime.StageRecord(status="running", output=stage.output, key=key, started_at=runtime.utc_now_iso())
    manifest.set_stage(stage.name, rec)
    log.info("stage %s: started", stage.name)
    t0 = time.monotonic()
    tally: JobTally | None = None
    try:
        with _jobs_counted(ctx, stage.name) as tally:
            result: StageResult = stage.run(ctx, staging)
    except Exception as exc:
        rec.status, rec.error = "failed", f"{type(exc).__name__}: {exc}"
        rec.duration_s = round(time.monotonic() - t0, 3)
        rec.spark_jobs = tally.jobs if tally else None
        manifest.set_stage(stage.name, rec)
        log.debug("stage %s failed", stage.name, exc_info=True)
        raise StageFailed(f"stage {stage.name!r} failed: {short_error(exc)}") from exc
    rec.status, rec.finished_at = runtime.COMMITTED, runtime.utc_now_iso()
    rec.duration_s = round(time.monotonic() - t0, 3)
    rec.spark_jobs = tally.jobs if tally else None
    rec.rows_in, rec.rows_out, rec.versions = result.rows_in, result.rows_out, result.versions
    rec.notes = result.notes
    runtime.commit(ctx.run_dir, stage.output, rec)
    if result.notes.get("forced"):
        manifest.data["forced_publish"] = {"stage": stage.name, "overridden_gates": result.notes["overridden_gates"]}
    manifest.set_stage(stage.name, rec)
    log.info(
        "stage %s: committed in %.1fs (rows in %s, out %s; %s Spark jobs)",
        stage.name,
        rec.duration_s,
        f"{_total(result.rows_in):,}",
        f"{_total(result.rows_out):,}",
        rec.spark_jobs if rec.spark_jobs is not None else "no",
    )


def run_nightly(
    cfg: Config,
    input_dir: Path,
    out_dir: Path,
    run_date: date,
    only: list[str] | None = None,
    from_stage: str | None = None,
    publish_older: bool = False,
    verbose: bool = False,
    force: bool = False,
) -> Path:
    """Run (or resume) the nightly pipeline for ``run_date``.

    Fresh committed stages are skipped; out-of-date ones (changed input, config or
    code) are recomputed from the first affected stage; ``from_stage`` recomputes that
    stage and every later one.  A published run is never written: recomputing any of
    its stages writes a new attempt, published only through the audit.  ``force``
    publishes even when audit gates fail (recorded in the manifest under
    ``stages.publish.notes`` and ``forced_publish``).  Stages the config switches off
    (:attr:`Stage.enabled`) are neither planned nor recorded.

    Returns:
        The attempt folder (``<out>/runs/<D>`` or ``<out>/runs/<D>.<n>``).

    Raises:
        PreflightError: bad input or output path (before anything starts).
        RunLocked: another run holds the output folder.
        StaleUpstream: ``--only`` needs an out-of-date stage outside the selection.
        StageFailed: wrapping the first stage error (the manifest records it).
        PublishFailed: a publish step failed and was undone.
    """
    check_paths(input_dir, out_dir)
    started = datetime.now(UTC)
    with OutputLock(out_dir, run_date.isoformat()):
        early = _early_spark(cfg, input_dir, out_dir, run_date, verbose)
        try:
            from fraudmine.jobs.stages import select_stages

            stages = active_stages(cfg)
            selected = [s for s in select_stages(only, from_stage) if s in stages]
            sel = [s.name for s in selected]
            forced = sel if from_stage else []
            header, keys = _header(cfg, input_dir, run_date)
            run_dir, plan = _prepare(stages, out_dir, run_date, header, keys, sel, forced)
        except BaseException:
            if early is not None:
                early.exception()  # let the start-up finish: no half-started JVM is left behind
            raise
        manifest = runtime.Manifest(run_dir)
        if not plan.run:
            log.info("every selected stage of %s is committed and up to date; nothing to compute", run_dir.name)
        spark: Any = None  # started only when a stage has to run
        if plan.run:
            spark, resources, secs = (
                early.result() if early is not None else _start_spark(cfg, input_dir, out_dir, verbose)
            )
        ctx = StageContext(
            cfg,
            spark,
            run_date,
            input_dir,
            out_dir,
            header["run_id"],
            header["code_version"],
            CONF_ROOT,
            attempt_dir=run_dir,
            started_at=started,
            force_publish=force,
        )
        if plan.run:
            manifest.data["spark"] = {
                "version": ctx.spark.version,
                "master": ctx.spark.sparkContext.master,
                "shuffle_partitions": ctx.spark.conf.get("spark.sql.shuffle.partitions"),
                "driver_memory": ctx.spark.sparkContext.getConf().get("spark.driver.memory", None),
                "resources": resources.to_dict(),
            }
            manifest.data["started_at"] = started.isoformat(timespec="seconds")
            manifest.save()
            log.info(
                "spark %s ready in %.1fs%s (%s)",
                ctx.spark.version,
                secs,
                ", started while the stages loaded" if early is not None else "",
                resources.describe(),
            )
        by_name = {s.name: s for s in stages}
        for name in plan.run:
            _run_stage(by_name[name], ctx, manifest, keys[name])
        if "publish" in sel and manifest.stages.get("publish", {}).get("status") == runtime.COMMITTED:
            done = (manifest.data.get("published") or {}).get("published")
            if not (done and runtime.current_target(out_dir) == run_dir.resolve()):
                from fraudmine.jobs import publish

                manifest.data["published"] = publish.release(ctx, allow_older=publish_older)
                manifest.save()
    return run_dir


def main_from_args(args: argparse.Namespace) -> Path:
    """Resolve config and paths from parsed arguments and run."""
    cfg = load_config(args.config)
    input_dir = args.input or Path(cfg.paths.input)
    out_dir = args.out or Path(cfg.paths.output)
    return run_nightly(
        cfg,
        input_dir.resolve(),
        out_dir.resolve(),
        args.date,
        args.only,
        args.from_stage,
        publish_older=getattr(args, "publish_older", False),
        verbose=getattr(args, "verbose", False),
        force=getattr(args, "force", False),
    )


def main(argv: list[str] | None = None) -> int:
    """``spark-submit jobs/nightly.py ...`` entry point: same options, progress and one-line errors."""
    parser = argparse.ArgumentParser(prog="jobs/nightly.py", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    verbose = bool(getattr(args, "verbose", False))
    setup_logging(verbose)
    try:
        main_from_args(args)
    except Exception as exc:
        if verbose:
            raise
        logging.getLogger("fraudmine").error("nightly failed: %s", short_error(exc))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
