"""Weighted and personalised PageRank on Spark DataFrames by power iteration.

Page, Brin, Motwani & Winograd 1999; personalised PageRank as in Haveliwala 2002
(teleport to a seed set).  Transition probabilities are edge weight over the
source's total out-weight; the mass of dangling nodes (no out-edges) is sent to
the teleport distribution, as networkx does, so results match
``networkx.pagerank(G, alpha, personalization, weight="weight")``.
Stops when the L1 change of the whole score vector between two iterations is below ``tol``, or after
``max_iter``.  The bound does not grow with the node count: networkx's rule (L1 change < ``n * tol``)
is fine for its in-memory graphs but at 1.5 M nodes and ``tol`` = 1e-6 it accepts the first iteration,
because one step of a distribution never moves more than 2 in L1 (found at m scale, 2026-12-07).  With
damping ``d`` the distance to the fixed point is at most ``d / (1 - d)`` times the last change
(5.7x at 0.85), so ``tol`` = 1e-4 bounds the L1 error by about 6e-4 whatever the graph size.
"""

from __future__ import annotations

import logging

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraudmine.graph.algorithms.spark_common import (
    DST,
    ID,
    NODE,
    SRC,
    WEIGHT,
    EdgeFrameError,
    cut_lineage,
    node_index,
    require_columns,
    weighted_edges,
)

log = logging.getLogger(__name__)

SCORE = "score"
GROUP = "group"
"""Seed-group column of :func:`pagerank_groups` (an integer id)."""


def pagerank(
    edges: DataFrame,
    nodes: DataFrame | None = None,
    damping: float = 0.85,
    seeds: DataFrame | None = None,
    directed: bool = False,
    max_iter: int = 100,
    tol: float = 1e-4,
    checkpoint_interval: int = 5,
) -> tuple[DataFrame, int, bool]:
    """PageRank scores (summing to 1) of every node.

    Args:
        edges: ``[src, dst(, weight)]`` over string node names.
        nodes: optional ``[node]`` frame adding isolated nodes.
        damping: probability of following an edge (networkx's ``alpha``).
        seeds: optional ``[node]`` frame: teleport uniformly to these nodes (personalised PageRank).
        directed: follow edges only from ``src`` to ``dst`` (otherwise both ways).
        max_iter, tol: stopping rule: L1 change of the score vector (which sums to 1) below ``tol``;
            independent of the node count (see the module docstring).
        checkpoint_interval: reliable checkpoint every this many iterations.

    Returns:
        ``(frame [node, score], iterations, converged)``.

    Raises:
        EdgeFrameError: missing columns, or no seed is a node of the graph.
    """
    index, n, trans, has_out = _transitions(edges, nodes, directed)
    if seeds is not None:
        require_columns(seeds, [NODE], "seeds")
        s = index.join(seeds.select(F.col(NODE).cast("string")).distinct(), NODE, "left_semi")
        k = s.count()
        if k == 0:
            raise EdgeFrameError("pagerank: no seed node is a node of the graph")
        tele = index.join(s.select(ID, F.lit(1.0 / k).alias("v0")), ID, "left").fillna(0.0, ["v0"])
    else:
        tele = index.withColumn("v0", F.lit(1.0 / n))
    rank, it, converged = _power_iteration(
        tele.select(ID, "v0"), 1, trans, has_out, damping, max_iter, tol, checkpoint_interval, "pagerank"
    )
    out = rank.join(index, ID).select(NODE, F.col("r0").alias(SCORE))
    return out, it, converged


def _transitions(
    edges: DataFrame, nodes: DataFrame | None, directed: bool
) -> tuple[DataFrame, int, DataFrame, DataFrame]:
    """Node index, node count, transition probabilities ``[a, b, p]`` and ``[id, has_out]``."""
    e0 = weighted_edges(edges)
    index = node_index(e0, nodes).localCheckpoint(eager=True)
    n = index.count()
    e = (
        e0.join(index.select(F.col(NODE).alias(SRC), F.col(ID).alias("a")), SRC)
        .join(index.select(F.col(NODE).alias(DST), F.col(ID).alias("b")), DST)
        .select("a", "b", F.col(WEIGHT).alias("w"))
    )
    if not directed:
        e = e.union(e.select(F.col("b").alias("a"), F.col("a").alias("b"), "w"))
    e = e.groupBy("a", "b").agg(F.sum("w").alias("w"))
    out_w = e.groupBy("a").agg(F.sum("w").alias("ow"))
    trans = e.join(out_w, "a").select("a", "b", (F.col("w") / F.col("ow")).alias("p")).localCheckpoint(eager=True)
    has_out = out_w.select(F.col("a").alias(ID), F.lit(True).alias("has_out"))
    return index, n, trans, has_out


def pagerank_groups(
    edges: DataFrame,
    seeds: DataFrame,
    damping: float = 0.85,
    directed: bool = False,
    max_iter: int = 100,
    tol: float = 1e-4,
    checkpoint_interval: int = 5,
) -> tuple[DataFrame, int, bool]:
    """One personalised PageRank per seed group, all groups in one power iteration.

    Each node row carries one score column per group, so an iteration is one join of the transitions
    with the ranks and one aggregation for every group together: the per-iteration cost of a single
    PageRank plus a few columns, instead of one whole run per group (out-of-fold features need one
    group per fold).  Same transitions, dangling rule and stopping rule as :func:`pagerank`; the
    iteration stops when every group's L1 change is below ``tol``.

    Args:
        edges: ``[src, dst(, weight)]`` over string node names.
        seeds: ``[node, group]`` (``group`` an integer id); a group teleports uniformly to its seeds
            that are nodes of the graph.
        damping, directed, max_iter, tol, checkpoint_interval: as in :func:`pagerank`.

    Returns:
        ``(frame [group, node, score], iterations, converged)``; each group's scores sum to 1; a group
        none of whose seeds is a node of the graph gives no rows.
    """
    require_columns(seeds, [NODE, GROUP], "seeds")
    index, _, trans, has_out = _transitions(edges, None, directed)
    s = (
        seeds.select(F.col(NODE).cast("string").alias(NODE), F.col(GROUP).cast("long").alias(GROUP))
        .distinct()
        .join(index, NODE)
    )
    counts = sorted((int(r[GROUP]), int(r["k"])) for r in s.groupBy(GROUP).agg(F.count("*").alias("k")).collect())
    if not counts:
        empty = edges.sparkSession.createDataFrame([], f"{GROUP} long, {NODE} string, {SCORE} double")
        return empty, 0, True
    groups = [g for g, _ in counts]
    tele = s.groupBy(ID).agg(
        *[F.max(F.when(F.col(GROUP) == g, F.lit(1.0 / k))).alias(f"v{i}") for i, (g, k) in enumerate(counts)]
    )
    tele = index.select(ID).join(tele, ID, "left").fillna(0.0)
    rank, it, converged = _power_iteration(
        tele, len(groups), trans, has_out, damping, max_iter, tol, checkpoint_interval, "pagerank_groups"
    )
    pairs = ", ".join(f"{g}L, r{i}" for i, g in enumerate(groups))
    out = (
        rank.join(index, ID)
        .select(NODE, F.expr(f"stack({len(groups)}, {pairs}) as ({GROUP}, {SCORE})"))
        .select(GROUP, NODE, SCORE)
    )
    return out, it, converged


def _power_iteration(
    tele: DataFrame,
    width: int,
    trans: DataFrame,
    has_out: DataFrame,
    damping: float,
    max_iter: int,
    tol: float,
    checkpoint_interval: int,
    what: str,
) -> tuple[DataFrame, int, bool]:
    """Power iteration of ``width`` teleport vectors at once.

    Args:
        tele: ``[id, v0 .. v{width-1}]`` over every node, each column summing to 1.
        trans, has_out: from :func:`_transitions`.
        what: name in the progress and warning lines.

    Returns:
        ``([id, r0 .. r{width-1}], iterations, converged)``: converged when every vector's L1 change
        is below ``tol``; a dangling node's mass goes to its vector's teleport distribution.
    """
    v = [f"v{i}" for i in range(width)]
    r = [f"r{i}" for i in range(width)]
    rank = tele.join(has_out, ID, "left").select(
        ID,
        F.coalesce("has_out", F.lit(False)).alias("has_out"),
        *v,
        *[F.col(x).alias(y) for x, y in zip(v, r, strict=True)],
    )
    rank = rank.localCheckpoint(eager=True)
    first = rank.agg(*[F.sum(F.when(~F.col("has_out"), F.col(x))).alias(x) for x in r]).first()
    dangling = [float(first[x] or 0.0) if first else 0.0 for x in r]
    it, converged, errs = 0, False, [0.0] * width
    while it < max_iter:
        it += 1
        contrib = (
            trans.join(rank.select(F.col(ID).alias("a"), *r), "a")
            .groupBy("b")
            .agg(*[F.sum(F.col(x) * F.col("p")).alias(f"c{i}") for i, x in enumerate(r)])
        )
        new = rank.join(contrib.withColumnRenamed("b", ID), ID, "left").select(
            ID,
            "has_out",
            *v,
            *[
                (
                    F.lit(damping) * (F.coalesce(f"c{i}", F.lit(0.0)) + F.lit(dangling[i]) * F.col(v[i]))
                    + F.lit(1 - damping) * F.col(v[i])
                ).alias(r[i])
                for i in range(width)
            ],
            *[F.col(x).alias(f"_old{i}") for i, x in enumerate(r)],
        )
        new = cut_lineage(new, it, checkpoint_interval)
        row = new.agg(
            *[F.sum(F.abs(F.col(x) - F.col(f"_old{i}"))).alias(f"e{i}") for i, x in enumerate(r)],
            *[F.sum(F.when(~F.col("has_out"), F.col(x))).alias(f"d{i}") for i, x in enumerate(r)],
        ).first()
        errs = [float(row[f"e{i}"] or 0.0) if row else 0.0 for i in range(width)]
        dangling = [float(row[f"d{i}"] or 0.0) if row else 0.0 for i in range(width)]
        rank = new.drop(*[f"_old{i}" for i in range(width)])
        log.info("%s iteration %d: largest L1 change %.3g over %d vector(s)", what, it, max(errs), width)
        if max(errs) < tol:
            converged = True
            break
    if not converged:
        log.warning("%s: L1 change %.3g still above tol %.3g after max_iter=%d", what, max(errs), tol, max_iter)
    return rank.select(ID, *r), it, converged
