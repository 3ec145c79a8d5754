"""Moderator outcomes: labels for the next training, and realised precision per action.

The optional raw table ``moderation_outcomes`` (contract in :mod:`fraudmine.contracts.raw`)
holds one row per human verdict on a decided item.  Two uses, both time-safe (a run
at D only sees verdicts with ``decided_at < D``):

- :func:`outcome_labels` turns verdicts into rows of the ``labels`` table (so
  ``features`` trains on them at the next run), for the seller of every decided item
  and for the listing of every decided ``product_listing`` item: per entity, any
  violation gives a ``fraud`` label (``low_quality`` when every violation was of that
  type) dated at the latest violation; an entity whose reviewed items were all clean
  gets ``ok``.  A clean item never overrides a violation of the same entity.
- :func:`realised_precision` compares the action fraudmine recommended
  (``routed_action``) with the verdict, over a window before D.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

LABEL_COLUMNS = ("entity_type", "entity_id", "label", "source", "labelled_at")


def outcome_labels(outcomes: DataFrame, as_of: datetime) -> DataFrame:
    """Seller and listing labels derived from verdicts decided before ``as_of``.

    Returns:
        Rows in the ``labels`` contract layout (``source`` = ``manual_review``): one per seller
        (``entity_type`` ``merchant``) and one per listing of a ``product_listing`` item
        (``entity_type`` ``product``).
    """
    o = outcomes.where(F.col("decided_at") < F.lit(as_of))
    listings = o.where(F.col("item_type") == "product_listing")
    return _entity_labels(o, "merchant_id", "merchant").unionByName(_entity_labels(listings, "product_id", "product"))


def _entity_labels(o: DataFrame, key: str, entity_type: str) -> DataFrame:
    """One label per non-null ``key`` of the verdicts ``o`` (the rule of the module docstring)."""
    viol = F.col("verdict") == "violation"
    per = (
        o.where(F.col(key).isNotNull())
        .groupBy(key)
        .agg(
            F.max(F.when(viol, F.col("decided_at"))).alias("_last_v"),
            F.max("decided_at").alias("_last"),
            F.sum(F.when(viol, 1).otherwise(0)).alias("_nv"),
            F.sum(F.when(viol & (F.col("violation_type") == "low_quality"), 1).otherwise(0)).alias("_nlq"),
        )
    )
    label = (
        F.when(F.col("_nv") == 0, F.lit("ok"))
        .when(F.col("_nlq") == F.col("_nv"), F.lit("low_quality"))
        .otherwise(F.lit("fraud"))
    )
    return per.select(
        F.lit(entity_type).alias("entity_type"),
        F.col(key).alias("entity_id"),
        label.alias("label"),
        F.lit("manual_review").alias("source"),
        F.coalesce("_last_v", "_last").alias("labelled_at"),
    )


def labels_with_outcomes(labels: DataFrame, outcomes: DataFrame | None, as_of: datetime) -> DataFrame:
    """The ``labels`` table plus the labels of :func:`outcome_labels` (contract columns only)."""
    base = labels.select(*LABEL_COLUMNS)
    if outcomes is None:
        return base
    return base.unionByName(outcome_labels(outcomes, as_of).select(*LABEL_COLUMNS))


def latest_label(labels: DataFrame, as_of: datetime) -> DataFrame:
    """Latest label per ``(entity_type, entity_id)`` with ``labelled_at < as_of``.

    Ties on ``labelled_at`` resolve to the most severe label (fraud, then low_quality, then ok),
    so a same-instant clearing never hides a violation.

    Returns:
        ``[entity_type, entity_id, label, source, labelled_at]``.
    """
    sev = F.when(F.col("label") == "fraud", 0).when(F.col("label") == "low_quality", 1).otherwise(2)
    w = Window.partitionBy("entity_type", "entity_id").orderBy(F.col("labelled_at").desc(), sev, F.col("source"))
    return (
        labels.where(F.col("labelled_at") < F.lit(as_of))
        .withColumn("_rk", F.row_number().over(w))
        .where(F.col("_rk") == 1)
        .select(*LABEL_COLUMNS)
    )


def realised_precision(outcomes: DataFrame, as_of: datetime, window_days: int) -> list[dict[str, object]]:
    """Precision of each recommended action against verdicts decided in ``[as_of - window, as_of)``.

    A ``reject``/``escalate``/``review`` is right when the verdict is ``violation``; an
    ``approve`` is right when it is ``no_violation`` (so its "precision" is the share of
    approvals that were clean).  Rows of ``route`` ``exploration`` are reported apart: they
    are the unbiased sample.

    Returns:
        ``[{"action", "route", "outcomes", "correct", "precision"}]`` sorted by action and route.
    """
    lo = as_of - timedelta(days=window_days)
    o = outcomes.where(
        F.col("routed_action").isNotNull() & (F.col("decided_at") >= F.lit(lo)) & (F.col("decided_at") < F.lit(as_of))
    )
    right = F.when(F.col("routed_action") == "approve", F.col("verdict") == "no_violation").otherwise(
        F.col("verdict") == "violation"
    )
    rows = (
        o.groupBy("routed_action", F.coalesce("route", F.lit("policy")).alias("route"))
        .agg(F.count(F.lit(1)).alias("n"), F.sum(right.cast("long")).alias("ok"))
        .orderBy("routed_action", "route")
        .collect()
    )
    return [
        {
            "action": r["routed_action"],
            "route": r["route"],
            "outcomes": int(r["n"]),
            "correct": int(r["ok"]),
            "precision": float(r["ok"]) / float(r["n"]) if r["n"] else None,
        }
        for r in rows
    ]
