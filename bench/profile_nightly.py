"""Where a nightly run's time goes: per stage and per call site, Spark jobs, wall and CPU seconds.

Runs the nightly pipeline in this process (the same :func:`fraudmine.jobs.nightly.run_nightly`
as ``fraudmine nightly``) and records:

* per stage: wall seconds, CPU seconds of the Python driver and of the Spark JVM
  (``/proc/<pid>/stat``), Spark jobs, and the part of the wall time spent inside Spark
  jobs (job start to end, from the status tracker);
* per call site (the innermost fraudmine frame that called a Spark action: a write, a
  collect, a count, a checkpoint, a read that infers a schema): calls, Spark jobs, wall;
* the start-up: Python imports and configuration before the session, the session itself.

The figures go to ``--json`` and a table on stdout.  For where Python (not Spark) time goes,
run it under a sampling profiler, e.g.
``py-spy record -r 50 --idle -f raw -o stacks.txt -- python bench/profile_nightly.py ...``.
Use a fresh ``--out`` folder (a resumed run skips the committed stages)::

    python bench/profile_nightly.py --input data/xs/raw --out /tmp/prof/out --date 2026-11-01 --json prof.json
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import os
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

T_START = time.monotonic()
TICK = os.sysconf("SC_CLK_TCK")
# Spark actions to attribute (class path, method names); nested calls count for the outermost one.
ACTIONS: dict[str, tuple[str, ...]] = {
    "pyspark.sql.dataframe:DataFrame": (
        "collect",
        "count",
        "toPandas",
        "first",
        "head",
        "take",
        "isEmpty",
        "localCheckpoint",
        "checkpoint",
        "foreach",
        "foreachPartition",
        "toLocalIterator",
    ),
    "pyspark.sql.readwriter:DataFrameWriter": ("save", "parquet", "csv", "json", "text"),
    "pyspark.sql.readwriter:DataFrameReader": ("parquet", "csv", "json", "load", "text"),
    "pyspark.rdd:RDD": ("collect", "count", "take", "first", "checkpoint", "localCheckpoint"),
    "pyspark.sql.session:SparkSession": ("createDataFrame",),
}


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) of one process."""
    try:
        st = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(st[11]) + int(st[12])) / TICK


class Recorder:
    """Collects per-call-site figures while the run goes."""

    def __init__(self) -> None:
        self.sites: dict[tuple[str, str], list[float]] = collections.defaultdict(lambda: [0, 0, 0.0])
        self.stage = "startup"
        self.local = threading.local()
        self.spark: Any = None
        self.lock = threading.Lock()
        import fraudmine

        # the code under test (a PYTHONPATH checkout of another commit, or this one), paths as imported
        self.repo = str(Path(fraudmine.__file__).parent.parent)

    def site(self) -> str:
        """The innermost frame of this repository's code outside bench/ and pyspark."""
        f = sys._getframe(2)
        while f is not None:
            name = f.f_code.co_filename
            if name.startswith(self.repo) and "/bench/" not in name:
                rel = os.path.relpath(name, self.repo)
                return f"{rel}:{f.f_lineno} {f.f_code.co_name}"
            f = f.f_back  # type: ignore[assignment]
        return "?"

    def jobs_now(self) -> set[int]:
        if self.spark is None:
            from pyspark.sql import SparkSession

            self.spark = SparkSession.getActiveSession()
            if self.spark is None:
                return set()
        tracker = self.spark.sparkContext.statusTracker()
        group = self.spark.sparkContext.getLocalProperty("spark.jobGroup.id")
        return set(tracker.getJobIdsForGroup(group)) if group else set()

    def wrap(self, fn: Any, label: str) -> Any:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(self.local, "depth", 0)
            if depth:
                return fn(*args, **kwargs)
            self.local.depth = 1
            site = self.site()
            before = self.jobs_now()
            t0 = time.monotonic()
            try:
                return fn(*args, **kwargs)
            finally:
                wall = time.monotonic() - t0
                jobs = len(self.jobs_now() - before)
                self.local.depth = 0
                with self.lock:
                    rec = self.sites[(self.stage, f"{label} @ {site}")]
                    rec[0] += 1
                    rec[1] += jobs
                    rec[2] += wall

        return inner

    def install(self) -> None:
        import importlib

        for target, names in ACTIONS.items():
            mod, cls_name = target.split(":")
            cls = getattr(importlib.import_module(mod), cls_name)
            for name in names:
                if hasattr(cls, name):
                    setattr(cls, name, self.wrap(getattr(cls, name), f"{cls_name}.{name}"))


def job_seconds(spark: Any, group: str) -> float:
    """Wall seconds covered by the group's Spark jobs (union of job intervals, from the status store)."""
    ids = set(spark.sparkContext.statusTracker().getJobIdsForGroup(group))
    intervals = []
    it = spark.sparkContext._jsc.sc().statusStore().jobsList(None).iterator()
    while it.hasNext():
        j = it.next()
        if j.jobId() in ids and j.submissionTime().isDefined() and j.completionTime().isDefined():
            intervals.append((j.submissionTime().get().getTime(), j.completionTime().get().getTime()))
    total, end = 0.0, -1.0
    for a, b in sorted(intervals):
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total / 1000.0


def main() -> int:
    """Profile one nightly run and print the per-stage and per-call-site tables."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True, help="a fresh output root")
    ap.add_argument("--date", type=date.fromisoformat, required=True)
    ap.add_argument("--config", type=Path)
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--event-log", type=Path, help="also write Spark's event log to this folder")
    ap.add_argument("--top", type=int, default=40, help="call sites to print")
    args = ap.parse_args()

    rec = Recorder()
    rec.install()
    from fraudmine.config import load_config
    from fraudmine.jobs import nightly
    from fraudmine.jobs.console import setup_logging

    setup_logging(False)
    overrides: dict[str, Any] = {}
    if args.event_log:
        args.event_log.mkdir(parents=True, exist_ok=True)
        overrides["spark.conf"] = {"spark.eventLog.enabled": "true", "spark.eventLog.dir": str(args.event_log)}
    cfg = load_config(args.config, overrides=overrides)
    stages: list[dict[str, Any]] = []
    seen_groups: list[str] = []
    run_stage = nightly._run_stage
    t_session: dict[str, float] = {}

    def jvm_pid(spark: Any) -> int:
        return int(spark.sparkContext._gateway.proc.pid)

    def profiled(stage: Any, ctx: Any, manifest: Any, key: str) -> None:
        if not t_session:
            t_session["ready"] = time.monotonic() - T_START
            t_session["py_cpu"] = time.process_time()
            t_session["jvm_cpu"] = proc_cpu(jvm_pid(ctx.spark))
        rec.stage = stage.name
        pid = jvm_pid(ctx.spark)
        t0, p0, j0 = time.monotonic(), time.process_time(), proc_cpu(pid)
        try:
            run_stage(stage, ctx, manifest, key)
        finally:
            row = manifest.stages.get(stage.name, {})
            group = [g for g in seen_groups if g.startswith(f"fraudmine:{stage.name}:")]
            stages.append(
                {
                    "stage": stage.name,
                    "wall_s": round(time.monotonic() - t0, 2),
                    "py_cpu_s": round(time.process_time() - p0, 2),
                    "jvm_cpu_s": round(proc_cpu(pid) - j0, 2),
                    "spark_jobs": row.get("spark_jobs"),
                    "in_jobs_s": round(job_seconds(ctx.spark, group[-1]), 2) if group else None,
                }
            )
            rec.stage = "between"

    from fraudmine import spark as spark_mod

    counting = spark_mod.counting_jobs

    @__import__("contextlib").contextmanager
    def counting_jobs(spark: Any, label: str) -> Any:
        with counting(spark, label) as tally:
            seen_groups.append(tally.group)
            yield tally

    spark_mod.counting_jobs = counting_jobs
    nightly._run_stage = profiled
    t_imports = time.monotonic() - T_START
    t0 = time.monotonic()
    nightly.run_nightly(cfg, args.input.resolve(), args.out.resolve(), args.date)
    total = time.monotonic() - T_START
    result = {
        "total_wall_s": round(total, 2),
        "imports_s": round(t_imports, 2),
        "before_first_stage_s": round(t_session.get("ready", 0.0), 2),
        "startup_py_cpu_s": round(t_session.get("py_cpu", 0.0), 2),
        "startup_jvm_cpu_s": round(t_session.get("jvm_cpu", 0.0), 2),
        "run_wall_s": round(time.monotonic() - t0, 2),
        "py_cpu_s": round(time.process_time(), 2),
        "load_end": Path("/proc/loadavg").read_text().split()[:3],
        "stages": stages,
        "sites": [
            {"stage": s, "site": k, "calls": v[0], "jobs": v[1], "wall_s": round(v[2], 2)}
            for (s, k), v in sorted(rec.sites.items(), key=lambda kv: -kv[1][2])
        ],
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(f"total {total:.1f}s; imports {t_imports:.1f}s; first stage starts at {t_session.get('ready', 0):.1f}s")
    print(f"{'stage':12} {'wall':>7} {'py cpu':>7} {'jvm cpu':>8} {'jobs':>5} {'in jobs':>8}")
    for s in stages:
        print(
            f"{s['stage']:12} {s['wall_s']:7.1f} {s['py_cpu_s']:7.1f} {s['jvm_cpu_s']:8.1f} "
            f"{s['spark_jobs'] or 0:5} {s['in_jobs_s'] or 0:8.1f}"
        )
    for row in result["sites"][: args.top]:
        print(f"{row['stage']:11} {row['wall_s']:6.2f}s {row['jobs']:4} jobs {row['calls']:3}x {row['site']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
