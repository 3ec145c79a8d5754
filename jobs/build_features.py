"""Stage ``features``: time-safe merchant features for training (at D - window) and scoring (at D)."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import functions as F

from fraudmine.contracts.raw import RAW_TABLES
from fraudmine.decisions.outcomes import labels_with_outcomes
from fraudmine.features.labels import binary_targets, latest_labels
from fraudmine.features.merchant import merchant_features
from fraudmine.jobs.context import StageContext, StageResult

OUTPUT = "features"


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Write ``features/merchant_score`` (as of D) and ``features/merchant_train`` (as of D - window,
    joined with the latest labels known before D, moderator outcomes decided before D included)."""
    t = {s.name: ctx.read("validate", "clean", s.name) for s in RAW_TABLES}
    hub = ctx.config.graph.hub_identifier_min_degree
    score = merchant_features(t, ctx.as_of, hub)
    train_x = merchant_features(t, ctx.train_as_of, hub)
    labels = labels_with_outcomes(t["labels"], t.get("moderation_outcomes"), ctx.as_of)
    targets = binary_targets(latest_labels(labels, ctx.as_of)).withColumnRenamed("entity_id", "merchant_id")
    train = train_x.join(targets, "merchant_id").orderBy("merchant_id")
    score.orderBy("merchant_id").write.parquet(str(staging / "merchant_score"))
    train.write.parquet(str(staging / "merchant_train"))
    n_train = ctx.spark.read.parquet(str(staging / "merchant_train"))
    return StageResult(
        rows_out={
            "merchant_score": ctx.spark.read.parquet(str(staging / "merchant_score")).count(),
            "merchant_train": n_train.count(),
            "train_fraud_positives": n_train.where(F.col("y_fraud") == 1).count(),
            "train_low_quality_positives": n_train.where(F.col("y_low_quality") == 1).count(),
        }
    )
