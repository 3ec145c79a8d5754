"""Feature column names, and the reason code each feature maps to when it drives a score."""

from __future__ import annotations

MERCHANT_ID = "merchant_id"
AS_OF = "as_of"

# feature column -> moderation reason code shown to analysts and moderation systems
FEATURE_REASONS: dict[str, str] = {
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
}

# Columns of the per-merchant duplicate table joined by ``merchant_features(..., duplicates=...)``.
DUPLICATE_FEATURES: tuple[str, ...] = ("dup_cross_share", "n_dup_listings", "dup_max_cluster_size", "n_dup_clusters")

FEATURE_COLUMNS: tuple[str, ...] = tuple(FEATURE_REASONS)

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
