"""A hand-made run for the decision tests: every fact family fires on a known item.

Run date D = 2026-11-01.  Merchants m1..m6 (m3 in GB), creators c1 (50k followers), c2.

- q1 listing p1, seller m1 critical 0.95 -> reject (critical seller); p1 has 300 USD of GMV.
- q2 live session m1 + c1 -> escalate (live session of a critical seller).
- q3 video p2 + c1, seller m2 high 0.60, labelled fraud by the outcome of q8 -> reject.
- q4 listing p3, seller m3 low 0.10 / low quality 0.70, unauthorised protected brand -> review (low quality).
- q5 listing p4, seller m4 medium 0.30, shares a payment hash with m5 (labelled fraud), same image as p5 -> review.
- q6 listing p6, seller m6 unscored -> review.
- q7 submitted on D (not pending); q8 has an outcome before D (not pending).
- q9 video p2 + c2, seller m2 -> reject (labelled fraud).
- Outcomes: o1 (q8, violation, routed review), o2 (appeal of a reject, no violation), o3 decided after D (unseen).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.tables import H, make_tables, ts

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
SCORES_COLUMNS = (
    "entity_type string, entity_id string, fraud_risk double, low_quality_risk double, calibrated boolean, "
    "risk_band string, top_reasons array<string>, model_version string, run_id string, as_of timestamp"
)


def _m(i: int, country: str = "US") -> dict[str, Any]:
    return {
        "merchant_id": f"m{i}",
        "shop_name": f"s{i}",
        "country": country,
        "primary_category": "toys",
        "registered_at": ts(1, 5),
    }


def _p(pid: str, mid: str, phash: str | None = None, brand: str | None = None) -> dict[str, Any]:
    return {
        "product_id": pid,
        "merchant_id": mid,
        "brand_id": brand,
        "title": f"item {pid}",
        "price": 10.0,
        "currency": "USD",
        "category": "toys",
        "image_phash": phash,
        "created_at": ts(1, 8),
    }


def _q(
    iid: str, itype: str, mid: str | None, pid: str | None, cid: str | None, day: int = 20, month: int = 10
) -> dict[str, Any]:
    return {
        "item_id": iid,
        "item_type": itype,
        "merchant_id": mid,
        "product_id": pid,
        "creator_id": cid,
        "submitted_at": ts(day, month),
    }


def hand_tables(spark: Any, with_outcomes: bool = True) -> dict[str, Any]:
    """The clean tables of the hand-made run."""
    ident = [
        {
            "entity_type": "merchant",
            "entity_id": m,
            "identifier_type": "payment",
            "identifier_hash": H("p"),
            "first_seen": ts(1, 7),
            "last_seen": ts(1, 9),
        }
        for m in ("m4", "m5")
    ]
    rows: dict[str, list[dict[str, Any]]] = {
        "merchants": [_m(1), _m(2), _m(3, "GB"), _m(4), _m(5), _m(6)],
        "creators": [
            {"creator_id": c, "handle": c, "country": "US", "follower_count": f, "registered_at": ts(1, 5)}
            for c, f in (("c1", 50_000), ("c2", 100))
        ],
        "products": [
            _p("p1", "m1"),
            _p("p2", "m2"),
            _p("p3", "m3", brand="br1"),
            _p("p4", "m4", phash="a" * 16),
            _p("p5", "m5", phash="a" * 16),
            _p("p6", "m6"),
        ],
        "brands": [{"brand_id": "br1", "name": "Acme", "aliases": None, "protected": True}],
        "identities": ident,
        "orders": [
            {
                "order_id": f"o{i}",
                "buyer_id": "u1",
                "product_id": "p1",
                "ordered_at": ts(10 + i),
                "quantity": 1,
                "amount": 100.0,
                "status": "completed",
            }
            for i in range(3)
        ],
        "labels": [
            {
                "entity_type": "merchant",
                "entity_id": "m5",
                "label": "fraud",
                "source": "manual_review",
                "labelled_at": ts(1),
            },
        ],
        "moderation_queue": [
            _q("q1", "product_listing", None, "p1", None),
            _q("q2", "live_session", "m1", None, "c1"),
            _q("q3", "video", "m2", "p2", "c1"),
            _q("q4", "product_listing", "m3", "p3", None),
            _q("q5", "product_listing", "m4", "p4", None),
            _q("q6", "product_listing", "m6", "p6", None),
            _q("q7", "product_listing", "m1", "p1", None, day=1, month=11),
            _q("q8", "product_listing", "m2", "p2", None),
            _q("q9", "video", "m2", "p2", "c2"),
        ],
    }
    if with_outcomes:
        rows["moderation_outcomes"] = [
            {
                "outcome_id": "o1",
                "item_id": "q8",
                "item_type": "product_listing",
                "merchant_id": "m2",
                "product_id": "p2",
                "verdict": "violation",
                "violation_type": "fraud",
                "routed_action": "review",
                "route": "policy",
                "decision_run_id": None,
                "source": "moderator",
                "decided_at": ts(25),
            },
            {
                "outcome_id": "o2",
                "item_id": "q0",
                "item_type": "product_listing",
                "merchant_id": "m3",
                "product_id": "p3",
                "verdict": "no_violation",
                "violation_type": None,
                "routed_action": "reject",
                "route": "policy",
                "decision_run_id": None,
                "source": "appeal",
                "decided_at": ts(26),
            },
            {
                "outcome_id": "o3",
                "item_id": "qx",
                "item_type": "product_listing",
                "merchant_id": "m1",
                "product_id": "p1",
                "verdict": "violation",
                "violation_type": "fraud",
                "routed_action": "reject",
                "route": "policy",
                "decision_run_id": None,
                "source": "moderator",
                "decided_at": ts(2, 11),
            },
        ]
    return make_tables(spark, rows)


def hand_scores(spark: Any) -> Any:
    """Merchant and creator scores of the hand-made run."""
    rows = [
        ("merchant", "m1", 0.95, 0.10, "critical", ["shared_identifiers"]),
        ("merchant", "m2", 0.60, 0.20, "high", ["linked_shops"]),
        ("merchant", "m3", 0.10, 0.70, "low", []),
        ("merchant", "m4", 0.30, 0.10, "medium", ["shared_identifiers"]),
        ("merchant", "m5", 0.90, 0.10, "critical", []),
        ("creator", "c1", 0.85, None, "critical", []),
        ("creator", "c2", 0.01, None, "low", []),
    ]
    data = [(t, i, f, lq, True, b, r, "mv1", "run1", AS_OF) for t, i, f, lq, b, r in rows]
    return spark.createDataFrame(data, SCORES_COLUMNS)
