"""Neighbour-aggregated node features for tabular models (numpy/scipy, one bundle in memory).

Label-free features (computed once per bundle): raw features; per relation the degree, 1-hop
mean / max / sum / standard deviation of the neighbours' features, 2-hop mean (mean of the
neighbours' means) and 2-hop max (largest neighbour mean), and the ego-minus-neighbourhood
difference (Hamilton et al., 2017, keep ego and neighbours apart; the random-forest-on-aggregates
baseline of GADBench's RFGraph, Tang et al., 2023).

Label-derived features (per split): per relation, among a node's 1- and 2-hop neighbours, how
many carry a *training* label and how many of those are positive; the same votes weighted by
``1/degree`` of the neighbour (a hub's label says less about each of its neighbours); and a signed
label propagation (+1 positive, -1 negative, 0 unknown) averaged over 1, 2 and 3 hops (Zhu &
Ghahramani, 2002, truncated).  They are computed **out of fold**: every node is put in one of
``folds`` random folds and sees only the training labels of the other folds, so a node's own
label never feeds its features (walks back to itself included) and training, validation and test
nodes get features of the same distribution.  A node outside the training set has a valid version
in every fold's view (:func:`label_feature_views`): the ``lgbm`` model averages its prediction over
them (test-time averaging over which fifth of the training labels was held out).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from fraudmine.models.nodes.data import NodeBundle

Matrix = NDArray[np.float32]

LABEL_COLUMNS = (
    "lab1", "pos1", "frac1", "lab2", "pos2", "frac2", "frac1_mean1", "wpos1", "wneg1", "wfrac1", "lp1", "lp2", "lp3",
)  # fmt: skip


def row_normalise(a: sp.csr_matrix) -> sp.csr_matrix:
    """``D^-1 A`` (rows of isolated nodes stay zero)."""
    deg = np.asarray(a.sum(axis=1)).ravel()
    inv = np.divide(1.0, deg, out=np.zeros_like(deg, dtype=np.float64), where=deg > 0)
    return sp.csr_matrix(sp.diags(inv.astype(np.float32)) @ a)


def neighbour_max(a: sp.csr_matrix, x: Matrix) -> Matrix:
    """Row-wise maximum of the neighbours' features (0 for isolated nodes), shape ``(n, f)``."""
    out = np.zeros((a.shape[0], x.shape[1]), dtype=np.float32)
    has = np.diff(a.indptr) > 0
    if a.nnz:
        gathered = x[a.indices]
        out[has] = np.maximum.reduceat(gathered, a.indptr[:-1][has], axis=0)
    return out


def graph_features(bundle: NodeBundle) -> tuple[Matrix, list[str]]:
    """Label-free features of every node: ``(n, d)`` matrix and its column names."""
    f = bundle.x.shape[1]
    blocks: list[Matrix] = [bundle.x]
    names = [f"x{j}" for j in range(f)]
    for rel, a in bundle.adjacency.items():
        an = row_normalise(a)
        deg = np.asarray(a.sum(axis=1), dtype=np.float32)
        mean1 = np.asarray(an @ bundle.x, dtype=np.float32)
        mean2 = np.asarray(an @ mean1, dtype=np.float32)
        std1 = np.sqrt(np.maximum(np.asarray(an @ (bundle.x * bundle.x)) - mean1 * mean1, 0.0)).astype(np.float32)
        blocks += [
            deg,
            np.asarray(an @ deg, dtype=np.float32),
            mean1,
            neighbour_max(a, bundle.x),
            np.asarray(a @ bundle.x, dtype=np.float32),
            std1,
            mean2,
            neighbour_max(a, mean1),
            bundle.x - mean1,
        ]
        names += [f"{rel}:deg", f"{rel}:deg_mean1"]
        for agg in ("mean1", "max1", "sum1", "std1", "mean2", "max2", "ego_minus_mean1"):
            names += [f"{rel}:{agg}:x{j}" for j in range(f)]
    return np.hstack(blocks).astype(np.float32), names


def fold_of(n: int, folds: int, seed: int) -> NDArray[np.int64]:
    """A random fold (0..folds-1) for each of ``n`` nodes."""
    return np.random.default_rng(seed).integers(0, folds, size=n)


def label_feature_views(
    bundle: NodeBundle, train: NDArray[np.int64], folds: int = 5, seed: int = 0
) -> tuple[NDArray[np.int64], list[Matrix], list[str]]:
    """The neighbour-label features of every node once per fold (see the module docstring).

    View ``k`` is computed from the training labels outside fold ``k`` only, for every node.

    Returns:
        ``(fold, views, names)``: each node's fold, the ``folds`` ``(n, d)`` views and the column
        names.  A node's own row is leak-free in the view of its own fold (what
        :func:`label_features` keeps); a node outside ``train`` is leak-free in every view.
    """
    n = bundle.n
    fold = fold_of(n, folds, seed)
    is_train = np.zeros(n, dtype=bool)
    is_train[train] = True
    names: list[str] = []
    for rel in bundle.adjacency:
        names += [f"{rel}:{c}" for c in LABEL_COLUMNS]
    views: list[Matrix] = []
    for k in range(folds):
        known = (is_train & (fold != k)).astype(np.float32)
        pos = known * (bundle.y == 1)
        signed = pos - known * (bundle.y == 0)
        cols: list[NDArray[np.float32]] = []
        for a in bundle.adjacency.values():
            an = row_normalise(a)
            inv_deg = 1.0 / np.maximum(np.asarray(a.sum(axis=1)).ravel(), 1.0)
            wpos, wneg = a @ (pos * inv_deg), a @ ((known - pos) * inv_deg)
            wfrac = np.divide(wpos, wpos + wneg, out=np.full(n, np.nan, dtype=np.float32), where=(wpos + wneg) > 0)
            lp1 = an @ signed
            lp2 = an @ lp1
            lp3 = an @ lp2
            lab1, pos1 = a @ known, a @ pos
            lab2, pos2 = a @ lab1, a @ pos1
            frac1 = np.divide(pos1, lab1, out=np.full(n, np.nan, dtype=np.float32), where=lab1 > 0)
            frac2 = np.divide(pos2, lab2, out=np.full(n, np.nan, dtype=np.float32), where=lab2 > 0)
            frac1_mean1 = an @ np.nan_to_num(frac1)
            cols += [lab1, pos1, frac1, lab2, pos2, frac2, frac1_mean1, wpos, wneg, wfrac, lp1, lp2, lp3]
        views.append(np.column_stack(cols).astype(np.float32))
    return fold, views, names


def label_features(
    bundle: NodeBundle, train: NDArray[np.int64], folds: int = 5, seed: int = 0
) -> tuple[Matrix, list[str]]:
    """Out-of-fold neighbour-label features of every node for one split: row ``i`` from the view of its fold."""
    fold, views, names = label_feature_views(bundle, train, folds, seed)
    return out_of_fold(fold, views), names


def out_of_fold(fold: NDArray[np.int64], views: list[Matrix]) -> Matrix:
    """Row ``i`` of ``views[fold[i]]`` for every node."""
    out = np.zeros_like(views[0])
    for k, view in enumerate(views):
        out[fold == k] = view[fold == k]
    return out
