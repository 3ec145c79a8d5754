"""Supervised pair matcher: LightGBM on the pair features (estimator API)."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pandas as pd

from fraudmine.dedup.features import FEATURES


class PairMatcher:
    """Gradient-boosted classifier of candidate pairs (match / non-match).

    Args:
        n_estimators: boosting rounds.
        learning_rate: shrinkage.
        num_leaves: leaves per tree.
        random_state: seed (deterministic with ``n_jobs`` threads).
        n_jobs: threads.
    """

    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        random_state: int = 0,
        n_jobs: int = 2,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, features: pd.DataFrame, labels: npt.NDArray[np.int_]) -> PairMatcher:
        """Fit on labelled pairs.

        Raises:
            ValueError: the labels hold only one class.
        """
        y = np.asarray(labels, dtype=int)
        if len(np.unique(y)) < 2:
            raise ValueError("PairMatcher.fit needs both matching and non-matching labelled pairs")
        self.model_ = lgb.LGBMClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=10,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.9,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            deterministic=True,
            verbose=-1,
        ).fit(features[list(FEATURES)], y)
        return self

    def predict_proba(self, features: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Match probability per pair."""
        proba = np.asarray(self.model_.predict_proba(features[list(FEATURES)]), dtype=np.float64)
        return proba[:, 1]
