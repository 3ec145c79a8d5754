"""One interface for graph algorithms, three engines, and the automatic choice between them.

=================  ==========================================  =====================================
engine             when                                        algorithms
=================  ==========================================  =====================================
``local``          edge count ≤ ``local_max_edges`` (auto)     igraph: components, Leiden, Infomap,
                                                               LPA, PageRank (after a collect)
``graphframes``    larger graphs, GraphFrames JVM classes on   GraphFrames components / LPA /
                   the classpath (``spark.jars.packages``)     PageRank; weighted PageRank on the
                                                               DataFrame engine (GraphFrames' is
                                                               unweighted)
``spark``          larger graphs otherwise                     large-star/small-star components,
                                                               semi-synchronous LPA, PageRank
=================  ==========================================  =====================================

Every method takes an edge frame ``[src, dst(, weight)]`` over string node names (typed ids in
the pipeline) and an optional ``[node]`` frame of extra (isolated) nodes, and returns an
:class:`AlgoResult` whose ``frame`` is ``[node, component]``, ``[node, community]`` or
``[node, score]``.  Component and community labels are the smallest member name, so results
of different engines compare directly.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from fraudmine.graph.algorithms import local, spark_cc, spark_lpa, spark_pagerank
from fraudmine.graph.algorithms.community_local import LocalCommunityOps
from fraudmine.graph.algorithms.community_ops import Ops
from fraudmine.graph.algorithms.community_spark import SparkCommunityOps
from fraudmine.graph.algorithms.spark_common import (
    DST,
    NODE,
    SRC,
    WEIGHT,
    require_columns,
    to_pandas,
    weighted_edges,
)

log = logging.getLogger(__name__)

GROUP = spark_pagerank.GROUP
"""Seed-group column of :meth:`GraphEngine.pagerank_groups` (a long)."""

CommunityMethod = Literal["auto", "leiden", "lpa", "infomap"]
EngineName = Literal["auto", "local", "spark", "graphframes"]


@dataclass(frozen=True)
class AlgoResult:
    """What an algorithm returns.

    Attributes:
        frame: ``[node, component|community|score]``.
        engine: the engine that ran it.
        iterations: rounds / steps / iterations used (``None`` where the library does not say).
        converged: whether the stopping rule was met before the iteration cap.
        seconds: wall time including the collect (local) or the materialisation (Spark).
    """

    frame: DataFrame
    engine: str
    iterations: int | None
    converged: bool
    seconds: float


class GraphEngine(ABC):
    """Graph algorithms over Spark edge frames; see the module docstring for the shapes."""

    name: str = "abstract"

    @abstractmethod
    def connected_components(self, edges: DataFrame, nodes: DataFrame | None = None) -> AlgoResult:
        """``[node, component]`` (component = smallest member name); edges are undirected."""

    @abstractmethod
    def communities(
        self,
        edges: DataFrame,
        nodes: DataFrame | None = None,
        method: CommunityMethod = "auto",
        resolution: float = 1.0,
        seed: int = 0,
    ) -> AlgoResult:
        """``[node, community]``; ``auto`` is Leiden locally and label propagation at scale.

        Raises:
            ValueError: the method is not available on this engine.
        """

    @abstractmethod
    def pagerank(
        self,
        edges: DataFrame,
        nodes: DataFrame | None = None,
        damping: float = 0.85,
        seeds: DataFrame | None = None,
        directed: bool = False,
    ) -> AlgoResult:
        """``[node, score]`` weighted PageRank; personalised when ``seeds`` (``[node]``) is given."""

    @abstractmethod
    def pagerank_groups(
        self,
        edges: DataFrame,
        seeds: DataFrame,
        damping: float = 0.85,
        directed: bool = False,
    ) -> AlgoResult:
        """One personalised PageRank per seed group: ``[group, node, score]``.

        ``seeds`` is ``[node, group]`` (``group`` a long); each group's scores sum to 1 over the graph.
        A group none of whose seeds is a node of the graph gives no rows.
        """

    def community_ops(self, spark: SparkSession) -> Ops:
        """The per-community table operations that go with this engine (:mod:`.community_ops`).

        The DataFrame implementation (:class:`~.community_spark.SparkCommunityOps`, connected components
        from this engine); the local engine overrides it with the driver implementation.
        """
        return SparkCommunityOps(self, spark)


class LocalEngine(GraphEngine):
    """igraph on the driver: the edge frame is collected (it must fit in driver memory)."""

    name = "local"

    def community_ops(self, spark: SparkSession) -> Ops:
        """:class:`~.community_local.LocalCommunityOps`: pandas and igraph on the driver, one collect per input."""
        return LocalCommunityOps(spark)

    def _collect(self, edges: DataFrame, nodes: DataFrame | None, directed: bool = False) -> local.LocalGraph:
        pdf = to_pandas(weighted_edges(edges))
        extra = to_pandas(nodes.select(NODE))[NODE].astype(str).tolist() if nodes is not None else None
        return local.from_pandas(pdf, nodes=extra, directed=directed)

    def _frame(self, spark: SparkSession, names: np.ndarray, col: str, values: np.ndarray) -> DataFrame:
        pdf = pd.DataFrame({NODE: names.astype(str), col: values})
        dtype = "double" if col == spark_pagerank.SCORE else "string"
        return spark.createDataFrame(pdf, f"{NODE} string, {col} {dtype}")

    def connected_components(self, edges: DataFrame, nodes: DataFrame | None = None) -> AlgoResult:
        """See :meth:`GraphEngine.connected_components`."""
        t0 = time.monotonic()
        g = self._collect(edges, nodes)
        out = self._frame(edges.sparkSession, g.names, spark_cc.COMPONENT, local.connected_components(g))
        return AlgoResult(out, self.name, None, True, time.monotonic() - t0)

    def communities(
        self,
        edges: DataFrame,
        nodes: DataFrame | None = None,
        method: CommunityMethod = "auto",
        resolution: float = 1.0,
        seed: int = 0,
    ) -> AlgoResult:
        """See :meth:`GraphEngine.communities` (``auto`` = Leiden)."""
        t0 = time.monotonic()
        g = self._collect(edges, nodes)
        if method in ("auto", "leiden"):
            labels = local.leiden(g, resolution=resolution, seed=seed)
        elif method == "lpa":
            labels = local.label_propagation(g, seed=seed)
        elif method == "infomap":
            labels = local.infomap(g, seed=seed)
        else:
            raise ValueError(f"unknown community method {method!r}; use auto, leiden, lpa or infomap")
        out = self._frame(edges.sparkSession, g.names, spark_lpa.COMMUNITY, labels)
        return AlgoResult(out, self.name, None, True, time.monotonic() - t0)

    def pagerank(
        self,
        edges: DataFrame,
        nodes: DataFrame | None = None,
        damping: float = 0.85,
        seeds: DataFrame | None = None,
        directed: bool = False,
    ) -> AlgoResult:
        """See :meth:`GraphEngine.pagerank`."""
        t0 = time.monotonic()
        g = self._collect(edges, nodes, directed=directed)
        seed_names = to_pandas(seeds.select(NODE))[NODE].astype(str).tolist() if seeds is not None else None
        if seed_names is not None:
            present = set(g.names.tolist())
            seed_names = sorted(s for s in set(seed_names) if s in present)
        scores = local.pagerank(g, damping=damping, personalization=seed_names)
        out = self._frame(edges.sparkSession, g.names, spark_pagerank.SCORE, scores)
        return AlgoResult(out, self.name, None, True, time.monotonic() - t0)

    def pagerank_groups(
        self,
        edges: DataFrame,
        seeds: DataFrame,
        damping: float = 0.85,
        directed: bool = False,
    ) -> AlgoResult:
        """See :meth:`GraphEngine.pagerank_groups` (the graph is collected once for every group)."""
        require_columns(seeds, [NODE, GROUP], "seeds")
        t0 = time.monotonic()
        g = self._collect(edges, None, directed=directed)
        sp = to_pandas(seeds.select(F.col(NODE).cast("string"), F.col(GROUP).cast("long")))
        present = sp[sp[NODE].isin(set(g.names.tolist()))]
        frames = []
        for grp, rows in sorted(present.groupby(GROUP)):
            scores = local.pagerank(g, damping=damping, personalization=sorted(set(rows[NODE])))
            frames.append(pd.DataFrame({GROUP: np.int64(grp), NODE: g.names.astype(str), spark_pagerank.SCORE: scores}))
        score = spark_pagerank.SCORE
        pdf = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({GROUP: [], NODE: [], score: []})
        schema = f"{GROUP} long, {NODE} string, {score} double"
        out = edges.sparkSession.createDataFrame(pdf.astype({GROUP: "int64", NODE: str, score: "float64"}), schema)
        return AlgoResult(out, self.name, None, True, time.monotonic() - t0)


class SparkEngine(GraphEngine):
    """Plain Spark DataFrame algorithms (no collect); see :mod:`.spark_cc`, :mod:`.spark_lpa`, :mod:`.spark_pagerank`.

    Args:
        checkpoint_interval: reliable checkpoint every this many rounds.
        max_iter: iteration cap of label propagation and PageRank.
    """

    name = "spark"

    def __init__(self, checkpoint_interval: int = 2, max_iter: int = 30) -> None:
        self.checkpoint_interval = checkpoint_interval
        self.max_iter = max_iter

    def connected_components(self, edges: DataFrame, nodes: DataFrame | None = None) -> AlgoResult:
        """See :meth:`GraphEngine.connected_components`."""
        t0 = time.monotonic()
        out, rounds, ok = spark_cc.connected_components(edges, nodes, checkpoint_interval=self.checkpoint_interval)
        out = out.localCheckpoint(eager=True)
        return AlgoResult(out, self.name, rounds, ok, time.monotonic() - t0)

    def communities(
        self,
        edges: DataFrame,
        nodes: DataFrame | None = None,
        method: CommunityMethod = "auto",
        resolution: float = 1.0,
        seed: int = 0,
    ) -> AlgoResult:
        """See :meth:`GraphEngine.communities` (``auto`` = label propagation; Leiden is local only)."""
        if method not in ("auto", "lpa"):
            raise ValueError(f"community method {method!r} runs on the local engine only; the Spark engine has 'lpa'")
        t0 = time.monotonic()
        out, steps, ok = spark_lpa.label_propagation(
            edges, nodes, max_iter=self.max_iter, seed=seed, checkpoint_interval=self.checkpoint_interval
        )
        out = out.localCheckpoint(eager=True)
        return AlgoResult(out, self.name, steps, ok, time.monotonic() - t0)

    def pagerank(
        self,
        edges: DataFrame,
        nodes: DataFrame | None = None,
        damping: float = 0.85,
        seeds: DataFrame | None = None,
        directed: bool = False,
    ) -> AlgoResult:
        """See :meth:`GraphEngine.pagerank`."""
        t0 = time.monotonic()
        out, it, ok = spark_pagerank.pagerank(
            edges, nodes, damping=damping, seeds=seeds, directed=directed, max_iter=max(self.max_iter, 100)
        )
        out = out.localCheckpoint(eager=True)
        return AlgoResult(out, self.name, it, ok, time.monotonic() - t0)

    def pagerank_groups(
        self,
        edges: DataFrame,
        seeds: DataFrame,
        damping: float = 0.85,
        directed: bool = False,
    ) -> AlgoResult:
        """See :meth:`GraphEngine.pagerank_groups`: every group in one power iteration
        (:func:`.spark_pagerank.pagerank_groups`)."""
        t0 = time.monotonic()
        out, it, ok = spark_pagerank.pagerank_groups(
            edges, seeds, damping=damping, directed=directed, max_iter=max(self.max_iter, 100)
        )
        out = out.localCheckpoint(eager=True)
        return AlgoResult(out, self.name, it, ok, time.monotonic() - t0)


def edge_count(edges: DataFrame) -> int:
    """Number of rows of an edge frame (one Spark action)."""
    return int(edges.select(SRC, DST).count())


def choose_engine(
    spark: SparkSession,
    n_edges: int,
    engine: EngineName = "auto",
    local_max_edges: int = 5_000_000,
    checkpoint_interval: int = 2,
) -> GraphEngine:
    """Pick the engine for a graph of ``n_edges`` edges.

    ``auto``: the local engine up to ``local_max_edges`` (the threshold measured in
    ``bench/bench_graph_engines.py``), then GraphFrames if its JVM classes are on the
    classpath, else the DataFrame engine.

    Raises:
        ValueError: ``engine='graphframes'`` but GraphFrames is not available.
    """
    from fraudmine.graph.algorithms.graphframes_engine import GraphFramesEngine, graphframes_available

    if engine == "local" or (engine == "auto" and n_edges <= local_max_edges):
        chosen: GraphEngine = LocalEngine()
    elif engine == "graphframes" or (engine == "auto" and graphframes_available(spark)):
        if not graphframes_available(spark):
            raise ValueError(
                "engine 'graphframes' requested but org.graphframes.GraphFrame is not on the classpath; "
                "add it with spark.conf spark.jars.packages or use engine 'auto' / 'spark'"
            )
        chosen = GraphFramesEngine(checkpoint_interval=checkpoint_interval)
    else:
        chosen = SparkEngine(checkpoint_interval=checkpoint_interval)
    log.info(
        "graph engine: %s for %d edges (requested %s, local up to %d)", chosen.name, n_edges, engine, local_max_edges
    )
    return chosen


__all__ = [
    "DST",
    "GROUP",
    "NODE",
    "SRC",
    "WEIGHT",
    "AlgoResult",
    "GraphEngine",
    "LocalEngine",
    "SparkEngine",
    "choose_engine",
    "edge_count",
]
