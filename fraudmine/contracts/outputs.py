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
    "item_id string, item_type string, merchant_id string, creator_id string, product_id string, "
    "action string, reason_codes array<string>, evidence string, policy_version string, "
    "model_version string, run_id string"
)


def ddl_columns(ddl: str) -> list[str]:
    """Column names of a simple DDL string (no nested struct fields)."""
    return [part.strip().split(" ", 1)[0] for part in ddl.split(",")]
