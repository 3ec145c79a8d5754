"""Community refinement of the collusion graph: what happens after Leiden / label propagation.

:func:`fraudmine.graph.collusion.collusion_clusters` finds communities on the strong seller links, then
refines them with the steps here, in this order: sellers outside every community whose weak links form a
dense core become communities of their own (:func:`weak_cores`, with :func:`k_core`); communities densely
linked across one another merge (:func:`merge_dense_pairs`); creators and sellers join the community they
promote a large share of (:func:`attach_satellites`), that they promote *and* share identifiers with
(:func:`attach_identified`), to whose members their weak links sum high enough (:func:`attach_partial`),
or whose pooled buyers they share surprisingly often (:func:`attach_pooled`).  Each attach step returns
``[node_id, cluster_id, ...]`` of the sellers that move; :func:`adopt` moves them and counts them per
cluster for the evidence.  The module docstring of :mod:`fraudmine.graph.collusion` says why each step
needs two kinds of evidence.
"""

from __future__ import annotations

import math

import pandas as pd
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from fraudmine.graph import channels as ch
from fraudmine.graph import schemas as S
from fraudmine.graph.algorithms import local
from fraudmine.graph.algorithms.engine import GraphEngine
from fraudmine.graph.algorithms.spark_common import exact_sum, to_pandas
from fraudmine.graph.clusters import CLUSTER_ID
from fraudmine.graph.identity import cluster_id, cluster_id_col


def big_members(members: DataFrame, min_size: int) -> DataFrame:
    """``[node_id, cluster_id, _size]`` of the members of clusters with at least ``min_size`` members."""
    sizes = members.groupBy(CLUSTER_ID).agg(F.count(F.lit(1)).alias("_size")).where(F.col("_size") >= min_size)
    return members.join(sizes, CLUSTER_ID).select(S.NODE_ID, CLUSTER_ID, "_size")


def merge_dense_pairs(
    members: DataFrame, weak: DataFrame, engine: GraphEngine, min_size: int, min_link: float, min_density: float
) -> DataFrame:
    """Merge communities whose members are densely linked *across* them (a ring that Leiden cut in two).

    Two communities ``A`` and ``B`` (``min_size`` members or more each) are one when the combined links of at
    least ``min_link`` between their members number at least ``min_density · |A| · |B|``; merges are
    transitive (connected components of the community pairs) and the merged community keeps the smallest
    cluster id.  Modularity splits a large dense ring into halves (the resolution limit works both ways); a
    cut crossed by links between most member pairs is not a boundary between two rings.

    Args:
        members: ``[node_id, cluster_id]``.
        weak: ``[src, dst, weight]`` combined seller links of any strength.

    Returns:
        ``members`` with merged cluster ids.
    """
    big = big_members(members, min_size)
    w = weak.where(F.col(S.WEIGHT) >= min_link)
    cross = (
        w.join(
            big.select(F.col(S.NODE_ID).alias(S.SRC), F.col(CLUSTER_ID).alias("_a"), F.col("_size").alias("_na")), S.SRC
        )
        .join(
            big.select(F.col(S.NODE_ID).alias(S.DST), F.col(CLUSTER_ID).alias("_b"), F.col("_size").alias("_nb")), S.DST
        )
        .where(F.col("_a") != F.col("_b"))
        .select(
            F.least("_a", "_b").alias(S.SRC),
            F.greatest("_a", "_b").alias(S.DST),
            (F.col("_na") * F.col("_nb")).alias("_nn"),
        )
        .groupBy(S.SRC, S.DST, "_nn")
        .agg(F.count(F.lit(1)).alias("_k"))
        .where(F.col("_k") >= F.lit(min_density) * F.col("_nn"))
        .select(S.SRC, S.DST)
        .localCheckpoint(eager=True)
    )
    if cross.isEmpty():
        return members
    comp = engine.connected_components(cross.withColumn(S.WEIGHT, F.lit(1.0))).frame
    ren = comp.select(F.col("node").alias("_old"), F.col("component").alias("_new"))
    return (
        members.join(ren, F.col(CLUSTER_ID) == F.col("_old"), "left")
        .select(S.NODE_ID, F.coalesce("_new", CLUSTER_ID).alias(CLUSTER_ID))
        .localCheckpoint(eager=True)
    )


def k_core(edges: DataFrame, k: int, max_rounds: int = 100) -> DataFrame:
    """The ``k``-core of an undirected ``[src, dst, ...]`` edge frame: peel nodes of degree below ``k`` until none are.

    Returns:
        the edges of the core (both ends of degree ``k`` or more inside it).
    """
    cur = edges.localCheckpoint(eager=True)
    n = cur.count()
    for _ in range(max_rounds):
        deg = (
            cur.select(F.col(S.SRC).alias("_n"))
            .unionAll(cur.select(F.col(S.DST).alias("_n")))
            .groupBy("_n")
            .agg(F.count(F.lit(1)).alias("_d"))
            .where(F.col("_d") >= k)
        )
        nxt = (
            cur.join(deg.select(F.col("_n").alias(S.SRC)), S.SRC, "left_semi")
            .join(deg.select(F.col("_n").alias(S.DST)), S.DST, "left_semi")
            .localCheckpoint(eager=True)
        )
        m = nxt.count()
        cur = nxt
        if m == n:
            break
        n = m
    return cur


def weak_cores(
    members: DataFrame, weak: DataFrame, engine: GraphEngine, min_size: int, min_link: float, min_degree: int
) -> DataFrame:
    """Communities of sellers linked only weakly pair by pair, but each to many of the others.

    Among sellers outside every community of ``min_size`` or more, the links of at least ``min_link``
    (one full channel, say a surprising shared buyer pool, plus timing) form a graph; its ``min_degree``-core
    (every seller weakly linked to at least ``min_degree`` others of it) splits into connected components,
    and each of ``min_size`` or more sellers is a community.  One weak tie is chance; a group whose every
    member shares unusual buyers with four others of it is not.  The id is that of the smallest member,
    hashed with a ``weak:`` prefix so it cannot meet a Leiden community's id.

    Returns:
        ``[node_id, cluster_id]`` of the new communities.
    """
    big = big_members(members, min_size).select(S.NODE_ID)
    w = (
        weak.where(F.col(S.WEIGHT) >= min_link)
        .join(big.select(F.col(S.NODE_ID).alias(S.SRC)), S.SRC, "left_anti")
        .join(big.select(F.col(S.NODE_ID).alias(S.DST)), S.DST, "left_anti")
        .select(S.SRC, S.DST, S.WEIGHT)
    )
    if engine.name == "local":  # one collect, peeled and split on the driver: no Spark job per peeling round
        return _weak_cores_local(w, min_size, min_degree)
    core = k_core(w, min_degree)
    comp = engine.connected_components(core).frame
    sizes = comp.groupBy("component").agg(F.count(F.lit(1)).alias("_n")).where(F.col("_n") >= min_size)
    return comp.join(sizes, "component").select(
        F.col("node").alias(S.NODE_ID),
        cluster_id_col("collusion", F.concat(F.lit("weak:"), F.col("component"))).alias(CLUSTER_ID),
    )


def k_core_pandas(edges: pd.DataFrame, k: int) -> pd.DataFrame:
    """:func:`k_core` on a pandas ``[src, dst, ...]`` frame (the same peeling rule, rows kept in order)."""
    cur = edges
    while True:
        deg = pd.concat([cur[S.SRC], cur[S.DST]]).value_counts()
        keep = set(deg.index[deg.to_numpy() >= k])
        nxt = cur[cur[S.SRC].isin(keep) & cur[S.DST].isin(keep)]
        if len(nxt) == len(cur):
            return nxt
        cur = nxt


def _weak_cores_local(w: DataFrame, min_size: int, min_degree: int) -> DataFrame:
    """:func:`weak_cores` after the weak links are selected, on the driver (local engine): same rows."""
    spark = w.sparkSession
    core = k_core_pandas(to_pandas(w.select(S.SRC, S.DST)), min_degree)
    rows: list[tuple[str, str]] = []
    if len(core):
        g = local.from_pandas(core, weight=None)
        comp = pd.Series(local.connected_components(g), index=g.names)
        sizes = comp.value_counts()
        for node, label in comp.items():
            if sizes[label] >= min_size:
                rows.append((str(node), cluster_id("collusion", f"weak:{label}")))
    # from pandas, like the local engine's own frames: a local relation whose size Spark knows (an RDD of
    # rows has no size estimate, and the joins downstream then plan shuffles instead of broadcasts)
    pdf = pd.DataFrame(rows, columns=[S.NODE_ID, CLUSTER_ID], dtype=object)
    return spark.createDataFrame(pdf, f"{S.NODE_ID} string, {CLUSTER_ID} string")


def attach_satellites(
    members: DataFrame, memberships: DataFrame, min_size: int, min_share: float, min_links: int
) -> DataFrame:
    """Sellers outside every community of ``min_size`` or more that promote most of one community.

    Args:
        members: ``[node_id, cluster_id]`` from the community step.
        memberships: ``[pool, seller]``, e.g. creator → promoted merchant (:func:`.channels.promotion_memberships`).
        min_size: communities smaller than this do not count (nor keep their members from attaching).
        min_share: the satellite reaches at least this share of the community's members ...
        min_links: ... and at least this many of them.

    Returns:
        ``[node_id, cluster_id, k]``: one community per satellite (most members reached, then the
        smallest cluster id), ``k`` members reached.
    """
    sizes = members.groupBy(CLUSTER_ID).agg(F.count(F.lit(1)).alias("_size")).where(F.col("_size") >= min_size)
    big = members.join(sizes, CLUSTER_ID)
    hits = (
        memberships.select(F.col("pool").alias("_sat"), F.col("seller").alias(S.NODE_ID))
        .distinct()
        .join(big, S.NODE_ID)
        .groupBy("_sat", CLUSTER_ID, "_size")
        .agg(F.count(F.lit(1)).alias("k"))
        .where((F.col("k") >= min_links) & (F.col("k") >= F.lit(min_share) * F.col("_size")))
        .join(big.select(F.col(S.NODE_ID).alias("_sat")), "_sat", "left_anti")
    )
    best = Window.partitionBy("_sat").orderBy(F.col("k").desc(), F.col(CLUSTER_ID))
    return (
        hits.withColumn("_r", F.row_number().over(best))
        .where(F.col("_r") == 1)
        .select(F.col("_sat").alias(S.NODE_ID), CLUSTER_ID, "k")
    )


def attach_identified(
    members: DataFrame,
    memberships: DataFrame,
    identity: DataFrame,
    min_size: int,
    min_promoted: int,
    min_members: int,
) -> DataFrame:
    """Sellers outside every community that promote some of its members *and* share identifiers with several.

    A ring's creator may promote a single shop of the ring (promotion alone: a creator promoting one shop is
    not evidence), yet log in from the devices, networks or payment instruments of several of its members
    (shared identifiers alone are weak: households, offices).  The two together are two channels: the seller
    joins community ``C`` when it promotes at least ``min_promoted`` of ``C``'s members and shares a
    non-hub identifier with at least ``min_members`` of them.

    Args:
        members: ``[node_id, cluster_id]``.
        memberships: ``[pool, seller]`` creator → promoted merchant (:func:`.channels.promotion_memberships`).
        identity: ``[src, dst, weight]`` identity links (shared non-hub identifiers, weight > 0).

    Returns:
        ``[node_id, cluster_id, k]``: one community per seller (most members sharing identifiers, then most
        promoted, then the smallest cluster id), ``k`` members sharing identifiers.
    """
    big = big_members(members, min_size).select(S.NODE_ID, CLUSTER_ID)
    ids_ = identity.where(F.col(S.WEIGHT) > 0)
    both = ids_.select(F.col(S.SRC).alias("_x"), F.col(S.DST).alias(S.NODE_ID)).unionByName(
        ids_.select(F.col(S.DST).alias("_x"), F.col(S.SRC).alias(S.NODE_ID))
    )
    outside = big.select(F.col(S.NODE_ID).alias("_x"))
    ki = (
        both.join(big, S.NODE_ID)
        .join(outside, "_x", "left_anti")
        .groupBy("_x", CLUSTER_ID)
        .agg(F.countDistinct(S.NODE_ID).alias("k"))
        .where(F.col("k") >= min_members)
    )
    kp = (
        memberships.select(F.col("pool").alias("_x"), F.col("seller").alias(S.NODE_ID))
        .distinct()
        .join(big, S.NODE_ID)
        .join(outside, "_x", "left_anti")
        .groupBy("_x", CLUSTER_ID)
        .agg(F.count(F.lit(1)).alias("_kp"))
        .where(F.col("_kp") >= min_promoted)
    )
    best = Window.partitionBy("_x").orderBy(F.col("k").desc(), F.col("_kp").desc(), F.col(CLUSTER_ID))
    return (
        ki.join(kp, ["_x", CLUSTER_ID])
        .withColumn("_r", F.row_number().over(best))
        .where(F.col("_r") == 1)
        .select(F.col("_x").alias(S.NODE_ID), CLUSTER_ID, "k")
    )


def attach_partial(members: DataFrame, weak: DataFrame, min_size: int, min_score: float, min_links: int) -> DataFrame:
    """Sellers outside every community of ``min_size`` or more with weak links to several of its members.

    Args:
        members: ``[node_id, cluster_id]`` (communities and already attached satellites).
        weak: ``[src, dst, weight]`` combined seller links of any strength (:func:`combine_channels`).
        min_size: communities smaller than this do not count (nor keep their members from attaching).
        min_score: the seller's links to the community's members sum to at least this ...
        min_links: ... over at least this many members.

    Returns:
        ``[node_id, cluster_id, k, score]``: one community per seller (highest summed score, then the
        smallest cluster id), ``k`` members linked.
    """
    sizes = members.groupBy(CLUSTER_ID).agg(F.count(F.lit(1)).alias("_size")).where(F.col("_size") >= min_size)
    big = members.join(sizes, CLUSTER_ID).select(S.NODE_ID, CLUSTER_ID)
    both = weak.select(F.col(S.SRC).alias("_x"), F.col(S.DST).alias(S.NODE_ID), S.WEIGHT).unionByName(
        weak.select(F.col(S.DST).alias("_x"), F.col(S.SRC).alias(S.NODE_ID), S.WEIGHT)
    )
    hits = (
        both.join(big, S.NODE_ID)
        .join(big.select(F.col(S.NODE_ID).alias("_x")), "_x", "left_anti")
        .groupBy("_x", CLUSTER_ID)
        .agg(F.countDistinct(S.NODE_ID).alias("k"), exact_sum(S.WEIGHT).alias("score"))
        .where((F.col("k") >= min_links) & (F.col("score") >= min_score))
    )
    best = Window.partitionBy("_x").orderBy(F.col("score").desc(), F.col(CLUSTER_ID))
    return (
        hits.withColumn("_r", F.row_number().over(best))
        .where(F.col("_r") == 1)
        .select(F.col("_x").alias(S.NODE_ID), CLUSTER_ID, "k", "score")
    )


def attach_pooled(
    members: DataFrame,
    memberships: DataFrame,
    weak: DataFrame,
    min_size: int,
    max_pool_degree: int,
    min_shared: int,
    min_surprise: float,
    min_link: float,
) -> DataFrame:
    """Sellers outside every community that share a surprising part of one community's *pooled* buyers.

    A ring's operator buys from all of its shops with a few accounts: a member shop may share one or two
    of them with each other member (below ``min_shared`` for a pair) but several with the community as
    a whole.  For a seller ``u`` and a community ``C`` (``min_size`` members or more), ``k`` = pool
    members (buyers) of ``u`` that also belong to any member of ``C``; under the configuration-model null
    of :func:`fraudmine.graph.channels.pool_links`, ``k`` is about Poisson with mean
    ``λ = n_u · n_C · Σ_p d_p (d_p - 1) / (Σ_p d_p)²`` (``n_C`` the community's distinct pool members),
    scored by the same Chernoff tail.  The seller joins when ``k ≥ min_shared``, the tail reaches
    ``min_surprise`` and (second evidence, so no single channel decides) one of its combined links to a
    member of ``C`` weighs at least ``min_link``.

    Args:
        members: ``[node_id, cluster_id]``.
        memberships: ``[pool, seller]`` (duplicates allowed), e.g. :func:`.channels.buyer_memberships`.
        weak: ``[src, dst, weight]`` combined seller links of any strength.

    Returns:
        ``[node_id, cluster_id, k, surprise]``: one community per seller (highest surprise, then the
        smallest cluster id).
    """
    m, rate = ch.bounded_memberships(memberships, max_pool_degree)
    big = big_members(members, min_size).select(S.NODE_ID, CLUSTER_ID)
    cpool = m.join(big, F.col("seller") == F.col(S.NODE_ID)).select("pool", CLUSTER_ID).distinct()
    n_c = cpool.groupBy(CLUSTER_ID).agg(F.count(F.lit(1)).alias("_nc"))
    n_u = m.groupBy("seller").agg(F.count(F.lit(1)).alias("_nu"))
    outside = m.join(big.select(F.col(S.NODE_ID).alias("seller")), "seller", "left_anti").select("pool", "seller")
    hits = (
        outside.join(cpool, "pool")
        .groupBy("seller", CLUSTER_ID)
        .agg(F.count(F.lit(1)).alias("k"))
        .where(F.col("k") >= min_shared)
        .join(n_u, "seller")
        .join(n_c, CLUSTER_ID)
    )
    lam = F.greatest(F.col("_nu") * F.col("_nc") * F.lit(rate), F.lit(1e-12))
    k = F.col("k").cast("double")
    tail = F.when(k > lam, (k * F.log(k / lam) - k + lam) / F.lit(math.log(10.0))).otherwise(F.lit(0.0))
    hits = hits.withColumn("surprise", tail).where(F.col("surprise") >= min_surprise)
    both = weak.select(F.col(S.SRC).alias("seller"), F.col(S.DST).alias(S.NODE_ID), S.WEIGHT).unionByName(
        weak.select(F.col(S.DST).alias("seller"), F.col(S.SRC).alias(S.NODE_ID), S.WEIGHT)
    )
    second = (
        both.join(big, S.NODE_ID)
        .groupBy("seller", CLUSTER_ID)
        .agg(F.max(S.WEIGHT).alias("_w"))
        .where(F.col("_w") >= min_link)
    )
    best = Window.partitionBy("seller").orderBy(F.col("surprise").desc(), F.col(CLUSTER_ID))
    return (
        hits.join(second, ["seller", CLUSTER_ID])
        .withColumn("_r", F.row_number().over(best))
        .where(F.col("_r") == 1)
        .select(F.col("seller").alias(S.NODE_ID), CLUSTER_ID, "k", "surprise")
    )


def adopt(members: DataFrame, attached: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Move the ``attached`` ``[node_id, cluster_id, ...]`` sellers into ``members``; also ``[cluster_id, count]``
    of the sellers moved into each cluster."""
    attached = attached.localCheckpoint(eager=True)
    moved = members.join(attached.select(S.NODE_ID), S.NODE_ID, "left_anti").unionByName(
        attached.select(S.NODE_ID, CLUSTER_ID)
    )
    return moved, attached.groupBy(CLUSTER_ID).count()
