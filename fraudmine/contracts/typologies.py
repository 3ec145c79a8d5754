"""Names of the fraud typologies the generator plants and the evaluation reports (DESIGN.md)."""

TYPOLOGIES: tuple[str, ...] = (
    "collusion_ring",
    "duplicate_listing",
    "counterfeit",
    "brushing",
    "creator_collusion",
    "malicious_reporting",
    "low_quality",
)

NON_MEMBER_ROLES: frozenset[str] = frozenset({"victim", "relisting"})
"""Truth roles that are not fraud members: ``victim`` (the target of malicious reports) and
``relisting`` (an honest shop's content-identical re-listing, a duplicate but not fraud)."""
