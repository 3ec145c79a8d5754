"""Batch scoring: feature rows → calibrated risks, risk bands and reasons.

:func:`score_pandas` is the pure per-batch function; :func:`score_spark` runs it
on executors with ``mapInPandas`` (the bundle travels as a broadcast of its text
models, no pickles).  Reasons come from LightGBM ``pred_contrib`` which costs about
5k rows/s here, so they are computed only for rows at or above
``reasons_min_band``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from fraudmine.config import ScoringConfig
from fraudmine.contracts.outputs import RISK_BANDS, SCORES_DDL
from fraudmine.features.columns import reason_codes
from fraudmine.models.bundle import Head
from fraudmine.models.risk import top_reasons


def risk_band(p: NDArray[np.float64], cfg: ScoringConfig) -> NDArray[np.str_]:
    """Band of each calibrated probability: low < medium < high < critical."""
    edges = np.array([cfg.band_medium, cfg.band_high, cfg.band_critical])
    idx = np.searchsorted(edges, p, side="right")
    return np.asarray(np.array(RISK_BANDS)[idx])


def score_pandas(
    pdf: pd.DataFrame,
    features: list[str],
    heads: dict[str, Head | None],
    cfg: ScoringConfig,
    model_version: str,
    run_id: str,
    as_of: datetime,
    entity_type: str = "merchant",
    id_col: str = "merchant_id",
) -> pd.DataFrame:
    """Score one batch of feature rows of one entity type with calibrated LightGBM heads.

    Args:
        pdf: rows with ``id_col`` and the ``features`` columns.
        features: model feature order.
        heads: loaded heads (``fraud`` required, ``low_quality`` optional).
        cfg: bands and reason settings.
        model_version, run_id, as_of: stamped on every row.
        entity_type: ``entity_type`` of the rows; reason codes follow it (:func:`reason_codes`).
        id_col: raw id column of ``pdf``.

    Returns:
        Rows in the :data:`fraudmine.contracts.outputs.SCORES_DDL` layout.
    """
    fraud = heads["fraud"]
    if fraud is None:
        raise ValueError("score_pandas: the fraud head is required")
    x = pdf[features].astype("float64")
    p_fraud, booster = fraud.predict(x)
    lq = heads.get("low_quality")
    p_lq = lq.predict(x)[0] if lq is not None else np.full(len(pdf), np.nan)
    bands = risk_band(p_fraud, cfg)
    reasons: list[list[str]] = [[] for _ in range(len(pdf))]
    need = np.flatnonzero(np.isin(bands, RISK_BANDS[RISK_BANDS.index(cfg.reasons_min_band) :]))
    if len(need):
        codes = reason_codes(entity_type)
        contrib = np.asarray(booster.predict(x.iloc[need], pred_contrib=True))[:, :-1]
        for i, got in zip(need, top_reasons(contrib, features, codes, cfg.reasons_top_k), strict=True):
            reasons[i] = got
    return pd.DataFrame(
        {
            "entity_type": entity_type,
            "entity_id": pdf[id_col].astype(str).to_numpy(),
            "fraud_risk": p_fraud,
            "low_quality_risk": pd.array(p_lq, dtype="Float64"),  # NaN → <NA> → null in Spark
            "calibrated": True,
            "risk_band": bands,
            "top_reasons": reasons,
            "model_version": model_version,
            "run_id": run_id,
            "as_of": pd.Timestamp(as_of),
        }
    )


def score_spark(
    features_df: Any,
    meta: dict[str, Any],
    heads: dict[str, Head | None],
    cfg: ScoringConfig,
    run_id: str,
    as_of: datetime,
    entity_type: str = "merchant",
    id_col: str = "merchant_id",
) -> Any:
    """Score a Spark DataFrame of one entity type's features on the executors (``mapInPandas``).

    Returns:
        A Spark DataFrame with schema :data:`SCORES_DDL`.
    """
    spark = features_df.sparkSession
    feats: list[str] = list(meta["features"])
    bc = spark.sparkContext.broadcast({k: (None if h is None else (h.booster_text, h.calib)) for k, h in heads.items()})
    version = str(meta.get("model_version", "unregistered"))

    def _score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        loaded = {k: None if v is None else Head(v[0], v[1]) for k, v in bc.value.items()}
        for pdf in batches:
            yield score_pandas(pdf, feats, loaded, cfg, version, run_id, as_of, entity_type, id_col)

    return features_df.select(id_col, *feats).mapInPandas(_score, schema=SCORES_DDL)
