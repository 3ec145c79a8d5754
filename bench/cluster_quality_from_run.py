"""Cluster quality of the detectors in *this* checkout on the committed graph of an existing run.

Runs :func:`fraudmine.graph.mining.mine_clusters` as of the run date on a run folder's committed
``graph/``, ``validate/clean/labels`` and (when the config names it and it exists) the ``duplicates``
stage's near-duplicate pairs, writes the members to ``SCRATCH/run/clusters/members`` (with ``graph``
and ``duplicates`` linked beside it) and prints the ``fraudmine.cluster_eval`` rows as JSON lines.
No training-date pass (cluster quality is scored as of D). Because it only imports
``mine_clusters`` and ``ClustersConfig``, the same script scores an older checkout on the same graph
(``PYTHONPATH=<other checkout> python bench/cluster_quality_from_run.py ...``): before/after on one graph.

    flock /work/.bench.lock python bench/cluster_quality_from_run.py RUN_DIR TRUTH_DIR SCRATCH [--date 2026-11-01] \
        [--set collusion.partial_min_score=1.8 ...]

``--set SECTION.KEY=VALUE`` overrides one ``ClustersConfig`` field (value parsed as JSON, else a string).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from pyspark.sql import DataFrame

import fraudmine
from fraudmine.cluster_eval import evaluate_clusters
from fraudmine.config import SparkConfig
from fraudmine.graph.mining import mine_clusters
from fraudmine.graph_config import ClustersConfig
from fraudmine.spark import get_spark


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("run", type=Path)
    ap.add_argument("truth", type=Path)
    ap.add_argument("scratch", type=Path)
    ap.add_argument("--date", default="2026-11-01")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="ClustersConfig override")
    args = ap.parse_args()
    print(f"code from {Path(fraudmine.__file__).parent}", file=sys.stderr)
    args.scratch.mkdir(parents=True, exist_ok=True)
    spark = get_spark(
        SparkConfig(master="local[*]", shuffle_partitions=4, driver_memory="3g"), checkpoint_dir=args.scratch / "_ckpt"
    )

    def rd(*p: str) -> DataFrame:
        return spark.read.parquet(str(args.run.joinpath(*p)))

    cfg = ClustersConfig()
    for item in args.set:
        path, _, raw = item.partition("=")
        section, _, key = path.rpartition(".")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        if section:
            sub = getattr(cfg, section).model_copy(update={key: value})
            cfg = cfg.model_copy(update={section: sub})
        else:
            cfg = cfg.model_copy(update={key: value})
    dup = None
    dup_edges = getattr(cfg, "duplicate_edges", None)
    if dup_edges and (args.run / dup_edges).exists():
        dup = rd(dup_edges)
    t0 = time.monotonic()
    as_of = datetime.fromisoformat(args.date).replace(tzinfo=UTC)
    res = mine_clusters(
        rd("graph", "nodes"),
        rd("graph", "events"),
        rd("graph", "reports"),
        rd("validate", "clean", "labels"),
        as_of,
        cfg,
        dup,
    )
    out = args.scratch / "run"
    (out / "clusters").mkdir(parents=True, exist_ok=True)
    res.members.write.mode("overwrite").parquet(str(out / "clusters" / "members"))
    for d in ("graph", "duplicates"):
        if not (out / d).exists() and (args.run / d).exists():
            os.symlink(args.run.resolve() / d, out / d)
    secs = round(time.monotonic() - t0, 1)
    for r in evaluate_clusters(args.truth, out):
        print(
            json.dumps(
                {**r, "duplicate_channel": dup is not None, "seconds": secs, "steps": res.seconds, "set": args.set}
            ),
            flush=True,
        )
    spark.stop()


if __name__ == "__main__":
    main()
