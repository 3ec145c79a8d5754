"""The evidence-first listing rule: a typology with few features is not drowned by one with many."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from fraudmine.config import ScoringConfig
from fraudmine.models.entities import PRODUCT
from fraudmine.models.evidence_rule import EvidencePart, EvidenceRule, lexicographic_pct, rule_from_json
from fraudmine.models.rank_score import RankRule, rank_rule_score, score_rank_rules

AS_OF = datetime(2026, 11, 1)

RULE = EvidenceRule(
    "r",
    (
        EvidencePart(RankRule("dup", (("d1", 1.0), ("d2", 1.0), ("d3", 1.0), ("d4", 1.0))), (("d1", 2.0),)),
        EvidencePart(RankRule("brush", (("block", 2.0), ("orders", 1.0))), (("block", 1.0),)),
    ),
)


def _frame() -> pd.DataFrame:
    """400 listings; rows 0-39 relisting-like (soft duplicate signals everywhere, no cluster); row 50 in a
    brushing block and no duplicate signal; rows 60-69 in duplicate clusters."""
    rng = np.random.default_rng(0)
    n = 400
    x = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(n)],
            "d1": np.ones(n),
            "d2": rng.random(n),
            "d3": rng.random(n),
            "d4": rng.random(n),
            "block": np.zeros(n),
            "orders": rng.poisson(3, n).astype(float),
        }
    )
    x.loc[0:39, ["d2", "d3", "d4"]] = 5.0
    x.loc[60:69, "d1"] = 3.0
    x.loc[50, ["block", "d2", "d3", "d4"]] = [1.0, 0.0, 0.0, 0.0]
    return x


def test_evidence_of_a_small_typology_beats_soft_signals_of_a_large_one() -> None:
    x = _frame()
    got = RULE.rank(x)
    order = np.argsort(-got.risk, kind="stable")
    # the eleven rows with hard evidence come first, the brushing block among them
    assert set(order[:11]) == {50, *range(60, 70)}
    # a flat weighted mean of every term (the v1 design) puts the relisting-like rows above the block
    flat = RankRule("flat", tuple(t for p in RULE.parts for t in p.rule.terms))
    flat_risk, _ = rank_rule_score(x, flat)
    assert (flat_risk[:40] > flat_risk[50]).all()
    # without evidence, the strongest part orders (relisting-like rows by their duplicate part, others by orders)
    soft = ~got.has_evidence.any(axis=1)
    strongest = got.part_pct[soft].max(axis=1)
    risk = got.risk[soft]
    assert (np.sign(np.subtract.outer(strongest, strongest)) == np.sign(np.subtract.outer(risk, risk))).all()
    assert got.risk[:40].min() > np.median(got.risk[soft])
    assert 0.99 < got.risk.max() <= 1.0 and got.risk.min() > 0  # the top of each part ties at the top
    assert got.winner[50] == 1 and (got.winner[60:70] == 0).all()


def test_reasons_come_from_the_part_that_placed_the_row() -> None:
    x = _frame()
    cfg = ScoringConfig()
    codes = {"block": "BRUSHING_BLOCK", "d1": "DUP_CLUSTER", "d2": "D2", "d3": "D3", "d4": "D4", "orders": "ORDERS"}
    out = score_rank_rules(x, "product", "id", RULE, None, codes, cfg, "v/1", "run", AS_OF)
    by_id = out.set_index("entity_id")
    assert by_id.loc["p50", "top_reasons"][0] == "BRUSHING_BLOCK"
    assert "DUP_CLUSTER" in by_id.loc["p60", "top_reasons"] and "BRUSHING_BLOCK" not in by_id.loc["p60", "top_reasons"]
    assert (~out["calibrated"]).all() and "critical" not in set(out["risk_band"])


def test_lexicographic_pct_orders_by_keys_and_averages_ties() -> None:
    a = np.array([1.0, 0.0, 1.0, 0.0])
    b = np.array([0.2, 0.9, 0.2, 0.1])
    got = lexicographic_pct(a, b)
    assert got.tolist() == [0.875, 0.5, 0.875, 0.25]
    assert lexicographic_pct(np.zeros(0)).size == 0


def test_json_round_trip_and_dispatch() -> None:
    assert rule_from_json(RULE.to_json()) == RULE
    plain = RankRule("p", (("a", 1.0),))
    assert rule_from_json(plain.to_json()) == plain
    assert rule_from_json(PRODUCT.fraud_rule.to_json()) == PRODUCT.fraud_rule
    assert set(RULE.features) == {"d1", "d2", "d3", "d4", "block", "orders"}


def test_missing_feature_names_the_rule() -> None:
    with pytest.raises(ValueError, match=r"evidence rule 'r'.*\['block'\]"):
        RULE.rank(_frame().drop(columns="block"))
