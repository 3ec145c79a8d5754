"""Evidence channels of the seller projection (merchants and creators) for collusion communities.

Each channel returns seller pairs ``[src, dst, channel, score]`` with ``src < dst``; ``score`` is
the channel's raw evidence on its own scale (:func:`fraudmine.graph.collusion.combine_channels`
standardises it per channel, or caps it when the channel is already a probability):

* ``identifier`` — identity-link weight (noisy-or of shared non-hub identifiers, :mod:`.identity`);
* ``buyers`` — shared buyers of the sellers' buyer pools (buyers who ordered their products), scored
  by the Poisson tail surprise of the shared count (:func:`pool_links`);
* ``promotion`` — shared creators promoting the sellers' products, scored the same way (a creator's
  own membership of a community is decided afterwards, :func:`fraudmine.graph.collusion_refine.refine_communities`);
* ``duplicate`` — near-duplicate listing pairs across shops (input from the dedup stage, optional),
  noisy-or of the pair scores (a probability);
* ``co_reported`` — shared reporters who reported the sellers (or their products), pool surprise;
* ``co_registration`` / ``co_activity`` — registration / first listing within ``burst_days`` of each
  other, scored ``1 - Δ / burst_days`` and discounted in crowded weeks; computed only for pairs that
  another channel proposes (timing alone links thousands of unrelated shops).

Pools (buyers, creators, reporters) linked to more than ``max_pool_degree`` sellers are skipped:
popular buyers and big creators are not evidence of collusion and would make the self-join quadratic.
"""

from __future__ import annotations

import math

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from fraudmine.contracts import ids
from fraudmine.graph import schemas as S
from fraudmine.graph.algorithms.community_spark import bounded_memberships
from fraudmine.graph.algorithms.spark_common import exact_sum

CHANNEL, SCORE = "channel", "score"
U, V = "src", "dst"
POOL_CHANNELS = ("buyers", "promotion", "co_reported")
TIMING_CHANNELS = ("co_registration", "co_activity")


def _edges(edges: DataFrame, *types: ids.EdgeType) -> DataFrame:
    return edges.where(F.col(S.EDGE_TYPE).isin([t.key for t in types]))


def product_merchant(edges: DataFrame) -> DataFrame:
    """``[product, merchant]`` from ``sells`` edges."""
    return _edges(edges, ids.SELLS).select(F.col(S.DST).alias("product"), F.col(S.SRC).alias("merchant"))


def pool_links(memberships: DataFrame, channel: str, max_pool_degree: int, min_shared: int) -> DataFrame:
    """Seller pairs sharing pool members, scored by how surprising the shared count is.

    Under a configuration-model null (pool members attach to sellers at random, keeping every seller's
    and every pool's degree) the number of pools shared by sellers ``u`` and ``v`` is about Poisson with
    mean ``λ = n_u · n_v · Σ_p d_p (d_p - 1) / (Σ_p d_p)²``.  The score is the Chernoff bound of the tail
    ``-log10 P(K ≥ k) ≈ (k ln(k/λ) - k + λ) / ln 10`` (0 when ``k ≤ λ``): sharing three buyers between
    two small shops is strong evidence, sharing three between two big ones is not.

    Args:
        memberships: ``[pool, seller]`` (duplicates allowed).
        channel: name written in ``channel``.
        max_pool_degree: pools linked to more sellers are skipped.
        min_shared: pairs need at least this many shared pools.

    Returns:
        ``[src, dst, channel, score, shared]``.
    """
    m, rate = bounded_memberships(memberships, max_pool_degree)
    size = m.groupBy("seller").agg(F.count(F.lit(1)).alias("_n"))
    a = m.select("pool", F.col("seller").alias(U))
    b = m.select("pool", F.col("seller").alias(V))
    shared = a.join(b, "pool").where(F.col(U) < F.col(V)).groupBy(U, V).agg(F.count(F.lit(1)).alias("_k"))
    shared = shared.where(F.col("_k") >= min_shared)
    j = shared.join(size.select(F.col("seller").alias(U), F.col("_n").alias("_nu")), U).join(
        size.select(F.col("seller").alias(V), F.col("_n").alias("_nv")), V
    )
    lam = F.greatest(F.col("_nu") * F.col("_nv") * F.lit(rate), F.lit(1e-12))
    k = F.col("_k").cast("double")
    tail = F.when(k > lam, (k * F.log(k / lam) - k + lam) / F.lit(math.log(10.0))).otherwise(F.lit(0.0))
    return j.select(U, V, F.lit(channel).alias(CHANNEL), tail.alias(SCORE), F.col("_k").alias("shared"))


def buyer_memberships(edges: DataFrame) -> DataFrame:
    """``[pool, seller]``: buyer → merchant of each ordered product (duplicates allowed)."""
    o = _edges(edges, ids.ORDERED).select(F.col(S.SRC).alias("pool"), F.col(S.DST).alias("product"))
    return o.join(product_merchant(edges), "product").select("pool", F.col("merchant").alias("seller"))


def buyer_channel(edges: DataFrame, max_pool_degree: int, min_shared: int) -> DataFrame:
    """``buyers``: merchants whose products were ordered by the same buyers."""
    return pool_links(buyer_memberships(edges), "buyers", max_pool_degree, min_shared).drop("shared")


def promotion_memberships(edges: DataFrame) -> DataFrame:
    """``[pool, seller]``: creator → merchant of each promoted product (distinct)."""
    p = _edges(edges, ids.PROMOTES).select(F.col(S.SRC).alias("pool"), F.col(S.DST).alias("product"))
    return p.join(product_merchant(edges), "product").select("pool", F.col("merchant").alias("seller")).distinct()


def promotion_channel(edges: DataFrame, max_pool_degree: int) -> DataFrame:
    """``promotion``: merchants promoted by the same creators (pool surprise, one shared creator suffices).

    A creator's direct link to the shops it promotes is not a pair channel: a creator promoting twenty
    shops is linked to each by the same single fact.  Creators join a community afterwards when they
    promote a large share of its members (:func:`fraudmine.graph.collusion_refine.refine_communities`).
    """
    return pool_links(promotion_memberships(edges), "promotion", max_pool_degree, 1).drop("shared")


def co_reported_channel(edges: DataFrame, max_pool_degree: int, min_shared: int) -> DataFrame:
    """``co_reported``: sellers reported by the same reporters (product reports count for the merchant)."""
    files = _edges(edges, ids.FILES).select(F.col(S.SRC).alias("pool"), F.col(S.DST).alias("report"))
    tg = _edges(edges, *ids.TARGETS).select(F.col(S.SRC).alias("report"), F.col(S.DST).alias("target"))
    pm = product_merchant(edges)
    direct = tg.where(~F.col("target").startswith("product:")).select("report", F.col("target").alias("seller"))
    via = tg.join(pm, F.col("target") == F.col("product")).select("report", F.col("merchant").alias("seller"))
    m = files.join(direct.unionByName(via), "report").select("pool", "seller")
    return pool_links(m, "co_reported", max_pool_degree, min_shared).drop("shared")


def duplicate_channel(edges: DataFrame, duplicate_pairs: DataFrame) -> DataFrame:
    """``duplicate``: cross-shop near-duplicate listings, noisy-or of the pair scores (0.5 when unscored).

    Args:
        edges: typed edges (for ``sells``).
        duplicate_pairs: ``[src, dst(, score)]`` product pairs (typed ``product:`` ids or raw product ids).
    """
    pm = product_merchant(edges)
    sc = F.col("score").cast("double") if "score" in duplicate_pairs.columns else F.lit(0.5)

    def typed(c: str) -> Column:
        return F.when(F.col(c).startswith("product:"), F.col(c)).otherwise(F.concat(F.lit("product:"), F.col(c)))

    d = duplicate_pairs.select(typed("src").alias("pa"), typed("dst").alias("pb"), F.least(sc, F.lit(0.99)).alias("_s"))
    j = d.join(pm.select(F.col("product").alias("pa"), F.col("merchant").alias("ma")), "pa").join(
        pm.select(F.col("product").alias("pb"), F.col("merchant").alias("mb")), "pb"
    )
    j = j.where(F.col("ma") != F.col("mb"))
    return j.groupBy(F.least("ma", "mb").alias(U), F.greatest("ma", "mb").alias(V)).agg(
        F.lit("duplicate").alias(CHANNEL), (F.lit(1.0) - F.exp(exact_sum(F.log1p(-F.col("_s"))))).alias(SCORE)
    )


def seller_times(edges: DataFrame, nodes: DataFrame) -> DataFrame:
    """``[seller, registered, first_activity]`` (seconds): registration and first listing / promotion."""
    reg = nodes.where(F.col(S.NODE_TYPE).isin("merchant", "creator")).select(
        F.col(S.NODE_ID).alias("seller"), F.col(S.CREATED_AT).cast("double").alias("registered")
    )
    act = (
        _edges(edges, ids.SELLS, ids.PROMOTES)
        .groupBy(F.col(S.SRC).alias("seller"))
        .agg(F.min(F.col(S.FIRST_TS).cast("double")).alias("first_activity"))
    )
    return reg.join(act, "seller", "left")


def timing_channels(candidates: DataFrame, times: DataFrame, burst_days: float) -> DataFrame:
    """``co_registration`` and ``co_activity`` scores for candidate pairs ``[src, dst]``.

    Score ``(1 - Δ / burst_days) · min(1, expected / crowd)``: ``crowd`` is the number of sellers
    whose time falls in the same ``burst_days`` bucket, ``expected`` the mean bucket count.  A
    coincidence in a crowded bucket (a platform launch, a data cut-off where many first listings
    pile up) is weak evidence; one in an ordinary week keeps its full score.
    """
    w = burst_days * 86400.0
    c = candidates.select(U, V).distinct()
    out = []
    for name, col in (("co_registration", "registered"), ("co_activity", "first_activity")):
        t = times.select("seller", F.col(col).alias("t")).where(F.col("t").isNotNull())
        t = t.withColumn("_b", F.floor(F.col("t") / F.lit(w)))
        crowd = t.groupBy("_b").agg(F.count(F.lit(1)).alias("_n"))
        # the mean bucket count joins as a one-row frame: no action of its own (it was a `first()` per channel)
        expected = F.broadcast(crowd.agg(F.avg("_n").alias("_e")))
        t = (
            t.join(crowd, "_b")
            .crossJoin(expected)
            .select("seller", "t", F.least(F.lit(1.0), F.col("_e") / F.col("_n")).alias("_rare"))
        )
        j = c.join(t.select(F.col("seller").alias(U), F.col("t").alias("tu"), F.col("_rare").alias("ru")), U).join(
            t.select(F.col("seller").alias(V), F.col("t").alias("tv"), F.col("_rare").alias("rv")), V
        )
        s = (F.lit(1.0) - F.abs(F.col("tu") - F.col("tv")) / F.lit(w)) * F.least("ru", "rv")
        out.append(j.select(U, V, F.lit(name).alias(CHANNEL), s.alias(SCORE)).where(F.col(SCORE) > 0))
    return out[0].unionByName(out[1])
