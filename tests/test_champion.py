"""Champion/challenger gate of the train stage (pure: pandas + LightGBM, no Spark, no registry)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fraudmine.config import ModelConfig, PromotionConfig
from fraudmine.models.bundle import Head, load_bundle, train_bundle
from fraudmine.models.champion import decide

T0 = datetime(2026, 6, 1, tzinfo=UTC)
CUT = T0 + timedelta(days=70)
ALL = ["signal", "noise_a", "noise_b"]
NOISE = ["noise_a", "noise_b"]


def _cfg(**promotion: Any) -> ModelConfig:
    return ModelConfig(n_estimators=40, n_jobs=1, calibration="sigmoid", promotion=PromotionConfig(**promotion))


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 1500
    y = (rng.random(n) < 0.12).astype(int)
    return pd.DataFrame(
        {
            "signal": rng.normal(1.5 * y, 1.0),
            "noise_a": rng.normal(size=n),
            "noise_b": rng.normal(size=n),
            "y_fraud": y,
            "y_low_quality": pd.array([None] * n, dtype="Int64"),
            "labelled_at": [T0 + timedelta(days=float(d)) for d in rng.uniform(0, 100, n)],
        }
    )


def _champion(train: pd.DataFrame, features: list[str], tmp: Path, cut: datetime = CUT) -> Any:
    seen = train[pd.to_datetime(train["labelled_at"], utc=True) < cut].reset_index(drop=True)
    meta = train_bundle(seen, features, _cfg(), tmp)
    meta, heads = load_bundle(tmp)
    meta["labels_before"] = cut.isoformat()
    return meta, heads


def test_a_better_challenger_is_promoted_with_its_evidence(train: pd.DataFrame, tmp_path: Path) -> None:
    champion = _champion(train, NOISE, tmp_path)
    d = decide(train, ALL, _cfg(), "m/2", champion, "m/1", T0 + timedelta(days=101))
    assert d.promote and "beats champion" in d.reason
    assert d.challenger_metric is not None and d.champion_metric is not None
    assert d.challenger_metric > d.champion_metric + 0.1
    unseen = pd.to_datetime(train["labelled_at"], utc=True) >= CUT
    assert d.holdout_rows == int(unseen.sum()) and d.holdout_positives == int(train.loc[unseen, "y_fraud"].sum())


def test_a_worse_challenger_leaves_the_champion_scoring(train: pd.DataFrame, tmp_path: Path) -> None:
    champion = _champion(train, ALL, tmp_path)
    d = decide(train, NOISE, _cfg(), "m/2", champion, "m/1", T0 + timedelta(days=101))
    assert not d.promote and "the champion keeps scoring" in d.reason
    # a negative margin (non-inferiority) still refuses a challenger this much worse
    assert not decide(train, NOISE, _cfg(margin=-0.05), "m/2", champion, "m/1", T0 + timedelta(days=101)).promote
    # and a margin too high for a real gain keeps an equal champion
    same = decide(train, ALL, _cfg(margin=0.5), "m/2", champion, "m/1", T0 + timedelta(days=101))
    assert not same.promote and "below the margin 0.5" in same.reason


def test_no_champion_rerun_backfill_or_missing_features_let_the_challenger_score(
    train: pd.DataFrame, tmp_path: Path
) -> None:
    now = T0 + timedelta(days=101)
    assert decide(train, ALL, _cfg(), "m/2", None, None, now).promote
    champion = _champion(train, ALL, tmp_path)
    assert decide(train, NOISE, _cfg(), "m/1", champion, "m/1", now).reason.startswith("the champion is this run's")
    back = decide(train, NOISE, _cfg(), "m/2", champion, "m/1", CUT - timedelta(days=5))
    assert back.promote and "backfill" in back.reason
    meta, heads = champion
    gone = decide(train, NOISE, _cfg(), "m/2", ({**meta, "features": [*ALL, "retired"]}, heads), "m/1", now)
    assert gone.promote and "retired" in gone.reason
    old_meta = {k: v for k, v in meta.items() if k != "labels_before"}
    legacy = decide(train, NOISE, _cfg(), "m/2", (old_meta, heads), "m/1", now)
    assert legacy.promote and "label cut-off" in legacy.reason
    off = decide(train, NOISE, _cfg(enabled=False), "m/2", champion, "m/1", now)
    assert off.promote and "gate is off" in off.reason


def test_too_few_new_labels_follow_on_small_holdout(train: pd.DataFrame, tmp_path: Path) -> None:
    late = T0 + timedelta(days=99)  # about 1% of the labels arrived after this champion's cut-off
    champion = _champion(train, ALL, tmp_path, cut=late)
    now = T0 + timedelta(days=101)
    d = decide(train, NOISE, _cfg(), "m/2", champion, "m/1", now)
    assert d.promote and "on_small_holdout" in d.reason and d.holdout_positives < 10
    kept = decide(train, NOISE, _cfg(on_small_holdout="keep"), "m/2", champion, "m/1", now)
    assert not kept.promote and "the champion keeps scoring" in kept.reason


def test_heads_compare_on_the_same_rows(train: pd.DataFrame, tmp_path: Path) -> None:
    """The decision is deterministic and uses the champion's own feature order."""
    meta, heads = _champion(train, ALL[::-1], tmp_path)
    head = heads["fraud"]
    assert isinstance(head, Head) and meta["features"] == ALL[::-1]
    a = decide(train, ALL, _cfg(), "m/2", (meta, heads), "m/1", T0 + timedelta(days=101))
    b = decide(train, ALL, _cfg(), "m/2", (meta, heads), "m/1", T0 + timedelta(days=101))
    assert a == b
