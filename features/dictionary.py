"""The feature dictionary: every model feature with its meaning, source and leakage notes, generated from the code.

The feature *sets* come from the code that scores (``FEATURE_COLUMNS`` and the ``*_FEATURES`` tuples of
``features/``); the *source* of a feature is found by reading the feature modules for the place that
computes the column; meanings and leakage notes are declared here, once per column name, and a test fails
when a feature exists without an entry or an entry has no feature.  ``python -m fraudmine.features.dictionary``
(``make features-doc``) renders ``docs/feature-dictionary.md``; the train stage writes the same Markdown into
the model bundle, so MLflow logs it beside every model version.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fraudmine.features.buyer import BUYER_FEATURES
from fraudmine.features.columns import FEATURE_COLUMNS
from fraudmine.features.creator import CREATOR_FEATURES
from fraudmine.features.product import PRODUCT_FEATURES
from fraudmine.features.reporter import REPORTER_FEATURES

FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "merchant": FEATURE_COLUMNS,
    "creator": CREATOR_FEATURES,
    "product": PRODUCT_FEATURES,
    "buyer": BUYER_FEATURES,
    "reporter": REPORTER_FEATURES,
}
"""Entity type → its model's features, in model order (the code's own tuples)."""

# ``{e}`` is the entity type of the row ("merchant", "listing", ...).
MEANINGS: dict[str, str] = {
    "account_age_days": "days from the {e}'s registration to D",
    "active_days": "days between the buyer's first and last order before D",
    "brushing_blocks": "brushing blocks (dense buyer-product subgraphs) the buyer belongs to",
    "brushing_max_risk": "highest risk among the buyer's brushing blocks",
    "brushing_target_blocks": "brushing blocks in which the listing is a target product",
    "brushing_target_risk": "highest risk among the brushing blocks targeting the listing",
    "cancel_rate": "share of the {e}'s orders cancelled as of D",
    "co_buyer_linked_share": "share of the buyer's co-buyers (same products) that share an identifier with it",
    "collusion_bad_members_oof": "labelled-bad members of the {e}'s collusion cluster, out of fold",
    "collusion_cluster_risk": "risk of the {e}'s collusion cluster (multi-channel seller community)",
    "collusion_cluster_size": "members of the {e}'s collusion cluster",
    "dup_cluster_shops": "distinct shops in the listing's near-duplicate cluster",
    "dup_cluster_size": "listings in the listing's near-duplicate cluster",
    "dup_cross_share": "share of the merchant's listings in a duplicate cluster holding another shop's listing",
    "dup_is_copy": "1 when the listing is a non-canonical member of a cross-shop duplicate cluster",
    "dup_max_cluster_size": "largest duplicate cluster among the merchant's listings",
    "five_star_share": "share of the {e}'s reviews with five stars",
    "identity_bad_members_oof": "labelled-bad members of the {e}'s identity cluster, out of fold",
    "identity_cluster_risk": "risk of the {e}'s identity cluster (accounts linked by rare shared identifiers)",
    "identity_cluster_size": "accounts in the {e}'s identity cluster",
    "like_rate": "likes per view over the creator's promotions",
    "linked_buyer_order_share": "share of the {e}'s orders placed by buyers sharing an identifier with another buyer",
    "listing_age_days": "days from the listing's creation to D",
    "log_followers": "log(1 + followers) of the creator",
    "log_gmv": "log(1 + GMV) of the merchant's orders",
    "log_mean_amount": "log(1 + mean order amount) of the buyer",
    "log_price": "log(1 + price) of the listing",
    "log_price_mean": "mean log price of the merchant's listings",
    "log_price_std": "standard deviation of log price over the merchant's listings",
    "log_price_vs_category": "listing's log price minus its category's median log price",
    "log_views_per_gmv": "log views minus log GMV of the {e}'s promotions (audience without sales)",
    "mean_rating": "mean review rating of the {e}",
    "n_brand_violations": "merchant's listings with a brand violation (unauthorised claim or counterfeit pattern)",
    "n_counterfeit_patterns": "merchant's listings with counterfeit evidence beyond the claim (typo-squat, price)",
    "max_violation_evidence": "most brand-violation evidence on one of the merchant's listings",
    "n_brand_violation_evidence": "brand-violation evidence on the listing (typo-squat, homoglyph, price, image)",
    "n_categories": "distinct categories of the merchant's listings",
    "n_cross_shop_image_dups": "merchant's listings whose exact image hash appears in another shop",
    "n_distinct_reporters": "distinct users who reported the {e}",
    "n_dup_clusters": "near-duplicate clusters the merchant's listings belong to",
    "n_dup_listings": "merchant's listings in a near-duplicate cluster",
    "n_hub_identifiers": "identifiers of the {e} shared by so many accounts they are hubs (not evidence)",
    "n_identifiers": "identifiers (device, payment, phone, address, IP, bank) the {e} used",
    "n_image_shops": "shops whose listings carry the listing's exact image hash",
    "n_linked_buyers": "other buyers sharing a rare identifier with the buyer",
    "n_linked_creators": "creators sharing a rare identifier with the {e}",
    "n_linked_merchants": "merchants sharing a rare identifier with the {e}",
    "n_merchants": "distinct merchants the buyer ordered from",
    "n_orders": "orders of the {e} placed before D",
    "n_products": "listings the merchant created before D",
    "n_promoted_merchants": "distinct merchants the creator promoted",
    "n_promoted_products": "distinct listings the creator promoted",
    "n_promotions": "promotions (videos, live sessions) of the {e}",
    "n_promotions_by_linked_creators": "promotions of the merchant by creators sharing an identifier with it",
    "n_promotions_of_linked_merchants": "promotions by the creator of merchants sharing an identifier with it",
    "n_report_targets": "distinct targets the reporter reported",
    "n_reports": "user reports against the {e}",
    "n_reports_rejected": "reports against the {e} reviewed and rejected",
    "n_reports_upheld": "reports against the {e} reviewed and upheld",
    "n_reviews": "reviews of the {e}",
    "n_same_title_in_shop": "other listings of the same shop with the same normalised title",
    "n_shared_identifiers": "identifiers the {e} shares with another account (hubs excluded)",
    "n_unauthorised_protected_claims": "merchant's listings naming a protected brand without a valid authorisation",
    "n_within_shop_title_dups": "merchant's listings repeating another of its listings' normalised title",
    "orders_per_buyer": "orders per distinct buyer of the {e}",
    "pagerank_rel": "PageRank of the {e} in the as-of commerce graph (sells, orders, promotions, rare identifiers) "
    "times its node count: 1 = the average node",
    "ppr_bad_lift": "personalised PageRank from labelled-fraud merchants and creators (out of fold) over the {e}'s "
    "plain PageRank: proximity to known fraud beyond what its degree implies (0: no seed reaches it)",
    "product_buyer_overlap": "most products the buyer bought in common with any one other buyer (co-purchase overlap)",
    "promoted_in_collusion_share": "share of the creator's promotions of merchants in a collusion cluster",
    "promoted_max_collusion_risk": "highest collusion-cluster risk among the merchants the creator promoted",
    "refund_rate": "share of the {e}'s orders refunded as of D",
    "rejected_report_share": "share of the reporter's reviewed reports that were rejected",
    "report_text_missing_share": "share of the reporter's reports filed without text",
    "report_without_order_share": "share of the reporter's reports against targets it never ordered from",
    "reporter_credibility": "upheld share of the reporter's reviewed reports, Beta prior (null: no clusters stage)",
    "reporter_n_reviewed": "reports of the reporter reviewed by moderators before D",
    "reporter_ring_risk": "risk of the reporter ring (co-reporting burst group) the reporter belongs to",
    "reporter_ring_size": "members of the reporter's ring",
    "reviews_per_order": "reviews per order of the {e}",
    "seller_age_days": "days from the listing's seller's registration to D",
    "target_burst_share": "share of the reporter's reports filed within a burst of reports on the same target",
    "target_co_reporters": "other reporters who reported the same targets",
    "top_merchant_order_share": "share of the buyer's orders placed with its most frequent merchant",
    "top_merchant_promo_share": "share of the creator's promotions given to its most promoted merchant",
    "top_target_report_share": "share of the reporter's reports against its most reported target",
    "unauthorised_protected_claim": "1 when the listing names a protected brand its seller is not authorised for",
}

MEANING_BY_ENTITY: dict[tuple[str, str], str] = {
    ("reporter", "n_reports"): "reports the reporter filed before D",
    ("buyer", "n_orders"): "orders the buyer placed before D",
    ("reporter", "n_orders"): "orders the reporter placed before D",
}
"""Where one column name means something else for one entity type."""

_EVENTS = "events strictly before the as-of date (D for scoring, D − label window for training)"
_STATUS = "order status as of the date, from the status-history events: a later refund or cancel is not seen"
_OUTCOMES = "report outcomes reviewed before the as-of date only"
_CLUSTERS = "clusters mined on the as-of graph of the same date (the clusters stage mines D and D − label window)"
_OOF = "label-derived: labelled-bad cluster members counted out of fold; an entity's own label never counts"
_PPR = (
    "label-derived, out of fold: seeds are the accounts labelled fraud before the as-of date outside the "
    "entity's fold (5 seeded folds, the clusters stage's); an entity's own label never feeds it; graph and "
    "labels of the same date (D − label window for training)"
)
_RANK = "label-free: PageRank on the as-of graph of the same date (events strictly before it)"
_DUP = (
    "duplicate clusters found as of D; the training table keeps only listings created before its cut-off "
    "(cluster membership itself is D's)"
)
_DUP_AT_D = "duplicate clusters found as of D"
_BRAND = "brand violations found as of D with the authorisations valid at D"
_BRAND_MERCHANT = (
    "brand violations found as of D with the authorisations valid at D; the training table keeps only listings "
    "created before its cut-off"
)
_SCORE_ONLY = "scored at D only (no labels for this entity type, so no training table)"

LEAKAGE: dict[str, str] = {
    "cancel_rate": _STATUS,
    "refund_rate": _STATUS,
    "n_reports_upheld": _OUTCOMES,
    "n_reports_rejected": _OUTCOMES,
    "rejected_report_share": _OUTCOMES,
    "reporter_credibility": _OUTCOMES,
    "reporter_n_reviewed": _OUTCOMES,
    "collusion_bad_members_oof": _OOF,
    "identity_bad_members_oof": _OOF,
    "ppr_bad_lift": _PPR,
    "pagerank_rel": _RANK,
    "dup_cross_share": _DUP,
    "n_dup_listings": _DUP,
    "dup_max_cluster_size": _DUP,
    "n_dup_clusters": _DUP,
    "dup_cluster_shops": _DUP,
    "dup_cluster_size": _DUP,
    "dup_is_copy": _DUP,
    "n_brand_violation_evidence": _BRAND,
    "n_brand_violations": _BRAND_MERCHANT,
    "n_counterfeit_patterns": _BRAND_MERCHANT,
    "max_violation_evidence": _BRAND_MERCHANT,
    "unauthorised_protected_claim": _BRAND,
}
_CLUSTER_PREFIXES = ("collusion_", "identity_", "brushing_", "reporter_ring_", "promoted_")


def leakage_note(name: str, entity_type: str) -> str:
    """The time-safety note of one feature of one entity type."""
    note = LEAKAGE.get(name)
    if note is None:
        note = _CLUSTERS if name.startswith(_CLUSTER_PREFIXES) else _EVENTS
    if entity_type in ("product", "buyer", "reporter"):
        at_d = {_DUP: _DUP_AT_D, _EVENTS: "events strictly before D"}.get(note, note)
        return f"{at_d}; {_SCORE_ONLY}"
    return note


_SOURCE_FILES = (
    "features/merchant.py",
    "features/creator.py",
    "features/product.py",
    "features/buyer.py",
    "features/reporter.py",
    "features/frames.py",
    "features/graph_rank.py",
    "graph/cluster_features.py",
    "dedup/listings.py",
    "dedup/violations.py",
)


@cache
def _sources() -> dict[str, str]:
    """Text of each feature module, keyed by its path in the package."""
    root = Path(__file__).resolve().parent.parent
    pkg = Path(sys.modules["fraudmine"].__file__ or "").resolve().parent
    out: dict[str, str] = {}
    for rel in _SOURCE_FILES:
        for base in (root, pkg):
            p = base / rel
            if p.exists():
                out[rel] = p.read_text()
                break
    return out


_OWN = {e: f"features/{e}.py" for e in ("merchant", "creator", "product", "buyer", "reporter")}
_SHARED = ("features/frames.py", "features/graph_rank.py", "graph/cluster_features.py")
_SHARED_BY = {"merchant": ("dedup/listings.py", "dedup/violations.py")}  # the duplicates stage's per-merchant table
_COMPUTED_BY_HELPER = {"product_buyer_overlap": "`features/buyer.py` (through `graph/algorithms/overlap.py`)"}


def source_of(name: str, entity_type: str) -> str:
    """Module(s) that compute the column ``name`` for ``entity_type``: where it is aliased, declared as a
    schema field or assigned — the entity's own module and the shared producers (cluster and duplicate
    features), else wherever it is computed."""
    pat = re.compile(
        rf'(alias\(\s*"{name}"\s*\)|StructField\(\s*"{name}"|withColumn\(\s*"{name}"|"{name}":\s*\(|'
        rf'\b{name}=\(|\["{name}"\]\s*=[^=])'
    )
    if name in _COMPUTED_BY_HELPER:
        return _COMPUTED_BY_HELPER[name]
    hits = [rel for rel, text in _sources().items() if pat.search(text)]
    shared = (*_SHARED, *_SHARED_BY.get(entity_type, ()))
    mine = [h for h in hits if h == _OWN.get(entity_type) or h in shared]
    return ", ".join(f"`{h}`" for h in (mine or hits)) if hits else "-"


@dataclass(frozen=True)
class FeatureDoc:
    """One row of the dictionary."""

    entity_type: str
    name: str
    meaning: str
    source: str
    leakage: str


_ENTITY_WORD = {"product": "listing"}


def dictionary() -> list[FeatureDoc]:
    """Every feature of every entity type, in model order.

    Raises:
        KeyError: a feature of a model has no meaning declared (names it and its entity type).
    """
    rows = []
    for etype, feats in FEATURE_SETS.items():
        for name in feats:
            if name not in MEANINGS:
                raise KeyError(f"feature {name!r} of {etype} has no entry in MEANINGS (features/dictionary.py)")
            meaning = MEANING_BY_ENTITY.get((etype, name), MEANINGS[name]).format(e=_ENTITY_WORD.get(etype, etype))
            rows.append(FeatureDoc(etype, name, meaning, source_of(name, etype), leakage_note(name, etype)))
    return rows


def render_markdown() -> str:
    """The dictionary as Markdown (``docs/feature-dictionary.md``)."""
    lines = [
        "# Feature dictionary",
        "",
        "Generated by `make features-doc` (`python -m fraudmine.features.dictionary`) from the code: the feature",
        "sets are the models' own tuples, sources are found in the feature modules, meanings and leakage notes",
        "are declared once per column in `features/dictionary.py`. D is the run date; every feature is computed",
        "as of a date and sees only what happened strictly before it.",
        "",
    ]
    rows = dictionary()
    for etype, feats in FEATURE_SETS.items():
        lines += [f"## {etype} ({len(feats)} features)", "", "| feature | meaning | source | time safety |"]
        lines.append("|---|---|---|---|")
        lines += [f"| `{d.name}` | {d.meaning} | {d.source} | {d.leakage} |" for d in rows if d.entity_type == etype]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - exercised through `make features-doc`
    sys.stdout.write(render_markdown())
