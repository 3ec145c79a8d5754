"""PageRank features over the as-of commerce graph: centrality and proximity to known fraud, out of fold.

The graph (chosen by measurement, ``docs/benchmarks.md`` "issue 10 item 2") is the typed graph's
``sells``, ``ordered``, ``promotes`` and ``uses`` (identifier) edges as of ``as_of`` (events strictly
before it, :func:`fraudmine.graph.asof.edges_as_of`), undirected and unweighted (one edge per linked
pair, however many events), with hub identifiers (held by ``hub_min_degree`` or more accounts as of
``as_of``) removed: merchants, creators, buyers, products and rare identifiers.

Two features per merchant / creator node:

* ``pagerank_rel`` — plain PageRank x number of graph nodes (1 = the average node): structural
  centrality, label-free.
* ``ppr_bad_lift`` — personalised PageRank teleporting to labelled-bad accounts (latest label known
  strictly before ``as_of`` is ``fraud``) divided by the node's plain PageRank: how much closer than its
  degree alone implies the node sits to known fraud (both are distributions over the same graph, so the
  ratio does not grow or shrink with the graph's size or the number of seeds).

**Out of fold.** Labelled accounts are split into ``n_folds`` folds by the same seeded hash as the
``clusters`` stage's out-of-fold counts (:func:`fraudmine.graph.cluster_features.fold_col`).  For fold
*k* the seeds are the labelled-bad accounts *not* in fold *k*; a labelled account of fold *k* takes fold
*k*'s score, so its own label (and its fold's) never feeds its feature.  Accounts unlabelled as of
``as_of`` take the score from every seed (the fold mean would be almost the same with (K-1)/K of the seeds
per fold; every seed is the better estimate and costs no extra run).  Training features are computed at
the training cut-off with the labels known then; scoring features at the run date.
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraudmine.contracts import ids
from fraudmine.graph import schemas as S
from fraudmine.graph.algorithms.engine import GROUP, NODE, choose_engine, edge_count
from fraudmine.graph.asof import edges_as_of
from fraudmine.graph.cluster_features import FOLD, fold_col, latest_bad_labels
from fraudmine.graph_config import EngineConfig

RANK_FEATURES: tuple[str, ...] = ("pagerank_rel", "ppr_bad_lift")
"""Columns of :func:`pagerank_features`."""

RANK_EDGE_TYPES: tuple[str, ...] = tuple(t.key for t in (ids.SELLS, ids.ORDERED, ids.PROMOTES, *ids.USES_IDENTIFIER))
"""Edge types of the ranking graph (keys of :mod:`fraudmine.contracts.ids`)."""

SEED_TYPES: tuple[str, ...] = ("merchant", "creator")
"""Entity types whose ``fraud`` labels seed the personalised PageRank and that get rows."""

ALL_SEEDS = -1
"""Seed group of accounts unlabelled as of the date: every labelled-bad account."""

DAMPING = 0.85


def rank_graph(events: DataFrame, as_of: datetime, hub_min_degree: int) -> DataFrame:
    """``[src, dst]`` distinct undirected edges of the ranking graph as of ``as_of`` (hub identifiers removed)."""
    e = edges_as_of(events, as_of, list(RANK_EDGE_TYPES)).select(S.SRC, S.DST)
    ident = F.col(S.DST).startswith(f"{ids.NodeType.IDENTIFIER}{ids.SEPARATOR}")
    hubs = (
        e.where(ident)
        .groupBy(S.DST)
        .agg(F.countDistinct(S.SRC).alias("_deg"))
        .where(F.col("_deg") >= F.lit(hub_min_degree))
        .select(S.DST)
    )
    return e.join(hubs, S.DST, "left_anti").select(S.SRC, S.DST).distinct()


def pagerank_features(
    events: DataFrame,
    labels: DataFrame,
    as_of: datetime,
    hub_min_degree: int,
    n_folds: int,
    fold_seed: int = 0,
    engine: EngineConfig | None = None,
) -> DataFrame:
    """``[node_id, entity_type, entity_id, pagerank_rel, ppr_bad_lift]`` of the merchants and creators in the graph.

    Args:
        events: the graph stage's event table (``EVENTS_SCHEMA``); only events before ``as_of`` count.
        labels: labels ``[entity_type, entity_id, label, labelled_at]``; only those before ``as_of`` are read.
        as_of: the date the features describe.
        hub_min_degree: identifiers held by this many accounts (as of ``as_of``) are dropped.
        n_folds, fold_seed: out-of-fold split of the labelled accounts (``clusters.label_folds``, seed 0 as there).
        engine: graph engine choice (``clusters.engine``): igraph locally, Spark power iteration at scale.

    Returns:
        One row per merchant / creator node of the ranking graph; ``ppr_bad_lift`` is 0 where no seed
        reaches the node (or there is no seed at all).
    """
    eng_cfg = engine or EngineConfig()
    edges = rank_graph(events, as_of, hub_min_degree).localCheckpoint(eager=True)
    spark = edges.sparkSession
    eng = choose_engine(spark, edge_count(edges), eng_cfg.engine, eng_cfg.local_max_edges, eng_cfg.checkpoint_interval)
    plain = eng.pagerank(edges, damping=DAMPING).frame.localCheckpoint(eager=True)
    n = plain.count()
    known = latest_bad_labels(labels.where(F.col("entity_type").isin(list(SEED_TYPES))), as_of)
    known = known.withColumn(FOLD, fold_col(S.NODE_ID, n_folds, fold_seed).cast("long"))
    bad = known.where(F.col("is_bad")).select(F.col(S.NODE_ID).alias(NODE), FOLD)
    folds = spark.range(n_folds).select(F.col("id").alias(GROUP))
    seeds = (
        bad.crossJoin(folds)
        .where(F.col(FOLD) != F.col(GROUP))
        .select(NODE, GROUP)
        .unionByName(bad.select(NODE, F.lit(ALL_SEEDS).cast("long").alias(GROUP)))
    )
    ppr = eng.pagerank_groups(edges, seeds, damping=DAMPING).frame
    node_type = F.regexp_extract(F.col(NODE), r"^([a-z_]+):", 1)
    targets = plain.where(node_type.isin(list(SEED_TYPES)))
    routed = targets.join(known.select(F.col(S.NODE_ID).alias(NODE), FOLD), NODE, "left").select(
        NODE, F.col("score").alias("_pr"), F.coalesce(F.col(FOLD), F.lit(ALL_SEEDS).cast("long")).alias(GROUP)
    )
    out = routed.join(ppr.withColumnRenamed("score", "_ppr"), [NODE, GROUP], "left")
    return out.select(
        F.col(NODE).alias(S.NODE_ID),
        node_type.alias("entity_type"),
        F.regexp_extract(F.col(NODE), r"^[a-z_]+:(.*)$", 1).alias("entity_id"),
        (F.col("_pr") * F.lit(float(n))).alias("pagerank_rel"),
        F.coalesce(F.col("_ppr") / F.col("_pr"), F.lit(0.0)).alias("ppr_bad_lift"),
    )


def rank_facts(ranks: DataFrame | None, entity_type: str, id_col: str) -> DataFrame | None:
    """``[id_col, *RANK_FEATURES]`` of one entity type from :func:`pagerank_features` (``None`` passes through)."""
    if ranks is None:
        return None
    return ranks.where(F.col("entity_type") == entity_type).select(F.col("entity_id").alias(id_col), *RANK_FEATURES)
