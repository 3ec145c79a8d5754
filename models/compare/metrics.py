"""AUPRC and recall at a review budget on the test part of a split."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import average_precision_score


def auprc(y: NDArray[np.int8], score: NDArray[np.float64], rows: NDArray[np.int64]) -> float:
    """Average precision of ``score`` over the labelled (``y >= 0``) rows among ``rows``."""
    keep = rows[y[rows] >= 0]
    return float(average_precision_score(y[keep], score[keep]))


def recall_at_budget(
    y: NDArray[np.int8], score: NDArray[np.float64], rows: NDArray[np.int64], budget: float = 0.01
) -> float:
    """Share of the positives among ``rows`` that fall in the top ``ceil(budget * len(rows))`` scores of ``rows``.

    ``rows`` is the whole test population of the entity type (unlabelled rows included: they take
    review slots like any other entity), as ``fraudmine evaluate`` takes the budget over every scored entity.
    Ties are broken by row order (stable sort), like ``evaluate``.

    Raises:
        ValueError: ``budget`` outside ``(0, 1]`` or no positive among ``rows``.
    """
    if not 0 < budget <= 1:
        raise ValueError(f"budget must be in (0, 1], got {budget}")
    n_pos = int((y[rows] == 1).sum())
    if n_pos == 0:
        raise ValueError("no positive among the rows: recall is undefined")
    k = max(1, math.ceil(budget * len(rows)))
    top = rows[np.argsort(-score[rows], kind="stable")[:k]]
    return float((y[top] == 1).sum() / n_pos)
