"""Clustering matched pairs, with chaining control, and a canonical record per cluster.

* :func:`unique_mapping` — clean-clean matching (two sources, each record matched at most once):
  pairs taken greedily in descending score, a pair kept while both ends are free (the "unique
  mapping clustering" of JedAI; Papadakis et al., *Proc. VLDB* 2020, "Three-dimensional
  entity resolution with JedAI").
* :func:`cluster_pairs` — dirty matching (one table): connected components on confident edges;
  a component whose edge density (cohesion) is below ``min_cohesion`` is split by centre
  clustering (Hassanzadeh et al., *PVLDB* 2009: edges in descending score, the first end seen
  becomes a centre, the other joins it unless it is itself a centre or already assigned), which
  stops A~B~C chains from merging A and C.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from fraudmine.dedup.pairs import IntArray


def unique_mapping(i: IntArray, j: IntArray, score: npt.NDArray[np.float64], threshold: float) -> npt.NDArray[np.bool_]:
    """Mask of pairs kept by greedy one-to-one assignment above ``threshold``."""
    keep = np.zeros(len(i), dtype=bool)
    used: set[int] = set()
    for k in np.argsort(-score, kind="stable"):
        if score[k] < threshold:
            break
        a, b = int(i[k]), int(j[k])
        if a in used or b in used:
            continue
        used.update((a, b))
        keep[k] = True
    return keep


def _centre(i: IntArray, j: IntArray, score: npt.NDArray[np.float64], nodes: IntArray) -> dict[int, int]:
    centre: dict[int, int] = {}
    is_centre: set[int] = set()
    for k in np.argsort(-score, kind="stable"):
        a, b = int(i[k]), int(j[k])
        if a not in centre and b not in centre:
            centre[a] = a
            is_centre.add(a)
            centre[b] = a
        elif a in is_centre and b not in centre:
            centre[b] = a
        elif b in is_centre and a not in centre:
            centre[a] = b
    for v in nodes.tolist():
        centre.setdefault(int(v), int(v))
    return centre


def cluster_pairs(
    n: int,
    i: IntArray,
    j: IntArray,
    score: npt.NDArray[np.float64],
    threshold: float,
    min_cohesion: float = 0.5,
) -> tuple[IntArray, dict[str, int]]:
    """Cluster label per record (records with no confident edge get their own label).

    Returns:
        ``(labels, stats)``: ``labels[r]`` is the smallest record index of ``r``'s cluster; ``stats``
        counts the components split for low cohesion (``split_components``) and edges used.
    """
    conf = score >= threshold
    ci, cj, cs = i[conf], j[conf], score[conf]
    graph = coo_matrix((np.ones(len(ci)), (ci, cj)), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    labels = np.arange(n, dtype=np.int64)
    split = 0
    edge_comp = comp[ci] if len(ci) else np.zeros(0, dtype=np.int64)
    sizes = np.bincount(comp, minlength=n)
    order = np.argsort(edge_comp, kind="stable")
    bounds: list[int] = []
    if len(ci):
        bounds = np.flatnonzero(np.r_[True, edge_comp[order][1:] != edge_comp[order][:-1], True]).tolist()
    for s, e in itertools.pairwise(bounds):
        idx = order[s:e]
        c = int(edge_comp[idx[0]])
        members = np.flatnonzero(comp == c)
        size = int(sizes[c])
        density = len(idx) / (size * (size - 1) / 2)
        if size <= 2 or density >= min_cohesion:
            labels[members] = members.min()
            continue
        split += 1
        centre = _centre(ci[idx], cj[idx], cs[idx], members)
        groups: dict[int, list[int]] = {}
        for v, ctr in centre.items():
            groups.setdefault(ctr, []).append(v)
        for vs in groups.values():
            labels[vs] = min(vs)
    return labels, {"split_components": split, "confident_edges": int(conf.sum())}


def canonical_member(labels: IntArray, rank: npt.NDArray[np.float64]) -> IntArray:
    """Canonical record of each record's cluster: the member with the smallest ``rank`` (e.g. creation time)."""
    canon = labels.copy()
    best: dict[int, int] = {}
    for r in np.argsort(rank, kind="stable").tolist():
        best.setdefault(int(labels[r]), int(r))
    for r in range(len(labels)):
        canon[r] = best[int(labels[r])]
    return canon
