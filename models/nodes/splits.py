"""Train/validation/test splits of a node bundle under the benchmark protocols.

- ``given-splits``: the bundle's own ``train/val/test_masks`` (restricted to labelled nodes);
- ``gadbench-fully``: stratified random 40/20/40 over labelled nodes, one split per seed
  (GADBench, Tang et al., NeurIPS 2023, fully supervised setting);
- ``gadbench-semi``: 20 positives + 80 negatives for training, the same again for validation,
  every other labelled node for test, one split per seed (GADBench semi-supervised setting).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from sklearn.model_selection import train_test_split

from fraudmine.models.nodes.data import BundleError, NodeBundle

Protocol = Literal["given-splits", "gadbench-fully", "gadbench-semi"]
PROTOCOLS: tuple[Protocol, ...] = ("given-splits", "gadbench-fully", "gadbench-semi")


@dataclass(frozen=True)
class Split:
    """Node indices of one split (disjoint, labelled nodes only) and the seed that drew it."""

    train: NDArray[np.int64]
    val: NDArray[np.int64]
    test: NDArray[np.int64]
    seed: int


def _given(bundle: NodeBundle, n_splits: int | None) -> list[Split]:
    if bundle.masks is None:
        raise BundleError(
            "protocol 'given-splits' needs train_masks/val_masks/test_masks in the bundle; "
            "use --protocol gadbench-fully or gadbench-semi"
        )
    labelled = bundle.y >= 0
    tr, va, te = bundle.masks
    k = tr.shape[0] if n_splits is None else min(n_splits, tr.shape[0])
    return [
        Split(np.flatnonzero(tr[i] & labelled), np.flatnonzero(va[i] & labelled), np.flatnonzero(te[i] & labelled), i)
        for i in range(k)
    ]


def _fully(bundle: NodeBundle, seed: int) -> Split:
    idx = np.flatnonzero(bundle.y >= 0)
    y = bundle.y[idx]
    train, rest = train_test_split(idx, train_size=0.4, stratify=y, random_state=seed)
    val, test = train_test_split(rest, train_size=1 / 3, stratify=bundle.y[rest], random_state=seed)
    return Split(np.sort(train), np.sort(val), np.sort(test), seed)


def _semi(bundle: NodeBundle, seed: int, n_pos: int = 20, n_neg: int = 80) -> Split:
    rng = np.random.default_rng(seed)
    pos = rng.permutation(np.flatnonzero(bundle.y == 1))
    neg = rng.permutation(np.flatnonzero(bundle.y == 0))
    if len(pos) < 2 * n_pos + 1 or len(neg) < 2 * n_neg + 1:
        raise BundleError(
            f"protocol 'gadbench-semi' needs more than {2 * n_pos} positives and {2 * n_neg} negatives; "
            f"the bundle has {len(pos)} and {len(neg)}"
        )
    train = np.concatenate([pos[:n_pos], neg[:n_neg]])
    val = np.concatenate([pos[n_pos : 2 * n_pos], neg[n_neg : 2 * n_neg]])
    test = np.concatenate([pos[2 * n_pos :], neg[2 * n_neg :]])
    return Split(np.sort(train), np.sort(val), np.sort(test), seed)


def make_splits(bundle: NodeBundle, protocol: Protocol, seeds: int | None) -> list[Split]:
    """The splits of ``protocol``: ``seeds`` random ones (default 10), or the first ``seeds`` given ones.

    Raises:
        BundleError: the protocol cannot be applied to this bundle (no masks, too few positives).
    """
    if protocol == "given-splits":
        return _given(bundle, seeds)
    n = 10 if seeds is None else seeds
    if len(np.unique(bundle.y[bundle.y >= 0])) < 2:
        raise BundleError("'node_labels' needs both positives (1) and negatives (0) for a random split")
    draw = _fully if protocol == "gadbench-fully" else _semi
    return [draw(bundle, s) for s in range(n)]
