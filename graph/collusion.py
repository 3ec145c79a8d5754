"""Collusion communities on the seller projection, from several evidence channels.

Each channel of :mod:`fraudmine.graph.channels` scores seller pairs on its own scale.  Before they
are added, scores are put on one scale without labels (:func:`combine_channels`): a channel's
evidence for a pair is how far its score stands above the channel's *typical* candidate pair, in
robust standard deviations, ``e = clip((score - median) / (robust_scale · 1.4826 · MAD), 0, cap)``
(most candidate pairs of any channel are unrelated sellers, fraud is rare); channels whose score is
already a match probability (``probability_channels``, the dedup stage's near-duplicate pairs) enter
as ``min(score, cap)``.  A pair is linked when ``Σ_c weight_c · e_c`` reaches ``min_link_score``;
with the defaults (cap 1, threshold 1.8) no single channel can link two sellers — a shared device
alone, a shared buyer pool alone or a registration in the same week alone is never enough.
Communities of the linked graph come from Leiden (Traag, Waltman & van Eck 2019) on the local engine
and from label propagation at scale (:mod:`.algorithms.engine`).  Creators (and other sellers left
out) then join the community whose members they promote when they promote at least
``attach_min_share`` of it and at least ``attach_min_links`` of its members
(:func:`attach_satellites`): a creator's link to one shop is weak, promoting most of a ring is not.
Before the satellites: sellers outside every community whose *weak* links (at least ``weak_link``, one
full channel) form a ``weak_min_degree``-core become communities of their own (:func:`weak_cores`), and
communities joined by weak links across at least ``merge_min_density`` of their member pairs merge
(:func:`merge_dense_pairs`).  After them, a seller that promotes some members of a community and shares
identifiers with ``identified_min_members`` of them joins it (:func:`attach_identified`).
Sellers with partial evidence (:func:`attach_partial`, on when ``partial_min_score > 0``): a seller
left outside every community (its links stay below ``min_link_score``, one channel each, say, or
Leiden put it in a community too small to report) joins one when its combined links of at least
``partial_min_link`` to the community's members reach ``partial_min_score`` in sum over at least
``partial_min_links`` members — one weak tie to a ring is chance, weak ties to several of its
members are not.

The two timing channels count as one family (their maximum), and weigh half by default:
registrations in the same week are common among honest shops too.

Cluster risk (graph evidence only, no labels): ``(1 - exp(-mean link score)) ·
sqrt(channels seen / channels available)``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from fraudmine.graph import channels as ch
from fraudmine.graph import schemas as S
from fraudmine.graph.algorithms.engine import GraphEngine
from fraudmine.graph.algorithms.spark_common import exact_avg, exact_sum
from fraudmine.graph.clusters import CLUSTER_ID, assemble_clusters
from fraudmine.graph.identity import cluster_id_col
from fraudmine.graph_config import CollusionConfig

log = logging.getLogger(__name__)

ALL_CHANNELS = ("identifier", "buyers", "promotion", "duplicate", "co_reported", "co_registration", "co_activity")


def standardise(links: DataFrame, probability_channels: tuple[str, ...], robust_scale: float) -> DataFrame:
    """Add ``z``: per channel, ``(score - median) / (robust_scale · 1.4826 · MAD)`` over its candidate pairs.

    Probability channels keep their score as ``z``.  A channel whose MAD is 0 (most pairs tie) uses its
    standard deviation, and 1 when that is 0 too.
    """
    st = links.where(~F.col(ch.CHANNEL).isin(*probability_channels) if probability_channels else F.lit(True))
    med = st.groupBy(ch.CHANNEL).agg(F.percentile_approx(ch.SCORE, 0.5, 10000).alias("_med"))
    dev = (
        st.join(med, ch.CHANNEL)
        .groupBy(ch.CHANNEL, "_med")
        .agg(
            F.percentile_approx(F.abs(F.col(ch.SCORE) - F.col("_med")), 0.5, 10000).alias("_mad"),
            F.stddev_pop(ch.SCORE).alias("_sd"),
        )
    )
    spread = F.when(F.col("_mad") > 0, F.col("_mad") * F.lit(1.4826)).when(F.col("_sd") > 0, F.col("_sd"))
    dev = dev.select(ch.CHANNEL, "_med", F.coalesce(spread, F.lit(1.0)).alias("_spread"))
    z = F.when(
        F.col(ch.CHANNEL).isin(*probability_channels) if probability_channels else F.lit(False), F.col(ch.SCORE)
    ).otherwise((F.col(ch.SCORE) - F.col("_med")) / (F.lit(robust_scale) * F.col("_spread")))
    return links.join(F.broadcast(dev), ch.CHANNEL, "left").withColumn("z", z).drop("_med", "_spread")


def combine_channels(
    links: DataFrame,
    channel_weights: Mapping[str, float],
    channel_cap: float,
    min_link_score: float,
    probability_channels: tuple[str, ...] = ("duplicate",),
    robust_scale: float = 3.0,
) -> DataFrame:
    """Combine channel pairs ``[src, dst, channel, score]`` into seller links.

    Each channel's score is standardised (:func:`standardise`), clipped to ``[0, channel_cap]`` and
    multiplied by its weight; the two timing channels (co-registration, co-activity) form one family
    ``timing`` (their maximum counts), since a shop's first listing follows its registration.

    Returns:
        ``[src, dst, weight, n_channels, channels]`` for pairs whose combined score reaches
        ``min_link_score``; ``channels`` maps channel (family) name → weighted capped evidence.
    """
    w = F.lit(0.0)
    for name, v in sorted(channel_weights.items()):
        w = F.when(F.col(ch.CHANNEL) == name, F.lit(float(v))).otherwise(w)
    z = standardise(links, probability_channels, robust_scale)
    weighted = z.withColumn("_c", F.least(F.greatest(F.col("z"), F.lit(0.0)), F.lit(channel_cap)) * w).where(
        F.col("_c") > 0
    )
    # timing channels are one family: a pair registered and active in the same week counts once
    fam = F.when(F.col(ch.CHANNEL).isin(*ch.TIMING_CHANNELS), F.lit("timing")).otherwise(F.col(ch.CHANNEL))
    capped = weighted.groupBy(ch.U, ch.V, fam.alias(ch.CHANNEL)).agg(F.max("_c").alias("_c"))
    comb = capped.groupBy(ch.U, ch.V).agg(
        exact_sum("_c").alias(S.WEIGHT),
        F.count(F.lit(1)).alias("n_channels"),
        F.map_from_entries(F.sort_array(F.collect_list(F.struct(ch.CHANNEL, F.round("_c", 4))))).alias("channels"),
    )
    return comb.where(F.col(S.WEIGHT) >= F.lit(min_link_score))


def _big(members: DataFrame, min_size: int) -> DataFrame:
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
    big = _big(members, min_size)
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
    big = _big(members, min_size).select(S.NODE_ID)
    w = (
        weak.where(F.col(S.WEIGHT) >= min_link)
        .join(big.select(F.col(S.NODE_ID).alias(S.SRC)), S.SRC, "left_anti")
        .join(big.select(F.col(S.NODE_ID).alias(S.DST)), S.DST, "left_anti")
        .select(S.SRC, S.DST, S.WEIGHT)
    )
    core = k_core(w, min_degree)
    comp = engine.connected_components(core).frame
    sizes = comp.groupBy("component").agg(F.count(F.lit(1)).alias("_n")).where(F.col("_n") >= min_size)
    return comp.join(sizes, "component").select(
        F.col("node").alias(S.NODE_ID),
        cluster_id_col("collusion", F.concat(F.lit("weak:"), F.col("component"))).alias(CLUSTER_ID),
    )


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
    big = _big(members, min_size).select(S.NODE_ID, CLUSTER_ID)
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
    sizes = members.groupby(CLUSTER_ID).agg(F.count(F.lit(1)).alias("_size")).where(F.col("_size") >= min_size)
    big = members.join(sizes, CLUSTER_ID).select(S.NODE_ID, CLUSTER_ID)
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


def channel_links(
    edges: DataFrame,
    nodes: DataFrame,
    identity_links: DataFrame,
    max_pool_degree: int,
    min_shared: int,
    burst_days: float,
    duplicate_pairs: DataFrame | None = None,
) -> DataFrame:
    """All channel pairs ``[src, dst, channel, score]`` of the seller projection."""
    parts = [
        identity_links.select(ch.U, ch.V, F.lit("identifier").alias(ch.CHANNEL), F.col(S.WEIGHT).alias(ch.SCORE)),
        ch.buyer_channel(edges, max_pool_degree, min_shared),
        ch.promotion_channel(edges, max_pool_degree),
        ch.co_reported_channel(edges, max_pool_degree, min_shared),
    ]
    if duplicate_pairs is not None:
        parts.append(ch.duplicate_channel(edges, duplicate_pairs))
    pairs = parts[0]
    for p in parts[1:]:
        pairs = pairs.unionByName(p)
    pairs = pairs.localCheckpoint(eager=True)
    timing = ch.timing_channels(pairs, ch.seller_times(edges, nodes), burst_days)
    # materialised: the channel scores are read three times by the standardisation (medians, spreads,
    # scores), and without this cut each read re-plans the timing channels' joins (a 375-node plan)
    return pairs.unionByName(timing).localCheckpoint(eager=True)


def _adopt(members: DataFrame, attached: DataFrame, count_col: str) -> tuple[DataFrame, DataFrame]:
    """Move the ``attached`` ``[node_id, cluster_id, ...]`` sellers into ``members``; also their count per cluster."""
    attached = attached.localCheckpoint(eager=True)
    moved = members.join(attached.select(S.NODE_ID), S.NODE_ID, "left_anti").unionByName(
        attached.select(S.NODE_ID, CLUSTER_ID)
    )
    return moved, attached.groupBy(CLUSTER_ID).agg(F.count(F.lit(1)).alias(count_col))


def collusion_clusters(
    edges: DataFrame,
    nodes: DataFrame,
    identity_links: DataFrame,
    engine: GraphEngine,
    cfg: CollusionConfig,
    duplicate_pairs: DataFrame | None = None,
) -> tuple[DataFrame, DataFrame, DataFrame]:
    """Collusion clusters of merchants and creators with their evidence.

    Args:
        edges: typed edges as of the date.
        nodes: typed nodes.
        identity_links: ``[src, dst, weight, ...]`` from :func:`fraudmine.graph.identity.identity_links`
            (all identity links, before the identity threshold: here they are one channel among several).
        engine: graph engine (Leiden locally, label propagation at scale).
        cfg: the ``clusters.collusion`` config section (:class:`fraudmine.graph_config.CollusionConfig`).
        duplicate_pairs: optional near-duplicate product pairs ``[src, dst(, score)]``.

    Returns:
        ``(clusters, members [cluster_id, node_id], links [src, dst, weight, n_channels, channels])``.
    """
    pairs = channel_links(
        edges, nodes, identity_links, cfg.max_pool_degree, cfg.min_shared, cfg.burst_days, duplicate_pairs
    )
    floor = cfg.min_link_score
    if cfg.partial_min_score > 0:
        floor = min(floor, cfg.partial_min_link)
    if cfg.pooled_min_surprise > 0:
        floor = min(floor, cfg.pooled_min_link)
    if cfg.merge_min_density > 0 or cfg.weak_min_degree > 0:
        floor = min(floor, cfg.weak_link)
    scored = combine_channels(
        pairs, cfg.channel_weights, cfg.channel_cap, floor, cfg.probability_channels, cfg.robust_scale
    ).localCheckpoint(eager=True)
    links = scored.where(F.col(S.WEIGHT) >= F.lit(cfg.min_link_score))
    comm = engine.communities(
        links.select(S.SRC, S.DST, S.WEIGHT), method="auto", resolution=cfg.resolution, seed=cfg.seed
    )
    core = comm.frame.select(
        F.col("node").alias(S.NODE_ID), cluster_id_col("collusion", F.col("community")).alias(CLUSTER_ID)
    ).localCheckpoint(eager=True)
    if cfg.weak_min_degree > 0:
        wc = weak_cores(core, scored, engine, cfg.min_size, cfg.weak_link, cfg.weak_min_degree).localCheckpoint(
            eager=True
        )
        core = core.join(wc.select(S.NODE_ID), S.NODE_ID, "left_anti").unionByName(wc)
    else:
        wc = core.limit(0)
    if cfg.merge_min_density > 0:  # after the weak cores: a ring's weakly tied part can sit beside its core
        core = merge_dense_pairs(core, scored, engine, cfg.min_size, cfg.weak_link, cfg.merge_min_density)
    n_weak = wc.select(S.NODE_ID).join(core, S.NODE_ID).groupBy(CLUSTER_ID).agg(F.count(F.lit(1)).alias("_weak"))
    promoters = ch.promotion_memberships(edges).localCheckpoint(eager=True)
    sat = attach_satellites(core, promoters, cfg.min_size, cfg.attach_min_share, cfg.attach_min_links).localCheckpoint(
        eager=True
    )
    members = core.join(sat.select(S.NODE_ID), S.NODE_ID, "left_anti").unionByName(sat.select(S.NODE_ID, CLUSTER_ID))
    if cfg.identified_min_members > 0:
        ident = attach_identified(
            members, promoters, identity_links, cfg.min_size, cfg.identified_min_promoted, cfg.identified_min_members
        )
        members, n_ident = _adopt(members, ident, "_ident")
    else:
        n_ident = core.limit(0).select(CLUSTER_ID, F.lit(0).alias("_ident"))
    if cfg.partial_min_score > 0:
        part = attach_partial(members, scored, cfg.min_size, cfg.partial_min_score, cfg.partial_min_links)
        members, n_part = _adopt(members, part, "_part")
    else:
        n_part = core.limit(0).select(CLUSTER_ID, F.lit(0).alias("_part"))
    if cfg.pooled_min_surprise > 0:
        pooled = attach_pooled(
            members,
            ch.buyer_memberships(edges),
            scored,
            cfg.min_size,
            cfg.max_pool_degree,
            cfg.min_shared,
            cfg.pooled_min_surprise,
            cfg.pooled_min_link,
        )
        members, n_pooled = _adopt(members, pooled, "_pooled")
    else:
        n_pooled = core.limit(0).select(CLUSTER_ID, F.lit(0).alias("_pooled"))
    attached = sat.groupBy(CLUSTER_ID).agg(F.count(F.lit(1)).alias("_att"))
    inside = (
        links.join(members.select(F.col(S.NODE_ID).alias(S.SRC), F.col(CLUSTER_ID).alias("_cu")), S.SRC)
        .join(members.select(F.col(S.NODE_ID).alias(S.DST), F.col(CLUSTER_ID).alias("_cv")), S.DST)
        .where(F.col("_cu") == F.col("_cv"))
        .withColumnRenamed("_cu", CLUSTER_ID)
    )
    per_channel = (
        inside.select(CLUSTER_ID, F.explode("channels").alias("channel", "s"))
        .groupBy(CLUSTER_ID, "channel")
        .agg(F.count(F.lit(1)).alias("links"), F.round(exact_sum("s"), 3).alias("score"))
    )
    chan = per_channel.groupBy(CLUSTER_ID).agg(
        F.count(F.lit(1)).alias("_nch"),
        F.map_from_entries(F.sort_array(F.collect_list(F.struct("channel", F.struct("links", "score"))))).alias("_ch"),
    )
    stats = inside.groupBy(CLUSTER_ID).agg(F.count(F.lit(1)).alias("_nl"), exact_avg(S.WEIGHT).alias("_mean"))
    fams = {"timing" if c in ch.TIMING_CHANNELS else c for c in ALL_CHANNELS if cfg.channel_weights.get(c, 0) > 0}
    n_avail = len([c for c in fams if c != "duplicate" or duplicate_pairs is not None])
    risk = (F.lit(1.0) - F.exp(-F.col("_mean"))) * F.sqrt(F.col("_nch") / F.lit(max(n_avail, 1)))
    summary = (
        stats.join(chan, CLUSTER_ID)
        .join(attached, CLUSTER_ID, "left")
        .join(n_part, CLUSTER_ID, "left")
        .join(n_pooled, CLUSTER_ID, "left")
        .join(n_weak, CLUSTER_ID, "left")
        .join(n_ident, CLUSTER_ID, "left")
        .select(
            CLUSTER_ID,
            risk.alias("risk"),
            F.to_json(
                F.struct(
                    F.col("_nl").alias("links"),
                    F.round("_mean", 3).alias("mean_link_score"),
                    F.col("_ch").alias("channels"),
                    F.coalesce(F.col("_att"), F.lit(0)).alias("attached_promoters"),
                    F.coalesce(F.col("_part"), F.lit(0)).alias("attached_partial"),
                    F.coalesce(F.col("_pooled"), F.lit(0)).alias("attached_pooled"),
                    F.coalesce(F.col("_weak"), F.lit(0)).alias("weak_core_members"),
                    F.coalesce(F.col("_ident"), F.lit(0)).alias("attached_identified"),
                    F.lit(comm.engine).alias("engine"),
                )
            ).alias("evidence"),
        )
    )
    clusters = assemble_clusters("collusion", members, nodes, summary, min_size=cfg.min_size)
    return clusters, members, links
