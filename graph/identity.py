"""Identity linking: accounts that share identifiers (devices, payments, bank accounts, phones...).

The account-identifier bipartite graph comes from the typed graph's
``uses_identifier`` edges.  Identifiers held by more than ``hub_max_degree``
accounts (office Wi-Fi, warehouse addresses, payment aggregators) or listed as
public are pruned: they are not evidence of common control.  Every remaining
identifier links the accounts holding it; a pair's link weight is the noisy-or
of its shared identifiers' type weights, ``1 - Π(1 - w_type)``, so one shared IP
(0.3) does not link two shops but a device (0.9) or two addresses (0.75) does.
Identity clusters are the connected components of the links at or above
``min_link_weight`` (weighted connected components with hub pruning, DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraudmine.contracts import ids
from fraudmine.graph import schemas as S
from fraudmine.graph.algorithms.community_ops import CLUSTER_ID, cluster_id_col
from fraudmine.graph.algorithms.engine import GraphEngine
from fraudmine.graph.algorithms.spark_common import exact_avg, exact_sum

ACCOUNT, IDENTIFIER, ID_TYPE = "account", "identifier", "identifier_type"


def account_identifiers(edges: DataFrame, account_types: tuple[str, ...]) -> DataFrame:
    """``[account, identifier, identifier_type, first_ts]`` from ``uses_identifier`` edges of these account types.

    Raises:
        ValueError: an account type has no ``uses_identifier`` relation.
    """
    keys = []
    for t in account_types:
        match = [e.key for e in ids.USES_IDENTIFIER if str(e.src) == t]
        if not match:
            raise ValueError(f"identity linking: no uses_identifier relation for account type {t!r}")
        keys.extend(match)
    return edges.where(F.col(S.EDGE_TYPE).isin(keys)).select(
        F.col(S.SRC).alias(ACCOUNT),
        F.col(S.DST).alias(IDENTIFIER),
        F.regexp_extract(F.col(S.DST), r"^identifier:([a-z_]+):", 1).alias(ID_TYPE),
        F.col(S.FIRST_TS).alias("first_ts"),
    )


def prune_hubs(ai: DataFrame, hub_max_degree: int, public: DataFrame | None = None) -> tuple[DataFrame, DataFrame]:
    """Drop identifiers held by more than ``hub_max_degree`` accounts or listed in ``public`` (``[identifier]``).

    Returns:
        ``(kept account-identifier rows with a degree column, pruned [identifier, degree, reason])``.
    """
    deg = ai.groupBy(IDENTIFIER).agg(F.countDistinct(ACCOUNT).alias("degree"))
    flagged = deg.withColumn("reason", F.when(F.col("degree") > hub_max_degree, F.lit("degree")))
    if public is not None:
        flagged = flagged.join(public.select(IDENTIFIER).distinct().withColumn("_pub", F.lit(True)), IDENTIFIER, "left")
        flagged = flagged.withColumn("reason", F.coalesce("reason", F.when(F.col("_pub"), F.lit("public")))).drop(
            "_pub"
        )
    pruned = flagged.where(F.col("reason").isNotNull())
    kept = ai.join(flagged.where(F.col("reason").isNull()).select(IDENTIFIER, "degree"), IDENTIFIER)
    return kept, pruned


def identity_links(kept: DataFrame, type_weights: Mapping[str, float]) -> DataFrame:
    """Account pairs sharing at least one kept identifier.

    Args:
        kept: output of :func:`prune_hubs`.
        type_weights: evidence weight per identifier type, in ``[0, 1)``; unknown types weigh 0.

    Returns:
        ``[src, dst, weight, n_shared, shared]`` with ``src < dst``; ``shared`` is an array of
        ``struct(identifier_type, identifier, since)`` (``since`` = the later of the two first sightings).
    """
    w = F.lit(0.0)
    for t, v in sorted(type_weights.items()):
        w = F.when(F.col(ID_TYPE) == t, F.lit(min(float(v), 0.999))).otherwise(w)
    a = kept.select(IDENTIFIER, ID_TYPE, F.col(ACCOUNT).alias("u"), F.col("first_ts").alias("tu"))
    b = kept.select(IDENTIFIER, F.col(ACCOUNT).alias("v"), F.col("first_ts").alias("tv"))
    pairs = a.join(b, IDENTIFIER).where(F.col("u") < F.col("v")).withColumn("_w", w)
    return pairs.groupBy(F.col("u").alias(S.SRC), F.col("v").alias(S.DST)).agg(
        (F.lit(1.0) - F.exp(exact_sum(F.log1p(-F.col("_w"))))).alias(S.WEIGHT),
        F.count(F.lit(1)).alias("n_shared"),
        F.sort_array(
            F.collect_list(F.struct(F.col(ID_TYPE), F.col(IDENTIFIER), F.greatest("tu", "tv").alias("since")))
        ).alias("shared"),
    )


def identity_clusters(
    edges: DataFrame,
    nodes: DataFrame,
    engine: GraphEngine,
    account_types: tuple[str, ...],
    hub_max_degree: int,
    type_weights: Mapping[str, float],
    min_link_weight: float,
    public: DataFrame | None = None,
) -> tuple[DataFrame, DataFrame, DataFrame]:
    """Identity clusters of accounts with their evidence.

    Args:
        edges: typed edges as of the date (:data:`~fraudmine.graph.schemas.EDGES_SCHEMA`).
        nodes: typed nodes (for registration times).
        engine: graph engine running the connected components.
        account_types, hub_max_degree, type_weights, min_link_weight: see
            :class:`fraudmine.graph_config.IdentityConfig`.
        public: optional ``[identifier]`` frame of identifiers known to be public.

    Returns:
        ``(clusters, members, links)``: ``clusters`` follows :data:`fraudmine.graph.clusters.CLUSTERS_SCHEMA`
        (only clusters of two or more accounts), ``members`` is ``[cluster_id, node_id]``, ``links``
        the accepted pair links ``[src, dst, weight, n_shared, shared]``.
    """
    ai = account_identifiers(edges, account_types)
    kept, _ = prune_hubs(ai, hub_max_degree, public)
    links = identity_links(kept, type_weights).where(F.col(S.WEIGHT) >= F.lit(min_link_weight))
    clusters, members = clusters_from_links(links.localCheckpoint(eager=True), kept, nodes, engine)
    return clusters, members, links


def clusters_from_links(
    links: DataFrame, kept: DataFrame, nodes: DataFrame, engine: GraphEngine
) -> tuple[DataFrame, DataFrame]:
    """Identity clusters (components) of accepted pair links, with evidence.

    Args:
        links: accepted links ``[src, dst, weight, n_shared, shared]`` (:func:`identity_links` above the threshold).
        kept: pruned account-identifier rows (:func:`prune_hubs`).
        nodes: typed nodes.
        engine: graph engine running the components.

    Returns:
        ``(clusters, members [node_id, cluster_id])``.
    """
    from fraudmine.graph.clusters import assemble_clusters

    comp = engine.connected_components(links.select(S.SRC, S.DST, S.WEIGHT)).frame
    members = comp.select(
        F.col("node").alias(S.NODE_ID), cluster_id_col("identity", F.col("component")).alias(CLUSTER_ID)
    )
    evidence = (
        links.select(S.SRC, F.explode("shared").alias("x"))
        .select(S.SRC, "x.*")
        .join(members.withColumnRenamed(S.NODE_ID, S.SRC), S.SRC)
        .groupBy(CLUSTER_ID, ID_TYPE, IDENTIFIER)
        .agg(F.min("since").alias("since"))
    )
    holders = kept.select(IDENTIFIER, F.col(ACCOUNT).alias(S.NODE_ID)).join(members, S.NODE_ID)
    n_hold = holders.groupBy(CLUSTER_ID, IDENTIFIER).agg(F.countDistinct(S.NODE_ID).alias("accounts"))
    ev = evidence.join(n_hold, [CLUSTER_ID, IDENTIFIER], "left")
    ev_json = ev.groupBy(CLUSTER_ID).agg(
        F.count(F.lit(1)).alias("n_identifiers"),
        F.slice(
            F.sort_array(
                F.collect_list(F.struct((-F.col("accounts")).alias("_o"), ID_TYPE, IDENTIFIER, "accounts", "since"))
            ),
            1,
            20,
        ).alias("_top"),
    )
    stats = (
        links.join(members.withColumnRenamed(S.NODE_ID, S.SRC), S.SRC)
        .groupBy(CLUSTER_ID)
        .agg(F.count(F.lit(1)).alias("n_links"), exact_avg(S.WEIGHT).alias("mean_link_weight"))
    )
    top = F.transform(
        "_top",
        lambda x: F.struct(
            x[ID_TYPE].alias("type"),
            x[IDENTIFIER].alias("id"),
            x["accounts"].alias("accounts"),
            x["since"].alias("since"),
        ),
    )
    summary = ev_json.join(stats, CLUSTER_ID).select(
        CLUSTER_ID,
        F.col("mean_link_weight").alias("risk"),
        F.to_json(
            F.struct(
                F.col("n_links").alias("links"),
                F.col("n_identifiers").alias("shared_identifiers"),
                F.round("mean_link_weight", 3).alias("mean_link_weight"),
                top.alias("identifiers"),
            )
        ).alias("evidence"),
    )
    return assemble_clusters("identity", members, nodes, summary), members
