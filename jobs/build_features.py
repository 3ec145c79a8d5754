"""Stage ``features``: time-safe merchant features for training (at D - window) and scoring (at D)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from pyspark.sql import Observation
from pyspark.sql import functions as F

from fraudmine.contracts.raw import RAW_TABLES
from fraudmine.decisions.outcomes import labels_with_outcomes
from fraudmine.features.labels import binary_targets, latest_labels
from fraudmine.features.merchant import merchant_features
from fraudmine.jobs.context import StageContext, StageResult

OUTPUT = "features"
log = logging.getLogger(__name__)


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Write ``features/merchant_score`` (as of D) and ``features/merchant_train`` (as of D - window,
    joined with the latest labels known before D, moderator outcomes decided before D included)."""
    t = {s.name: ctx.read("validate", "clean", s.name) for s in RAW_TABLES}
    hub = ctx.config.graph.hub_identifier_min_degree
    has_dup = (ctx.path("duplicates", "merchant_features")).exists()
    dup_score = ctx.read("duplicates", "merchant_features") if has_dup else None
    dup_train = ctx.read("duplicates", "merchant_features_train") if has_dup else None
    score = merchant_features(t, ctx.as_of, hub, dup_score)
    train_x = merchant_features(t, ctx.train_as_of, hub, dup_train)
    labels = labels_with_outcomes(t["labels"], t.get("moderation_outcomes"), ctx.as_of)
    targets = binary_targets(latest_labels(labels, ctx.as_of)).withColumnRenamed("entity_id", "merchant_id")
    train = train_x.join(targets, "merchant_id").orderBy("merchant_id")
    # Row counts are observed during the writes: no extra Spark job to count them.
    t0 = time.monotonic()
    obs_score = Observation("merchant_score")
    score.observe(obs_score, F.count(F.lit(1)).alias("n")).orderBy("merchant_id").write.parquet(
        str(staging / "merchant_score")
    )
    log.info("features: scoring set as of %s, %s merchants (%.1fs)", ctx.as_of.date(), f"{obs_score.get['n']:,}",
             time.monotonic() - t0)  # fmt: skip
    t0 = time.monotonic()
    obs_train = Observation("merchant_train")
    train.observe(
        obs_train,
        F.count(F.lit(1)).alias("n"),
        F.count_if(F.col("y_fraud") == 1).alias("fraud"),
        F.count_if(F.col("y_low_quality") == 1).alias("lq"),
    ).write.parquet(str(staging / "merchant_train"))
    got = obs_train.get
    log.info("features: training set as of %s, %s labelled merchants (%.1fs)", ctx.train_as_of.date(),
             f"{got['n']:,}", time.monotonic() - t0)  # fmt: skip
    return StageResult(
        rows_out={
            "merchant_score": int(obs_score.get["n"]),
            "merchant_train": int(got["n"]),
            "train_fraud_positives": int(got["fraud"]),
            "train_low_quality_positives": int(got["lq"]),
        }
    )
