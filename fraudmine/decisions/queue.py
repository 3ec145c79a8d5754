"""The review queue under reviewer capacity, with an exploration sample.

:func:`route` is a pure Spark transform over policy decisions.  With ``C`` =
``capacity.review_per_day`` and ``E`` = ``floor(C * exploration.share)``:

1. **Escalations** are ranked by expected loss (``p_violation * exposure_usd``,
   ties by ``item_id``); the first ``capacity.escalate_per_day`` go to the specialist
   queue (``queue_status = queued``); the rest join the review pool with reason
   ``ESCALATION_OVER_CAPACITY`` (action ``review``).
2. **Exploration**: among the items the policy would auto-approve, those with
   ``p_violation`` in ``[exploration.min_p, exploration.max_p]`` (the uncertain ones)
   form the pool; ``E' = min(E, pool)`` of them, chosen by a seeded hash of the item id
   (a uniform random sample, reproducible), go to review (``queue_status =
   exploration``, reason ``EXPLORATION_SAMPLE``) with ``sampling_weight = pool / E'``,
   the inverse inclusion probability, so their verdicts estimate the pool unbiasedly.
3. **Review**: the pool is ranked by expected loss; the first ``C - E'`` are queued
   (``sampling_weight = 1``).  Items past capacity get the documented default
   ``over_capacity``: ``defer`` keeps them pending (action ``review``, status
   ``deferred``, reason ``OVER_CAPACITY_DEFERRED``; the next run ranks them again),
   ``approve`` lets them through (action ``approve``, status ``over_capacity_approved``,
   primary reason ``OVER_CAPACITY_APPROVED``).
4. Everything else is automatic (``queue_status = auto``).

``queue_rank`` is the 1-based position in the reviewers' queue (escalations, then
policy reviews, then exploration), null for items not queued.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from fraudmine.config import DecisionsConfig
from fraudmine.contracts.outputs import QUEUE_STATUSES

__all__ = ["QUEUE_STATUSES", "route"]


def _prepend(reason: str, codes: str = "reason_codes") -> Column:
    return F.array_distinct(F.concat(F.array(F.lit(reason)), F.col(codes)))


def _append(reason: str, codes: str = "reason_codes") -> Column:
    return F.array_distinct(F.concat(F.col(codes), F.array(F.lit(reason))))


def _ranked(df: DataFrame, where: Column, name: str) -> DataFrame:
    """Add ``name``: 1-based rank by expected loss (ties by item id) among the rows where ``where`` holds."""
    w = Window.partitionBy(where).orderBy(F.desc("expected_loss"), F.asc("item_id"))
    return df.withColumn(name, F.when(where, F.row_number().over(w)))


def route(decided: DataFrame, cfg: DecisionsConfig) -> tuple[DataFrame, dict[str, int]]:
    """Apply capacity and exploration to policy decisions (see the module docstring).

    Args:
        decided: output of :func:`fraudmine.decisions.engine.apply_policy` (needs ``item_id``,
            ``action``, ``primary_reason``, ``reason_codes``, ``p_violation``, ``exposure_usd``).
        cfg: capacity, exploration and over-capacity settings.

    Returns:
        ``(decisions, load)``: the decisions with ``expected_loss``, ``queue_status``,
        ``queue_rank`` and ``sampling_weight`` (actions and reasons updated as described), and the
        queue load figures ``{review_pool, escalate_pool, exploration_pool, exploration_slots}``
        (one small Spark action).
    """
    cap, esc_cap = cfg.capacity.review_per_day, cfg.capacity.escalate_per_day
    ex = cfg.exploration
    df = decided.withColumn("expected_loss", F.col("p_violation") * F.col("exposure_usd"))
    in_pool = (
        (F.col("action") == "approve")
        & (F.col("p_violation") >= F.lit(ex.min_p))
        & (F.col("p_violation") <= F.lit(ex.max_p))
    )
    counts = df.agg(
        F.sum((F.col("action") == "review").cast("long")).alias("review"),
        F.sum((F.col("action") == "escalate").cast("long")).alias("escalate"),
        F.sum(in_pool.cast("long")).alias("pool"),
    ).first()
    n_review = int(counts["review"] or 0) if counts else 0
    n_esc = int(counts["escalate"] or 0) if counts else 0
    n_pool = int(counts["pool"] or 0) if counts else 0
    slots = min(int(cap * ex.share), n_pool)

    # 1. escalations over the specialists' capacity fall back to review
    df = _ranked(df, F.col("action") == "escalate", "_erank")
    esc_over = (F.col("action") == "escalate") & (F.col("_erank") > esc_cap)
    df = df.withColumn(
        "reason_codes", F.when(esc_over, _append("ESCALATION_OVER_CAPACITY")).otherwise(F.col("reason_codes"))
    )
    df = df.withColumn("action", F.when(esc_over, F.lit("review")).otherwise(F.col("action")))
    # 2. exploration sample of uncertain auto-approvals
    h = F.xxhash64(F.lit(ex.seed), F.col("item_id"))
    w_ex = Window.partitionBy(in_pool).orderBy(h, F.col("item_id"))
    df = df.withColumn("_xrank", F.when(in_pool, F.row_number().over(w_ex)))
    explore = F.coalesce(F.col("_xrank") <= slots, F.lit(False))
    # 3. the policy review queue, cut at capacity
    df = _ranked(df, F.col("action") == "review", "_rrank")
    queued_review = (F.col("action") == "review") & (F.col("_rrank") <= cap - slots)
    over = (F.col("action") == "review") & (F.col("_rrank") > cap - slots)
    queued_esc = (F.col("action") == "escalate") & (F.col("_erank") <= esc_cap)
    defer = cfg.over_capacity == "defer"
    status = (
        F.when(queued_esc | queued_review, F.lit("queued"))
        .when(explore, F.lit("exploration"))
        .when(over, F.lit("deferred" if defer else "over_capacity_approved"))
        .otherwise(F.lit("auto"))
    )
    over_reason = "OVER_CAPACITY_DEFERRED" if defer else "OVER_CAPACITY_APPROVED"
    codes = (
        F.when(explore, _prepend("EXPLORATION_SAMPLE"))
        .when(over, _append(over_reason) if defer else _prepend(over_reason))
        .otherwise(F.col("reason_codes"))
    )
    action = F.when(explore, F.lit("review")).when(over & F.lit(not defer), F.lit("approve")).otherwise(F.col("action"))
    rank = (
        F.when(queued_esc, F.col("_erank"))
        .when(queued_review, F.col("_rrank") + F.lit(min(esc_cap, n_esc)))
        .when(
            explore, F.col("_xrank") + F.lit(min(esc_cap, n_esc) + min(cap - slots, n_review + max(n_esc - esc_cap, 0)))
        )
    )
    weight = F.when(queued_esc | queued_review, F.lit(1.0)).when(explore, F.lit(n_pool / slots if slots else None))
    df = df.select(
        "*",
        status.alias("queue_status"),
        rank.cast("int").alias("queue_rank"),
        weight.cast("double").alias("sampling_weight"),
        codes.alias("_codes"),
        action.alias("_action"),
    )
    df = df.drop("action", "reason_codes", "_erank", "_rrank", "_xrank")
    df = df.withColumnRenamed("_action", "action").withColumnRenamed("_codes", "reason_codes")
    df = df.withColumn("primary_reason", F.col("reason_codes").getItem(0))
    load = {
        "review_pool": n_review + max(n_esc - esc_cap, 0),
        "escalate_pool": n_esc,
        "exploration_pool": n_pool,
        "exploration_slots": slots,
    }
    return df, load
