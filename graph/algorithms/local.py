"""Driver-side graph algorithms on python-igraph (Traag, Waltman & van Eck 2019 for Leiden;
Rosvall & Bergstrom 2008 for Infomap; Raghavan, Albert & Kumara 2007 for label propagation;
Page et al. 1999 for PageRank).

A :class:`LocalGraph` holds an undirected (or directed) weighted graph over string node names;
every function returns one label or score per node name, in the order of ``graph.names``.
Parallel edges are merged (weights summed) and self-loops dropped, as the Spark engine does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import igraph as ig
import numpy as np
import pandas as pd

FloatArray = np.ndarray


@dataclass(frozen=True)
class LocalGraph:
    """A graph over string node names with integer edge endpoints.

    Attributes:
        names: node names, sorted; index ``i`` is node ``names[i]``.
        src, dst: int64 endpoint indices, one pair per (merged) edge, ``src != dst``.
        weight: float64 edge weights (positive).
        directed: whether the edges are directed (PageRank only; the rest treat edges as undirected).
    """

    names: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    directed: bool = False

    @property
    def n(self) -> int:
        """Number of nodes."""
        return int(self.names.shape[0])

    def to_igraph(self) -> ig.Graph:
        """The igraph graph (weights in edge attribute ``weight``)."""
        g = ig.Graph(n=self.n, edges=np.column_stack([self.src, self.dst]).tolist(), directed=self.directed)
        g.es["weight"] = self.weight.tolist()
        return g


def from_pandas(
    edges: pd.DataFrame,
    nodes: Iterable[str] | None = None,
    directed: bool = False,
    src: str = "src",
    dst: str = "dst",
    weight: str | None = "weight",
) -> LocalGraph:
    """Build a :class:`LocalGraph` from an edge frame.

    Args:
        edges: one row per edge; ``weight`` column optional (1.0 when missing or ``None``).
        nodes: extra node names (isolated nodes keep their own component/community).
        directed: keep edge direction (otherwise ``(u, v)`` and ``(v, u)`` are one edge).
        src, dst, weight: column names.

    Raises:
        ValueError: naming the missing column, or a non-positive weight.
    """
    for col in (src, dst):
        if col not in edges.columns:
            raise ValueError(f"edge frame: missing column {col!r}; columns present: {list(edges.columns)}")
    s = edges[src].astype(str).to_numpy()
    d = edges[dst].astype(str).to_numpy()
    w = (
        edges[weight].to_numpy(dtype=np.float64)
        if weight is not None and weight in edges.columns
        else np.ones(len(edges), dtype=np.float64)
    )
    if w.size and (not np.all(np.isfinite(w)) or w.min() <= 0):
        raise ValueError("edge frame: weights must be finite and > 0")
    extra = np.asarray(list(nodes), dtype=object) if nodes is not None else np.empty(0, dtype=object)
    names, inv = np.unique(np.concatenate([s.astype(object), d.astype(object), extra]), return_inverse=True)
    si, di = inv[: s.shape[0]], inv[s.shape[0] : 2 * s.shape[0]]
    keep = si != di
    si, di, w = si[keep], di[keep], w[keep]
    if not directed:
        si, di = np.minimum(si, di), np.maximum(si, di)
    if si.size:
        key = si.astype(np.int64) * names.shape[0] + di
        uniq, pos = np.unique(key, return_inverse=True)
        w = np.bincount(pos, weights=w)
        si, di = uniq // names.shape[0], uniq % names.shape[0]
    return LocalGraph(names.astype(str), si.astype(np.int64), di.astype(np.int64), w.astype(np.float64), directed)


def _min_name_labels(g: LocalGraph, membership: Sequence[int]) -> np.ndarray:
    """Relabel a membership vector with the smallest node name of each group (deterministic ids)."""
    m = np.asarray(membership, dtype=np.int64)
    first = np.full(m.max() + 1 if m.size else 0, g.n, dtype=np.int64)
    np.minimum.at(first, m, np.arange(g.n))  # names are sorted: smallest index = smallest name
    return g.names[first[m]]


def connected_components(g: LocalGraph) -> np.ndarray:
    """Component label of each node: the smallest node name in its component."""
    return _min_name_labels(g, g.to_igraph().connected_components(mode="weak").membership)


def leiden(g: LocalGraph, resolution: float = 1.0, seed: int = 0, n_iterations: int = -1) -> np.ndarray:
    """Leiden communities optimising weighted modularity (Traag et al. 2019).

    Args:
        g: the graph (treated as undirected).
        resolution: modularity resolution gamma (higher → smaller communities).
        seed: random seed (igraph's RNG is seeded, so results are deterministic).
        n_iterations: Leiden passes; negative runs until the partition is stable.
    """
    ug = g.to_igraph().as_undirected(combine_edges="sum") if g.directed else g.to_igraph()
    rng_state = ig.set_random_number_generator
    import random

    rng = random.Random(seed)
    rng_state(rng)
    try:
        part = ug.community_leiden(
            objective_function="modularity", weights="weight", resolution=resolution, n_iterations=n_iterations
        )
    finally:
        rng_state(random)
    return _min_name_labels(g, part.membership)


def infomap(g: LocalGraph, trials: int = 10, seed: int = 0) -> np.ndarray:
    """Infomap communities (Rosvall & Bergstrom 2008), igraph's implementation; a reference method."""
    import random

    ig.set_random_number_generator(random.Random(seed))
    try:
        part = g.to_igraph().community_infomap(edge_weights="weight", trials=trials)
    finally:
        ig.set_random_number_generator(random)
    return _min_name_labels(g, part.membership)


def label_propagation(g: LocalGraph, seed: int = 0) -> np.ndarray:
    """Asynchronous label propagation (Raghavan et al. 2007), igraph's implementation."""
    import random

    ig.set_random_number_generator(random.Random(seed))
    try:
        part = g.to_igraph().community_label_propagation(weights="weight")
    finally:
        ig.set_random_number_generator(random)
    return _min_name_labels(g, part.membership)


def pagerank(g: LocalGraph, damping: float = 0.85, personalization: Iterable[str] | None = None) -> FloatArray:
    """Weighted (personalised) PageRank; scores sum to 1.

    Args:
        g: the graph; undirected edges count in both directions.
        damping: probability of following an edge.
        personalization: seed node names; teleports (and dangling mass) go uniformly to them.

    Raises:
        ValueError: a seed name is not a node of the graph, or the seed set is empty.
    """
    reset = None
    if personalization is not None:
        seeds = list(personalization)
        idx = np.searchsorted(g.names, seeds)
        ok = (idx < g.n) & (g.names[np.minimum(idx, g.n - 1)] == np.asarray(seeds, dtype=str)) if seeds else idx
        if not seeds or not np.all(ok):
            raise ValueError("pagerank: personalisation seeds must be a non-empty set of graph nodes")
        reset = np.zeros(g.n)
        reset[idx] = 1.0
    scores = g.to_igraph().personalized_pagerank(
        damping=damping, weights="weight", reset=None if reset is None else reset.tolist(), directed=g.directed
    )
    return np.asarray(scores, dtype=np.float64)
