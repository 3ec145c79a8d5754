"""Out-of-fold GNN outputs for the hybrid model: no node's feature comes from a model that saw its label.

The target rows are cut into ``folds`` random folds.  Model ``k`` is trained on the training rows
outside fold ``k`` and selects its epoch on the validation rows outside fold ``k``; every row of fold
``k`` (training, validation or test) takes model ``k``'s outputs.  So a labelled row's GNN feature
comes from a model that neither fitted nor early-stopped on its label, and training, validation and
test rows get features of the same kind.  The bag mean (every model) is the GNN's own test score:
test labels are seen by no model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Rows = NDArray[np.int64]
FitFn = Callable[
    [Mapping[str, Rows], Mapping[str, Rows], int], Mapping[str, tuple[NDArray[np.float64], NDArray[np.float32]]]
]
"""``fit(train_rows, val_rows, seed) -> {group: (scores (n, tasks), embeddings (n, d))}``: rows and outputs
per group (entity type), every row of every group scored."""


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
    n: Mapping[str, int],
    train: Mapping[str, Rows],
    val: Mapping[str, Rows],
    folds: int,
    seed: int,
    fit: FitFn,
) -> dict[str, OutOfFold]:
    """Fit ``folds`` models (see the module docstring), each on every group at once; assemble per group.

    Args:
        n: group → number of rows.
        train, val: group → row indices of the split's training / validation rows.
        folds: number of folds (models).
        seed: fold assignment and model seeds.
        fit: the model (see :data:`FitFn`).

    Raises:
        ValueError: ``folds`` below 2 (a single model sees every training label).
    """
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    fold = {g: fold_of(k, folds, seed) for g, k in n.items()}
    acc: dict[str, list[NDArray[np.float64] | NDArray[np.float32]]] = {}
    for k in range(folds):
        out = fit(
            {g: train[g][fold[g][train[g]] != k] for g in n},
            {g: val[g][fold[g][val[g]] != k] for g in n},
            seed * 100 + k,
        )
        for g, (s, e) in out.items():
            s = s.reshape(n[g], -1)
            if g not in acc:
                acc[g] = [np.zeros_like(s), np.zeros((n[g], e.shape[1]), np.float32), np.zeros_like(s)]
            rows = fold[g] == k
            acc[g][0][rows] = s[rows]
            acc[g][1][rows] = e[rows]
            acc[g][2] += s / folds
    return {
        g: OutOfFold(np.asarray(a[0], np.float64), np.asarray(a[1], np.float32), np.asarray(a[2], np.float64), fold[g])
        for g, a in acc.items()
    }
