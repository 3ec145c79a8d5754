"""Fixed cost of the validation stage: Spark jobs, wall and CPU seconds for a set of raw tables.

Runs :func:`fraudmine.validation.streaming.validate_to_disk` ``--reps`` times in one local
Spark session (the first repetition warms the JVM up) and prints, per repetition, the
Spark jobs, the wall time and the CPU seconds of the whole process tree (Python driver,
Spark JVM, Python workers).  Spark settings to compare go in ``--conf`` (JSON), e.g.
``'{"spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1"}'``; run the variants one
after the other, alternating, on a machine whose load you record::

    python bench/bench_validate_fixed_cost.py --input data/synth-xs/raw --parallel 1
    python bench/bench_validate_fixed_cost.py --input data/synth-xs/raw --jit quick

Without ``--input`` it validates one-row tables (the test fixtures' defaults).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of ``pid`` and its descendants."""
    kids: dict[int, list[int]] = collections.defaultdict(list)
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                kids[int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])].append(int(d))
            except (OSError, IndexError, ValueError):
                continue
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            st = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(st[11]) + int(st[12])) / TICK
        except (OSError, IndexError, ValueError):
            pass
        todo.extend(kids.get(p, []))
    return total


def main() -> int:
    """Validate the tables ``--reps`` times and print jobs, wall and CPU per repetition."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", type=Path, help="raw input folder (one sub-folder per table); default: one-row tables")
    ap.add_argument("--date", type=date.fromisoformat, default=date(2026, 11, 1), help="run date (with --input)")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--parallel", type=int, default=1, help="tables of one foreign-key level validated at once")
    ap.add_argument("--jit", choices=["quick", "full"], default="full", help="driver JVM JIT (spark.jit)")
    ap.add_argument("--conf", default="{}", help="extra spark.* settings as JSON")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from fraudmine.config import SparkConfig
    from fraudmine.contracts.raw import RAW_TABLES
    from fraudmine.spark import counting_jobs, get_spark
    from fraudmine.validation.reader import read_raw
    from fraudmine.validation.streaming import validate_to_disk
    from tests.test_validation import AS_OF, DEFAULTS, LENIENT, frame

    work = Path(tempfile.mkdtemp(prefix="fraudmine-bench-validate-"))
    cfg = SparkConfig(
        master="local[2]", shuffle_partitions=2, driver_memory="2g", jit=args.jit, conf=json.loads(args.conf)
    )
    spark = get_spark(cfg)
    src = args.input
    if src is None:
        src = work / "raw"
        for spec in RAW_TABLES:
            if spec.name in DEFAULTS:
                frame(spark, spec.name, {}).write.parquet(str(src / spec.name))
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"input {src}, jit {args.jit}, parallel {args.parallel}, conf {args.conf}, load before {load}")
    for rep in range(args.reps):
        dst = work / f"v{rep}"
        c0, t0 = tree_cpu(os.getpid()), time.monotonic()
        with counting_jobs(spark, f"validate{rep}") as tally:
            tables = {s.name: read_raw(spark, str(src / s.name), s) for s in RAW_TABLES if (src / s.name).exists()}
            as_of = datetime.combine(args.date, datetime.min.time(), UTC) if args.input else AS_OF
            now = datetime.now(UTC) if args.input else AS_OF
            validate_to_disk(spark, tables, as_of, now, LENIENT, dst, None, args.parallel)
        wall, cpu = time.monotonic() - t0, tree_cpu(os.getpid()) - c0
        print(f"rep {rep}: {tally.jobs} Spark jobs, wall {wall:.1f} s, CPU {cpu:.1f} s")
    print(f"load after {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    spark.stop()
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
