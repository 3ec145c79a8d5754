"""GraphFrames engine: used when the ``org.graphframes`` JVM classes are on the classpath.

The GraphFrames JAR cannot be downloaded on the development machines (it lives on
Maven, which is unreachable there), so this path is selected only by a real
capability check (:func:`graphframes_available` asks the JVM for the class) and is
exercised on clusters that add it with ``spark.jars.packages``
(``io.graphframes:graphframes-spark4_2.13:<version>``).  What it runs:

* components: ``GraphFrame.connectedComponents`` (the same large-star/small-star family);
* communities: ``GraphFrame.labelPropagation`` (GraphX's synchronous LPA — Leiden needs the local engine);
* PageRank: GraphFrames' PageRank ignores edge weights, so weighted graphs (any weight ≠ 1) run on
  the DataFrame engine; unweighted personalised PageRank averages ``parallelPersonalizedPageRank``
  over the seeds (PageRank is linear in the teleport vector).

Ids are mapped to longs first and labels mapped back to the smallest member name, so the
output shapes equal the other engines'.
"""

from __future__ import annotations

import logging
import time

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from fraudmine.graph.algorithms.engine import AlgoResult, CommunityMethod, GraphEngine, SparkEngine
from fraudmine.graph.algorithms.spark_common import ID, NODE, indexed_edges, node_index, weighted_edges

log = logging.getLogger(__name__)

GRAPHFRAME_CLASS = "org.graphframes.GraphFrame"


def graphframes_available(spark: SparkSession) -> bool:
    """True when the GraphFrames Python package imports and its JVM class loads in this session."""
    try:
        import graphframes  # noqa: F401
    except ImportError:
        return False
    try:
        jvm = spark.sparkContext._jvm
        assert jvm is not None
        loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
        jvm.java.lang.Class.forName(GRAPHFRAME_CLASS, False, loader)
    except Exception:  # py4j raises Py4JJavaError (ClassNotFoundException) or a network error
        return False
    return True


class GraphFramesEngine(GraphEngine):
    """GraphFrames algorithms (see the module docstring); weighted PageRank falls back to :class:`SparkEngine`."""

    name = "graphframes"

    def __init__(self, checkpoint_interval: int = 2, max_iter: int = 30) -> None:
        self.checkpoint_interval = checkpoint_interval
        self.max_iter = max_iter

    def _graph(self, edges: DataFrame, nodes: DataFrame | None) -> tuple[object, DataFrame]:
        from graphframes import GraphFrame

        e0 = weighted_edges(edges)
        index = node_index(e0, nodes).localCheckpoint(eager=True)
        e = indexed_edges(e0, index).select(
            F.col("a").alias("src"), F.col("b").alias("dst"), F.col("w").alias("weight")
        )
        return GraphFrame(index.select(F.col(ID).alias("id")), e), index

    @staticmethod
    def _named(labels: DataFrame, index: DataFrame, label_col: str, out_col: str) -> DataFrame:
        j = labels.select(F.col("id").alias(ID), F.col(label_col).alias("_l")).join(index, ID)
        return j.select(NODE, F.min(NODE).over(Window.partitionBy("_l")).alias(out_col))

    def connected_components(self, edges: DataFrame, nodes: DataFrame | None = None) -> AlgoResult:
        """See :meth:`GraphEngine.connected_components`."""
        t0 = time.monotonic()
        g, index = self._graph(edges, nodes)
        cc = g.connectedComponents(checkpointInterval=self.checkpoint_interval)  # type: ignore[attr-defined]
        out = self._named(cc, index, "component", "component").localCheckpoint(eager=True)
        return AlgoResult(out, self.name, None, True, time.monotonic() - t0)

    def communities(
        self,
        edges: DataFrame,
        nodes: DataFrame | None = None,
        method: CommunityMethod = "auto",
        resolution: float = 1.0,
        seed: int = 0,
    ) -> AlgoResult:
        """See :meth:`GraphEngine.communities` (``auto``/``lpa`` = GraphFrames label propagation)."""
        if method not in ("auto", "lpa"):
            raise ValueError(f"community method {method!r} runs on the local engine only; GraphFrames has 'lpa'")
        t0 = time.monotonic()
        g, index = self._graph(edges, nodes)
        lp = g.labelPropagation(maxIter=self.max_iter)  # type: ignore[attr-defined]
        out = self._named(lp, index, "label", "community").localCheckpoint(eager=True)
        return AlgoResult(out, self.name, self.max_iter, False, time.monotonic() - t0)

    def pagerank_groups(
        self,
        edges: DataFrame,
        seeds: DataFrame,
        damping: float = 0.85,
        directed: bool = False,
    ) -> AlgoResult:
        """See :meth:`GraphEngine.pagerank_groups`: the DataFrame engine's one power iteration for every
        group (GraphFrames' parallel personalised PageRank is unweighted and gives one vector per seed)."""
        return SparkEngine(self.checkpoint_interval, self.max_iter).pagerank_groups(edges, seeds, damping, directed)

    def pagerank(
        self,
        edges: DataFrame,
        nodes: DataFrame | None = None,
        damping: float = 0.85,
        seeds: DataFrame | None = None,
        directed: bool = False,
    ) -> AlgoResult:
        """See :meth:`GraphEngine.pagerank`; weighted or undirected graphs run on the DataFrame engine."""
        e0 = weighted_edges(edges)
        weighted = e0.where(F.col("weight") != 1.0).limit(1).count() > 0
        if weighted or not directed:
            log.info("graphframes pagerank is unweighted and directed: running the DataFrame engine")
            return SparkEngine(self.checkpoint_interval, self.max_iter).pagerank(edges, nodes, damping, seeds, directed)
        t0 = time.monotonic()
        g, index = self._graph(edges, nodes)
        reset = 1.0 - damping
        if seeds is None:
            pr = g.pageRank(resetProbability=reset, tol=1e-6).vertices  # type: ignore[attr-defined]
            total = pr.agg(F.sum("pagerank")).first()
            norm = float(total[0]) if total and total[0] else 1.0
            scores = pr.select(F.col("id").alias(ID), (F.col("pagerank") / F.lit(norm)).alias("score"))
        else:
            seed_ids = [int(r[ID]) for r in index.join(seeds.select(NODE), NODE, "left_semi").collect()]
            ppr = g.parallelPersonalizedPageRank(  # type: ignore[attr-defined]
                resetProbability=reset, sourceIds=seed_ids, maxIter=self.max_iter
            ).vertices
            from pyspark.ml.functions import vector_to_array

            arr = ppr.select(F.col("id").alias(ID), vector_to_array(F.col("pageranks")).alias("_v"))
            mean = F.aggregate("_v", F.lit(0.0), lambda acc, x: acc + x) / F.size("_v")
            scores = arr.select(ID, mean.alias("score"))
        out = scores.join(index, ID).select(NODE, "score").localCheckpoint(eager=True)
        return AlgoResult(out, self.name, None, True, time.monotonic() - t0)
