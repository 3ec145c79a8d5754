"""The scored entity types besides merchants: id column, features, label-free rules, trainability.

Merchants keep their calibrated LightGBM heads (``models/bundle.py``).  Creators (``labels`` rows) and
listings (moderator verdicts on ``product_listing`` items, :func:`fraudmine.decisions.outcomes.outcome_labels`)
get a calibrated LightGBM fraud head when the labels known before the run date are enough
(``model.min_*_labels``) **and** the head beats its label-free rule out of fold on them
(:mod:`fraudmine.models.head_vs_rule`); otherwise the rule below scores them
(:mod:`fraudmine.models.rank_score`, ``calibrated=false``); the listing rule is evidence-first per typology
(:mod:`fraudmine.models.evidence_rule`).  Buyers and reporters have no labels in the contract, so their rules
always score them.

Reporters are buyers in their role of report filers: entity type ``reporter``, the buyer's raw id.
"""

from __future__ import annotations

from dataclasses import dataclass

from fraudmine.features.buyer import BUYER_FEATURES, BUYER_ID
from fraudmine.features.creator import CREATOR_FEATURES, CREATOR_ID
from fraudmine.features.product import PRODUCT_FEATURES, PRODUCT_ID
from fraudmine.features.reporter import REPORTER_FEATURES, REPORTER_ID
from fraudmine.models.evidence_rule import EvidencePart, EvidenceRule
from fraudmine.models.rank_score import RankRule, ScoringRule


@dataclass(frozen=True)
class EntitySpec:
    """How one entity type is featurised and scored.

    Attributes:
        entity_type: ``entity_type`` value in the scores table.
        id_col: raw id column of its feature table (``features/<entity_type>_score``).
        features: feature columns (model order of a LightGBM head).
        fraud_rule: label-free rule of ``fraud_risk`` (the fallback of a trainable type).
        low_quality_rule: label-free rule of ``low_quality_risk``; ``None`` where the notion does not apply.
        trainable: labels of this type may exist (a LightGBM head is tried first).
    """

    entity_type: str
    id_col: str
    features: tuple[str, ...]
    fraud_rule: ScoringRule
    low_quality_rule: ScoringRule | None = None
    trainable: bool = False


CREATOR = EntitySpec(
    "creator",
    CREATOR_ID,
    CREATOR_FEATURES,
    RankRule(
        "creator_collusion_v1",
        (
            ("promoted_max_collusion_risk", 2.0),
            ("promoted_in_collusion_share", 1.0),
            ("n_promotions_of_linked_merchants", 2.0),
            ("n_linked_merchants", 1.0),
            ("collusion_cluster_risk", 2.0),
            ("identity_cluster_risk", 1.0),
            ("top_merchant_promo_share", 1.0),
            ("log_views_per_gmv", 1.0),
            ("n_reports_upheld", 1.0),
        ),
    ),
    trainable=True,
)

PRODUCT = EntitySpec(
    "product",
    PRODUCT_ID,
    PRODUCT_FEATURES,
    EvidenceRule(
        "listing_abuse_v2",
        (
            EvidencePart(
                RankRule(
                    "duplicate",
                    (
                        ("dup_cluster_shops", 2.0),
                        ("dup_is_copy", 1.0),
                        ("dup_cluster_size", 1.0),
                        ("n_same_title_in_shop", 1.0),
                        ("n_image_shops", 1.0),
                        ("n_reports_upheld", 1.0),
                    ),
                ),
                (("dup_cluster_size", 2.0),),
            ),
            EvidencePart(
                RankRule(
                    "counterfeit",
                    (
                        ("n_brand_violation_evidence", 2.0),
                        ("unauthorised_protected_claim", 1.0),
                        ("log_price_vs_category", -1.0),
                        ("seller_age_days", -0.5),
                        ("n_reports_upheld", 1.0),
                    ),
                ),
                (("n_brand_violation_evidence", 1.0), ("unauthorised_protected_claim", 1.0)),
            ),
            EvidencePart(
                RankRule(
                    "brushing",
                    (
                        ("brushing_target_risk", 2.0),
                        ("brushing_target_blocks", 1.0),
                        ("linked_buyer_order_share", 1.0),
                        ("n_orders", 1.0),
                        ("five_star_share", 0.5),
                        ("reviews_per_order", 0.5),
                        ("n_reports_upheld", 1.0),
                    ),
                ),
                (("brushing_target_blocks", 1.0),),
            ),
        ),
    ),
    RankRule(
        "listing_quality_v1",
        (
            ("refund_rate", 2.0),
            ("cancel_rate", 1.0),
            ("mean_rating", -1.0),
            ("n_reports_upheld", 1.0),
            ("n_reports", 0.5),
        ),
    ),
    trainable=True,
)

BUYER = EntitySpec(
    "buyer",
    BUYER_ID,
    BUYER_FEATURES,
    RankRule(
        "brushing_v1",
        (
            ("brushing_max_risk", 2.0),
            ("brushing_blocks", 1.0),
            ("product_buyer_overlap", 2.0),
            ("co_buyer_linked_share", 1.0),
            ("top_merchant_order_share", 1.0),
            ("n_linked_buyers", 1.0),
            ("n_shared_identifiers", 1.0),
            ("five_star_share", 0.5),
            ("reviews_per_order", 0.5),
        ),
    ),
)

REPORTER = EntitySpec(
    "reporter",
    REPORTER_ID,
    REPORTER_FEATURES,
    RankRule(
        "malicious_reporting_v1",
        (
            ("reporter_ring_risk", 2.0),
            ("reporter_ring_size", 1.0),
            ("target_burst_share", 2.0),
            ("rejected_report_share", 1.0),
            ("reporter_credibility", -1.0),
            ("report_without_order_share", 1.0),
            ("top_target_report_share", 1.0),
            ("target_co_reporters", 0.5),
        ),
    ),
)

ENTITY_SPECS: dict[str, EntitySpec] = {s.entity_type: s for s in (CREATOR, PRODUCT, BUYER, REPORTER)}
"""Every scored entity type except ``merchant``, in scoring order."""

SCORED_ENTITY_TYPES: tuple[str, ...] = ("merchant", *ENTITY_SPECS)
