"""Stage ``score``: apply the trained bundle to the as-of-D features of every entity type."""

from __future__ import annotations

from functools import reduce
from pathlib import Path

from pyspark.sql import DataFrame

from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.models.bundle import load_bundle
from fraudmine.models.entities import ENTITY_SPECS
from fraudmine.models.entity_bundle import score_entities
from fraudmine.models.scoring import score_spark

OUTPUT = "scores"


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Score every entity known at D and write ``scores/`` (schema ``SCORES_DDL``, one table for all types)."""
    meta, heads = load_bundle(ctx.path("model"))
    merchants = ctx.read("features", "merchant_score")
    parts = [score_spark(merchants, meta, heads, ctx.config.scoring, ctx.run_id, ctx.as_of)]
    feats = {e: ctx.read("features", f"{e}_score") for e in ENTITY_SPECS if ctx.path("features", f"{e}_score").exists()}
    parts += score_entities(feats, meta, ctx.path("model"), ctx.config.scoring, ctx.run_id, ctx.as_of)
    scores: DataFrame = reduce(DataFrame.unionByName, parts)
    scores.orderBy("entity_type", "entity_id").write.mode("overwrite").parquet(str(staging))
    written = ctx.spark.read.parquet(str(staging))
    counts = written.groupBy("entity_type", "risk_band").count().collect()
    by_type: dict[str, int] = {}
    for r in counts:
        by_type[r["entity_type"]] = by_type.get(r["entity_type"], 0) + int(r["count"])
    bands = {f"band.{r['entity_type']}.{r['risk_band']}": int(r["count"]) for r in counts}
    return StageResult(
        rows_in={"merchant_score": merchants.count()} | {f"{e}_score": f.count() for e, f in feats.items()},
        rows_out={"scores": sum(by_type.values()), **{f"scores.{e}": n for e, n in by_type.items()}, **bands},
        versions={"model": str(meta.get("model_version"))},
    )
