"""Buyer features as of a date, for brushing (fake orders and reviews).

Point in time: orders, reviews and identities strictly before ``as_of`` (order status as of the
date).  A brushing account looks ordinary alone; the signal is relational: orders concentrated on
few shops, products whose other buyers are linked accounts (2-hop: buyer → product → buyers), shared
identifiers with other buyers, and the ``clusters`` stage's FRAUDAR brushing blocks.  No labels.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraudmine.features.frames import as_doubles, before, cluster_facts, join_cluster_facts, shared_identifier_links
from fraudmine.features.merchant import status_as_of
from fraudmine.graph.algorithms.overlap import max_shared_neighbours
from fraudmine.graph.algorithms.spark_common import checkpoint_with_counts
from fraudmine.graph_config import EngineConfig

BUYER_ID = "buyer_id"
B = BUYER_ID
log = logging.getLogger(__name__)

BUYER_CLUSTER_COLUMNS: tuple[str, ...] = ("brushing_blocks", "brushing_max_risk")

BUYER_FEATURES: tuple[str, ...] = (
    "active_days",
    "n_orders",
    "n_products",
    "n_merchants",
    "top_merchant_order_share",
    "refund_rate",
    "log_mean_amount",
    "n_reviews",
    "reviews_per_order",
    "five_star_share",
    "n_identifiers",
    "n_shared_identifiers",
    "n_linked_buyers",
    "co_buyer_linked_share",
    "product_buyer_overlap",
    *BUYER_CLUSTER_COLUMNS,
)

_BUYER_RELATIONAL: frozenset[str] = frozenset(
    (
        "n_shared_identifiers",
        "n_linked_buyers",
        "co_buyer_linked_share",
        "product_buyer_overlap",
        *BUYER_CLUSTER_COLUMNS,
    )
)
BUYER_TABULAR_FEATURES: tuple[str, ...] = tuple(c for c in BUYER_FEATURES if c not in _BUYER_RELATIONAL)
"""Features from the buyer's own history alone (no shared identifiers, clusters, duplicates, co-reporters)."""


def linked_buyers(identities: DataFrame, as_of: datetime, hub_min_degree: int) -> DataFrame:
    """``[buyer_id, _linked=1]``: buyers sharing a non-hub identifier with another buyer before ``as_of``."""
    _, pairs = shared_identifier_links(identities, as_of, hub_min_degree, "buyer")
    return (
        pairs.where(F.col("other_type") == "buyer")
        .select(F.col("entity_id").alias(B))
        .distinct()
        .withColumn("_linked", F.lit(1))
    )


def buyer_features(
    t: Mapping[str, DataFrame],
    as_of: datetime,
    hub_min_degree: int,
    entity_features: DataFrame | None = None,
    max_product_buyers: int = 100,
    engine: EngineConfig | None = None,
) -> DataFrame:
    """All brushing features for buyers with at least one order before ``as_of``.

    Args:
        t: clean contract tables by name (``orders``, ``order_events``, ``products``, ``reviews``, ``identities``).
        as_of: instant; only events strictly before it are used.
        hub_min_degree: identifiers held by at least this many accounts are hubs (not evidence).
        entity_features: the ``clusters`` stage's per-entity facts as of the same instant, or ``None`` (zeros).
        max_product_buyers: ``product_buyer_overlap`` (the most products shared with one other buyer) looks
            only at products with at most this many buyers.
        engine: graph engine choice for ``product_buyer_overlap``
            (:func:`fraudmine.graph.algorithms.overlap.max_shared_neighbours`: local below
            ``local_max_edges`` buyer-product edges; ``None``: the defaults, a Spark self-join above).

    Returns:
        ``[buyer_id, as_of, *BUYER_FEATURES]`` (doubles).
    """
    pm = before(t["products"], "created_at", as_of).select("product_id", "merchant_id")
    t0 = time.monotonic()
    orders = (
        status_as_of(before(t["orders"], "ordered_at", as_of), t.get("order_events"), as_of)
        .join(pm, "product_id")
        .select(B, "product_id", "merchant_id", "status", "ordered_at", "amount")
    )
    # materialised once: the overlap's own job and the final plan (aggregates, 2-hop share) both read it
    orders, n = checkpoint_with_counts(orders)
    log.info(
        "buyer features: %s orders as of %s with their status (%.1fs)",
        f"{n['rows']:,}",
        as_of.date(),
        time.monotonic() - t0,
    )
    base = orders.groupBy(B).agg(
        ((F.max("ordered_at").cast("long") - F.min("ordered_at").cast("long")) / 86400.0).alias("active_days"),
        F.count(F.lit(1)).alias("n_orders"),
        F.countDistinct("product_id").alias("n_products"),
        F.countDistinct("merchant_id").alias("n_merchants"),
        F.avg((F.col("status") == "refunded").cast("double")).alias("refund_rate"),
        F.log1p(F.avg("amount")).alias("log_mean_amount"),
    )
    top = orders.groupBy(B, "merchant_id").agg(F.count(F.lit(1)).alias("_n")).groupBy(B).agg(F.max("_n").alias("_top"))
    base = base.join(top, B).withColumn("top_merchant_order_share", F.col("_top") / F.col("n_orders")).drop("_top")
    rev = (
        before(t["reviews"], "reviewed_at", as_of)
        .groupBy(B)
        .agg(
            F.count(F.lit(1)).alias("n_reviews"), F.avg((F.col("rating") == 5).cast("double")).alias("five_star_share")
        )
    )
    counts, pairs = shared_identifier_links(t["identities"], as_of, hub_min_degree, "buyer")
    counts = counts.withColumnRenamed("entity_id", B)
    n_linked = (
        pairs.where(F.col("other_type") == "buyer")
        .groupBy(F.col("entity_id").alias(B))
        .agg(F.countDistinct("other_id").alias("n_linked_buyers"))
    )
    linked = linked_buyers(t["identities"], as_of, hub_min_degree)
    # 2-hop: over the buyer's products, the share of *other* buyers' orders placed by linked accounts,
    # and how many buyers of its products also bought another of its products (a shared buyer pool)
    bp = (
        orders.select(B, "product_id")
        .distinct()
        .join(linked, B, "left")
        .withColumn("_l", F.coalesce("_linked", F.lit(0)))
    )
    per_product = bp.groupBy("product_id").agg(F.sum("_l").alias("_pl"), F.count(F.lit(1)).alias("_pn"))
    co = (
        bp.join(per_product, "product_id")
        .groupBy(B)
        .agg(
            (F.sum(F.col("_pl") - F.col("_l")) / F.greatest(F.sum(F.col("_pn") - 1), F.lit(1))).alias(
                "co_buyer_linked_share"
            ),
        )
    )
    # products with many buyers are popular, not evidence, and would make the self-join quadratic
    small = per_product.where(F.col("_pn") <= max_product_buyers).select("product_id")
    pairs_bp = bp.select(B, "product_id").join(small, "product_id", "left_semi")
    eng = engine or EngineConfig()
    overlap = max_shared_neighbours(pairs_bp, B, "product_id", "product_buyer_overlap", eng.engine, eng.local_max_edges)
    out = base
    for part in (rev, counts, n_linked, co, overlap):
        out = out.join(part, B, "left")
    out = out.fillna(0, subset=["n_reviews", "product_buyer_overlap", "co_buyer_linked_share"])
    out = out.withColumn("reviews_per_order", F.col("n_reviews") / F.greatest(F.col("n_orders"), F.lit(1)))
    out = join_cluster_facts(
        out, cluster_facts(entity_features, "buyer", B, BUYER_CLUSTER_COLUMNS), B, BUYER_CLUSTER_COLUMNS
    )
    return as_doubles(out, B, as_of, BUYER_FEATURES)
