"""A trained creator or listing head scores only when it beats its label-free rule out of fold."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fraudmine.config import ModelConfig
from fraudmine.models.entities import ENTITY_SPECS
from fraudmine.models.entity_bundle import train_entities
from fraudmine.models.head_vs_rule import compare_head_to_rule
from fraudmine.models.rank_score import RankRule

CFG = ModelConfig(n_estimators=60, n_jobs=1)
RULE = RankRule("r", (("r", 1.0),))


def _frame(n: int, seed: int, rule_knows: bool) -> pd.DataFrame:
    """Labels that follow ``a * b`` (a head learns it, no single rank does) or the rule's own column ``r``."""
    rng = np.random.default_rng(seed)
    a, b, noise = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    signal = a * b
    y = (signal + 0.3 * noise > 0.8).astype(float)
    r = signal + 0.05 * noise if rule_knows else rng.normal(size=n)
    return pd.DataFrame({"id": [f"e{i}" for i in range(n)], "a": a, "b": b, "r": r, "y_fraud": y})


def test_a_head_that_learns_what_the_rule_misses_wins() -> None:
    v = compare_head_to_rule(_frame(600, 1, rule_knows=False), ["a", "b"], RULE, CFG)
    assert v.head_oof_auroc is not None and v.head_oof_auroc > 0.8 and abs(v.rule_auroc - 0.5) < 0.1
    assert v.head_wins and "replaces" in v.reason()


def test_a_head_no_better_than_the_rule_loses_and_the_margin_counts() -> None:
    frame = _frame(600, 2, rule_knows=True)
    v = compare_head_to_rule(frame, ["a", "b"], RULE, CFG)
    assert v.head_oof_auroc is not None and v.rule_auroc > v.head_oof_auroc and not v.head_wins
    easy = compare_head_to_rule(
        _frame(600, 1, rule_knows=False), ["a", "b"], RULE, CFG.model_copy(update={"head_vs_rule_margin": 0.6})
    )
    assert not easy.head_wins  # the same winning head, asked to win by 0.6 AUROC


def test_too_few_labels_for_the_folds_keep_the_rule() -> None:
    frame = _frame(600, 1, rule_knows=False)
    pos = frame.index[frame["y_fraud"] == 1][:12]  # 12 positives: 9.6 per training part < 2 * calibration_folds
    small = pd.concat([frame.loc[pos], frame[frame["y_fraud"] == 0]]).reset_index(drop=True)
    v = compare_head_to_rule(small, ["a", "b"], RULE, CFG)
    assert v.head_oof_auroc is None and not v.head_wins and "too few" in v.reason()


def test_low_quality_head_is_compared_with_its_own_rule() -> None:
    frame = _frame(600, 3, rule_knows=False).rename(columns={"y_fraud": "y_low_quality"})
    v = compare_head_to_rule(frame, ["a", "b"], RULE, CFG, head="low_quality")
    assert v.head == "low_quality" and v.head_wins


@pytest.mark.parametrize("rule_knows", [False, True])
def test_train_entities_keeps_the_head_only_when_it_wins(tmp_path: Path, rule_knows: bool) -> None:
    """Creator frames: the rule's columns carry the label (rule wins) or noise (the head, on two others, wins)."""
    spec = ENTITY_SPECS["creator"]
    base = _frame(600, 4, rule_knows=rule_knows)
    rng = np.random.default_rng(5)
    rule_cols = set(spec.fraud_rule.features)
    free = [f for f in spec.features if f not in rule_cols]
    frame = pd.DataFrame({c: rng.normal(size=len(base)) for c in free})
    for c in sorted(rule_cols):  # every term of the creator rule (all risk-up) is the rule column, or noise
        frame[c] = base["r"] + 0.01 * rng.normal(size=len(base))
    frame[free[0]], frame[free[1]] = base["a"], base["b"]
    frame[spec.id_col] = base["id"]
    frame["y_fraud"], frame["y_low_quality"] = base["y_fraud"], np.nan
    entities = train_entities({"creator": frame}, CFG, tmp_path)
    entry = entities["creator"]
    assert entry["kind"] == ("rank_rule" if rule_knows else "lightgbm")
    assert entry["head_vs_rule"][0]["head_wins"] is (not rule_knows)
    assert (tmp_path / "creator").exists() is (not rule_knows)  # a losing head leaves no sub-bundle
    assert json.dumps(entities)  # plain data for model.json
