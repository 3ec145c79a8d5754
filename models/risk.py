"""LightGBM risk model: early stopping on a validation split, scikit-learn calibration.

Follows the scikit-learn estimator API (``BaseEstimator``/``ClassifierMixin``): ``__init__``
stores hyperparameters unchanged, ``fit`` returns ``self``, fitted state ends in ``_``,
randomness comes from ``random_state``.

``fit``:

1. a stratified validation split (``validation_fraction``) is held out;
2. the number of boosting rounds is chosen by early stopping on it (``early_stopping_rounds``,
   at most ``n_estimators``);
3. calibration: :class:`sklearn.calibration.CalibratedClassifierCV` (``ensemble=False``: the
   calibrator is fitted on out-of-fold predictions of ``calibration_folds`` folds, so it never
   sees a prediction made on a row's own label), isotonic or sigmoid (Platt); with
   ``calibration="auto"`` both are fitted on the training part and the one with the lower Brier
   score on the validation split is kept (isotonic over-fits when positives are few, sigmoid
   under-fits a non-logistic shape: the data decides);
4. the chosen calibrated model is refitted on all rows.

The validation Brier score, AUROC and reliability curve of the kept method are in ``report_``.
The calibrated map is stored as plain numbers (:func:`calibration_params`) so bundles stay
text-only.

Reasons: LightGBM's ``pred_contrib`` (TreeSHAP) gives each feature's contribution to the
margin; the top positive contributions become reason codes.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV, calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

CALIBRATION_METHODS = ("sigmoid", "isotonic")


class RiskModel(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Binary risk model: LightGBM with early stopping, calibrated through scikit-learn.

    Args:
        n_estimators: upper bound on boosting rounds (early stopping picks the number).
        learning_rate, num_leaves, min_child_samples, subsample, colsample_bytree: LightGBM
            hyperparameters.
        calibration: ``"auto"`` (sigmoid or isotonic, chosen on validation Brier), ``"sigmoid"``
            or ``"isotonic"``.
        calibration_folds: folds of ``CalibratedClassifierCV``'s out-of-fold predictions.
        early_stopping_rounds: rounds without validation improvement before stopping.
        validation_fraction: share of rows held out for early stopping and the calibration choice.
        n_jobs: LightGBM threads.
        random_state: seed for LightGBM, the validation split and the folds.

    Attributes (after ``fit``):
        booster_: the trained ``lightgbm.Booster`` (all rows, ``best_iteration_`` rounds).
        feature_names_: feature column order.
        best_iteration_: boosting rounds kept by early stopping.
        calibration_method_: ``"sigmoid"`` or ``"isotonic"``.
        calib_: the calibration map as plain numbers (see :func:`apply_calibration`).
        classes_: ``[0, 1]``.
        report_: validation ``brier`` per method, ``auroc``, ``n_val`` and the reliability curve.
    """

    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 10,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        calibration: str = "auto",
        calibration_folds: int = 5,
        early_stopping_rounds: int = 50,
        validation_fraction: float = 0.2,
        n_jobs: int = 2,
        random_state: int = 7,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.calibration = calibration
        self.calibration_folds = calibration_folds
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
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

    def _classifier(self, rounds: int) -> lgb.LGBMClassifier:
        p = self.lgb_params()
        return lgb.LGBMClassifier(
            n_estimators=rounds,
            learning_rate=p["learning_rate"],
            num_leaves=p["num_leaves"],
            min_child_samples=p["min_child_samples"],
            subsample=p["bagging_fraction"],
            subsample_freq=1,
            colsample_bytree=p["feature_fraction"],
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            deterministic=True,
            force_row_wise=True,
            verbosity=-1,
        )

    def _calibrated(self, rounds: int, method: str) -> CalibratedClassifierCV:
        folds = StratifiedKFold(self.calibration_folds, shuffle=True, random_state=self.random_state)
        return CalibratedClassifierCV(self._classifier(rounds), method=method, cv=folds, ensemble=False)

    def fit(self, x: pd.DataFrame, y: NDArray[np.int_] | pd.Series) -> RiskModel:
        """Early-stop, choose and fit the calibration, refit on all rows (see the module docstring).

        Raises:
            ValueError: ``y`` is not binary with each class at least ``2 * calibration_folds``
                times, or ``calibration`` is not ``auto``/``sigmoid``/``isotonic``.
        """
        if self.calibration not in ("auto", *CALIBRATION_METHODS):
            raise ValueError(f"RiskModel.calibration={self.calibration!r}; expected auto, sigmoid or isotonic")
        x = x if isinstance(x, pd.DataFrame) else pd.DataFrame(np.asarray(x))
        yv = np.asarray(y, dtype=int)
        counts = np.bincount(yv, minlength=2)
        need = 2 * self.calibration_folds
        if set(np.unique(yv)) - {0, 1} or counts.min() < need:
            raise ValueError(
                f"RiskModel.fit needs binary labels with each class at least {need} times "
                f"(2 x calibration_folds); got class counts {counts.tolist()}"
            )
        self.feature_names_ = [str(c) for c in x.columns]
        x = x.set_axis(self.feature_names_, axis=1)
        self.classes_ = np.array([0, 1])
        idx_fit, idx_val = train_test_split(
            np.arange(len(yv)), test_size=self.validation_fraction, stratify=yv, random_state=self.random_state
        )
        x_fit, y_fit, x_val, y_val = x.iloc[idx_fit], yv[idx_fit], x.iloc[idx_val], yv[idx_val]
        es = lgb.train(
            self.lgb_params(),
            lgb.Dataset(x_fit, label=y_fit),
            num_boost_round=self.n_estimators,
            valid_sets=[lgb.Dataset(x_val, label=y_val)],
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
        )
        self.best_iteration_ = max(1, int(es.best_iteration or self.n_estimators))
        methods = CALIBRATION_METHODS if self.calibration == "auto" else (self.calibration,)
        brier: dict[str, float] = {}
        val_p: dict[str, NDArray[np.float64]] = {}
        for m in methods:
            val_p[m] = self._calibrated(self.best_iteration_, m).fit(x_fit, y_fit).predict_proba(x_val)[:, 1]
            brier[m] = float(brier_score_loss(y_val, val_p[m]))
        self.calibration_method_ = min(methods, key=lambda m: (brier[m], m))
        p = val_p[self.calibration_method_]
        frac, mean = calibration_curve(y_val, p, n_bins=10, strategy="quantile")
        self.report_ = {
            "brier": brier,
            "auroc": float(roc_auc_score(y_val, p)),
            "n_val": len(y_val),
            "reliability": {"p_mean": mean.round(4).tolist(), "y_mean": frac.round(4).tolist()},
        }
        final = self._calibrated(self.best_iteration_, self.calibration_method_).fit(x, yv)
        cc = final.calibrated_classifiers_[0]
        self.booster_ = cc.estimator.booster_
        self.calib_ = calibration_params(cc.calibrators[0], self.calibration_method_)
        return self

    def decision_function(self, x: pd.DataFrame) -> NDArray[np.float64]:
        """Raw LightGBM margin (log-odds before calibration)."""
        return np.asarray(self.booster_.predict(self._x(x), raw_score=True), dtype=np.float64)

    def _x(self, x: pd.DataFrame) -> pd.DataFrame:
        if isinstance(x, pd.DataFrame) and set(self.feature_names_) <= {str(c) for c in x.columns}:
            return x.set_axis([str(c) for c in x.columns], axis=1)[self.feature_names_]
        return pd.DataFrame(np.asarray(x), columns=self.feature_names_)

    def predict_proba(self, x: pd.DataFrame) -> NDArray[np.float64]:
        """Calibrated class probabilities, shape ``(n, 2)`` (column 1: the positive class)."""
        p = apply_calibration(self.calib_, self.decision_function(x))
        return np.column_stack([1.0 - p, p])

    def predict(self, x: pd.DataFrame) -> NDArray[np.int_]:
        """Class labels at a 0.5 calibrated probability."""
        return (self.predict_proba(x)[:, 1] >= 0.5).astype(int)

    def contributions(self, x: pd.DataFrame) -> NDArray[np.float64]:
        """Per-feature margin contributions (TreeSHAP), shape ``(n, n_features)`` (bias dropped)."""
        contrib = np.asarray(self.booster_.predict(self._x(x), pred_contrib=True))
        return np.asarray(contrib[:, :-1], dtype=np.float64)


def calibration_params(calibrator: Any, method: str) -> dict[str, Any]:
    """A fitted scikit-learn calibrator as plain numbers: the map from booster margin to risk.

    ``sigmoid``: ``{"method", "a", "b"}`` with ``p = 1 / (1 + exp(a * s + b))`` (scikit-learn's
    Platt sign); ``isotonic``: ``{"method", "x", "y"}``, piecewise linear, clipped at the ends,
    ties inside a step broken by the booster score (see :func:`apply_calibration`).
    """
    if method == "sigmoid":
        return {"method": "sigmoid", "a": float(calibrator.a_), "b": float(calibrator.b_)}
    return {
        "method": "isotonic",
        "x": [float(v) for v in calibrator.X_thresholds_],
        "y": [float(v) for v in calibrator.y_thresholds_],
    }


def apply_calibration(
    calib: dict[str, Any] | list[float] | tuple[float, float], margin: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Apply a stored calibration map to booster margins (raw log-odds scores).

    ``CalibratedClassifierCV`` calibrates ``LGBMClassifier.decision_function``, the raw margin.
    A two-number list is the older hand-written Platt map of bundles written before it.
    """
    if isinstance(calib, (list, tuple)):
        return calibrate(margin, float(calib[0]), float(calib[1]))
    if calib["method"] == "sigmoid":
        return np.asarray(1.0 / (1.0 + np.exp(calib["a"] * margin + calib["b"])), dtype=np.float64)
    # Isotonic maps whole score ranges to one value; a 1e-6 tilt by the booster score keeps the
    # booster's ranking inside those steps (review queues and Rec@K sort by risk) at no cost in
    # calibration.
    p = np.interp(margin, calib["x"], calib["y"]) + 1e-6 / (1.0 + np.exp(-margin))
    return np.asarray(np.clip(p, 0.0, 1.0), dtype=np.float64)


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
