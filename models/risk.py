"""LightGBM risk model with out-of-fold Platt calibration.

Follows the scikit-learn estimator API: ``__init__`` stores hyperparameters
unchanged, ``fit`` returns ``self``, fitted state ends in ``_``, randomness comes
from ``random_state``.  The ranking model is one LightGBM booster trained on all
labelled rows; its raw margin is calibrated with a logistic (Platt) map fitted on
*out-of-fold* margins (stratified K-fold), so the calibration never sees a
prediction made on a row's own label.  Platt rather than isotonic because labelled
positives are few (tens to hundreds) and isotonic over-fits at that size.

Reasons: LightGBM's ``pred_contrib`` (TreeSHAP) gives each feature's contribution
to the margin; the top positive contributions become reason codes.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold


class RiskModel:
    """Binary risk model: LightGBM ranking + out-of-fold Platt calibration.

    Args:
        n_estimators, learning_rate, num_leaves, min_child_samples, subsample,
        colsample_bytree: LightGBM hyperparameters.
        calibration_folds: folds for the out-of-fold margins used to fit calibration.
        n_jobs: LightGBM threads.
        random_state: seed for LightGBM bagging/feature sampling and the fold split.

    Attributes (after ``fit``):
        booster_: the trained ``lightgbm.Booster``.
        feature_names_: feature column order.
        calib_: ``(a, b)`` of ``p = sigmoid(a * margin + b)``.
        oof_margin_: out-of-fold margins of the training rows.
    """

    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 10,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        calibration_folds: int = 5,
        n_jobs: int = 2,
        random_state: int = 7,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.calibration_folds = calibration_folds
        self.n_jobs = n_jobs
        self.random_state = random_state

    def lgb_params(self) -> dict[str, Any]:
        """LightGBM training parameters (deterministic mode, fixed seeds)."""
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "bagging_fraction": self.subsample,
            "bagging_freq": 1,
            "feature_fraction": self.colsample_bytree,
            "num_threads": self.n_jobs,
            "seed": self.random_state,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }

    def _train(self, x: pd.DataFrame, y: NDArray[np.int_]) -> lgb.Booster:
        ds = lgb.Dataset(x, label=y, free_raw_data=True)
        return lgb.train(self.lgb_params(), ds, num_boost_round=self.n_estimators)

    def fit(self, x: pd.DataFrame, y: NDArray[np.int_] | pd.Series) -> RiskModel:
        """Fit the booster on all rows and the calibration on out-of-fold margins.

        Raises:
            ValueError: if ``y`` is not binary with both classes present at least
                ``calibration_folds`` times.
        """
        yv = np.asarray(y, dtype=int)
        counts = np.bincount(yv, minlength=2)
        if set(np.unique(yv)) - {0, 1} or counts.min() < self.calibration_folds:
            raise ValueError(
                f"RiskModel.fit needs binary labels with each class at least "
                f"{self.calibration_folds} times; got class counts {counts.tolist()}"
            )
        self.feature_names_ = list(x.columns)
        oof = np.zeros(len(yv))
        folds = StratifiedKFold(self.calibration_folds, shuffle=True, random_state=self.random_state)
        for train_idx, test_idx in folds.split(x, yv):
            b = self._train(x.iloc[train_idx], yv[train_idx])
            oof[test_idx] = b.predict(x.iloc[test_idx], raw_score=True)
        self.oof_margin_ = oof
        lr = LogisticRegression(C=1e6, max_iter=1000).fit(oof.reshape(-1, 1), yv)
        self.calib_ = (float(lr.coef_[0, 0]), float(lr.intercept_[0]))
        self.booster_ = self._train(x, yv)
        return self

    def decision_function(self, x: pd.DataFrame) -> NDArray[np.float64]:
        """Raw LightGBM margin (log-odds before calibration)."""
        return np.asarray(self.booster_.predict(x[self.feature_names_], raw_score=True), dtype=np.float64)

    def predict_proba(self, x: pd.DataFrame) -> NDArray[np.float64]:
        """Calibrated probability of the positive class, shape ``(n,)``."""
        a, b = self.calib_
        return calibrate(self.decision_function(x), a, b)

    def contributions(self, x: pd.DataFrame) -> NDArray[np.float64]:
        """Per-feature margin contributions (TreeSHAP), shape ``(n, n_features)`` (bias dropped)."""
        contrib = np.asarray(self.booster_.predict(x[self.feature_names_], pred_contrib=True))
        return np.asarray(contrib[:, :-1], dtype=np.float64)


def calibrate(margin: NDArray[np.float64], a: float, b: float) -> NDArray[np.float64]:
    """Platt map ``sigmoid(a * margin + b)``."""
    return np.asarray(1.0 / (1.0 + np.exp(-(a * margin + b))), dtype=np.float64)


def top_reasons(
    contrib: NDArray[np.float64], feature_names: list[str], reason_codes: dict[str, str], k: int
) -> list[list[str]]:
    """Top-``k`` distinct reason codes per row, from features with positive contributions.

    Args:
        contrib: ``(n, n_features)`` contributions.
        feature_names: column order of ``contrib``.
        reason_codes: feature → reason code (features not in it use their own name).
        k: reasons per row.
    """
    out: list[list[str]] = []
    order = np.argsort(-contrib, axis=1, kind="stable")
    for i in range(contrib.shape[0]):
        codes: list[str] = []
        for j in order[i]:
            if contrib[i, j] <= 0 or len(codes) >= k:
                break
            code = reason_codes.get(feature_names[j], feature_names[j].upper())
            if code not in codes:
                codes.append(code)
        out.append(codes)
    return out
