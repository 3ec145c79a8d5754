"""Stage ``score``: apply the trained bundle to the as-of-D merchant features."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.jobs.parquet import parquet_rows
from fraudmine.models.bundle import load_bundle
from fraudmine.models.scoring import score_spark

OUTPUT = "scores"


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Score every merchant known at D and write ``scores/`` (schema ``SCORES_DDL``)."""
    meta, heads = load_bundle(ctx.path("model"))
    feats = ctx.read("features", "merchant_score")
    scores = score_spark(feats, meta, heads, ctx.config.scoring, ctx.run_id, ctx.as_of)
    scores.orderBy("entity_id").write.mode("overwrite").parquet(str(staging))
    # Counted from the written files on the driver (pyarrow): no Spark job per count.
    band_counts = pq.read_table(staging, columns=["risk_band"]).column("risk_band").value_counts().to_pylist()
    bands = {f"band.{r['values']}": int(r["counts"]) for r in band_counts}
    return StageResult(
        rows_in={"merchant_score": ctx.rows("features", "merchant_score")},
        rows_out={"scores": parquet_rows(staging), **bands},
        versions={"model": str(meta.get("model_version"))},
    )
