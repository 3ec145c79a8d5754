"""Stage ``score``: apply the trained bundle to the as-of-D features of every scored entity type."""

from __future__ import annotations

from functools import reduce
from pathlib import Path

import pyarrow.parquet as pq
from pyspark.sql import DataFrame

from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.jobs.parquet import parquet_rows
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
    names = [e for e in ENTITY_SPECS if ctx.path("features", f"{e}_score").exists()]
    feats = {e: ctx.read("features", f"{e}_score") for e in names}
    parts += score_entities(feats, meta, ctx.path("model"), ctx.config.scoring, ctx.run_id, ctx.as_of)
    scores: DataFrame = reduce(DataFrame.unionByName, parts)
    scores.orderBy("entity_type", "entity_id").write.mode("overwrite").parquet(str(staging))
    # Counted from the written files on the driver (pyarrow): no Spark job per count.
    table = pq.read_table(staging, columns=["entity_type", "risk_band"])
    counts = table.group_by(["entity_type", "risk_band"]).aggregate([([], "count_all")]).to_pylist()
    by_type: dict[str, int] = {}
    for r in counts:
        by_type[r["entity_type"]] = by_type.get(r["entity_type"], 0) + int(r["count_all"])
    bands = {f"band.{r['entity_type']}.{r['risk_band']}": int(r["count_all"]) for r in counts}
    rows_in = {"merchant_score": ctx.rows("features", "merchant_score")}
    rows_in |= {f"{e}_score": ctx.rows("features", f"{e}_score") for e in names}
    return StageResult(
        rows_in=rows_in,
        rows_out={"scores": parquet_rows(staging), **{f"scores.{e}": n for e, n in by_type.items()}, **bands},
        versions={"model": str(meta.get("model_version"))},
    )
