"""Out-of-fold GNN outputs for the hybrid model: no node's feature comes from a model that saw its label.

The target rows are cut into ``folds`` random folds.  Model ``k`` is trained on the training rows
outside fold ``k`` and selects its epoch on the validation rows outside fold ``k``; every row of fold
``k`` (training, validation or test) takes model ``k``'s outputs.  So a labelled row's GNN feature
comes from a model that neither fitted nor early-stopped on its label, and training, validation and
test rows get features of the same kind.  The bag mean (every model) is the GNN's own test score:
test labels are seen by no model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FitFn = Callable[[NDArray[np.int64], NDArray[np.int64], int], tuple[NDArray[np.float64], NDArray[np.float32]]]
"""``fit(train_rows, val_rows, seed) -> (scores (n, tasks), embeddings (n, d))`` of every target row."""


@dataclass(frozen=True)
class OutOfFold:
    """Out-of-fold scores ``(n, tasks)`` and embeddings ``(n, d)``, the bag's mean scores, each row's fold."""

    scores: NDArray[np.float64]
    embeddings: NDArray[np.float32]
    mean_scores: NDArray[np.float64]
    fold: NDArray[np.int64]


def fold_of(n: int, folds: int, seed: int) -> NDArray[np.int64]:
    """A random fold ``0..folds-1`` per row, balanced (sizes differ by at most one)."""
    return np.random.default_rng(seed).permutation(np.arange(n) % folds).astype(np.int64)


def out_of_fold(
    n: int, train: NDArray[np.int64], val: NDArray[np.int64], folds: int, seed: int, fit: FitFn
) -> OutOfFold:
    """Fit ``folds`` models (see the module docstring) and assemble the out-of-fold outputs.

    Raises:
        ValueError: ``folds`` below 2 (a single model sees every training label).
    """
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    fold = fold_of(n, folds, seed)
    scores: NDArray[np.float64] | None = None
    emb: NDArray[np.float32] | None = None
    mean: NDArray[np.float64] | None = None
    for k in range(folds):
        s, e = fit(train[fold[train] != k], val[fold[val] != k], seed * 100 + k)
        s = s.reshape(n, -1)
        if scores is None or emb is None or mean is None:
            scores, emb, mean = np.zeros_like(s), np.zeros((n, e.shape[1]), np.float32), np.zeros_like(s)
        rows = fold == k
        scores[rows] = s[rows]
        emb[rows] = e[rows]
        mean += s / folds
    assert scores is not None and emb is not None and mean is not None
    return OutOfFold(scores, emb, mean, fold)
