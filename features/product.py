"""Listing (product) features as of a date: duplicate spam, counterfeit, brushing targets, quality.

Point in time: listings created, orders placed (status as of the date from ``order_events``),
reviews, promotions and reports strictly before ``as_of``.  Optional graph inputs of the same date:
the ``duplicates`` stage's near-duplicate members and brand violations, and the ``clusters`` stage's
brushing blocks (a listing that is a brushing target).  No feature reads a label.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from fraudmine.features.frames import as_doubles, before, days_between
from fraudmine.features.merchant import status_as_of

PRODUCT_ID = "product_id"
P = PRODUCT_ID

PRODUCT_FEATURES: tuple[str, ...] = (
    "listing_age_days",
    "log_price",
    "log_price_vs_category",
    "seller_age_days",
    "n_orders",
    "refund_rate",
    "cancel_rate",
    "orders_per_buyer",
    "linked_buyer_order_share",
    "n_reviews",
    "mean_rating",
    "five_star_share",
    "reviews_per_order",
    "n_reports",
    "n_reports_upheld",
    "n_distinct_reporters",
    "n_promotions",
    "n_same_title_in_shop",
    "n_image_shops",
    "dup_cluster_size",
    "dup_cluster_shops",
    "dup_is_copy",
    "unauthorised_protected_claim",
    "n_brand_violation_evidence",
    "brushing_target_blocks",
    "brushing_target_risk",
)

_PRODUCT_RELATIONAL: frozenset[str] = frozenset(
    (
        "linked_buyer_order_share",
        "n_same_title_in_shop",
        "n_image_shops",
        "dup_cluster_size",
        "dup_cluster_shops",
        "dup_is_copy",
        "unauthorised_protected_claim",
        "n_brand_violation_evidence",
        "brushing_target_blocks",
        "brushing_target_risk",
    )
)
PRODUCT_TABULAR_FEATURES: tuple[str, ...] = tuple(c for c in PRODUCT_FEATURES if c not in _PRODUCT_RELATIONAL)
"""Features from the product's own history alone (no shared identifiers, clusters, duplicates, co-reporters)."""


def _orders(t: Mapping[str, DataFrame], as_of: datetime, linked_buyers: DataFrame) -> DataFrame:
    orders = status_as_of(before(t["orders"], "ordered_at", as_of), t.get("order_events"), as_of)
    orders = orders.join(linked_buyers, "buyer_id", "left")
    return orders.groupBy(P).agg(
        F.count(F.lit(1)).alias("n_orders"),
        F.avg((F.col("status") == "refunded").cast("double")).alias("refund_rate"),
        F.avg((F.col("status") == "cancelled").cast("double")).alias("cancel_rate"),
        (F.count(F.lit(1)) / F.countDistinct("buyer_id")).alias("orders_per_buyer"),
        F.avg(F.coalesce(F.col("_linked"), F.lit(0)).cast("double")).alias("linked_buyer_order_share"),
    )


def _reports(t: Mapping[str, DataFrame], as_of: datetime) -> DataFrame:
    reports = before(t["reports"], "reported_at", as_of).where(F.col("target_type") == "product")
    reviewed = F.col("reviewed_at").isNotNull() & (F.col("reviewed_at") < F.lit(as_of))
    return reports.groupBy(F.col("target_id").alias(P)).agg(
        F.count(F.lit(1)).alias("n_reports"),
        F.sum((reviewed & (F.col("outcome") == "upheld")).cast("long")).alias("n_reports_upheld"),
        F.countDistinct("reporter_id").alias("n_distinct_reporters"),
    )


def _listing(t: Mapping[str, DataFrame], as_of: datetime) -> DataFrame:
    products = before(t["products"], "created_at", as_of)
    lp = F.log1p("price")
    cat_median = F.percentile_approx(lp, 0.5).over(Window.partitionBy("category"))
    title = F.trim(F.lower(F.regexp_replace(F.col("title"), r"[\s\p{Punct}]+", " ")))
    same_title = F.count(F.lit(1)).over(Window.partitionBy("merchant_id", "_t")) - 1
    image_shops = F.size(F.collect_set("merchant_id").over(Window.partitionBy("image_phash")))
    auth = before(t["brand_authorizations"], "valid_from", as_of).where(
        F.col("valid_to").isNull() | (F.col("valid_to") > F.lit(as_of))
    )
    protected = t["brands"].where(F.col("protected")).select("brand_id", F.lit(1).alias("_prot"))
    authorised = auth.select("brand_id", "merchant_id", F.lit(1).alias("_auth")).distinct()
    sellers = t["merchants"].select("merchant_id", days_between("registered_at", as_of).alias("seller_age_days"))
    return (
        products.withColumn("_t", title)
        .join(protected, "brand_id", "left")
        .join(authorised, ["brand_id", "merchant_id"], "left")
        .join(sellers, "merchant_id", "left")
        .select(
            P,
            days_between("created_at", as_of).alias("listing_age_days"),
            lp.alias("log_price"),
            (lp - cat_median).alias("log_price_vs_category"),
            "seller_age_days",
            same_title.alias("n_same_title_in_shop"),
            F.when(F.col("image_phash").isNotNull(), image_shops).otherwise(F.lit(0)).alias("n_image_shops"),
            (F.col("_prot").isNotNull() & F.col("_auth").isNull()).cast("double").alias("unauthorised_protected_claim"),
        )
    )


def product_features(
    t: Mapping[str, DataFrame],
    as_of: datetime,
    linked_buyers: DataFrame,
    dup_members: DataFrame | None = None,
    violations: DataFrame | None = None,
    brushing_members: DataFrame | None = None,
) -> DataFrame:
    """All listing features for products created before ``as_of``.

    Args:
        t: clean contract tables by name.
        as_of: instant; only events strictly before it are used.
        linked_buyers: ``[buyer_id, _linked]`` buyers sharing a non-hub identifier with another buyer
            (:func:`fraudmine.features.buyer.linked_buyers`).
        dup_members: ``duplicates/members`` (``cluster_id, product_id, merchant_id, is_canonical``), or ``None``;
            only members created before ``as_of`` count towards a cluster's size and shops.
        violations: ``duplicates/brand_violations`` (``product_id, n_evidence``), or ``None``.
        brushing_members: ``[node_id, risk]`` of brushing-block members (``clusters/members`` joined with the
            block risk), or ``None``.

    The three come from the run date's stages.  For the training rows of an earlier ``as_of`` (``product_train``)
    they are the run date's findings on the listings that existed at ``as_of``, the same approximation as the
    merchants' duplicate features of the training date (``duplicates/merchant_features_train``): the evidence may
    include events between ``as_of`` and the run date, never a label.

    Returns:
        ``[product_id, as_of, *PRODUCT_FEATURES]`` (doubles).
    """
    out = _listing(t, as_of)
    out = out.join(_orders(t, as_of, linked_buyers), P, "left")
    rev = (
        before(t["reviews"], "reviewed_at", as_of)
        .groupBy(P)
        .agg(
            F.count(F.lit(1)).alias("n_reviews"),
            F.avg("rating").cast("double").alias("mean_rating"),
            F.avg((F.col("rating") == 5).cast("double")).alias("five_star_share"),
        )
    )
    promo = before(t["promotions"], "started_at", as_of).groupBy(P).agg(F.count(F.lit(1)).alias("n_promotions"))
    out = out.join(rev, P, "left").join(_reports(t, as_of), P, "left").join(promo, P, "left")
    if dup_members is not None:
        # clusters found at the run date: at an earlier as_of (training rows) only the listings that existed
        # then count (a no-op at the run date, where every member is older)
        existed = before(t["products"], "created_at", as_of).select(P)
        dm = dup_members.select("cluster_id", P, "merchant_id", "is_canonical").join(existed, P)
        size = dm.groupBy("cluster_id").agg(
            F.count(F.lit(1)).alias("dup_cluster_size"), F.countDistinct("merchant_id").alias("dup_cluster_shops")
        )
        dup = dm.join(size, "cluster_id").select(
            P, "dup_cluster_size", "dup_cluster_shops", (~F.col("is_canonical")).cast("double").alias("dup_is_copy")
        )
        out = out.join(dup.dropDuplicates([P]), P, "left")
    else:
        out = out.select("*", *[F.lit(0.0).alias(c) for c in ("dup_cluster_size", "dup_cluster_shops", "dup_is_copy")])
    if violations is not None:
        vio = violations.groupBy(P).agg(F.max("n_evidence").alias("n_brand_violation_evidence"))
        out = out.join(vio, P, "left")
    else:
        out = out.withColumn("n_brand_violation_evidence", F.lit(0.0))
    if brushing_members is not None:
        bm = (
            brushing_members.where(F.col("node_id").startswith("product:"))
            .groupBy(F.regexp_extract("node_id", r"^product:(.*)$", 1).alias(P))
            .agg(F.count(F.lit(1)).alias("brushing_target_blocks"), F.max("risk").alias("brushing_target_risk"))
        )
        out = out.join(bm, P, "left")
    else:
        out = out.select("*", F.lit(0.0).alias("brushing_target_blocks"), F.lit(0.0).alias("brushing_target_risk"))
    fill = [
        "dup_cluster_size",
        "dup_cluster_shops",
        "dup_is_copy",
        "n_brand_violation_evidence",
        "brushing_target_blocks",
        "brushing_target_risk",
    ]
    out = out.fillna(0, subset=[*fill, "n_orders", "n_reviews"])
    out = out.withColumn("reviews_per_order", F.col("n_reviews") / F.greatest(F.col("n_orders"), F.lit(1)))
    return as_doubles(out, P, as_of, PRODUCT_FEATURES)
