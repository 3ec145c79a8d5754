"""The nightly orchestrator: runs the stages for a date, resumable and idempotent.

Also runnable under ``spark-submit``::

    spark-submit --master yarn jobs/nightly.py --input hdfs:///raw --out /mnt/out --date 2026-11-01
"""

from __future__ import annotations

import argparse
import logging
import time
import traceback
from datetime import date
from pathlib import Path

from fraudmine.config import CONF_ROOT, Config, load_config
from fraudmine.jobs import runtime
from fraudmine.jobs.args import add_arguments
from fraudmine.jobs.context import StageContext
from fraudmine.jobs.stages import Stage, select_stages
from fraudmine.spark import get_spark

log = logging.getLogger("fraudmine.nightly")


class StageFailed(RuntimeError):
    """A stage raised; its output was not committed and nothing was published."""


def _done(manifest: runtime.Manifest, run_dir: Path, stage: Stage) -> bool:
    rec = manifest.stages.get(stage.name)
    return bool(rec and rec.get("status") == "committed" and (run_dir / stage.output).exists())


def run_nightly(
    cfg: Config,
    input_dir: Path,
    out_dir: Path,
    run_date: date,
    only: list[str] | None = None,
    from_stage: str | None = None,
    force: bool = False,
) -> Path:
    """Run (or resume) the nightly pipeline for ``run_date``.

    Committed stages are skipped; ``from_stage`` first un-commits that stage and
    every later one so they are recomputed.  ``force`` publishes even when audit gates fail
    (recorded in the manifest under ``stages.publish.notes`` and ``forced_publish``).

    Returns:
        The run folder ``<out>/runs/<date>``.

    Raises:
        StageFailed: wrapping the first stage error (the manifest records it).
    """
    if not input_dir.is_dir():
        raise FileNotFoundError(f"input folder not found: {input_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    selected = select_stages(only, from_stage)
    input_fp = runtime.input_fingerprint(input_dir)
    run_id = runtime.make_run_id(run_date.isoformat(), cfg.fingerprint(), input_fp)
    run_dir = out_dir / "runs" / run_date.isoformat()
    code = runtime.code_version()
    manifest = runtime.Manifest(
        run_dir,
        {
            "run_id": run_id,
            "run_date": run_date.isoformat(),
            "config_fingerprint": cfg.fingerprint(),
            "input_fingerprint": input_fp,
            "input_dir": str(input_dir),
            "code_version": code,
        },
    )
    if from_stage:
        for stage in selected:
            runtime.uncommit(run_dir, stage.output)
            manifest.stages.pop(stage.name, None)
        manifest.save()
    spark = get_spark(cfg.spark, checkpoint_dir=out_dir / "_checkpoints")
    manifest.data["spark"] = {
        "version": spark.version,
        "master": spark.sparkContext.master,
        "shuffle_partitions": spark.conf.get("spark.sql.shuffle.partitions"),
    }
    manifest.save()
    ctx = StageContext(cfg, spark, run_date, input_dir, out_dir, run_id, code, CONF_ROOT, force_publish=force)
    for stage in selected:
        if not stage.enabled(cfg):
            log.info("stage %s disabled by the config, skipping", stage.name)
            continue
        if _done(manifest, run_dir, stage):
            log.info("stage %s already committed, skipping", stage.name)
            continue
        staging = runtime.staging_dir(run_dir, stage.output)
        rec = runtime.StageRecord(status="running", output=stage.output, started_at=runtime.utc_now_iso())
        manifest.set_stage(stage.name, rec)
        t0 = time.monotonic()
        try:
            result = stage.run(ctx, staging)
        except Exception as exc:
            rec.status, rec.error = "failed", f"{type(exc).__name__}: {exc}"
            rec.duration_s = round(time.monotonic() - t0, 3)
            manifest.set_stage(stage.name, rec)
            log.error("stage %s failed:\n%s", stage.name, traceback.format_exc())
            raise StageFailed(f"stage {stage.name!r} failed: {type(exc).__name__}: {exc}") from exc
        runtime.commit(run_dir, stage.output)
        rec.status, rec.finished_at = "committed", runtime.utc_now_iso()
        rec.duration_s = round(time.monotonic() - t0, 3)
        rec.rows_in, rec.rows_out, rec.versions = result.rows_in, result.rows_out, result.versions
        rec.notes = result.notes
        if result.notes.get("forced"):
            manifest.data["forced_publish"] = {
                "stage": stage.name,
                "overridden_gates": result.notes["overridden_gates"],
            }
        manifest.set_stage(stage.name, rec)
        log.info("stage %s committed in %.1fs", stage.name, rec.duration_s)
    return run_dir


def main_from_args(args: argparse.Namespace) -> Path:
    """Resolve config and paths from parsed arguments and run."""
    cfg = load_config(args.config)
    input_dir = args.input or Path(cfg.paths.input)
    out_dir = args.out or Path(cfg.paths.output)
    return run_nightly(cfg, input_dir.resolve(), out_dir.resolve(), args.date, args.only, args.from_stage, args.force)


def main(argv: list[str] | None = None) -> int:
    """``spark-submit jobs/nightly.py ...`` entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    main_from_args(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
