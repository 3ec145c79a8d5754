"""Decision engine on a hand-made run: golden payloads, evidence, missing inputs, capacity, exploration, KPIs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from fraudmine.config import DecisionsConfig
from fraudmine.decisions import DecisionInputs, DecisionRun, decide, load_policy
from fraudmine.decisions.queue import route
from tests.decision_tables import AS_OF, hand_scores, hand_tables

pytestmark = pytest.mark.spark

GOLDEN = Path(__file__).parent / "golden" / "decisions_hand.json"


def _payloads(df: Any) -> list[dict[str, Any]]:
    """Decision rows as the JSON another system reads (floats rounded to 6 places)."""
    rows = []
    for r in df.orderBy("item_id").collect():
        d = r.asDict()
        d["as_of"] = d["as_of"].isoformat()
        rows.append({k: round(v, 6) if isinstance(v, float) else v for k, v in d.items()})
    return rows


@pytest.fixture(scope="module")
def policy(repo_root: Path) -> Any:
    return load_policy(repo_root / "conf" / "policy.yaml")


@pytest.fixture(scope="module")
def hand_run(spark: Any, policy: Any) -> tuple[DecisionRun, DecisionInputs, dict[str, Any], list[dict[str, Any]]]:
    inputs = DecisionInputs(hand_tables(spark), hand_scores(spark))
    cfg = DecisionsConfig()
    run = decide(inputs, policy, cfg, AS_OF, "run1", "mv1", 25)
    rows = _payloads(run.decisions)
    kpis = run.kpis(policy, cfg, inputs, AS_OF)
    run.release()
    return run, inputs, kpis, rows


def test_golden_decision_payloads(hand_run: Any) -> None:
    rows = hand_run[3]
    if os.environ.get("FRAUDMINE_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(rows, indent=1, sort_keys=True) + "\n")
    assert rows == json.loads(GOLDEN.read_text())


def test_decisions_carry_reasons_and_evidence(hand_run: Any) -> None:
    by_id = {r["item_id"]: r for r in hand_run[3]}
    assert set(by_id) == {"q1", "q2", "q3", "q4", "q5", "q6", "q9"}  # q7: submitted on D; q8: already decided
    assert by_id["q1"]["action"] == "reject" and by_id["q1"]["primary_reason"] == "SELLER_FRAUD_CRITICAL"
    assert by_id["q2"]["action"] == "escalate" and by_id["q2"]["market"] == "US"
    assert by_id["q2"]["reason_codes"][:2] == ["LIVE_SELLER_CRITICAL", "SELLER_FRAUD_CRITICAL"]
    # the outcome of q8 (violation on 2026-10-25) labels m2 fraud for this run
    assert "seller m2 labelled fraud on 2026-10-25 (manual_review)" in by_id["q3"]["evidence"]
    # identifier sharing with rejected merchants needs a seller of medium band or above (m4: 0.30, medium)
    assert by_id["q5"]["evidence"] == [
        "shares a payment instrument with 1 rejected merchant (m5)",
        "seller m4 fraud risk 0.30 (medium): shared_identifiers",
        "same image as listing p5, removed with its seller m5 (labelled fraud on 2026-10-01)",
    ]
    assert by_id["q4"]["primary_reason"] == "SELLER_LOW_QUALITY"  # seller band low: no counterfeit rule
    assert by_id["q6"]["evidence"] == ["seller m6 has no score in this run"]
    assert by_id["q1"]["exposure_usd"] == 300.0 and by_id["q2"]["exposure_usd"] == 500.0
    assert by_id["q3"]["p_violation"] == pytest.approx(1 - 0.4 * 0.15)
    assert all(r["run_id"] == "run1" and r["model_version"] == "mv1" for r in by_id.values())


def test_kpis_on_the_hand_made_run(hand_run: Any) -> None:
    k = hand_run[2]
    assert k["items"] == 7
    assert k["by_action"] == {"approve": 0, "review": 3, "reject": 3, "escalate": 1}
    assert k["automation_rate"] == pytest.approx(3 / 7)  # three auto-rejects; everything else reaches a human
    assert k["expected_precision"]["auto_reject"] == pytest.approx((0.95 + 0.94 + 0.604) / 3)
    assert k["expected_precision"]["queued_review"] == pytest.approx((0.70 + 0.30 + 0.05) / 3)
    assert k["queue"]["review_pool"] == 3 and k["queue"]["queued_review"] == 3 and k["queue"]["deferred"] == 0
    assert k["queue"]["load"] == pytest.approx(3 / 300)
    assert {"item_type": "live_session", "action": "escalate", "items": 1} in k["by_item_type"]
    assert k["rule_hits"]["critical_seller"] == 2 and k["rule_hits"]["unscored_seller"] == 1
    # o3 was decided after D: unseen; o2 (appeal, no violation) makes the one visible reject wrong
    assert k["realised_precision"] == [
        {"action": "reject", "route": "policy", "outcomes": 1, "correct": 0, "precision": 0.0},
        {"action": "review", "route": "policy", "outcomes": 1, "correct": 1, "precision": 1.0},
    ]
    assert k["inputs"]["scores.creator"] and not k["inputs"]["scores.product"]
    assert not k["inputs"]["clusters.collusion"]
    assert k["inactive_rules"]["critical_listing"] == ["scores.product"]


def test_missing_inputs_disable_rules_and_clusters_add_evidence(spark: Any, policy: Any) -> None:
    scores = hand_scores(spark).where("entity_type = 'merchant'")
    members = ["merchant:m4", "merchant:m1", "merchant:m7", "creator:c1", "merchant:m8", "merchant:m9"]
    clusters = spark.createDataFrame(
        [("C17", members, 0.85, ["shared payment instrument p…", "co-promotion"])],
        "cluster_id string, members array<string>, risk double, evidence array<string>",
    )
    inputs = DecisionInputs(hand_tables(spark, with_outcomes=False), scores, {"collusion": clusters})
    run = decide(inputs, policy, DecisionsConfig(), AS_OF, "run2", "mv1", 25)
    by_id = {r["item_id"]: r for r in _payloads(run.decisions)}
    run.release()
    assert "q8" in by_id  # no outcomes: q8 is pending again
    assert run.available["scores.creator"] is False and run.available["clusters.collusion"] is True
    assert "risky_creator" not in by_id["q3"]["matched_rules"]  # creator facts are null without creator scores
    assert by_id["q5"]["action"] == "reject" and by_id["q5"]["primary_reason"] == "COLLUSION_CLUSTER"
    assert (
        "member of collusion cluster C17, 6 members, cluster risk 0.85: shared payment instrument p…; co-promotion"
        in by_id["q5"]["evidence"]
    )


def test_json_cluster_evidence_reads_as_a_sentence(spark: Any, policy: Any) -> None:
    # the clusters stage writes evidence as a JSON object; the moderator reads a sentence, not the JSON
    scores = hand_scores(spark).where("entity_type = 'merchant'")
    members = ["merchant:m4", "merchant:m1", "merchant:m7"]
    ev = '{"links": 3, "channels": {"buyers": {"links": 3, "score": 9.1}, "identifier": {"links": 1, "score": 0.4}}}'
    clusters = spark.createDataFrame(
        [("C18", members, 0.9, ev)], "cluster_id string, members array<string>, risk double, evidence string"
    )
    inputs = DecisionInputs(hand_tables(spark, with_outcomes=False), scores, {"collusion": clusters})
    run = decide(inputs, policy, DecisionsConfig(), AS_OF, "run4", "mv1", 25)
    q5 = {r["item_id"]: r for r in _payloads(run.decisions)}["q5"]
    run.release()
    assert (
        "member of collusion cluster C18, 3 members, cluster risk 0.90: "
        "linked on 3 seller pairs by shared buyers 3, shared identifiers 1" in q5["evidence"]
    )
    assert not any("{" in e for e in q5["evidence"])


def test_rank_rule_risks_fire_band_rules_but_stay_out_of_p_violation(spark: Any, policy: Any) -> None:
    # p2 (the listing of q3) scored by a rank rule: a percentile of 0.97, band high, calibrated = false
    rank_row = ("product", "p2", 0.97, None, False, "high", ["many_reports"], "mv1", "run1", AS_OF)
    scores = hand_scores(spark).unionByName(spark.createDataFrame([rank_row], hand_scores(spark).schema))
    run = decide(DecisionInputs(hand_tables(spark), scores), policy, DecisionsConfig(), AS_OF, "run3", "mv1", 25)
    by_id = {r["item_id"]: r for r in _payloads(run.decisions)}
    run.release()
    q3 = by_id["q3"]
    assert "high_listing" in q3["matched_rules"]  # the band still routes the item
    # the probability is the noisy-OR of the calibrated seller (0.60) and creator (0.85) risks only;
    # with the rank as a probability it would be 1 - 0.4 * 0.15 * 0.03
    assert q3["p_violation"] == pytest.approx(1 - 0.4 * 0.15)
    assert any("listing p2 fraud risk rank 0.97 (high)" in e for e in q3["evidence"])


def test_identifier_sharing_alone_does_not_send_a_low_band_seller_to_review(spark: Any, policy: Any) -> None:
    # q5: seller m4 shares a payment instrument with the rejected m5; at band medium that is a review reason,
    # at band low it is not (on a marketplace where honest shops share identifiers, measured at the base rate)
    from pyspark.sql import functions as F

    low = hand_scores(spark).withColumn(
        "risk_band", F.when(F.col("entity_id") == "m4", F.lit("low")).otherwise(F.col("risk_band"))
    )
    rows = {}
    for name, scores in (("medium", hand_scores(spark)), ("low", low)):
        run = decide(DecisionInputs(hand_tables(spark), scores), policy, DecisionsConfig(), AS_OF, "r", "mv1", 25)
        rows[name] = {r["item_id"]: r for r in _payloads(run.decisions)}["q5"]
        run.release()
    assert "payment_shared_with_rejected" in rows["medium"]["matched_rules"]
    assert "payment_shared_with_rejected" not in rows["low"]["matched_rules"]


def test_weak_slices_measured_near_the_base_rate_do_not_reach_the_queue(spark: Any, policy: Any) -> None:
    # policy 2026-12-07.2 (docs/benchmarks.md, "Policy 2026-12-07.2"): a high-band creator (27% bad), a seller
    # at the bottom of the high band (0.5-0.6: 35%) and low-quality risk under 0.7 (25%) are no review reasons
    from pyspark.sql import functions as F

    risk = {"c1": (0.55, "high"), "m2": (0.55, "high"), "m3": (0.10, "low")}
    weak = hand_scores(spark)
    for eid, (r, band) in risk.items():
        hit = F.col("entity_id") == eid
        weak = weak.withColumn("fraud_risk", F.when(hit, F.lit(r)).otherwise(F.col("fraud_risk")))
        weak = weak.withColumn("risk_band", F.when(hit, F.lit(band)).otherwise(F.col("risk_band")))
    weak = weak.withColumn(
        "low_quality_risk", F.when(F.col("entity_id") == "m3", F.lit(0.65)).otherwise(F.col("low_quality_risk"))
    )
    run = decide(DecisionInputs(hand_tables(spark), weak), policy, DecisionsConfig(), AS_OF, "r", "mv1", 25)
    by_id = {r["item_id"]: r for r in _payloads(run.decisions)}
    run.release()
    assert not {"risky_creator", "high_seller"} & set(by_id["q3"]["matched_rules"])
    assert by_id["q3"]["primary_reason"] == "SELLER_LABELLED_FRAUD"  # the label still rejects at risk >= 0.5
    assert by_id["q4"]["action"] == "approve" and by_id["q4"]["matched_rules"] == []


def _routing_frame(spark: Any) -> Any:
    rows = []
    for i in range(20):  # review items: p and exposure known, expected loss = p * exposure
        rows.append((f"r{i:02d}", "review", "SELLER_FRAUD_HIGH", 0.5 + i * 0.02, 10.0 + (i % 5)))
    for i in range(30):  # uncertain approvals (exploration pool)
        rows.append((f"a{i:02d}", "approve", "NO_RISK_SIGNAL", 0.1, 5.0))
    for i in range(10):  # confident approvals (outside the pool)
        rows.append((f"z{i:02d}", "approve", "NO_RISK_SIGNAL", 0.001, 5.0))
    for i in range(4):
        rows.append((f"e{i}", "escalate", "LIVE_SELLER_CRITICAL", 0.9, 100.0 + i))
    df = spark.createDataFrame(
        rows, "item_id string, action string, primary_reason string, p_violation double, exposure_usd double"
    )
    return df.selectExpr("*", "array(primary_reason) as reason_codes")


def test_capacity_exploration_and_over_capacity_default(spark: Any) -> None:
    cfg = DecisionsConfig.model_validate(
        {"capacity": {"review_per_day": 10, "escalate_per_day": 3}, "exploration": {"share": 0.2, "seed": 3}}
    )
    routed, load = route(_routing_frame(spark), cfg)
    d = pd.DataFrame([r.asDict() for r in routed.collect()]).set_index("item_id")
    assert load == {"review_pool": 21, "escalate_pool": 4, "exploration_pool": 30, "exploration_slots": 2}
    esc = d[d["queue_status"].eq("queued") & d["action"].eq("escalate")]
    assert sorted(esc.index) == ["e1", "e2", "e3"]  # highest expected loss first
    assert d.loc["e0", "action"] == "review" and "ESCALATION_OVER_CAPACITY" in d.loc["e0", "reason_codes"]
    queued = d[d["queue_status"].eq("queued") & d["action"].eq("review")]
    pool = d[d.index.str.startswith("r") | (d.index == "e0")]
    expected_top = pool.assign(el=pool["p_violation"] * pool["exposure_usd"]).sort_values(
        ["el"], ascending=False, kind="stable"
    )
    assert set(queued.index) == set(expected_top.index[:8])  # 10 slots - 2 exploration
    assert sorted(queued["queue_rank"]) == list(range(4, 12))  # after the 3 escalations
    explore = d[d["queue_status"].eq("exploration")]
    assert len(explore) == 2 and explore.index.str.startswith("a").all()
    assert (explore["action"] == "review").all() and (explore["sampling_weight"] == 15.0).all()
    assert all(codes[0] == "EXPLORATION_SAMPLE" for codes in explore["reason_codes"])
    deferred = d[d["queue_status"].eq("deferred")]
    assert len(deferred) == 21 - 8 and (deferred["action"] == "review").all()
    assert all("OVER_CAPACITY_DEFERRED" in c for c in deferred["reason_codes"])
    assert (d.loc[d.index.str.startswith("z"), "queue_status"] == "auto").all()
    # same seed, same sample; another seed, another sample
    again, _ = route(_routing_frame(spark), cfg)
    assert sorted(r.item_id for r in again.where("queue_status = 'exploration'").collect()) == sorted(explore.index)
    other = cfg.model_copy(update={"exploration": cfg.exploration.model_copy(update={"seed": 99})})
    moved, _ = route(_routing_frame(spark), other)
    assert sorted(r.item_id for r in moved.where("queue_status = 'exploration'").collect()) != sorted(explore.index)
    # the documented alternative default: approve what does not fit
    approve_cfg = cfg.model_copy(update={"over_capacity": "approve"})
    approved, _ = route(_routing_frame(spark), approve_cfg)
    over = [r for r in approved.collect() if r.queue_status == "over_capacity_approved"]
    assert len(over) == 13 and all(r.action == "approve" and r.primary_reason == "OVER_CAPACITY_APPROVED" for r in over)


def test_outcome_labels_are_time_safe(spark: Any) -> None:
    from fraudmine.decisions.outcomes import labels_with_outcomes, latest_label, outcome_labels

    tables = hand_tables(spark)
    rows = {
        (r["entity_type"], r["entity_id"]): r.asDict()
        for r in outcome_labels(tables["moderation_outcomes"], AS_OF).collect()
    }
    # o3 (m1) was decided after D: a run at D must not see it; every verdict labels its seller and,
    # for a listing item, the listing
    assert set(rows) == {("merchant", "m2"), ("merchant", "m3"), ("product", "p2"), ("product", "p3")}
    assert rows[("merchant", "m2")]["label"] == "fraud" and rows[("merchant", "m2")]["labelled_at"].day == 25
    assert rows[("product", "p2")]["label"] == "fraud" and rows[("product", "p2")]["labelled_at"].day == 25
    assert rows[("merchant", "m3")]["label"] == "ok" and rows[("product", "p3")]["label"] == "ok"
    later = outcome_labels(tables["moderation_outcomes"], AS_OF.replace(day=3)).collect()
    assert {r["entity_id"] for r in later if r["entity_type"] == "merchant"} == {"m1", "m2", "m3"}
    latest = latest_label(labels_with_outcomes(tables["labels"], tables["moderation_outcomes"], AS_OF), AS_OF)
    got = {(r["entity_id"], r["label"]) for r in latest.collect() if r["entity_type"] == "merchant"}
    assert got == {("m5", "fraud"), ("m2", "fraud"), ("m3", "ok")}
