"""Stage ``score``: apply the trained bundle to the as-of-D merchant features."""

from __future__ import annotations

from pathlib import Path

from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.models.bundle import load_bundle
from fraudmine.models.scoring import score_spark

OUTPUT = "scores"


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Score every merchant known at D and write ``scores/`` (schema ``SCORES_DDL``)."""
    meta, heads = load_bundle(ctx.path("model"))
    feats = ctx.read("features", "merchant_score")
    scores = score_spark(feats, meta, heads, ctx.config.scoring, ctx.run_id, ctx.as_of)
    scores.orderBy("entity_id").write.mode("overwrite").parquet(str(staging))
    written = ctx.spark.read.parquet(str(staging))
    bands = {f"band.{r['risk_band']}": int(r["count"]) for r in written.groupBy("risk_band").count().collect()}
    return StageResult(
        rows_in={"merchant_score": feats.count()},
        rows_out={"scores": written.count(), **bands},
        versions={"model": str(meta.get("model_version"))},
    )
