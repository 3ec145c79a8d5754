"""Stratified train/validation/test splits of an entity type's whole population.

Every entity of the type is in exactly one part (labelled or not), so the test part is a sample
of the population the review budget is taken from.  The split is stratified on a class per
entity (typology, clean, or other), so every typology keeps its share in each part.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from fraudmine.models.nodes.splits import Split


def stratified_split(strata: NDArray[np.int64], seed: int, train: float = 0.4, val: float = 0.2) -> Split:
    """Split row indices ``0..n-1`` into train / val / test, ``train``/``val``/rest of each stratum.

    Within each stratum the rows are shuffled with ``seed`` and cut at rounded shares, so a stratum
    of 5 gives 2 / 1 / 2.  Deterministic by seed.

    Raises:
        ValueError: shares outside ``(0, 1)`` or summing to 1 or more.
    """
    if not (0 < train < 1 and 0 < val < 1 and train + val < 1):
        raise ValueError(f"train {train} and val {val} must be in (0, 1) and sum to less than 1")
    rng = np.random.default_rng(seed)
    parts: tuple[list[NDArray[np.int64]], list[NDArray[np.int64]], list[NDArray[np.int64]]] = ([], [], [])
    for value in np.unique(strata):
        rows = rng.permutation(np.flatnonzero(strata == value))
        a = round(train * len(rows))
        b = a + round(val * len(rows))
        parts[0].append(rows[:a])
        parts[1].append(rows[a:b])
        parts[2].append(rows[b:])
    tr, va, te = (np.sort(np.concatenate(p)).astype(np.int64) for p in parts)
    return Split(tr, va, te, seed)


def strata_of(labels: dict[str, NDArray[np.int8]]) -> NDArray[np.int64]:
    """One stratum per row: ``1 + j`` for the rarest task ``j`` it is positive in, ``0`` when negative
    in every task, ``-1`` otherwise (unlabelled in some task, positive in none)."""
    names = sorted(labels, key=lambda t: (int((labels[t] == 1).sum()), t), reverse=True)
    out = np.where((np.column_stack(list(labels.values())) == 0).all(axis=1), 0, -1).astype(np.int64)
    for j, t in enumerate(names):  # rarest last, so it wins
        out[labels[t] == 1] = 1 + j
    return out
