"""Declared schemas of the tables the pipeline publishes (scores, decisions).

Kept as Spark DDL strings so that consumers which must not import pyspark (the
API) can read the column list too.
"""

from __future__ import annotations

RISK_BANDS = ("low", "medium", "high", "critical")
ACTIONS = ("approve", "review", "reject", "escalate")

SCORES_DDL = (
    "entity_type string, entity_id string, fraud_risk double, low_quality_risk double, "
    "calibrated boolean, risk_band string, top_reasons array<string>, model_version string, "
    "run_id string, as_of timestamp"
)

DECISIONS_DDL = (
    "item_id string, item_type string, market string, merchant_id string, creator_id string, product_id string, "
    "action string, primary_reason string, reason_codes array<string>, evidence array<string>, "
    "matched_rules array<string>, p_violation double, exposure_usd double, expected_loss double, "
    "queue_status string, queue_rank int, sampling_weight double, policy_version string, "
    "model_version string, run_id string, as_of timestamp"
)
"""One row per pending moderation-queue item (``fraudmine.decisions``): the action, the primary reason
and every reason code, human evidence sentences, the policy rules that matched, the probability /
exposure / expected loss that ordered the review queue, where the item went (``queue_status``: auto,
queued, exploration, deferred, over_capacity_approved), its queue position and sampling weight, and the
versions and run that produced it."""

QUEUE_STATUSES = ("auto", "queued", "exploration", "deferred", "over_capacity_approved")


def ddl_columns(ddl: str) -> list[str]:
    """Column names of a simple DDL string (no nested struct fields)."""
    return [part.strip().split(" ", 1)[0] for part in ddl.split(",")]
