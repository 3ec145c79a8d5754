"""Policy validation on load: every kind of bad policy fails with a message naming the rule."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from fraudmine.decisions.facts import FACTS
from fraudmine.decisions.policy import PolicyError, load_policy, parse_policy


def _base() -> dict[str, Any]:
    return {
        "version": "t1",
        "default": {"action": "approve", "reason": "NONE"},
        "reasons": {"NONE": "-", "CRIT": "-", "HIGH": "-", "LIVE": "-", "PAY": "-"},
        "rules": [
            {
                "name": "live",
                "item_types": ["live_session"],
                "when": {"seller.fraud_band": {"in": ["critical"]}},
                "action": "escalate",
                "reason": "LIVE",
            },
            {"name": "crit", "when": {"seller.fraud_band": {"in": ["critical"]}}, "action": "reject", "reason": "CRIT"},
            {
                "name": "high",
                "when": {"seller.fraud_risk": {"gte": 0.5, "lt": 0.8}},
                "action": "review",
                "reason": "HIGH",
            },
            {"name": "pay", "when": {"seller.rejected_peers.payment": {"gte": 1}}, "action": "review", "reason": "PAY"},
        ],
    }


def _with(rule: int, **changes: Any) -> dict[str, Any]:
    p = copy.deepcopy(_base())
    p["rules"][rule].update(changes)
    return p


def test_shipped_policy_loads_and_every_fact_it_uses_exists(repo_root: Path) -> None:
    pol = load_policy(repo_root / "conf" / "policy.yaml")
    assert pol.version and pol.rules
    assert all(name in FACTS for r in pol.rules for name in r.when)
    assert parse_policy(_base()).ordered_rules()[0][1].name == "live"


@pytest.mark.parametrize(
    ("data", "pattern"),
    [
        (_with(1, when={"seller.fraud_band": {"in": ["severe"]}}), r"rule 'crit'.*unknown band\(s\) \['severe'\]"),
        (_with(1, reason="NOPE"), r"rule 'crit': unknown reason 'NOPE'"),
        (
            _with(1, when={"seller.frad_band": {"in": ["high"]}}),
            r"rule 'crit': unknown fact 'seller.frad_band'.*"
            r"did you mean 'seller.fraud_band'",
        ),
        (_with(2, when={"seller.fraud_risk": {"gte": 1.5}}), r"rule 'high'.*threshold 1.5 outside \[0.0, 1.0\]"),
        (_with(2, when={"seller.fraud_risk": {"gte": 0.9, "lte": 0.2}}), r"rule 'high'.*empty interval"),
        (_with(3, when={"seller.rejected_peers.payment": {"gte": -1}}), r"rule 'pay'.*threshold -1"),
        (_with(3, when={"seller.rejected_peers.payment": {"gte": 1.5}}), r"rule 'pay'.*not a whole number"),
        (_with(2, when={"seller.fraud_risk": {"in": ["high"]}}), r"rule 'high'.*use thresholds"),
        (_with(1, when={"seller.fraud_band": {"gte": 0.5}}), r"rule 'crit'.*use 'in: \[bands\]'"),
        (_with(2, name="crit"), r"rule 'crit' is defined twice"),
        (
            _with(0, when={"item.fraud_band": {"in": ["high"]}}),
            r"rule 'live' is unreachable: fact\(s\) "
            r"\['item.fraud_band'\] do not exist on item types \['live_session'\]",
        ),
        (_with(1, markets=["usa"]), r"rule 'crit': market 'usa'"),
        (_with(1, action="destroy"), r"rules\.1 \('crit'\)\.action"),
    ],
)
def test_bad_policies_name_the_rule(data: dict[str, Any], pattern: str) -> None:
    with pytest.raises(PolicyError, match=pattern):
        parse_policy(data, "test.yaml")


def test_shadowed_by_a_more_severe_later_rule() -> None:
    p = _base()
    p["rules"].append(
        {
            "name": "crit_review",
            "when": {"seller.fraud_band": {"in": ["critical"]}, "seller.fraud_risk": {"gte": 0.9}},
            "action": "review",
            "reason": "HIGH",
        }
    )
    with pytest.raises(PolicyError, match=r"rule 'crit_review' is unreachable.*rule 'crit'.*'reject' takes precedence"):
        parse_policy(p)
    p["rules"][-1]["action"] = "escalate"  # more severe than 'crit': reachable
    assert parse_policy(p).rules[-1].name == "crit_review"


def test_same_action_later_and_narrower_is_shadowed() -> None:
    p = _base()
    live = p["rules"].pop(0)
    live["action"] = "reject"
    p["rules"].append(live)
    with pytest.raises(PolicyError, match=r"rule 'live' is unreachable: .* rule 'crit'.*same action, earlier"):
        parse_policy(p)


def test_narrower_market_rule_is_not_shadowed_by_a_weaker_action() -> None:
    p = _base()
    p["rules"].insert(
        0,
        {
            "name": "gb_high",
            "markets": ["GB"],
            "when": {"seller.fraud_band": {"in": ["high"]}},
            "action": "reject",
            "reason": "HIGH",
        },
    )
    assert parse_policy(p).rules[0].markets == ["GB"]


def test_default_reason_and_system_reasons(tmp_path: Path) -> None:
    p = _base()
    p["default"]["reason"] = "MISSING"
    with pytest.raises(PolicyError, match="default reason 'MISSING'"):
        parse_policy(p)
    p = _base()
    p["reasons"]["EXPLORATION_SAMPLE"] = "x"
    with pytest.raises(PolicyError, match="reserved"):
        parse_policy(p)
    f = tmp_path / "p.yaml"
    f.write_text(yaml.safe_dump(_with(1, reason="NOPE")))
    with pytest.raises(PolicyError, match=rf"{f}: rule 'crit': unknown reason"):
        load_policy(f)
    f.write_text("rules: [unclosed")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(f)
