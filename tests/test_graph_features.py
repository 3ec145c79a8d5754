"""Graph construction, time-safe features, labels and decisions on tiny in-memory tables."""

from __future__ import annotations

from typing import Any

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from fraudmine.features.columns import FEATURE_COLUMNS
from fraudmine.features.labels import binary_targets, latest_labels
from fraudmine.features.merchant import merchant_features
from fraudmine.graph import schemas as S
from fraudmine.graph.build import build_edges, build_nodes
from tests.tables import small_marketplace, ts

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def t(spark: Any) -> dict[str, Any]:
    return small_marketplace(spark)


def test_nodes_are_typed_and_hubs_flagged(t: dict[str, Any]) -> None:
    nodes = build_nodes(t, hub_min_degree=3)
    got = {r[S.NODE_ID]: r for r in nodes.collect()}
    assert {"merchant:m1", "product:p1", "brand:br1", "buyer:u1", "buyer:u2"} <= set(got)
    assert got["identifier:ip:" + "h" * 64][S.IS_HUB] is True
    assert got["identifier:device:" + "a" * 64][S.IS_HUB] is False
    assert got["identifier:device:" + "a" * 64][S.DEGREE] == 2
    assert nodes.select(S.NODE_ID).distinct().count() == nodes.count()


def test_edges_aggregate_events(spark: Any, t: dict[str, Any]) -> None:
    edges = build_edges(t).where(F.col(S.EDGE_TYPE) == "buyer__ordered__product")
    expected = spark.createDataFrame(
        [("buyer:u1", "product:p1", 20.0, 2), ("buyer:u2", "product:p3", 60.0, 1)],
        "src string, dst string, weight double, n_events long",
    )
    assert_df_equality(
        edges.select(S.SRC, S.DST, S.WEIGHT, S.N_EVENTS),
        expected,
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_edge_endpoints_exist_as_nodes(t: dict[str, Any]) -> None:
    nodes = build_nodes(t, 3).select(F.col(S.NODE_ID).alias("n"))
    edges = build_edges(t)
    for end in (S.SRC, S.DST):
        assert edges.join(nodes, edges[end] == nodes["n"], "left_anti").count() == 0


def test_features_use_only_the_past(t: dict[str, Any]) -> None:
    early = {r["merchant_id"]: r for r in merchant_features(t, ts(6), 3).collect()}
    late = {r["merchant_id"]: r for r in merchant_features(t, ts(1, 11), 3).collect()}
    assert early["m1"]["n_orders"] == 1.0 and late["m1"]["n_orders"] == 2.0
    assert early["m3"]["n_products"] == 1.0 and late["m3"]["n_products"] == 2.0
    # report outcome counts only once reviewed before as_of
    mid = {r["merchant_id"]: r for r in merchant_features(t, ts(11), 3).collect()}
    assert mid["m1"]["n_reports"] == 1.0 and mid["m1"]["n_reports_upheld"] == 0.0
    assert late["m1"]["n_reports_upheld"] == 1.0 and late["m1"]["n_reports"] == 2.0


def test_relational_features(t: dict[str, Any]) -> None:
    f = {r["merchant_id"]: r for r in merchant_features(t, ts(1, 11), 3).collect()}
    assert f["m1"]["n_linked_merchants"] == 1.0 and f["m2"]["n_linked_merchants"] == 1.0
    assert f["m3"]["n_linked_merchants"] == 0.0  # only the hub Wi-Fi: not evidence
    assert f["m1"]["n_hub_identifiers"] == 1.0
    assert f["m1"]["n_cross_shop_image_dups"] == 1.0 and f["m3"]["n_cross_shop_image_dups"] == 0.0
    assert f["m1"]["n_unauthorised_protected_claims"] == 1.0
    assert f["m3"]["n_unauthorised_protected_claims"] == 0.0  # authorised reseller
    assert f["m1"]["refund_rate"] == 0.5


def test_features_of_some_merchants_equal_their_rows_of_all(spark: Any, t: dict[str, Any]) -> None:
    """The training frame computes labelled merchants only: their values must not change (m1 is linked to m2,
    shares an image with another shop and has a refunded order)."""
    full = {r["merchant_id"]: r for r in merchant_features(t, ts(1, 11), 3).collect()}
    some = merchant_features(t, ts(1, 11), 3, merchants=spark.createDataFrame([("m1",)], "merchant_id string"))
    assert [r.asDict() for r in some.collect()] == [full["m1"].asDict()]


def test_feature_frame_schema(t: dict[str, Any]) -> None:
    df = merchant_features(t, ts(1, 11), 3)
    assert df.columns == ["merchant_id", "as_of", *FEATURE_COLUMNS]
    assert all(dict(df.dtypes)[c] == "double" for c in FEATURE_COLUMNS)


def test_latest_labels_before_date(spark: Any, t: dict[str, Any]) -> None:
    got = binary_targets(latest_labels(t["labels"], ts(20)))
    at = latest_labels(t["labels"], ts(20)).first()["labelled_at"]
    expected = spark.createDataFrame(
        [("m1", at, 1, None)], "entity_id string, labelled_at timestamp, y_fraud int, y_low_quality int"
    )
    assert_df_equality(got, expected, ignore_nullable=True)
    assert latest_labels(t["labels"], ts(10)).first()["label"] == "ok"


def test_decisions_follow_policy(spark: Any, t: dict[str, Any], repo_root: Any) -> None:
    from fraudmine.config import DecisionsConfig
    from fraudmine.decisions import DecisionInputs, decide, load_policy

    scores = spark.createDataFrame(
        [
            ("merchant", "m1", 0.95, 0.1, "critical", ["SHARED_IDENTIFIERS"]),
            ("merchant", "m3", 0.05, 0.7, "low", []),
        ],
        "entity_type string, entity_id string, fraud_risk double, low_quality_risk double, risk_band string, "
        "top_reasons array<string>",
    )
    pol = load_policy(repo_root / "conf" / "policy.yaml")
    run = decide(DecisionInputs(t, scores), pol, DecisionsConfig(), ts(20), "run", "v1", 25)
    d = {r["item_id"]: r for r in run.decisions.collect()}
    run.release()
    assert set(d) == {"q1", "q2", "q3"}  # q4 was submitted after the cut-off
    assert d["q1"]["merchant_id"] == "m1" and d["q1"]["action"] == "reject"
    # every matching rule adds its reason: both reject rules first, then the counterfeit review rule
    assert d["q1"]["reason_codes"] == ["SELLER_FRAUD_CRITICAL", "SELLER_LABELLED_FRAUD", "COUNTERFEIT_RISK"]
    assert "seller m1 fraud risk 0.95 (critical): SHARED_IDENTIFIERS" in d["q1"]["evidence"]
    assert "claims protected brand 'Acme' (br1) without an authorisation" in d["q1"]["evidence"]
    assert d["q2"]["action"] == "escalate"
    assert d["q3"]["action"] == "review" and d["q3"]["reason_codes"][0] == "SELLER_NOT_SCORED"
    assert all(r["run_id"] == "run" and r["model_version"] == "v1" for r in d.values())


def test_refund_is_invisible_before_its_event(spark: Any) -> None:
    from fraudmine.features.merchant import status_as_of

    orders = spark.createDataFrame(
        [("o1", "refunded"), ("o2", "cancelled"), ("o3", "completed")], "order_id string, status string"
    )
    events = spark.createDataFrame(
        [
            ("e1", "o1", "placed", ts(1)),
            ("e2", "o1", "completed", ts(3)),
            ("e3", "o1", "refunded", ts(9)),
            ("e4", "o2", "placed", ts(1)),
            ("e5", "o2", "cancelled", ts(2)),
        ],
        "event_id string, order_id string, status string, event_at timestamp",
    )
    at = {r["order_id"]: r["status"] for r in status_as_of(orders, events, ts(5)).collect()}
    assert at == {"o1": "completed", "o2": "cancelled", "o3": "completed"}  # o3 has no events: keeps its status
    later = {r["order_id"]: r["status"] for r in status_as_of(orders, events, ts(10)).collect()}
    assert later["o1"] == "refunded"
    early = {r["order_id"]: r["status"] for r in status_as_of(orders, events, ts(2)).collect()}
    assert early["o1"] == "completed" and early["o2"] == "completed"  # placed, not yet cancelled
