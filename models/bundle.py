"""The trained model bundle: LightGBM text models + ``model.json`` (calibration, features).

Layout of a bundle folder::

    model.json           {"features": [...], "heads": {"fraud": {...}, "low_quality": {...}|null}, ...}
    fraud.lgb.txt        LightGBM text model of the fraud head
    low_quality.lgb.txt  (optional) LightGBM text model of the low-quality head

A head entry holds ``file``, ``calib`` (the scikit-learn calibration as numbers, see
:func:`fraudmine.models.risk.calibration_params`; a two-number list in older bundles),
``calibration`` (method, validation Brier score per method, validation AUROC, reliability curve),
``best_iteration``, ``n_pos``, ``n_neg`` and ``val_auroc``.  Text models keep the bundle portable
(Spark executors, the API, MLflow artifacts) without pickles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from fraudmine.config import ModelConfig
from fraudmine.models.risk import RiskModel, apply_calibration

HEADS = ("fraud", "low_quality")


class NotEnoughLabels(ValueError):
    """Too few labelled positives or negatives to train a head."""


@dataclass(frozen=True)
class Head:
    """A loaded head: booster text + calibration."""

    booster_text: str
    calib: Any

    def predict(self, x: pd.DataFrame) -> tuple[NDArray[np.float64], lgb.Booster]:
        """Calibrated probabilities and the booster (kept for ``pred_contrib``)."""
        booster = lgb.Booster(model_str=self.booster_text)
        margin = np.asarray(booster.predict(x, raw_score=True), dtype=np.float64)
        return apply_calibration(self.calib, margin), booster


def make_model(cfg: ModelConfig) -> RiskModel:
    """An unfitted :class:`RiskModel` with the configured hyperparameters."""
    return RiskModel(
        n_estimators=cfg.n_estimators,
        learning_rate=cfg.learning_rate,
        num_leaves=cfg.num_leaves,
        min_child_samples=cfg.min_child_samples,
        subsample=cfg.subsample,
        colsample_bytree=cfg.colsample_bytree,
        calibration=cfg.calibration,
        calibration_folds=cfg.calibration_folds,
        early_stopping_rounds=cfg.early_stopping_rounds,
        validation_fraction=cfg.validation_fraction,
        n_jobs=cfg.n_jobs,
        random_state=cfg.seed,
    )


def train_bundle(
    train: pd.DataFrame,
    features: list[str],
    cfg: ModelConfig,
    out: Path,
    required: tuple[str, ...] = ("fraud",),
) -> dict[str, Any]:
    """Train the heads on a labelled frame and write the bundle to ``out``.

    Args:
        train: rows with ``features`` plus ``y_fraud`` and ``y_low_quality`` (nullable) columns.
        features: feature columns in model order.
        cfg: model hyperparameters and minimum label counts.
        out: bundle folder (created).
        required: heads that must be trainable; others are skipped when labels are short.

    Returns:
        The ``model.json`` content.

    Raises:
        NotEnoughLabels: a required head has fewer positives or negatives than configured.
    """
    out.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {"features": features, "heads": {}}
    for head in HEADS:
        rows = train[train[f"y_{head}"].notna()]
        y = rows[f"y_{head}"].astype(int).to_numpy()
        n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
        if n_pos < cfg.min_positive_labels or n_neg < cfg.min_negative_labels:
            if head in required:
                raise NotEnoughLabels(
                    f"head {head!r}: {n_pos} positive and {n_neg} negative labels before the run date; "
                    f"need at least {cfg.min_positive_labels} and {cfg.min_negative_labels} (model.min_*_labels)"
                )
            meta["heads"][head] = None
            continue
        model = make_model(cfg).fit(rows[features], y)
        (out / f"{head}.lgb.txt").write_text(model.booster_.model_to_string())
        meta["heads"][head] = {
            "file": f"{head}.lgb.txt",
            "calib": model.calib_,
            "calibration": {"method": model.calibration_method_, **model.report_},
            "best_iteration": model.best_iteration_,
            "n_pos": n_pos,
            "n_neg": n_neg,
            "val_auroc": model.report_["auroc"],
        }
    write_meta(out, meta)
    return meta


def write_meta(out: Path, meta: dict[str, Any]) -> None:
    """Write ``model.json`` (sorted keys, stable)."""
    (out / "model.json").write_text(json.dumps(meta, indent=2, sort_keys=True))


def load_bundle(path: Path) -> tuple[dict[str, Any], dict[str, Head | None]]:
    """Read a bundle folder into its metadata and loaded heads."""
    meta: dict[str, Any] = json.loads((path / "model.json").read_text())
    heads: dict[str, Head | None] = {}
    for name in HEADS:
        h = meta["heads"].get(name)
        heads[name] = None if h is None else Head((path / h["file"]).read_text(), h["calib"])
    return meta, heads
