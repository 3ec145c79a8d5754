"""FRAUDAR greedy peeling for dense bipartite blocks (Hooi, Song, Beutel, Shah, Shin & Faloutsos,
"FRAUDAR: Bounding Graph Fraud in the Face of Camouflage", KDD 2016).

Suspiciousness of a node set ``S`` is ``g(S) = f(S) / |S|`` with ``f(S)`` the summed weight of
the edges inside ``S``.  Column weighting ``w = 1 / log(d_col + c)`` (``d_col`` = the column's
degree in the *whole* graph) makes edges to popular products cheap, so fraudsters adding
camouflage edges to honest popular products do not hide the block: the greedy peel
(repeatedly remove the node whose remaining edges weigh least, keep the best ``g`` seen) is a
2-approximation of the densest block whatever camouflage is added (the paper's Theorem 1).
Implemented with a lazy min-heap: ``O(|E| log |V|)``.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Block:
    """A dense block: row (buyer) and column (product) indices, its score and edge count."""

    rows: np.ndarray
    cols: np.ndarray
    density: float
    n_edges: int


def column_weights(col_degree: np.ndarray, c: float = 5.0) -> np.ndarray:
    """FRAUDAR's column weight ``1 / log(degree + c)`` (``c`` keeps it finite for degree 0)."""
    return 1.0 / np.log(col_degree.astype(np.float64) + c)


def greedy_peel(rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, n_rows: int, n_cols: int) -> Block:
    """One FRAUDAR pass: the densest block found by greedy peeling.

    Args:
        rows, cols: edge endpoints (row index < ``n_rows``, column index < ``n_cols``).
        weights: edge weights (column weights of :func:`column_weights`, or anything positive).
        n_rows, n_cols: node counts.

    Returns:
        The best prefix of the peeling order as a :class:`Block` (empty arrays when there are no edges).
    """
    n = n_rows + n_cols
    if rows.size == 0:
        return Block(np.empty(0, np.int64), np.empty(0, np.int64), 0.0, 0)
    u = rows.astype(np.int64)
    v = cols.astype(np.int64) + n_rows
    w = weights.astype(np.float64)
    order = np.argsort(np.concatenate([u, v]), kind="stable")
    ends = np.concatenate([u, v])[order]
    other = np.concatenate([v, u])[order]
    ew = np.concatenate([w, w])[order]
    eid = np.concatenate([np.arange(u.size), np.arange(u.size)])[order]
    start = np.searchsorted(ends, np.arange(n + 1))
    delta = np.bincount(ends, weights=ew, minlength=n)
    alive = np.zeros(n, dtype=bool)
    alive[u] = True
    alive[v] = True
    edge_alive = np.ones(u.size, dtype=bool)
    total = float(w.sum())
    size = int(alive.sum())
    heap = [(float(delta[i]), int(i)) for i in np.flatnonzero(alive)]
    heapq.heapify(heap)
    best, best_step = total / size, 0
    removed: list[int] = []
    while size > 1 and heap:
        d, i = heapq.heappop(heap)
        if not alive[i] or d != delta[i]:
            continue
        alive[i] = False
        removed.append(i)
        total -= d
        size -= 1
        for k in range(start[i], start[i + 1]):
            e = eid[k]
            if edge_alive[e]:
                edge_alive[e] = False
                j = other[k]
                delta[j] -= ew[k]
                heapq.heappush(heap, (float(delta[j]), int(j)))
        g = total / size
        if g > best:
            best, best_step = g, len(removed)
    keep = np.zeros(n, dtype=bool)
    keep[u] = True
    keep[v] = True
    keep[np.asarray(removed[:best_step], dtype=np.int64)] = False
    members = np.flatnonzero(keep)
    r = members[members < n_rows]
    c = members[members >= n_rows] - n_rows
    inside = np.isin(u, r) & np.isin(cols, c)
    return Block(r, c, float(best), int(inside.sum()))


def peel_blocks(
    rows: np.ndarray,
    cols: np.ndarray,
    weights: np.ndarray,
    n_rows: int,
    n_cols: int,
    max_blocks: int,
    accept: Callable[[Block], bool],
    expand: Callable[[Block], np.ndarray] | None = None,
) -> list[Block]:
    """Repeated FRAUDAR: find a block, remove its edges, repeat while ``accept(block)`` holds.

    Args:
        rows, cols, weights, n_rows, n_cols: as in :func:`greedy_peel`.
        max_blocks: at most this many blocks.
        accept: callable ``Block -> bool``; the first rejected block stops the search.
        expand: optional callable returning the block's final rows (e.g. the core plus attached rows);
            the returned block carries them and all their edges to its columns are removed.
    """
    out: list[Block] = []
    live = np.ones(rows.size, dtype=bool)
    for _ in range(max_blocks):
        b = greedy_peel(rows[live], cols[live], weights[live], n_rows, n_cols)
        if b.n_edges == 0 or not accept(b):
            break
        if expand is not None:
            b = Block(expand(b), b.cols, b.density, b.n_edges)
        out.append(b)
        live &= ~(np.isin(rows, b.rows) & np.isin(cols, b.cols))
    return out
