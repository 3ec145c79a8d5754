"""Risk model (estimator API, calibration, determinism, reasons), bundle, scoring bands."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from fraudmine.config import ModelConfig, ScoringConfig
from fraudmine.models.bundle import NotEnoughLabels, load_bundle, train_bundle
from fraudmine.models.risk import RiskModel, top_reasons
from fraudmine.models.scoring import risk_band, score_pandas


def _data(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"signal": rng.normal(size=n), "noise": rng.normal(size=n), "other": rng.normal(size=n)})
    y = (x["signal"] + 0.5 * rng.normal(size=n) > 1.0).astype(int).to_numpy()
    return x, y


def test_estimator_api_and_ranking() -> None:
    x, y = _data()
    m = RiskModel(n_jobs=1, n_estimators=50, random_state=3)
    assert m.n_estimators == 50 and not hasattr(m, "booster_")
    assert m.fit(x, y) is m
    xt, yt = _data(seed=1)
    proba = m.predict_proba(xt)
    assert proba.shape == (len(xt), 2) and np.allclose(proba.sum(axis=1), 1.0)
    p = proba[:, 1]
    assert ((p >= 0) & (p <= 1)).all()
    assert roc_auc_score(yt, p) > 0.85


def test_calibration_is_sklearn_chosen_on_validation_and_sane() -> None:
    x, y = _data(2000)
    m = RiskModel(n_jobs=1, n_estimators=80).fit(x, y)
    p = m.predict_proba(_data(2000, seed=5)[0])[:, 1]
    # calibrated mean close to the base rate (an in-sample fit would be far more extreme)
    assert abs(p.mean() - y.mean()) < 0.05
    brier = m.report_["brier"]
    assert set(brier) == {"sigmoid", "isotonic"} and m.calibration_method_ == min(brier, key=brier.__getitem__)
    assert 1 <= m.best_iteration_ <= 80 and len(m.report_["reliability"]["p_mean"]) > 3
    iso = RiskModel(n_jobs=1, n_estimators=80, calibration="isotonic").fit(x, y)
    assert iso.calib_["method"] == "isotonic" and set(iso.report_["brier"]) == {"isotonic"}


def test_sklearn_estimator_checks() -> None:
    """The estimator-API checks that apply to a binary-only model (multi-class checks do not)."""
    from sklearn.base import clone
    from sklearn.utils import estimator_checks as ec

    m = RiskModel(n_jobs=1, n_estimators=20, calibration_folds=2)
    ec.check_get_params_invariance("RiskModel", m)
    ec.check_no_attributes_set_in_init("RiskModel", m)
    ec.check_parameters_default_constructible("RiskModel", m)
    assert clone(m).get_params() == m.get_params()
    assert m.set_params(num_leaves=7) is m and m.num_leaves == 7


def test_same_seed_same_model() -> None:
    x, y = _data()
    a = RiskModel(n_jobs=1, n_estimators=30, random_state=1).fit(x, y)
    b = RiskModel(n_jobs=1, n_estimators=30, random_state=1).fit(x, y)
    np.testing.assert_array_equal(a.predict_proba(x), b.predict_proba(x))
    assert a.booster_.model_to_string() == b.booster_.model_to_string()


def test_fit_rejects_single_class() -> None:
    x, _ = _data(50)
    with pytest.raises(ValueError, match="class counts"):
        RiskModel().fit(x, np.zeros(50, dtype=int))


def test_top_reasons_positive_distinct_codes() -> None:
    contrib = np.array([[0.5, 0.2, -1.0], [-0.1, -0.2, -0.3], [0.1, 0.9, 0.3]])
    codes = {"a": "A_CODE", "b": "SHARED", "c": "SHARED"}
    assert top_reasons(contrib, ["a", "b", "c"], codes, 2) == [["A_CODE", "SHARED"], [], ["SHARED", "A_CODE"]]


def test_risk_band_edges() -> None:
    cfg = ScoringConfig(band_medium=0.2, band_high=0.5, band_critical=0.8)
    bands = risk_band(np.array([0.0, 0.2, 0.49, 0.5, 0.8, 1.0]), cfg)
    assert bands.tolist() == ["low", "medium", "medium", "high", "critical", "critical"]


def test_bundle_roundtrip_and_scoring(tmp_path: Path) -> None:
    x, y = _data(800)
    train = x.assign(merchant_id=[f"m{i}" for i in range(len(x))], y_fraud=y, y_low_quality=np.nan)
    cfg = ModelConfig(n_estimators=40, n_jobs=1)
    meta = train_bundle(train, ["signal", "noise", "other"], cfg, tmp_path)
    assert meta["heads"]["low_quality"] is None  # no low-quality labels: head skipped, not faked
    assert meta["heads"]["fraud"]["val_auroc"] > 0.8
    assert meta["heads"]["fraud"]["calibration"]["method"] in ("sigmoid", "isotonic")
    meta2, heads = load_bundle(tmp_path)
    assert meta2 == meta
    out = score_pandas(
        train, meta["features"], heads, ScoringConfig(), "v1", "run-1", pd.Timestamp("2026-11-01", tz="UTC")
    )
    assert out["low_quality_risk"].isna().all()
    flagged = out[out["risk_band"] != "low"]
    assert len(flagged) > 0 and all(len(r) > 0 for r in flagged["top_reasons"])
    assert all(len(r) == 0 for r in out.loc[out["risk_band"] == "low", "top_reasons"])


def test_required_head_needs_labels(tmp_path: Path) -> None:
    x, _ = _data(100)
    train = x.assign(y_fraud=0, y_low_quality=np.nan)
    train.loc[:2, "y_fraud"] = 1
    with pytest.raises(NotEnoughLabels, match="3 positive"):
        train_bundle(train, ["signal"], ModelConfig(), tmp_path)
