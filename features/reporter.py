"""Reporter features as of a date, for malicious (coordinated) reporting.

A reporter is a buyer who filed at least one report before ``as_of``.  Point in time: reports filed
strictly before it; outcomes (upheld / rejected) count once reviewed before it.  Graph inputs of the
same date from the ``clusters`` stage: reporter credibility (past upheld rate, smoothed) and reporter
rings (coordinated bursts).  Report outcomes are moderation decisions about the reports, not a label
of the reporter; no label is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from fraudmine.features.frames import as_doubles, before, cluster_facts, join_cluster_facts

REPORTER_ID = "reporter_id"
R = REPORTER_ID

REPORTER_CLUSTER_COLUMNS: tuple[str, ...] = (
    "reporter_ring_size",
    "reporter_ring_risk",
    "reporter_credibility",
    "reporter_n_reviewed",
)

REPORTER_FEATURES: tuple[str, ...] = (
    "n_reports",
    "n_report_targets",
    "top_target_report_share",
    "n_reports_rejected",
    "rejected_report_share",
    "report_without_order_share",
    "report_text_missing_share",
    "target_co_reporters",
    "target_burst_share",
    "n_orders",
    *REPORTER_CLUSTER_COLUMNS,
)

_REPORTER_RELATIONAL: frozenset[str] = frozenset(
    ("target_co_reporters", "target_burst_share", *REPORTER_CLUSTER_COLUMNS)
)
REPORTER_TABULAR_FEATURES: tuple[str, ...] = tuple(c for c in REPORTER_FEATURES if c not in _REPORTER_RELATIONAL)
"""Features from the reporter's own history alone (no shared identifiers, clusters, duplicates, co-reporters)."""


def reporter_features(
    t: Mapping[str, DataFrame],
    as_of: datetime,
    entity_features: DataFrame | None = None,
    burst_days: float = 3.0,
) -> DataFrame:
    """All reporter features for buyers who filed a report before ``as_of``.

    Args:
        t: clean contract tables by name (``reports``, ``orders``, ``products``).
        as_of: instant; only events strictly before it are used.
        entity_features: the ``clusters`` stage's per-entity facts as of the same instant, or ``None``.
        burst_days: a report is in a burst when another reporter reported the same target within this many days.

    Returns:
        ``[reporter_id, as_of, *REPORTER_FEATURES]`` (doubles).
    """
    reports = before(t["reports"], "reported_at", as_of)
    reviewed = F.col("reviewed_at").isNotNull() & (F.col("reviewed_at") < F.lit(as_of))
    pm = before(t["products"], "created_at", as_of).select("product_id", "merchant_id")
    orders = before(t["orders"], "ordered_at", as_of).join(pm, "product_id")
    bought_p = orders.select(F.col("buyer_id").alias(R), F.col("product_id").alias("target_id")).distinct()
    bought_m = orders.select(F.col("buyer_id").alias(R), F.col("merchant_id").alias("target_id")).distinct()
    bought = bought_p.unionByName(bought_m).withColumn("_bought", F.lit(1)).distinct()
    rep = reports.join(bought, [R, "target_id"], "left")
    # co-reporters in a burst: other reporters of the same target within ``burst_days`` either side
    w = (
        Window.partitionBy("target_type", "target_id")
        .orderBy(F.col("reported_at").cast("long"))
        .rangeBetween(-int(burst_days * 86400), int(burst_days * 86400))
    )
    rep = rep.withColumn("_near", F.size(F.collect_set(R).over(w)) - 1)
    per_target = rep.groupBy(R, "target_type", "target_id").agg(F.count(F.lit(1)).alias("_n"))
    target_reporters = reports.groupBy("target_type", "target_id").agg(F.countDistinct(R).alias("_tr"))
    co = (
        per_target.join(target_reporters, ["target_type", "target_id"])
        .groupBy(R)
        .agg(F.max("_n").alias("_top"), F.avg(F.col("_tr") - 1).alias("target_co_reporters"))
    )
    base = rep.groupBy(R).agg(
        F.count(F.lit(1)).alias("n_reports"),
        F.countDistinct("target_type", "target_id").alias("n_report_targets"),
        F.sum((reviewed & (F.col("outcome") == "rejected")).cast("long")).alias("n_reports_rejected"),
        (
            F.sum((reviewed & (F.col("outcome") == "rejected")).cast("double"))
            / F.greatest(F.sum(reviewed.cast("double")), F.lit(1.0))
        ).alias("rejected_report_share"),
        F.avg(F.col("_bought").isNull().cast("double")).alias("report_without_order_share"),
        F.avg((F.col("text").isNull() | (F.length("text") == 0)).cast("double")).alias("report_text_missing_share"),
        F.avg((F.col("_near") >= 2).cast("double")).alias("target_burst_share"),
    )
    out = (
        base.join(co, R, "left").withColumn("top_target_report_share", F.col("_top") / F.col("n_reports")).drop("_top")
    )
    n_orders = orders.groupBy(F.col("buyer_id").alias(R)).agg(F.count(F.lit(1)).alias("n_orders"))
    out = out.join(n_orders, R, "left")
    out = join_cluster_facts(
        out, cluster_facts(entity_features, "buyer", R, REPORTER_CLUSTER_COLUMNS), R, REPORTER_CLUSTER_COLUMNS
    )
    return as_doubles(out, R, as_of, REPORTER_FEATURES)
