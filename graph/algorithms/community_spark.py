"""Spark DataFrame implementation of :class:`~.community_ops.CommunityOps` (the Spark and GraphFrames engines).

Tables are Spark frames; nothing is collected.  The k-core is peeled by rounds of degree counts
(:func:`k_core`), connected components come from the engine the operations were made for.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from fraudmine.graph.algorithms.community_ops import (
    CLUSTER_ID,
    NODE_ID,
    POOL,
    SELLER,
    CommunityOps,
    cluster_id_col,
    ddl_columns,
)
from fraudmine.graph.algorithms.spark_common import DST, SRC, WEIGHT, checkpoint_with_counts, exact_sum

if TYPE_CHECKING:
    from fraudmine.graph.algorithms.engine import GraphEngine


def k_core(edges: DataFrame, k: int, max_rounds: int = 100) -> DataFrame:
    """The ``k``-core of an undirected ``[src, dst, ...]`` edge frame: peel nodes of degree below ``k`` until none are.

    Returns:
        the edges of the core (both ends of degree ``k`` or more inside it).
    """
    cur = edges.localCheckpoint(eager=True)
    n = cur.count()
    for _ in range(max_rounds):
        deg = (
            cur.select(F.col(SRC).alias("_n"))
            .unionAll(cur.select(F.col(DST).alias("_n")))
            .groupBy("_n")
            .agg(F.count(F.lit(1)).alias("_d"))
            .where(F.col("_d") >= k)
        )
        nxt = (
            cur.join(deg.select(F.col("_n").alias(SRC)), SRC, "left_semi")
            .join(deg.select(F.col("_n").alias(DST)), DST, "left_semi")
            .localCheckpoint(eager=True)
        )
        m = nxt.count()
        cur = nxt
        if m == n:
            break
        n = m
    return cur


def bounded_memberships(memberships: DataFrame, max_pool_degree: int) -> tuple[DataFrame, float]:
    """Distinct ``[pool, seller, _d]`` of pools linked to at most ``max_pool_degree`` sellers (``_d``: the pool's
    degree), materialised once, and the null model's pair rate ``Σ_p d_p (d_p - 1) / (Σ_p d_p)²``.

    The memberships feed several branches downstream (null-model totals, seller sizes, both sides of a
    self-join); recomputed per branch, the orders ⋈ sells join dominated the clusters stage at scale m.  Both
    sums are observed while the memberships materialise (no job of their own).
    """
    d = Window.partitionBy(POOL)
    bounded = (
        memberships.select(POOL, SELLER)
        .distinct()
        .withColumn("_d", F.count(F.lit(1)).over(d))
        .where(F.col("_d") <= max_pool_degree)
    )
    m, sums = checkpoint_with_counts(bounded, {"mass": F.sum(F.col("_d") - 1)})
    total = float(sums["rows"])
    return m, float(sums["mass"]) / (total * total) if total > 0 else 0.0


def big_members(members: DataFrame, min_size: int) -> DataFrame:
    """``[node_id, cluster_id, _size]`` of the members of communities with at least ``min_size`` members."""
    sizes = members.groupBy(CLUSTER_ID).agg(F.count(F.lit(1)).alias("_size")).where(F.col("_size") >= min_size)
    return members.join(sizes, CLUSTER_ID).select(NODE_ID, CLUSTER_ID, "_size")


def _both_ways(edges: DataFrame, a: str, b: str, *extra: str) -> DataFrame:
    """``[a, b, *extra]`` with each undirected edge in both directions."""
    return edges.select(F.col(SRC).alias(a), F.col(DST).alias(b), *extra).unionByName(
        edges.select(F.col(DST).alias(a), F.col(SRC).alias(b), *extra)
    )


def _best(hits: DataFrame, who: str, *order: str, keep: tuple[str, ...]) -> DataFrame:
    """One row per ``who``: the first by ``order`` (a ``-`` prefix sorts descending), then the smallest cluster id."""
    cols = [F.col(c[1:]).desc() if c.startswith("-") else F.col(c) for c in order]
    w = Window.partitionBy(who).orderBy(*cols, F.col(CLUSTER_ID))
    return (
        hits.withColumn("_r", F.row_number().over(w))
        .where(F.col("_r") == 1)
        .select(F.col(who).alias(NODE_ID), CLUSTER_ID, *keep)
    )


class SparkCommunityOps(CommunityOps[DataFrame]):
    """:class:`~.community_ops.CommunityOps` on Spark frames.

    Args:
        engine: the engine whose connected components the merge and the core communities use.
        spark: the session.
    """

    name = "spark"

    def __init__(self, engine: GraphEngine, spark: SparkSession) -> None:
        self.engine = engine
        self.spark = spark

    def table(self, df: DataFrame, reused: bool = False) -> DataFrame:
        """The frame itself (materialised when ``reused``: read by several steps)."""
        return df.localCheckpoint(eager=True) if reused else df

    def frame(self, t: DataFrame, ddl: str) -> DataFrame:
        """The frame, cast to ``ddl``."""
        return t.select(*(F.col(name).cast(kind) for name, kind in ddl_columns(ddl)))

    def core_communities(
        self, members: DataFrame, edges: DataFrame, min_size: int, min_link: float, min_degree: int, kind: str, tag: str
    ) -> DataFrame:
        """See :meth:`.CommunityOps.core_communities`."""
        big = big_members(members, min_size).select(NODE_ID)
        w = (
            edges.where(F.col(WEIGHT) >= min_link)
            .join(big.select(F.col(NODE_ID).alias(SRC)), SRC, "left_anti")
            .join(big.select(F.col(NODE_ID).alias(DST)), DST, "left_anti")
            .select(SRC, DST, WEIGHT)
        )
        comp = self.engine.connected_components(k_core(w, min_degree)).frame
        sizes = comp.groupBy("component").agg(F.count(F.lit(1)).alias("_n")).where(F.col("_n") >= min_size)
        return (
            comp.join(sizes, "component")
            .select(
                F.col("node").alias(NODE_ID),
                cluster_id_col(kind, F.concat(F.lit(tag), F.col("component"))).alias(CLUSTER_ID),
            )
            .localCheckpoint(eager=True)
        )

    def merge_dense(
        self, members: DataFrame, edges: DataFrame, min_size: int, min_link: float, min_density: float
    ) -> DataFrame:
        """See :meth:`.CommunityOps.merge_dense`."""
        big = big_members(members, min_size)

        def side(col: str, cid: str, size: str) -> DataFrame:
            return big.select(F.col(NODE_ID).alias(col), F.col(CLUSTER_ID).alias(cid), F.col("_size").alias(size))

        cross = (
            edges.where(F.col(WEIGHT) >= min_link)
            .join(side(SRC, "_a", "_na"), SRC)
            .join(side(DST, "_b", "_nb"), DST)
            .where(F.col("_a") != F.col("_b"))
            .select(
                F.least("_a", "_b").alias(SRC),
                F.greatest("_a", "_b").alias(DST),
                (F.col("_na") * F.col("_nb")).alias("_nn"),
            )
            .groupBy(SRC, DST, "_nn")
            .agg(F.count(F.lit(1)).alias("_k"))
            .where(F.col("_k") >= F.lit(min_density) * F.col("_nn"))
            .select(SRC, DST)
            .localCheckpoint(eager=True)
        )
        if cross.isEmpty():
            return members
        comp = self.engine.connected_components(cross.withColumn(WEIGHT, F.lit(1.0))).frame
        ren = comp.select(F.col("node").alias("_old"), F.col("component").alias("_new"))
        return (
            members.join(ren, F.col(CLUSTER_ID) == F.col("_old"), "left")
            .select(NODE_ID, F.coalesce("_new", CLUSTER_ID).alias(CLUSTER_ID))
            .localCheckpoint(eager=True)
        )

    def attach_by_share(
        self, members: DataFrame, memberships: DataFrame, min_size: int, min_share: float, min_links: int
    ) -> DataFrame:
        """See :meth:`.CommunityOps.attach_by_share`."""
        big = big_members(members, min_size)
        hits = (
            memberships.select(F.col(POOL).alias("_sat"), F.col(SELLER).alias(NODE_ID))
            .distinct()
            .join(big, NODE_ID)
            .groupBy("_sat", CLUSTER_ID, "_size")
            .agg(F.count(F.lit(1)).alias("k"))
            .where((F.col("k") >= min_links) & (F.col("k") >= F.lit(min_share) * F.col("_size")))
            .join(big.select(F.col(NODE_ID).alias("_sat")), "_sat", "left_anti")
        )
        return _best(hits, "_sat", "-k", keep=("k",))

    def attach_by_two_ties(
        self,
        members: DataFrame,
        memberships: DataFrame,
        edges: DataFrame,
        min_size: int,
        min_pooled: int,
        min_linked: int,
    ) -> DataFrame:
        """See :meth:`.CommunityOps.attach_by_two_ties`."""
        big = big_members(members, min_size).select(NODE_ID, CLUSTER_ID)
        outside = big.select(F.col(NODE_ID).alias("_x"))
        ki = (
            _both_ways(edges.where(F.col(WEIGHT) > 0), "_x", NODE_ID)
            .join(big, NODE_ID)
            .join(outside, "_x", "left_anti")
            .groupBy("_x", CLUSTER_ID)
            .agg(F.countDistinct(NODE_ID).alias("k"))
            .where(F.col("k") >= min_linked)
        )
        kp = (
            memberships.select(F.col(POOL).alias("_x"), F.col(SELLER).alias(NODE_ID))
            .distinct()
            .join(big, NODE_ID)
            .join(outside, "_x", "left_anti")
            .groupBy("_x", CLUSTER_ID)
            .agg(F.count(F.lit(1)).alias("_kp"))
            .where(F.col("_kp") >= min_pooled)
        )
        return _best(ki.join(kp, ["_x", CLUSTER_ID]), "_x", "-k", "-_kp", keep=("k",))

    def attach_by_link_sum(
        self, members: DataFrame, edges: DataFrame, min_size: int, min_score: float, min_links: int
    ) -> DataFrame:
        """See :meth:`.CommunityOps.attach_by_link_sum`."""
        big = big_members(members, min_size).select(NODE_ID, CLUSTER_ID)
        hits = (
            _both_ways(edges, "_x", NODE_ID, WEIGHT)
            .join(big, NODE_ID)
            .join(big.select(F.col(NODE_ID).alias("_x")), "_x", "left_anti")
            .groupBy("_x", CLUSTER_ID)
            .agg(F.countDistinct(NODE_ID).alias("k"), exact_sum(WEIGHT).alias("score"))
            .where((F.col("k") >= min_links) & (F.col("score") >= min_score))
        )
        return _best(hits, "_x", "-score", keep=("k", "score"))

    def attach_by_pool_surprise(
        self,
        members: DataFrame,
        memberships: DataFrame,
        edges: DataFrame,
        min_size: int,
        max_pool_degree: int,
        min_shared: int,
        min_surprise: float,
        min_link: float,
    ) -> DataFrame:
        """See :meth:`.CommunityOps.attach_by_pool_surprise`."""
        m, rate = bounded_memberships(memberships, max_pool_degree)
        big = big_members(members, min_size).select(NODE_ID, CLUSTER_ID)
        cpool = m.join(big, F.col(SELLER) == F.col(NODE_ID)).select(POOL, CLUSTER_ID).distinct()
        n_c = cpool.groupBy(CLUSTER_ID).agg(F.count(F.lit(1)).alias("_nc"))
        n_u = m.groupBy(SELLER).agg(F.count(F.lit(1)).alias("_nu"))
        outside = m.join(big.select(F.col(NODE_ID).alias(SELLER)), SELLER, "left_anti").select(POOL, SELLER)
        hits = (
            outside.join(cpool, POOL)
            .groupBy(SELLER, CLUSTER_ID)
            .agg(F.count(F.lit(1)).alias("k"))
            .where(F.col("k") >= min_shared)
            .join(n_u, SELLER)
            .join(n_c, CLUSTER_ID)
        )
        lam = F.greatest(F.col("_nu") * F.col("_nc") * F.lit(rate), F.lit(1e-12))
        k = F.col("k").cast("double")
        tail = F.when(k > lam, (k * F.log(k / lam) - k + lam) / F.lit(math.log(10.0))).otherwise(F.lit(0.0))
        hits = hits.withColumn("surprise", tail).where(F.col("surprise") >= min_surprise)
        second = (
            _both_ways(edges, SELLER, NODE_ID, WEIGHT)
            .join(big, NODE_ID)
            .groupBy(SELLER, CLUSTER_ID)
            .agg(F.max(WEIGHT).alias("_w"))
            .where(F.col("_w") >= min_link)
        )
        return _best(hits.join(second, [SELLER, CLUSTER_ID]), SELLER, "-surprise", keep=("k", "surprise"))

    def adopt(self, members: DataFrame, attached: DataFrame) -> tuple[DataFrame, DataFrame]:
        """See :meth:`.CommunityOps.adopt` (the attachments are materialised once)."""
        attached = attached.localCheckpoint(eager=True)
        moved = members.join(attached.select(NODE_ID), NODE_ID, "left_anti").unionByName(
            attached.select(NODE_ID, CLUSTER_ID)
        )
        return moved, attached.groupBy(CLUSTER_ID).count()

    def count_in(self, members: DataFrame, nodes: DataFrame) -> DataFrame:
        """See :meth:`.CommunityOps.count_in`."""
        return nodes.select(NODE_ID).join(members, NODE_ID).groupBy(CLUSTER_ID).count()
