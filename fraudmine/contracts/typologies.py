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
