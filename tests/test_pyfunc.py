"""The registered bundle as an MLflow pyfunc: signature, pandas and Spark (``spark_udf``) scoring.

Real MLflow (local sqlite store), real LightGBM, real Spark: the pyfunc must give the scores the
nightly ``score`` stage gives for the same rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fraudmine.config import ModelConfig, RegistryConfig, ScoringConfig
from fraudmine.models.bundle import load_bundle, train_bundle, write_meta
from fraudmine.models.registry import make_registry
from fraudmine.models.scoring import score_pandas

FEATS = ["f_signal", "f_noise", "f_mixed"]
SCORING = ScoringConfig(band_medium=0.1, band_high=0.3, band_critical=0.6, reasons_min_band="medium")


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.15).astype(int)
    return pd.DataFrame(
        {
            "merchant_id": [f"M{i:05d}" for i in range(n)],
            "f_signal": y * 2.0 + rng.normal(0, 1, n),
            "f_noise": rng.normal(0, 1, n),
            "f_mixed": y * 0.7 + rng.normal(0, 1, n),
            "y_fraud": y,
            "y_low_quality": (rng.random(n) < 0.2).astype(int),
        }
    )


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A bundle with both heads and a rank-rule creator entry, registered in a fresh MLflow store."""
    root = tmp_path_factory.mktemp("pyfunc")
    bundle = root / "bundle"
    cfg = ModelConfig(n_estimators=40, n_jobs=1)  # small and single-threaded: fast on a busy 2-core machine
    meta = train_bundle(_frame(1200, 3), FEATS, cfg, bundle)
    meta["entities"] = {"creator": {"kind": "rank_rule", "why": "no labelled creator before the run date"}}
    write_meta(bundle, meta)
    reg = make_registry(RegistryConfig(), root / "out", SCORING)
    version = reg.register(bundle, "run-1", {}, {})
    reg.promote(version, "champion")
    uri = f"sqlite:///{(root / 'out' / 'mlflow.db').resolve()}"
    return {"bundle": bundle, "version": version, "uri": uri, "reg": reg, "root": root}


def _expected(bundle: Path, rows: pd.DataFrame) -> pd.DataFrame:
    _meta, heads = load_bundle(bundle)
    return score_pandas(rows, FEATS, heads, SCORING, "v", "r", datetime(2026, 11, 1, tzinfo=UTC))


def _load(registered: dict[str, Any]) -> Any:
    from fraudmine.models.pyfunc import load_pyfunc

    return load_pyfunc("models:/fraudmine-merchant-risk@champion", registered["uri"])


def test_pyfunc_scores_like_the_score_stage_and_has_a_signature(registered: dict[str, Any]) -> None:
    model = _load(registered)
    sig = model.metadata.signature
    assert sig is not None and sig.inputs.input_names() == FEATS
    assert sig.outputs.input_names() == ["fraud_risk", "low_quality_risk", "risk_band", "top_reasons"]
    rows = _frame(300, 11)
    got = model.predict(rows[FEATS])
    want = _expected(registered["bundle"], rows)
    np.testing.assert_allclose(got["fraud_risk"].to_numpy(), want["fraud_risk"].to_numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        got["low_quality_risk"].to_numpy(), want["low_quality_risk"].astype("float64").to_numpy(), atol=1e-12
    )
    assert got["risk_band"].tolist() == want["risk_band"].tolist()
    assert [list(r) for r in got["top_reasons"]] == [list(r) for r in want["top_reasons"]]
    # the bands follow the scoring config logged with the model, not the defaults
    assert (
        set(got["risk_band"]) >= {"low", "medium"}
        and (got["risk_band"] != "low").sum() > (got["fraud_risk"] >= ScoringConfig().band_medium).sum()
    )


def test_pyfunc_entity_type_errors_name_the_problem(registered: dict[str, Any]) -> None:
    model = _load(registered)
    rows = _frame(20, 5)[FEATS]
    with pytest.raises(Exception, match="rank rule"):
        model.predict(rows, params={"entity_type": "creator"})
    with pytest.raises(Exception, match="not in this model"):
        model.predict(rows, params={"entity_type": "brand"})


def test_fetch_still_returns_the_raw_bundle(registered: dict[str, Any], tmp_path: Path) -> None:
    got = registered["reg"].fetch(registered["version"], tmp_path / "f")
    assert got is not None
    assert (got / "fraud.lgb.txt").read_text() == (registered["bundle"] / "fraud.lgb.txt").read_text()


def test_spark_udf_matches_pandas_scoring(spark: Any, registered: dict[str, Any]) -> None:
    from pyspark.sql import functions as F

    from fraudmine.models.pyfunc import spark_score_udf

    rows = _frame(400, 23)
    sdf = spark.createDataFrame(rows[["merchant_id", *FEATS]]).repartition(3)
    udf = spark_score_udf(spark, f"models:/{registered['version']}", tracking_uri=registered["uri"])
    out = (
        sdf.select("merchant_id", udf(F.struct(*FEATS)).alias("s"))
        .select("merchant_id", "s.*")
        .toPandas()
        .sort_values("merchant_id")
        .reset_index(drop=True)
    )
    want = _expected(registered["bundle"], rows)
    np.testing.assert_allclose(out["fraud_risk"].to_numpy(), want["fraud_risk"].to_numpy(), atol=1e-12)
    assert out["risk_band"].tolist() == want["risk_band"].tolist()
    assert [list(r) for r in out["top_reasons"]] == [list(r) for r in want["top_reasons"]]
