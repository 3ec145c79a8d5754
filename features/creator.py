"""Creator features as of a date (creator-merchant collusion, fake engagement).

Point in time: promotions started, identities first seen and reports filed strictly before
``as_of``; report outcomes count once reviewed before it.  Graph features come from the
``clusters`` stage's ``entity_features`` of the same date (label-derived columns there are out
of fold) and from the promoted merchants' collusion clusters (label-free).  No feature reads a
creator label.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraudmine.features.frames import (
    CLUSTER_COLUMNS,
    as_doubles,
    before,
    cluster_facts,
    days_between,
    join_cluster_facts,
    shared_identifier_links,
)

CREATOR_ID = "creator_id"
C = CREATOR_ID

CREATOR_CLUSTER_COLUMNS: tuple[str, ...] = CLUSTER_COLUMNS[:6]  # identity and collusion facts

TRAIN_CLUSTER_KINDS: tuple[str, ...] = ("identity", "collusion")
"""Cluster kinds whose ``entity_features`` columns the training-date features read: the only train frame
that joins cluster facts is the creators' (:data:`CREATOR_CLUSTER_COLUMNS` and the promoted merchants'
collusion facts), so the ``clusters`` stage mines only these kinds at the training cut-off."""

CREATOR_FEATURES: tuple[str, ...] = (
    "account_age_days",
    "log_followers",
    "n_promotions",
    "n_promoted_products",
    "n_promoted_merchants",
    "top_merchant_promo_share",
    "log_views_per_gmv",
    "like_rate",
    "n_identifiers",
    "n_shared_identifiers",
    "n_linked_merchants",
    "n_promotions_of_linked_merchants",
    "n_reports",
    "n_reports_upheld",
    "promoted_max_collusion_risk",
    "promoted_in_collusion_share",
    *CREATOR_CLUSTER_COLUMNS,
)

_CREATOR_RELATIONAL: frozenset[str] = frozenset(
    (
        "n_shared_identifiers",
        "n_linked_merchants",
        "n_promotions_of_linked_merchants",
        "promoted_max_collusion_risk",
        "promoted_in_collusion_share",
        *CREATOR_CLUSTER_COLUMNS,
    )
)
CREATOR_TABULAR_FEATURES: tuple[str, ...] = tuple(c for c in CREATOR_FEATURES if c not in _CREATOR_RELATIONAL)
"""Features from the creator's own history alone (no shared identifiers, clusters, duplicates, co-reporters)."""


def creator_features(
    t: Mapping[str, DataFrame],
    as_of: datetime,
    hub_min_degree: int,
    entity_features: DataFrame | None = None,
) -> DataFrame:
    """All creator features for creators registered before ``as_of``.

    Args:
        t: clean contract tables by name (``creators``, ``promotions``, ``products``, ``identities``, ``reports``).
        as_of: instant; only events strictly before it are used.
        hub_min_degree: identifiers held by at least this many accounts are hubs (not evidence).
        entity_features: the ``clusters`` stage's per-entity facts as of the same instant, or ``None`` (zeros).

    Returns:
        ``[creator_id, as_of, *CREATOR_FEATURES]`` (doubles; counts 0 when there are no events).
    """
    creators = before(t["creators"], "registered_at", as_of).select(
        C,
        days_between("registered_at", as_of).alias("account_age_days"),
        F.log1p("follower_count").alias("log_followers"),
    )
    pm = before(t["products"], "created_at", as_of).select("product_id", "merchant_id")
    promos = before(t["promotions"], "started_at", as_of).join(pm, "product_id")
    per_merchant = promos.groupBy(C, "merchant_id").agg(F.count(F.lit(1)).alias("_n"))
    promo = promos.groupBy(C).agg(
        F.count(F.lit(1)).alias("n_promotions"),
        F.countDistinct("product_id").alias("n_promoted_products"),
        F.countDistinct("merchant_id").alias("n_promoted_merchants"),
        (F.log1p(F.sum("views")) - F.log1p(F.sum("gmv"))).alias("log_views_per_gmv"),
        (F.sum("likes") / F.greatest(F.sum("views"), F.lit(1))).alias("like_rate"),
    )
    top = per_merchant.groupBy(C).agg(F.max("_n").alias("_top"))
    promo = (
        promo.join(top, C).withColumn("top_merchant_promo_share", F.col("_top") / F.col("n_promotions")).drop("_top")
    )

    counts, pairs = shared_identifier_links(t["identities"], as_of, hub_min_degree, "creator")
    counts = counts.withColumnRenamed("entity_id", C)
    linked_m = pairs.where(F.col("other_type") == "merchant").select(
        F.col("entity_id").alias(C), F.col("other_id").alias("merchant_id")
    )
    n_linked = linked_m.groupBy(C).agg(F.countDistinct("merchant_id").alias("n_linked_merchants"))
    by_linked = (
        promos.join(linked_m, [C, "merchant_id"], "left_semi")
        .groupBy(C)
        .agg(F.count(F.lit(1)).alias("n_promotions_of_linked_merchants"))
    )

    reports = before(t["reports"], "reported_at", as_of).where(F.col("target_type") == "creator")
    reviewed = F.col("reviewed_at").isNotNull() & (F.col("reviewed_at") < F.lit(as_of))
    rep = reports.groupBy(F.col("target_id").alias(C)).agg(
        F.count(F.lit(1)).alias("n_reports"),
        F.sum((reviewed & (F.col("outcome") == "upheld")).cast("long")).alias("n_reports_upheld"),
    )

    out = creators
    for part in (promo, counts, n_linked, by_linked, rep):
        out = out.join(part, C, "left")
    if entity_features is not None:
        # promoted merchants' collusion clusters: label-free graph evidence of the merchants a creator works for
        mcoll = entity_features.where(F.col("entity_type") == "merchant").select(
            F.col("entity_id").alias("merchant_id"), "collusion_cluster_risk", "collusion_cluster_size"
        )
        pc = (
            per_merchant.join(mcoll, "merchant_id", "left")
            .groupBy(C)
            .agg(
                F.max(F.coalesce("collusion_cluster_risk", F.lit(0.0))).alias("promoted_max_collusion_risk"),
                F.avg((F.coalesce("collusion_cluster_size", F.lit(0)) >= 2).cast("double")).alias(
                    "promoted_in_collusion_share"
                ),
            )
        )
        out = out.join(pc, C, "left")
    else:
        out = out.select(
            "*",
            F.lit(None).cast("double").alias("promoted_max_collusion_risk"),
            F.lit(None).cast("double").alias("promoted_in_collusion_share"),
        )
    out = join_cluster_facts(
        out, cluster_facts(entity_features, "creator", C, CREATOR_CLUSTER_COLUMNS), C, CREATOR_CLUSTER_COLUMNS
    )
    return as_doubles(out, C, as_of, CREATOR_FEATURES)
