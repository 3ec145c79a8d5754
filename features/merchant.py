"""Baseline merchant features, computed as of a date.

Every function takes the clean tables and an ``as_of`` instant and uses only
events strictly before it (products created, orders placed, reviews, reports
filed, identities first seen); report outcomes count only once reviewed before
``as_of``.  Calling :func:`merchant_features` at the training cutoff and again
at the run date gives time-safe training and scoring frames.

The only label-derived features are the PageRank ones joined from
:func:`fraudmine.features.graph_rank.pagerank_features` (``ranks``), computed out of fold there.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraudmine.features.columns import AS_OF, DUPLICATE_FEATURES, FEATURE_COLUMNS, MERCHANT_ID
from fraudmine.features.frames import before
from fraudmine.features.graph_rank import RANK_FEATURES, rank_facts
from fraudmine.graph.build import identifier_degrees

M = MERCHANT_ID


def _only(df: DataFrame, merchants: DataFrame | None) -> DataFrame:
    """Rows of ``df`` whose ``merchant_id`` is in ``merchants`` (all rows when ``None``)."""
    return df if merchants is None else df.join(merchants, M, "left_semi")


def _product_merchant(t: Mapping[str, DataFrame], as_of: datetime, merchants: DataFrame | None = None) -> DataFrame:
    return _only(before(t["products"], "created_at", as_of).select("product_id", M), merchants)


def listing_features(t: Mapping[str, DataFrame], as_of: datetime, merchants: DataFrame | None = None) -> DataFrame:
    """Account age, listing volume, category spread and price profile per merchant (of ``merchants`` if given)."""
    products = _only(before(t["products"], "created_at", as_of), merchants)
    prod = products.groupBy(M).agg(
        F.count(F.lit(1)).alias("n_products"),
        F.countDistinct("category").alias("n_categories"),
        F.avg(F.log1p("price")).alias("log_price_mean"),
        F.coalesce(F.stddev_samp(F.log1p("price")), F.lit(0.0)).alias("log_price_std"),
    )
    registered = _only(before(t["merchants"], "registered_at", as_of), merchants).select(
        M,
        ((F.lit(as_of).cast("long") - F.col("registered_at").cast("long")) / 86400.0).alias("account_age_days"),
    )
    return registered.join(prod, M, "left")


def status_as_of(orders: DataFrame, events: DataFrame | None, as_of: datetime) -> DataFrame:
    """Replace ``status`` by each order's status at ``as_of``: its last ``order_events`` row before it.

    A refund or cancellation recorded after ``as_of`` is not seen at ``as_of`` (no
    leakage from the future).  ``placed`` (not yet delivered) counts as completed.
    Orders without events (an input without the optional table) keep ``orders.status``.
    """
    if events is None:
        return orders
    last = (
        before(events, "event_at", as_of)
        .groupBy("order_id")
        .agg(F.max_by("status", F.struct("event_at", "event_id")).alias("_status"))
    )
    asof = F.when(F.col("_status") == "placed", F.lit("completed")).otherwise(F.col("_status"))
    return orders.join(last, "order_id", "left").withColumn("status", F.coalesce(asof, F.col("status"))).drop("_status")


def order_features(
    t: Mapping[str, DataFrame], as_of: datetime, hub_min_degree: int, merchants: DataFrame | None = None
) -> DataFrame:
    """Order volume, refund/cancel rates, buyer concentration and the share of orders from linked buyers.

    A *linked buyer* shares a non-hub identifier (device, payment, ...) with another
    buyer: dense blocks of such accounts are the footprint of brushing farms.  With
    ``merchants``, only their orders and those orders' status events are read.
    """
    orders = before(t["orders"], "ordered_at", as_of).join(_product_merchant(t, as_of, merchants), "product_id")
    events = t.get("order_events")
    if merchants is not None and events is not None:  # every event of a kept order is kept: same status
        events = events.join(F.broadcast(orders.select("order_id")), "order_id", "left_semi")
    orders = status_as_of(orders, events, as_of)
    buyer_ids = before(t["identities"], "first_seen", as_of).where(F.col("entity_type") == "buyer")
    deg = identifier_degrees(buyer_ids, hub_min_degree).where((F.col("degree") >= 2) & ~F.col("is_hub"))
    linked_buyers = (
        buyer_ids.join(deg, ["identifier_type", "identifier_hash"], "left_semi")
        .select(F.col("entity_id").alias("buyer_id"))
        .distinct()
        .withColumn("_linked", F.lit(1))
    )
    orders = orders.join(linked_buyers, "buyer_id", "left")
    return orders.groupBy(M).agg(
        F.count(F.lit(1)).alias("n_orders"),
        F.log1p(F.sum("amount")).alias("log_gmv"),
        F.avg((F.col("status") == "refunded").cast("double")).alias("refund_rate"),
        F.avg((F.col("status") == "cancelled").cast("double")).alias("cancel_rate"),
        (F.count(F.lit(1)) / F.countDistinct("buyer_id")).alias("orders_per_buyer"),
        F.avg(F.coalesce(F.col("_linked"), F.lit(0)).cast("double")).alias("linked_buyer_order_share"),
    )


def review_features(t: Mapping[str, DataFrame], as_of: datetime, merchants: DataFrame | None = None) -> DataFrame:
    """Review volume, mean rating and five-star share per merchant."""
    reviews = before(t["reviews"], "reviewed_at", as_of).join(_product_merchant(t, as_of, merchants), "product_id")
    return reviews.groupBy(M).agg(
        F.count(F.lit(1)).alias("n_reviews"),
        F.avg("rating").cast("double").alias("mean_rating"),
        F.avg((F.col("rating") == 5).cast("double")).alias("five_star_share"),
    )


def report_features(t: Mapping[str, DataFrame], as_of: datetime, merchants: DataFrame | None = None) -> DataFrame:
    """Reports against the merchant or its products; outcomes only when reviewed before ``as_of``."""
    reports = before(t["reports"], "reported_at", as_of)
    pm = _product_merchant(t, as_of, merchants)
    direct = _only(reports.where(F.col("target_type") == "merchant").withColumnRenamed("target_id", M), merchants)
    via_product = (
        reports.where(F.col("target_type") == "product")
        .join(pm, F.col("target_id") == F.col("product_id"))
        .drop("target_id", "product_id")
    )
    allr = direct.unionByName(via_product)
    reviewed = F.col("reviewed_at").isNotNull() & (F.col("reviewed_at") < F.lit(as_of))
    return allr.groupBy(M).agg(
        F.count(F.lit(1)).alias("n_reports"),
        F.sum((reviewed & (F.col("outcome") == "upheld")).cast("long")).alias("n_reports_upheld"),
        F.sum((reviewed & (F.col("outcome") == "rejected")).cast("long")).alias("n_reports_rejected"),
        F.countDistinct("reporter_id").alias("n_distinct_reporters"),
    )


def identity_features(
    t: Mapping[str, DataFrame], as_of: datetime, hub_min_degree: int, merchants: DataFrame | None = None
) -> DataFrame:
    """Identifier sharing: shared non-hub identifiers, linked shops and linked creators per merchant.

    Degrees and linked accounts are over every account; ``merchants`` only restricts whose rows are computed.
    """
    idt = before(t["identities"], "first_seen", as_of)
    deg = identifier_degrees(idt, hub_min_degree)
    idt = idt.join(deg, ["identifier_type", "identifier_hash"])
    mine = _only(
        idt.where(F.col("entity_type") == "merchant").select(
            F.col("entity_id").alias(M), "identifier_type", "identifier_hash", "degree", "is_hub"
        ),
        merchants,
    )
    base = mine.groupBy(M).agg(
        F.count(F.lit(1)).alias("n_identifiers"),
        F.sum(F.col("is_hub").cast("long")).alias("n_hub_identifiers"),
        F.sum(((F.col("degree") >= 2) & ~F.col("is_hub")).cast("long")).alias("n_shared_identifiers"),
    )
    evidence = mine.where(~F.col("is_hub")).select(M, "identifier_type", "identifier_hash")
    others = idt.where(~F.col("is_hub")).select(
        "entity_type", F.col("entity_id").alias("other_id"), "identifier_type", "identifier_hash"
    )
    pairs = evidence.join(others, ["identifier_type", "identifier_hash"]).where(
        ~((F.col("entity_type") == "merchant") & (F.col("other_id") == F.col(M)))
    )
    linked = pairs.groupBy(M).agg(
        F.countDistinct(F.when(F.col("entity_type") == "merchant", F.col("other_id"))).alias("n_linked_merchants"),
        F.countDistinct(F.when(F.col("entity_type") == "creator", F.col("other_id"))).alias("n_linked_creators"),
    )
    creator_links = pairs.where(F.col("entity_type") == "creator").select(M, F.col("other_id").alias("creator_id"))
    promos = before(t["promotions"], "started_at", as_of).join(_product_merchant(t, as_of, merchants), "product_id")
    by_linked = (
        promos.join(creator_links.distinct(), [M, "creator_id"], "left_semi")
        .groupBy(M)
        .agg(F.count(F.lit(1)).alias("n_promotions_by_linked_creators"))
    )
    return base.join(linked, M, "left").join(by_linked, M, "left")


def promotion_features(t: Mapping[str, DataFrame], as_of: datetime, merchants: DataFrame | None = None) -> DataFrame:
    """Promotion volume and views per unit of attributed GMV (fake engagement inflates views)."""
    promos = before(t["promotions"], "started_at", as_of).join(_product_merchant(t, as_of, merchants), "product_id")
    return promos.groupBy(M).agg(
        F.count(F.lit(1)).alias("n_promotions"),
        (F.log1p(F.sum("views")) - F.log1p(F.sum("gmv"))).alias("log_views_per_gmv"),
    )


def listing_abuse_features(
    t: Mapping[str, DataFrame], as_of: datetime, merchants: DataFrame | None = None
) -> DataFrame:
    """Exact duplicate images across shops, duplicate titles in a shop, unauthorised protected-brand claims.

    The shops per image are counted over every shop; ``merchants`` only restricts whose rows are computed.
    """
    every = before(t["products"], "created_at", as_of)
    products = _only(every, merchants)
    phash_shops = (
        every.where(F.col("image_phash").isNotNull()).groupBy("image_phash").agg(F.countDistinct(M).alias("_shops"))
    )
    cross = (
        products.join(phash_shops.where(F.col("_shops") >= 2), "image_phash")
        .groupBy(M)
        .agg(F.count(F.lit(1)).alias("n_cross_shop_image_dups"))
    )
    norm_title = F.lower(F.regexp_replace(F.col("title"), r"[\s\p{Punct}]+", " "))
    within = (
        products.withColumn("_t", norm_title)
        .groupBy(M, "_t")
        .agg(F.count(F.lit(1)).alias("_n"))
        .where(F.col("_n") >= 2)
        .groupBy(M)
        .agg(F.sum(F.col("_n") - 1).alias("n_within_shop_title_dups"))
    )
    auth = before(t["brand_authorizations"], "valid_from", as_of).where(
        F.col("valid_to").isNull() | (F.col("valid_to") > F.lit(as_of))
    )
    protected = t["brands"].where(F.col("protected")).select("brand_id")
    claims = (
        products.where(F.col("brand_id").isNotNull())
        .join(protected, "brand_id", "left_semi")
        .join(auth.select("brand_id", M), ["brand_id", M], "left_anti")
        .groupBy(M)
        .agg(F.count(F.lit(1)).alias("n_unauthorised_protected_claims"))
    )
    return cross.join(within, M, "full").join(claims, M, "full")


def merchant_features(
    t: Mapping[str, DataFrame],
    as_of: datetime,
    hub_min_degree: int,
    duplicates: DataFrame | None = None,
    merchants: DataFrame | None = None,
    ranks: DataFrame | None = None,
) -> DataFrame:
    """All baseline features for merchants registered before ``as_of`` (and in ``merchants`` if given).

    Args:
        t: clean contract tables by name.
        as_of: instant; only events strictly before it are used.
        hub_min_degree: identifiers shared by at least this many accounts are hubs (not evidence).
        duplicates: ``[merchant_id, *DUPLICATE_FEATURES]`` as of the same instant (the ``duplicates``
            stage's ``merchant_features[_train]``); missing merchants and a missing table give 0.
        merchants: ``[merchant_id]``: compute only these merchants' rows (the training frame needs the
            labelled ones only; meant for a small share: their orders' ids are broadcast).  Every value of
            a kept merchant is the same as without it: counts over other accounts (identifier degrees,
            linked shops, shops per image) still see every account.
        ranks: :func:`~fraudmine.features.graph_rank.pagerank_features` as of the same instant (out of fold);
            missing merchants and a missing table give 0.

    Returns:
        DataFrame ``[merchant_id, as_of, *FEATURE_COLUMNS]``; counts are 0 and rates
        null where the merchant has no events of that kind (LightGBM handles nulls).
    """
    only = merchants
    out = listing_features(t, as_of, only)
    for part in (
        order_features(t, as_of, hub_min_degree, only),
        review_features(t, as_of, only),
        report_features(t, as_of, only),
        identity_features(t, as_of, hub_min_degree, only),
        promotion_features(t, as_of, only),
        listing_abuse_features(t, as_of, only),
    ):
        out = out.join(part, M, "left")
    if duplicates is not None:
        out = out.join(duplicates.select(M, *DUPLICATE_FEATURES), M, "left")
    else:
        out = out.select("*", *[F.lit(0.0).alias(c) for c in DUPLICATE_FEATURES])
    out = out.fillna(0, subset=list(DUPLICATE_FEATURES))
    facts = rank_facts(ranks, "merchant", M)
    if facts is not None:
        out = out.join(facts, M, "left")
    else:
        out = out.select("*", *[F.lit(0.0).alias(c) for c in RANK_FEATURES])
    out = out.fillna(0, subset=list(RANK_FEATURES))
    counts = [c for c in FEATURE_COLUMNS if c.startswith("n_")]
    out = out.fillna(0, subset=counts)
    out = out.withColumn("reviews_per_order", F.col("n_reviews") / F.greatest(F.col("n_orders"), F.lit(1)))
    typed = [F.col(c).cast("double").alias(c) for c in FEATURE_COLUMNS]
    return out.select(M, F.lit(as_of).cast("timestamp").alias(AS_OF), *typed)
