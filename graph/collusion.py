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
(``attach_by_share``): a creator's link to one shop is weak, promoting most of a ring is not.
Before the satellites: sellers outside every community whose *weak* links (at least ``weak_link``, one
full channel) form a ``weak_min_degree``-core become communities of their own (``core_communities``), and
communities joined by weak links across at least ``merge_min_density`` of their member pairs merge
(``merge_dense``).  After them, a seller that promotes some members of a community and shares
identifiers with ``identified_min_members`` of them joins it (``attach_by_two_ties``).
Sellers with partial evidence (``attach_by_link_sum``, on when ``partial_min_score > 0``): a seller
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
from collections.abc import Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from fraudmine.graph import channels as ch
from fraudmine.graph import schemas as S
from fraudmine.graph.algorithms.community_ops import cluster_id_col
from fraudmine.graph.algorithms.engine import GraphEngine
from fraudmine.graph.algorithms.spark_common import exact_avg, exact_sum
from fraudmine.graph.clusters import CLUSTER_ID, assemble_clusters
from fraudmine.graph.collusion_refine import refine_communities
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
    )
    members, counts = refine_communities(core, scored, edges, identity_links, engine, cfg)
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
    summary = stats.join(chan, CLUSTER_ID)
    for key, n in counts.items():
        summary = summary.join(n.withColumnRenamed("count", f"_{key}"), CLUSTER_ID, "left")

    def moved(key: str) -> Column:
        return F.coalesce(F.col(f"_{key}"), F.lit(0)) if key in counts else F.lit(0)

    keys = ("attached_promoters", "attached_partial", "attached_pooled", "weak_core_members", "attached_identified")
    summary = summary.select(
        CLUSTER_ID,
        risk.alias("risk"),
        F.to_json(
            F.struct(
                F.col("_nl").alias("links"),
                F.round("_mean", 3).alias("mean_link_score"),
                F.col("_ch").alias("channels"),
                *(moved(k).alias(k) for k in keys),
                F.lit(comm.engine).alias("engine"),
            )
        ).alias("evidence"),
    )
    clusters = assemble_clusters("collusion", members, nodes, summary, min_size=cfg.min_size)
    return clusters, members, links
