"""The ``duplicates`` stage alone on an existing run's clean tables, with one dedup engine: seconds, CPU, memory, F1.

    flock /work/.bench.lock nice -n 19 python bench/dedup_stage_engines.py SRC_RUN_DIR INPUT_DIR WORK_DIR \
        --engine spark [--truth TRUTH_DIR] [--date 2026-11-01] [--json OUT.json]

``SRC_RUN_DIR/validate`` is linked (read only) into ``WORK_DIR/runs/DATE``; the stage writes
``WORK_DIR/runs/DATE/duplicates`` (removed first).  Prints one JSON object: ``engine``, ``seconds``
(the stage's wall time), ``cpu_s`` (the driver, the JVM, its Python daemon and workers, live or reaped), ``peak_rss_mib`` (largest
sum of the resident memory of the JVM, the driver and the Python workers, sampled every 0.5 s),
``load_before`` / ``load_after``, ``rows_out``, the stage report's ``step_seconds`` and, with
``--truth``, the duplicate-cluster pairwise precision / recall / F1 (:mod:`fraudmine.dedup.evaluation`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        todo += [int(k) for k in kids]
    return out


def _rss_mib(pids: list[int]) -> float:
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _cpu(pids: list[int]) -> float:
    """User + system seconds of the live processes ``pids`` and of their reaped children (the JVM, its
    Python daemon and workers: a worker that exited is counted in the daemon's children times)."""
    total = 0
    for p in pids:
        try:
            f = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in f[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def main() -> None:
    """Run the stage once and print the measurements."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src_run")
    ap.add_argument("input_dir")
    ap.add_argument("work")
    ap.add_argument("--engine", choices=["local", "spark"], required=True)
    ap.add_argument("--truth")
    ap.add_argument("--date", default="2026-11-01")
    ap.add_argument("--json")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("py4j", "pyspark"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    from fraudmine.config import CONF_ROOT, load_config
    from fraudmine.dedup.evaluation import evaluate_duplicates
    from fraudmine.jobs import duplicates, nightly
    from fraudmine.jobs.context import StageContext

    cfg = load_config(None, overrides={"dedup.engine": a.engine})
    run = Path(a.work) / "runs" / a.date
    run.mkdir(parents=True, exist_ok=True)
    link = run / "validate"
    if not link.exists():
        link.symlink_to(Path(a.src_run).resolve() / "validate")
    out = run / "duplicates"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    spark, _res, _ = nightly._start_spark(cfg, Path(a.input_dir), Path(a.work), False)
    me = os.getpid()
    peak = [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _rss_mib(_tree(me)))
            stop.wait(0.5)

    ctx = StageContext(
        cfg, spark, date.fromisoformat(a.date), Path(a.input_dir), Path(a.work), "bench", "bench", CONF_ROOT,
        attempt_dir=run,
    )  # fmt: skip
    load0 = Path("/proc/loadavg").read_text().split()[0]
    threading.Thread(target=sample, daemon=True).start()
    c0, t0 = _cpu(_tree(me)), time.monotonic()
    result = duplicates.run(ctx, out)
    wall = time.monotonic() - t0
    cpu = _cpu(_tree(me)) - c0
    stop.set()
    report: dict[str, Any] = json.loads((out / "_report.json").read_text())
    rec: dict[str, Any] = {
        "engine": a.engine,
        "listings": report.get("listings"),
        "seconds": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "peak_rss_mib": round(peak[0]),
        "load_before": load0,
        "load_after": Path("/proc/loadavg").read_text().split()[0],
        "rows_out": result.rows_out,
        "candidate_pairs": report.get("candidate_pairs"),
        "threshold": report.get("threshold"),
        "step_seconds": report.get("step_seconds"),
    }
    if a.truth:
        rec["quality"] = [
            {k: r[k] for k in ("typology", "clusters", "precision", "recall", "f1", "n_clusters")}
            for r in evaluate_duplicates(Path(a.truth), run)
        ]
    spark.stop()
    text = json.dumps(rec, default=str)
    print(text)
    if a.json:
        Path(a.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
