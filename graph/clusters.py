"""The cluster tables every detector writes, and the helpers that assemble them.

``clusters/<kind>`` (kind ∈ identity, collusion, brushing, reporter_rings) follows
:data:`CLUSTERS_SCHEMA`; ``clusters/members`` lists ``[cluster_id, cluster_type, node_id, role]``.
``evidence`` is a JSON object whose keys depend on the kind (documented in
``graph/README.md``); ``risk`` is in ``[0, 1]`` and is derived from graph evidence only
(never from labels), so it may be used as a model feature.  Label counts are separate
columns, computed from labels known before the run date.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from fraudmine.graph import schemas as S

CLUSTER_ID, CLUSTER_TYPE, ROLE = "cluster_id", "cluster_type", "role"
CLUSTER_KINDS = ("identity", "collusion", "brushing", "reporter_rings")

CLUSTERS_SCHEMA = T.StructType(
    [
        T.StructField(CLUSTER_ID, T.StringType(), False),
        T.StructField(CLUSTER_TYPE, T.StringType(), False),
        T.StructField("size", T.LongType(), False),
        T.StructField("members", T.ArrayType(T.StringType()), False),
        T.StructField("n_merchants", T.LongType(), False),
        T.StructField("n_creators", T.LongType(), False),
        T.StructField("n_buyers", T.LongType(), False),
        T.StructField("n_products", T.LongType(), False),
        T.StructField("registration_spread_days", T.DoubleType(), True),
        T.StructField("risk", T.DoubleType(), True),
        T.StructField("evidence", T.StringType(), True),
    ]
)

MEMBERS_SCHEMA = T.StructType(
    [
        T.StructField(CLUSTER_ID, T.StringType(), False),
        T.StructField(CLUSTER_TYPE, T.StringType(), False),
        T.StructField(S.NODE_ID, T.StringType(), False),
        T.StructField(ROLE, T.StringType(), True),
    ]
)


def _count_type(t: str) -> Column:
    return F.sum(F.col(S.NODE_ID).startswith(f"{t}:").cast("long")).alias(f"n_{t}s")


def assemble_clusters(
    kind: str, members: DataFrame, nodes: DataFrame, summary: DataFrame, min_size: int = 2
) -> DataFrame:
    """Join members, node facts and a per-cluster summary into :data:`CLUSTERS_SCHEMA` rows.

    Args:
        kind: cluster type written in ``cluster_type``.
        members: ``[cluster_id, node_id]``.
        nodes: typed nodes (``created_at`` gives the registration spread of the members).
        summary: ``[cluster_id, risk, evidence]``.
        min_size: clusters with fewer members are dropped.
    """
    reg = members.join(nodes.select(S.NODE_ID, S.CREATED_AT), S.NODE_ID, "left")
    agg = reg.groupBy(CLUSTER_ID).agg(
        F.count(F.lit(1)).alias("size"),
        F.sort_array(F.collect_list(S.NODE_ID)).alias("members"),
        _count_type("merchant"),
        _count_type("creator"),
        _count_type("buyer"),
        _count_type("product"),
        ((F.max(F.col(S.CREATED_AT).cast("double")) - F.min(F.col(S.CREATED_AT).cast("double"))) / 86400.0).alias(
            "registration_spread_days"
        ),
    )
    out = (
        agg.where(F.col("size") >= min_size)
        .join(summary, CLUSTER_ID, "left")
        .withColumn(CLUSTER_TYPE, F.lit(kind))
        .withColumn("size", F.col("size").cast("long"))
    )
    for c in ("n_merchants", "n_creators", "n_buyers", "n_products"):
        out = out.withColumn(c, F.coalesce(F.col(c), F.lit(0)).cast("long"))
    out = out.withColumn("risk", F.col("risk").cast("double"))
    return S.check_schema(out, CLUSTERS_SCHEMA, f"clusters.{kind}").orderBy(F.col("size").desc(), CLUSTER_ID)


def member_rows(kind: str, clusters: DataFrame, roles: DataFrame | None = None) -> DataFrame:
    """``clusters/members`` rows of one kind (schema :data:`MEMBERS_SCHEMA`).

    Args:
        kind: cluster type.
        clusters: rows of :data:`CLUSTERS_SCHEMA`.
        roles: optional ``[cluster_id, node_id, role]`` (e.g. ``buyer`` / ``target`` in brushing blocks).
    """
    m = clusters.select(CLUSTER_ID, F.explode("members").alias(S.NODE_ID))
    if roles is not None:
        m = m.join(roles.select(CLUSTER_ID, S.NODE_ID, ROLE), [CLUSTER_ID, S.NODE_ID], "left")
    else:
        m = m.withColumn(ROLE, F.lit(None).cast("string"))
    m = m.withColumn(CLUSTER_TYPE, F.lit(kind))
    return S.check_schema(m, MEMBERS_SCHEMA, "clusters.members")
