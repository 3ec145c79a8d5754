"""Clustering matched pairs, with chaining control, and a canonical record per cluster.

* :func:`unique_mapping` — clean-clean matching (two sources, each record matched at most once):
  pairs taken greedily in descending score, a pair kept while both ends are free (the "unique
  mapping clustering" of JedAI; Papadakis et al., *Proc. VLDB* 2020, "Three-dimensional
  entity resolution with JedAI").
* :func:`cluster_pairs` — dirty matching (one table): confident edges merged in descending score
  (Kruskal order) into groups; with :class:`CannotLink` a merge is refused when it would put two
  records with conflicting evidence (two known images too far apart) into one group — complete
  linkage on the conflict, single linkage on the score, i.e. constrained agglomerative clustering
  with cannot-link constraints (Wagstaff et al., *ICML* 2001; Davidson & Ravi, *SDM* 2005).
  Without constraints the groups are the connected components.  A group whose edge density
  (cohesion) is below ``min_cohesion`` is then split by centre clustering (Hassanzadeh et al.,
  *PVLDB* 2009: edges in descending score, the first end seen becomes a centre, the other joins it
  unless it is itself a centre or already assigned), which stops A~B~C chains from merging A and C.

Why the constraint: a record with no image (or a generic title) can score above the threshold
against two records that are plainly different listings (unrelated photos); components then chain
them into one cluster, and the cohesion split sees a dense enough star.  The refused merge keeps
the chain's ends apart whatever the order of the edges.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fraudmine.dedup.pairs import IntArray


@dataclass(frozen=True)
class CannotLink:
    """Cannot-link rule: two records whose image hashes are both known and ``cut`` or more bits apart.

    Attributes:
        phash: 64-bit image hash per record (ignored where ``known`` is false).
        known: whether each record has an image hash.
        cut: Hamming distance (bits) from which two images conflict; chosen from the data by
            :func:`fraudmine.dedup.threshold.image_conflict_cut`.
    """

    phash: npt.NDArray[np.uint64]
    known: npt.NDArray[np.bool_]
    cut: float


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


TIE_DECIMALS = 6
"""Scores equal to this many decimals are ties, taken in pair order: the local and the Spark path build
TF-IDF rows in float32 over different corpora (the whole table / one batch), so one pair's score can differ
in the 7th decimal between them, and a tie broken by that noise gave the two paths different clusters."""


def descending(score: npt.NDArray[np.float64]) -> IntArray:
    """Pair positions by descending score rounded to :data:`TIE_DECIMALS`, ties in input order (stable)."""
    return np.asarray(np.argsort(-np.round(score, TIE_DECIMALS), kind="stable"), dtype=np.int64)


def _centre(i: IntArray, j: IntArray, score: npt.NDArray[np.float64], nodes: IntArray) -> dict[int, int]:
    centre: dict[int, int] = {}
    is_centre: set[int] = set()
    for k in descending(score):
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


def merge_groups(
    n: int, i: IntArray, j: IntArray, score: npt.NDArray[np.float64], cannot: CannotLink | None = None
) -> IntArray:
    """Group label per record from edges merged in descending score, refusing merges that ``cannot`` forbids.

    Returns:
        ``labels[r]``: a representative record of ``r``'s group (groups are the connected components
        when ``cannot`` is ``None``).
    """
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    images: dict[int, list[int]] = {}
    if cannot is not None:
        images = {int(r): [int(cannot.phash[r])] for r in np.flatnonzero(cannot.known)}
    for k in descending(score).tolist():
        ra, rb = find(int(i[k])), find(int(j[k]))
        if ra == rb:
            continue
        if cannot is not None:
            a_img, b_img = images.get(ra, []), images.get(rb, [])
            if any((x ^ y).bit_count() >= cannot.cut for x in a_img for y in b_img):
                continue
            if b_img:
                images[ra] = a_img + b_img
                images.pop(rb, None)
        parent[rb] = ra
    return np.array([find(x) for x in range(n)], dtype=np.int64)


def cluster_pairs(
    n: int,
    i: IntArray,
    j: IntArray,
    score: npt.NDArray[np.float64],
    threshold: float,
    min_cohesion: float = 0.5,
    cannot: CannotLink | None = None,
) -> tuple[IntArray, dict[str, int]]:
    """Cluster label per record (records with no confident edge get their own label).

    Args:
        n: number of records.
        i, j: candidate pairs.
        score: pair scores; pairs at or above ``threshold`` are confident edges.
        threshold: match threshold.
        min_cohesion: groups whose confident-edge density is below this are split.
        cannot: optional cannot-link rule (merges that would join conflicting records are refused).

    Returns:
        ``(labels, stats)``: ``labels[r]`` is the smallest record index of ``r``'s cluster; ``stats``
        counts the groups split for low cohesion (``split_components``), confident edges
        (``confident_edges``) and merges refused by the cannot-link rule (``refused_edges``:
        confident edges whose ends end up in different clusters).
    """
    conf = score >= threshold
    ci, cj, cs = i[conf], j[conf], score[conf]
    comp = merge_groups(n, ci, cj, cs, cannot)
    inside = comp[ci] == comp[cj] if len(ci) else np.zeros(0, dtype=bool)
    refused = int((~inside).sum())
    ci, cj, cs = ci[inside], cj[inside], cs[inside]
    labels = np.arange(n, dtype=np.int64)
    split = 0
    edge_comp = comp[ci] if len(ci) else np.zeros(0, dtype=np.int64)
    sizes = np.bincount(comp, minlength=n)
    by_comp = np.argsort(comp, kind="stable")
    comp_start = np.r_[0, np.cumsum(sizes)]
    order = np.argsort(edge_comp, kind="stable")
    bounds: list[int] = []
    if len(ci):
        bounds = np.flatnonzero(np.r_[True, edge_comp[order][1:] != edge_comp[order][:-1], True]).tolist()
    for s, e in itertools.pairwise(bounds):
        idx = order[s:e]
        c = int(edge_comp[idx[0]])
        members = np.sort(by_comp[comp_start[c] : comp_start[c + 1]])
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
    return labels, {"split_components": split, "confident_edges": int(conf.sum()), "refused_edges": refused}


def canonical_member(labels: IntArray, rank: npt.NDArray[np.float64]) -> IntArray:
    """Canonical record of each record's cluster: the member with the smallest ``rank`` (e.g. creation time)."""
    canon = labels.copy()
    best: dict[int, int] = {}
    for r in np.argsort(rank, kind="stable").tolist():
        best.setdefault(int(labels[r]), int(r))
    for r in range(len(labels)):
        canon[r] = best[int(labels[r])]
    return canon
