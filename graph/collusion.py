"""Collusion communities on the seller projection, from several evidence channels.

The channels of :mod:`fraudmine.graph.channels` are combined per seller pair as
``Σ_c weight_c · min(score_c, channel_cap)``; a pair is linked only when the sum
reaches ``min_link_score``.  With the defaults (cap 0.6, threshold 1.0) no single
channel can link two sellers: a shared device alone, a shared buyer pool alone or a
registration on the same day alone is never enough — it takes two kinds of evidence.
Communities of the linked graph come from Leiden (Traag, Waltman & van Eck 2019)
on the local engine and from label propagation at scale (:mod:`.algorithms.engine`).

The two timing channels count as one family (their maximum), and weigh half by default:
registrations in the same week are common among honest shops too.

Cluster risk (graph evidence only, no labels): ``(1 - exp(-mean link score)) ·
sqrt(channels seen / channels available)``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraudmine.graph import channels as ch
from fraudmine.graph import schemas as S
from fraudmine.graph.algorithms.engine import GraphEngine
from fraudmine.graph.clusters import CLUSTER_ID, assemble_clusters
from fraudmine.graph.identity import cluster_id_col

log = logging.getLogger(__name__)

ALL_CHANNELS = ("identifier", "buyers", "promotion", "duplicate", "co_reported", "co_registration", "co_activity")


def combine_channels(
    links: DataFrame, channel_weights: Mapping[str, float], channel_cap: float, min_link_score: float
) -> DataFrame:
    """Combine channel pairs ``[src, dst, channel, score]`` into seller links.

    Each channel's score is capped at ``channel_cap`` and multiplied by its weight; the two timing
    channels (co-registration, co-activity) form one family ``timing`` (their maximum counts), since
    a shop's first listing follows its registration.

    Returns:
        ``[src, dst, weight, n_channels, channels]`` for pairs whose combined score reaches
        ``min_link_score``; ``channels`` maps channel (family) name → weighted capped score.
    """
    w = F.lit(0.0)
    for name, v in sorted(channel_weights.items()):
        w = F.when(F.col(ch.CHANNEL) == name, F.lit(float(v))).otherwise(w)
    weighted = links.withColumn("_c", F.least(F.col(ch.SCORE), F.lit(channel_cap)) * w).where(F.col("_c") > 0)
    # timing channels are one family: a pair registered and active in the same week counts once
    fam = F.when(F.col(ch.CHANNEL).isin(*ch.TIMING_CHANNELS), F.lit("timing")).otherwise(F.col(ch.CHANNEL))
    capped = weighted.groupBy(ch.U, ch.V, fam.alias(ch.CHANNEL)).agg(F.max("_c").alias("_c"))
    comb = capped.groupBy(ch.U, ch.V).agg(
        F.sum("_c").alias(S.WEIGHT),
        F.count(F.lit(1)).alias("n_channels"),
        F.map_from_entries(F.sort_array(F.collect_list(F.struct(ch.CHANNEL, F.round("_c", 4))))).alias("channels"),
    )
    return comb.where(F.col(S.WEIGHT) >= F.lit(min_link_score))


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
    return pairs.unionByName(timing)


def collusion_clusters(
    edges: DataFrame,
    nodes: DataFrame,
    identity_links: DataFrame,
    engine: GraphEngine,
    channel_weights: Mapping[str, float],
    channel_cap: float,
    min_link_score: float,
    max_pool_degree: int,
    min_shared: int,
    burst_days: float,
    resolution: float,
    min_size: int,
    seed: int,
    duplicate_pairs: DataFrame | None = None,
) -> tuple[DataFrame, DataFrame, DataFrame]:
    """Collusion clusters of merchants and creators with their evidence.

    Args:
        edges: typed edges as of the date.
        nodes: typed nodes.
        identity_links: ``[src, dst, weight, ...]`` from :func:`fraudmine.graph.identity.identity_links`
            (all identity links, before the identity threshold: here they are one channel among several).
        engine: graph engine (Leiden locally, label propagation at scale).
        channel_weights, channel_cap, min_link_score, max_pool_degree, min_shared, burst_days,
        resolution, min_size, seed: see :class:`fraudmine.graph_config.CollusionConfig`.
        duplicate_pairs: optional near-duplicate product pairs ``[src, dst(, score)]``.

    Returns:
        ``(clusters, members [cluster_id, node_id], links [src, dst, weight, n_channels, channels])``.
    """
    pairs = channel_links(edges, nodes, identity_links, max_pool_degree, min_shared, burst_days, duplicate_pairs)
    links = combine_channels(pairs, channel_weights, channel_cap, min_link_score).localCheckpoint(eager=True)
    comm = engine.communities(links.select(S.SRC, S.DST, S.WEIGHT), method="auto", resolution=resolution, seed=seed)
    members = comm.frame.select(
        F.col("node").alias(S.NODE_ID), cluster_id_col("collusion", F.col("community")).alias(CLUSTER_ID)
    )
    inside = (
        links.join(members.select(F.col(S.NODE_ID).alias(S.SRC), F.col(CLUSTER_ID).alias("_cu")), S.SRC)
        .join(members.select(F.col(S.NODE_ID).alias(S.DST), F.col(CLUSTER_ID).alias("_cv")), S.DST)
        .where(F.col("_cu") == F.col("_cv"))
        .withColumnRenamed("_cu", CLUSTER_ID)
    )
    per_channel = (
        inside.select(CLUSTER_ID, F.explode("channels").alias("channel", "s"))
        .groupBy(CLUSTER_ID, "channel")
        .agg(F.count(F.lit(1)).alias("links"), F.round(F.sum("s"), 3).alias("score"))
    )
    chan = per_channel.groupBy(CLUSTER_ID).agg(
        F.count(F.lit(1)).alias("_nch"),
        F.map_from_entries(F.sort_array(F.collect_list(F.struct("channel", F.struct("links", "score"))))).alias("_ch"),
    )
    stats = inside.groupBy(CLUSTER_ID).agg(F.count(F.lit(1)).alias("_nl"), F.avg(S.WEIGHT).alias("_mean"))
    fams = {"timing" if c in ch.TIMING_CHANNELS else c for c in ALL_CHANNELS if channel_weights.get(c, 0) > 0}
    n_avail = len([c for c in fams if c != "duplicate" or duplicate_pairs is not None])
    risk = (F.lit(1.0) - F.exp(-F.col("_mean"))) * F.sqrt(F.col("_nch") / F.lit(max(n_avail, 1)))
    summary = stats.join(chan, CLUSTER_ID).select(
        CLUSTER_ID,
        risk.alias("risk"),
        F.to_json(
            F.struct(
                F.col("_nl").alias("links"),
                F.round("_mean", 3).alias("mean_link_score"),
                F.col("_ch").alias("channels"),
                F.lit(comm.engine).alias("engine"),
            )
        ).alias("evidence"),
    )
    clusters = assemble_clusters("collusion", members, nodes, summary, min_size=min_size)
    return clusters, members, links
