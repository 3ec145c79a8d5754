"""Per-entity features (creator, listing, buyer, reporter) on tiny hand-made tables, and the rank rules."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from fraudmine.config import ScoringConfig
from fraudmine.models.rank_score import RankRule, rank_band, rank_rule_score, score_rank_rules, term_ranks
from tests.tables import H, make_tables, ts

AS_OF = ts(1, 11)
LATE = ts(5, 11)  # after the feature date: must never be seen


def _ident(et: str, eid: str, kind: str, h: str, when: Any = None) -> dict[str, Any]:
    return {
        "entity_type": et,
        "entity_id": eid,
        "identifier_type": kind,
        "identifier_hash": H(h),
        "first_seen": when or ts(1, 8),
        "last_seen": ts(1, 9),
    }


def _product(pid: str, mid: str, title: str = "red shoe", price: float = 10.0, created: Any = None) -> dict[str, Any]:
    return {
        "product_id": pid,
        "merchant_id": mid,
        "title": title,
        "price": price,
        "currency": "USD",
        "category": "fashion",
        "image_phash": None,
        "created_at": created or ts(1, 7),
    }


def _order(oid: str, buyer: str, pid: str, when: Any = None, status: str = "completed") -> dict[str, Any]:
    return {
        "order_id": oid,
        "buyer_id": buyer,
        "product_id": pid,
        "ordered_at": when or ts(1, 9),
        "quantity": 1,
        "amount": 10.0,
        "status": status,
    }


def _report(rid: str, reporter: str, ttype: str, tid: str, when: Any, **kw: Any) -> dict[str, Any]:
    return {"report_id": rid, "reporter_id": reporter, "target_type": ttype, "target_id": tid, "reason": "fake",
            "reported_at": when, **kw}  # fmt: skip


def _market(spark: Any) -> dict[str, Any]:
    merchants = [
        {"merchant_id": m, "shop_name": m, "country": "US", "primary_category": "fashion", "registered_at": ts(1, 6)}
        for m in ("m1", "m2")
    ]
    creators = [
        {"creator_id": "c1", "handle": "c1", "country": "US", "follower_count": 99, "registered_at": ts(1, 6)},
        {"creator_id": "c2", "handle": "c2", "country": "US", "follower_count": 5, "registered_at": LATE},
    ]
    products = [_product("p1", "m1"), _product("p2", "m1", "Red  Shoe!"), _product("p3", "m2", "blue hat", 100.0)]
    promos = [
        {
            "promotion_id": f"pr{i}",
            "creator_id": "c1",
            "product_id": p,
            "channel": "video",
            "started_at": when,
            "views": 100,
            "likes": 10,
            "gmv": 5.0,
        }
        for i, (p, when) in enumerate([("p1", ts(1, 9)), ("p2", ts(2, 9)), ("p3", ts(3, 9)), ("p3", LATE)])
    ]
    identities = [
        _ident("creator", "c1", "device", "a"),
        _ident("merchant", "m1", "device", "a"),
        _ident("buyer", "b1", "device", "b"),
        _ident("buyer", "b2", "device", "b"),
        _ident("buyer", "b3", "device", "c", LATE),
        _ident("buyer", "b4", "device", "c", LATE),
    ]
    orders = [
        _order("o1", "b1", "p1"),
        _order("o2", "b1", "p2"),
        _order("o3", "b2", "p1"),
        _order("o4", "b2", "p2", status="refunded"),
        _order("o5", "b3", "p3"),
        _order("o6", "b3", "p3", when=LATE),
    ]
    # o4 is refunded only after the feature date: as of AS_OF it is completed
    events = [
        {"event_id": "e1", "order_id": "o4", "status": "placed", "event_at": ts(1, 9)},
        {"event_id": "e2", "order_id": "o4", "status": "refunded", "event_at": LATE},
    ]
    reports = [
        _report("r1", "b5", "merchant", "m2", ts(10, 10), outcome="rejected", reviewed_at=ts(20, 10)),
        _report("r2", "b5", "merchant", "m2", ts(11, 10)),
        _report("r3", "b6", "merchant", "m2", ts(11, 10), outcome="upheld", reviewed_at=LATE),
        _report("r4", "b5", "product", "p1", ts(12, 10), text="broken"),
        _report("r5", "b1", "product", "p1", ts(12, 10), text="broken", outcome="upheld", reviewed_at=ts(13, 10)),
        _report("r6", "b7", "merchant", "m2", LATE),
    ]
    return make_tables(
        spark,
        {
            "merchants": merchants,
            "creators": creators,
            "products": products,
            "promotions": promos,
            "identities": identities,
            "orders": orders,
            "order_events": events,
            "reports": reports,
        },
    )


def _by_id(df: Any, key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r.asDict() for r in df.collect()}


@pytest.mark.spark
def test_creator_features_point_in_time(spark: Any) -> None:
    from fraudmine.features.creator import CREATOR_FEATURES, creator_features

    out = creator_features(_market(spark), AS_OF, hub_min_degree=20)
    assert out.columns == ["creator_id", "as_of", *CREATOR_FEATURES]
    rows = _by_id(out, "creator_id")
    assert set(rows) == {"c1"}  # c2 registers after the date
    c1 = rows["c1"]
    assert c1["n_promotions"] == 3.0  # the fourth promotion starts after the date
    assert c1["n_promoted_merchants"] == 2.0 and c1["top_merchant_promo_share"] == pytest.approx(2 / 3)
    # c1 shares device "a" with m1, and two of its promotions are of m1's listings
    assert c1["n_linked_merchants"] == 1.0 and c1["n_promotions_of_linked_merchants"] == 2.0
    assert c1["collusion_cluster_risk"] == 0.0  # no clusters table: zeros


@pytest.mark.spark
def test_creator_features_need_only_the_training_cluster_kinds(spark: Any) -> None:
    """The clusters stage mines only TRAIN_CLUSTER_KINDS at the training cut-off: creators read nothing else."""
    from pyspark.sql import functions as F

    from fraudmine.features.creator import TRAIN_CLUSTER_KINDS, creator_features
    from fraudmine.graph.cluster_features import ENTITY_FEATURES_SCHEMA, entity_features_schema

    def row(node: str, v: float) -> tuple[Any, ...]:
        et, eid = node.split(":")
        vals = [int(v) if f.dataType.simpleString() == "bigint" else v for f in ENTITY_FEATURES_SCHEMA.fields[4:]]
        return (node, et, eid, AS_OF, *vals)

    ef = spark.createDataFrame(
        [row("creator:c1", 3.0), row("merchant:m1", 5.0), row("merchant:m2", 0.5)], ENTITY_FEATURES_SCHEMA
    )
    t = _market(spark)
    full = creator_features(t, AS_OF, 20, ef).collect()
    train_cols = [f.name for f in entity_features_schema(TRAIN_CLUSTER_KINDS).fields]
    assert "brushing_blocks" not in train_cols and "collusion_cluster_risk" in train_cols
    projected = creator_features(t, AS_OF, 20, ef.select(*[F.col(c) for c in train_cols])).collect()
    assert projected == full and full[0]["promoted_max_collusion_risk"] == 5.0


@pytest.mark.spark
def test_product_features_point_in_time(spark: Any) -> None:
    from fraudmine.features.buyer import linked_buyers
    from fraudmine.features.product import PRODUCT_FEATURES, product_features

    t = _market(spark)
    out = product_features(t, AS_OF, linked_buyers(t["identities"], AS_OF, 20))
    assert out.columns == ["product_id", "as_of", *PRODUCT_FEATURES]
    rows = _by_id(out, "product_id")
    assert rows["p1"]["n_same_title_in_shop"] == 1.0 and rows["p3"]["n_same_title_in_shop"] == 0.0
    assert rows["p2"]["refund_rate"] == 0.0  # the refund of o4 happens after the date
    assert rows["p1"]["linked_buyer_order_share"] == 1.0  # b1 and b2 share a device
    assert rows["p3"]["n_orders"] == 1.0 and rows["p3"]["linked_buyer_order_share"] == 0.0  # b3 links later
    assert rows["p1"]["n_reports"] == 2.0 and rows["p1"]["n_reports_upheld"] == 1.0
    assert rows["p3"]["log_price_vs_category"] > 0 == rows["p1"]["log_price_vs_category"]  # p1 is the median


@pytest.mark.spark
def test_product_duplicate_features_count_only_listings_that_existed_at_the_date(spark: Any) -> None:
    from pyspark.sql import functions as F

    from fraudmine.features.buyer import linked_buyers
    from fraudmine.features.product import product_features

    t = _market(spark)
    later = ts(1, 9)  # p3 is listed on 1 September; the run date's duplicate cluster holds p1, p2 and p3
    t["products"] = t["products"].withColumn(
        "created_at", F.when(F.col("product_id") == "p3", F.lit(later)).otherwise(F.col("created_at"))
    )
    members = spark.createDataFrame(
        [("c1", "p1", "m1", True), ("c1", "p2", "m1", False), ("c1", "p3", "m2", False)],
        "cluster_id string, product_id string, merchant_id string, is_canonical boolean",
    )

    def dup(as_of: Any) -> dict[str, Any]:
        rows = _by_id(product_features(t, as_of, linked_buyers(t["identities"], as_of, 20), members), "product_id")
        return {p: (r["dup_cluster_size"], r["dup_cluster_shops"]) for p, r in rows.items()}

    assert dup(AS_OF) == {"p1": (3.0, 2.0), "p2": (3.0, 2.0), "p3": (3.0, 2.0)}
    # a training date before p3 existed: the cluster was two listings of one shop then
    assert dup(ts(1, 8)) == {"p1": (2.0, 1.0), "p2": (2.0, 1.0)}


@pytest.mark.spark
def test_buyer_features_relational(spark: Any) -> None:
    from fraudmine.features.buyer import BUYER_FEATURES, buyer_features

    out = buyer_features(_market(spark), AS_OF, hub_min_degree=20)
    assert out.columns == ["buyer_id", "as_of", *BUYER_FEATURES]
    rows = _by_id(out, "buyer_id")
    assert set(rows) == {"b1", "b2", "b3"}
    b1 = rows["b1"]
    assert b1["n_linked_buyers"] == 1.0 and b1["n_shared_identifiers"] == 1.0
    assert b1["product_buyer_overlap"] == 2.0  # b2 bought both of b1's products
    assert b1["co_buyer_linked_share"] == 1.0  # every other buyer of its products is a linked account
    assert rows["b3"]["n_orders"] == 1.0 and rows["b3"]["n_linked_buyers"] == 0.0  # its link and 2nd order are later


@pytest.mark.spark
def test_reporter_features(spark: Any) -> None:
    from fraudmine.features.reporter import REPORTER_FEATURES, reporter_features

    out = reporter_features(_market(spark), AS_OF)
    assert out.columns == ["reporter_id", "as_of", *REPORTER_FEATURES]
    rows = _by_id(out, "reporter_id")
    assert set(rows) == {"b5", "b6", "b1"}  # b7 reports after the date
    b5 = rows["b5"]
    assert b5["n_reports"] == 3.0 and b5["n_report_targets"] == 2.0
    assert b5["top_target_report_share"] == pytest.approx(2 / 3)
    assert b5["n_reports_rejected"] == 1.0 and b5["rejected_report_share"] == 1.0
    assert b5["report_without_order_share"] == 1.0  # never bought from m2 or p1
    assert rows["b1"]["report_without_order_share"] == 0.0  # b1 bought p1
    assert rows["b6"]["rejected_report_share"] == 0.0  # its outcome is reviewed after the date
    assert b5["reporter_credibility"] is None  # no clusters table: unknown, not 0


def test_rank_rule_ties_at_zero_add_nothing_and_direction_counts() -> None:
    x = pd.DataFrame({"a": [0.0, 0.0, 0.0, 5.0], "age": [100.0, 1.0, 50.0, 100.0], "gap": [np.nan, 1.0, 1.0, 1.0]})
    rule = RankRule("r", (("a", 2.0), ("age", -1.0)))
    ranks = term_ranks(x, rule)
    assert ranks[:3, 0].tolist() == [0.0, 0.0, 0.0] and ranks[3, 0] == 1.0
    assert ranks[1, 1] == 1.0 and ranks[0, 1] == 0.0  # newest account ranks riskiest
    risk, _ = rank_rule_score(x, rule)
    assert risk.argmax() == 3 and risk.min() > 0 and risk.max() == 1.0
    with pytest.raises(ValueError, match=r"'missing'.*columns present"):
        term_ranks(x, RankRule("r", (("missing", 1.0),)))


def test_rank_rules_bands_are_never_critical_and_reasons_name_top_decile_terms() -> None:
    n = 200
    x = pd.DataFrame({"id": [f"b{i}" for i in range(n)], "burst": np.arange(n, dtype=float), "flat": 0.0})
    cfg = ScoringConfig()
    rule = RankRule("r", (("burst", 1.0), ("flat", 1.0)))
    out = score_rank_rules(x, "buyer", "id", rule, None, {"burst": "REPORT_BURSTS"}, cfg, "v/1", "run", AS_OF)
    assert (~out["calibrated"]).all() and out["low_quality_risk"].isna().all()
    assert "critical" not in set(out["risk_band"]) and (out["risk_band"] == "high").sum() == 3  # ranks 0.99, 0.995, 1
    top = out.loc[out["fraud_risk"].idxmax()]
    assert top["entity_id"] == "b199" and top["top_reasons"] == ["REPORT_BURSTS"]
    assert out.loc[out["risk_band"] == "low", "top_reasons"].map(len).eq(0).all()
    assert rank_band(np.array([0.5, 0.95, 0.999, 1.0]), cfg).tolist() == ["low", "medium", "high", "high"]


def test_rank_reasons_when_no_single_term_is_in_its_top_decile() -> None:
    """The riskiest row is only moderately high on each of two terms: it still gets reasons (the terms that
    add most), and a top-decile term behind a heavier, lower term is not dropped."""
    from fraudmine.models.rank_score import rank_reasons

    rule = RankRule("r", (("a", 2.0), ("b", 1.0), ("c", 0.5)))
    ranks = np.array([[0.85, 0.80, 0.0], [0.85, 0.0, 0.95], [0.0, 0.0, 0.0]])
    weighted = ranks * np.array([2.0, 1.0, 0.5])
    got = rank_reasons(ranks, weighted, rule, {"a": "A", "b": "B", "c": "C"}, 3)
    assert got == [["A", "B"], ["C"], []]
