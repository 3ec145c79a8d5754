"""Feature column names, and the reason code each feature maps to when it drives a score."""

from __future__ import annotations

MERCHANT_ID = "merchant_id"
AS_OF = "as_of"

# merchant feature column -> moderation reason code shown to analysts and moderation systems
MERCHANT_FEATURE_REASONS: dict[str, str] = {
    "account_age_days": "NEW_ACCOUNT",
    "n_products": "LISTING_VOLUME",
    "n_categories": "CATEGORY_SPREAD",
    "log_price_mean": "PRICE_PROFILE",
    "log_price_std": "PRICE_PROFILE",
    "n_orders": "ORDER_VOLUME",
    "log_gmv": "ORDER_VOLUME",
    "refund_rate": "HIGH_REFUND_RATE",
    "cancel_rate": "HIGH_CANCEL_RATE",
    "orders_per_buyer": "REPEAT_BUYER_CONCENTRATION",
    "linked_buyer_order_share": "BRUSHING_LINKED_BUYERS",
    "n_reviews": "REVIEW_VOLUME",
    "mean_rating": "RATING_PROFILE",
    "five_star_share": "REVIEW_FIVE_STAR_SHARE",
    "reviews_per_order": "REVIEW_PER_ORDER",
    "n_reports": "USER_REPORTS",
    "n_reports_upheld": "UPHELD_REPORTS",
    "n_reports_rejected": "REJECTED_REPORTS",
    "n_distinct_reporters": "USER_REPORTS",
    "n_promotions": "PROMOTION_ACTIVITY",
    "log_views_per_gmv": "PROMOTION_ENGAGEMENT_ANOMALY",
    "n_identifiers": "IDENTITY_PROFILE",
    "n_hub_identifiers": "IDENTITY_PROFILE",
    "n_shared_identifiers": "SHARED_IDENTIFIERS",
    "n_linked_merchants": "LINKED_TO_OTHER_SHOPS",
    "n_linked_creators": "LINKED_TO_CREATORS",
    "n_promotions_by_linked_creators": "CREATOR_MERCHANT_COLLUSION",
    "n_cross_shop_image_dups": "DUPLICATE_LISTINGS",
    "n_within_shop_title_dups": "DUPLICATE_LISTINGS",
    "n_unauthorised_protected_claims": "UNAUTHORISED_BRAND_CLAIM",
    # near-duplicate clusters of the ``duplicates`` stage (0 when the stage did not run)
    "dup_cross_share": "CROSS_SHOP_DUPLICATES",
    "n_dup_listings": "DUPLICATE_LISTINGS",
    "dup_max_cluster_size": "DUPLICATE_CLUSTER_SIZE",
    "n_dup_clusters": "DUPLICATE_LISTINGS",
    # brand violations of the ``duplicates`` stage (typo-squats, homoglyphs, price far below, copied image)
    "n_brand_violations": "BRAND_VIOLATION",
    "n_counterfeit_patterns": "COUNTERFEIT_PATTERN",
    "max_violation_evidence": "BRAND_VIOLATION",
    # PageRank over the as-of commerce graph (``features/graph_rank.py``; 0 when the graph stage did not run)
    "pagerank_rel": "NETWORK_CENTRALITY",
    "ppr_bad_lift": "CLOSE_TO_KNOWN_FRAUD",
}

# Columns of the per-merchant duplicate table joined by ``merchant_features(..., duplicates=...)``.
DUPLICATE_FEATURES: tuple[str, ...] = (
    "dup_cross_share",
    "n_dup_listings",
    "dup_max_cluster_size",
    "n_dup_clusters",
    "n_brand_violations",
    "n_counterfeit_patterns",
    "max_violation_evidence",
)

FEATURE_COLUMNS: tuple[str, ...] = tuple(MERCHANT_FEATURE_REASONS)
"""The merchant model's features, in model order."""

# reason codes of the creator, listing, buyer and reporter features (``features/{creator,product,buyer,reporter}.py``)
ENTITY_FEATURE_REASONS: dict[str, str] = {
    # creators
    "log_followers": "AUDIENCE_SIZE",
    "n_promoted_products": "PROMOTION_ACTIVITY",
    "n_promoted_merchants": "PROMOTION_ACTIVITY",
    "top_merchant_promo_share": "PROMOTES_FEW_SHOPS",
    "like_rate": "PROMOTION_ENGAGEMENT_ANOMALY",
    "n_promotions_of_linked_merchants": "PROMOTES_LINKED_SHOPS",
    "promoted_max_collusion_risk": "PROMOTES_COLLUSION_CLUSTER",
    "promoted_in_collusion_share": "PROMOTES_COLLUSION_CLUSTER",
    # clusters stage (any entity type)
    "identity_cluster_size": "IDENTITY_CLUSTER",
    "identity_cluster_risk": "IDENTITY_CLUSTER",
    "identity_bad_members_oof": "IDENTITY_CLUSTER_BAD_MEMBERS",
    "collusion_cluster_size": "COLLUSION_CLUSTER",
    "collusion_cluster_risk": "COLLUSION_CLUSTER",
    "collusion_bad_members_oof": "COLLUSION_CLUSTER_BAD_MEMBERS",
    "brushing_blocks": "BRUSHING_BLOCK",
    "brushing_max_risk": "BRUSHING_BLOCK",
    "reporter_ring_size": "REPORTER_RING",
    "reporter_ring_risk": "REPORTER_RING",
    "reporter_credibility": "LOW_REPORTER_CREDIBILITY",
    "reporter_n_reviewed": "REPORTER_HISTORY",
    # listings
    "listing_age_days": "NEW_LISTING",
    "log_price": "PRICE_PROFILE",
    "log_price_vs_category": "PRICE_FAR_BELOW_CATEGORY",
    "seller_age_days": "NEW_SELLER",
    "n_same_title_in_shop": "DUPLICATE_LISTINGS",
    "n_image_shops": "CROSS_SHOP_DUPLICATES",
    "dup_cluster_size": "DUPLICATE_CLUSTER_SIZE",
    "dup_cluster_shops": "CROSS_SHOP_DUPLICATES",
    "dup_is_copy": "DUPLICATE_COPY",
    "unauthorised_protected_claim": "UNAUTHORISED_BRAND_CLAIM",
    "n_brand_violation_evidence": "BRAND_VIOLATION",
    "brushing_target_blocks": "BRUSHING_TARGET",
    "brushing_target_risk": "BRUSHING_TARGET",
    # buyers
    "active_days": "ACTIVITY_SPAN",
    "n_merchants": "SHOP_SPREAD",
    "top_merchant_order_share": "ORDERS_CONCENTRATED_ON_SHOP",
    "log_mean_amount": "ORDER_VALUE",
    "n_linked_buyers": "LINKED_BUYER_ACCOUNTS",
    "co_buyer_linked_share": "CO_BUYERS_LINKED",
    "product_buyer_overlap": "SHARED_BUYER_POOL",
    # reporters
    "n_report_targets": "REPORT_TARGETS",
    "top_target_report_share": "REPORTS_CONCENTRATED_ON_TARGET",
    "rejected_report_share": "REJECTED_REPORTS",
    "report_without_order_share": "REPORTS_WITHOUT_PURCHASE",
    "report_text_missing_share": "REPORTS_WITHOUT_TEXT",
    "target_co_reporters": "CO_REPORTERS",
    "target_burst_share": "REPORT_BURSTS",
}

FEATURE_REASONS: dict[str, str] = {**MERCHANT_FEATURE_REASONS, **ENTITY_FEATURE_REASONS}
"""Feature → reason code for every entity type (a feature name means the same thing everywhere,
except where :data:`REASON_OVERRIDES` says otherwise)."""

REASON_OVERRIDES: dict[str, dict[str, str]] = {
    "reporter": {
        "n_reports": "REPORTS_FILED",
        "n_reports_rejected": "REJECTED_REPORTS",
        "n_orders": "PURCHASE_HISTORY",
    },
    "buyer": {"n_orders": "ORDER_VOLUME", "refund_rate": "HIGH_REFUND_RATE"},
}


def reason_codes(entity_type: str) -> dict[str, str]:
    """Feature → reason code for one entity type."""
    return {**FEATURE_REASONS, **REASON_OVERRIDES.get(entity_type, {})}


# Features computed from per-account history alone (no relations to other
# accounts).  The evaluation compares a model on these with the full set.
TABULAR_FEATURES: tuple[str, ...] = (
    "account_age_days",
    "n_products",
    "n_categories",
    "log_price_mean",
    "log_price_std",
    "n_orders",
    "log_gmv",
    "refund_rate",
    "cancel_rate",
    "orders_per_buyer",
    "n_reviews",
    "mean_rating",
    "five_star_share",
    "reviews_per_order",
    "n_reports",
    "n_reports_upheld",
    "n_reports_rejected",
    "n_distinct_reporters",
    "n_promotions",
    "log_views_per_gmv",
    "n_identifiers",
)
