"""Benchmark: scoring throughput of the Spark pyfunc path against the nightly ``score`` stage's path.

For each ``--run LABEL=DIR`` (a published run folder, e.g. ``out/current``): registers the run's
``model/`` bundle in a scratch MLflow store under ``--work`` (the run's own store is left alone), then
scores the run's merchant features (``features/merchant_score``) three ways on a local Spark session
with the default config, each written to a scratch Parquet folder (so every row is computed):

* ``mapInPandas``: :func:`fraudmine.models.scoring.score_spark`, what the ``score`` stage runs;
* ``spark_udf``: ``mlflow.pyfunc.spark_udf`` of the registered version (:mod:`fraudmine.models.pyfunc`);
* ``spark_udf_no_reasons``: the same with ``reasons_min_band: critical`` in the logged scoring config,
  to show what reasons (LightGBM ``pred_contrib``) cost.

Reports entities per second (rows / wall seconds of the write, best of ``--repeat``), the load
average before and after, and writes JSON to ``--out``::

    flock /work/.bench.lock .venv/bin/python bench/bench_pyfunc.py --run s=out-s/current --out /tmp/pyfunc.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import loadavg, machine


def _best(fn: Any, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.monotonic()
        fn()
        best = min(best, time.monotonic() - t0)
    return best


def bench_run(label: str, run: Path, work: Path, repeat: int) -> dict[str, Any]:
    """Time the three scoring paths on one run's merchant features."""
    from pyspark.sql import functions as F

    from fraudmine.config import RegistryConfig, ScoringConfig, SparkConfig
    from fraudmine.models.bundle import load_bundle
    from fraudmine.models.pyfunc import spark_score_udf
    from fraudmine.models.registry import make_registry
    from fraudmine.models.scoring import score_spark
    from fraudmine.spark import get_spark

    spark = get_spark(SparkConfig())
    feats_df = spark.read.parquet(str(run / "features" / "merchant_score")).cache()
    rows = feats_df.count()
    meta, heads = load_bundle(run / "model")
    feats = list(meta["features"])
    scratch = work / label
    shutil.rmtree(scratch, ignore_errors=True)
    result: dict[str, Any] = {"run": label, "rows": rows, "features": len(feats), "load_before": loadavg()}
    now = datetime.now(UTC)
    cfg = ScoringConfig()

    def write(df: Any, name: str) -> None:
        df.write.mode("overwrite").parquet(str(scratch / name))

    t = _best(lambda: write(score_spark(feats_df, meta, heads, cfg, "bench", now), "map"), repeat)
    result["mapInPandas"] = {"seconds": round(t, 2), "rows_per_s": round(rows / t)}
    for name, scoring in (("spark_udf", cfg), ("spark_udf_no_reasons", ScoringConfig(reasons_min_band="critical"))):
        reg = make_registry(RegistryConfig(), scratch / f"store-{name}", scoring)
        version = reg.register(run / "model", f"bench-{label}-{name}", {}, {})
        uri = f"sqlite:///{(scratch / f'store-{name}' / 'mlflow.db').resolve()}"
        t0 = time.monotonic()
        udf = spark_score_udf(spark, f"models:/{version}", tracking_uri=uri)
        load_s = time.monotonic() - t0
        scored = feats_df.select("merchant_id", udf(F.struct(*feats)).alias("s")).select("merchant_id", "s.*")
        t = _best(lambda scored=scored, name=name: write(scored, name), repeat)
        result[name] = {"seconds": round(t, 2), "rows_per_s": round(rows / t), "udf_load_s": round(load_s, 2)}
    got = spark.read.parquet(str(scratch / "spark_udf")).select("merchant_id", F.col("fraud_risk").alias("a"))
    ref = spark.read.parquet(str(scratch / "map")).select(F.col("entity_id").alias("merchant_id"), F.col("fraud_risk"))
    diff = got.join(ref, "merchant_id").select(F.max(F.abs(F.col("a") - F.col("fraud_risk")))).first()
    result["max_abs_diff_vs_mapInPandas"] = float(diff[0]) if diff and diff[0] is not None else None
    result["load_after"] = loadavg()
    feats_df.unpersist()
    return result


def main() -> int:
    """Parse arguments, run, print a Markdown table and write JSON."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", action="append", required=True, help="LABEL=DIR of a published run (repeatable)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench-pyfunc"))
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    results = []
    for spec in args.run:
        label, _, path = spec.partition("=")
        print(f"[bench_pyfunc] {label}: {path}", flush=True)
        results.append(bench_run(label, Path(path), args.work, args.repeat))
        print(json.dumps(results[-1]), flush=True)
    doc = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(), "results": results}
    args.out.write_text(json.dumps(doc, indent=2))
    print("| run | merchants | mapInPandas rows/s | spark_udf rows/s | spark_udf, no reasons rows/s | max diff |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['run']} | {r['rows']:,} | {r['mapInPandas']['rows_per_s']:,} | {r['spark_udf']['rows_per_s']:,} "
            f"| {r['spark_udf_no_reasons']['rows_per_s']:,} | {r['max_abs_diff_vs_mapInPandas']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
