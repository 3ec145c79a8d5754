"""Read the cluster tables of a run (``clusters/<kind>``) into one member table and one cluster table.

Cluster producers (identity linking, collusion communities, dense-subgraph rings,
reporter rings, duplicate listings) write one table per kind.  This adapter
accepts the shapes those producers use and normalises them:

* one row per member: ``cluster_id`` plus the member as a typed id (``node_id``,
  ``member_id`` or ``member``), or as ``entity_type``/``member_type`` + ``entity_id``;
* one row per cluster: ``cluster_id`` plus ``members`` (array of typed ids).

Cluster-level columns, when present, are carried over: ``size`` (else the member
count), a risk (the first of ``risk``, ``cluster_risk``, ``fraud_risk``, ``score``),
``evidence`` (strings as they are, anything nested as JSON) and a member ``role``
(or ``canonical`` for the member named by ``canonical_id`` /
``canonical_product_id`` / ``canonical``).  A kind whose table is absent is skipped.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from fraudmine.analyst.model import CLUSTER_KINDS

log = logging.getLogger(__name__)

# Normalised outputs.
MEMBERS_COLUMNS = ("cluster_key", "member", "role")
CLUSTERS_COLUMNS = ("cluster_key", "kind", "cluster_id", "size", "risk", "evidence")

_RISK_COLUMNS = ("risk", "cluster_risk", "fraud_risk", "score")
_CANONICAL_COLUMNS = ("canonical_id", "canonical_product_id", "canonical")


class ClusterTableError(ValueError):
    """A cluster table has none of the accepted shapes."""


def _member_col(df: DataFrame, table: str) -> tuple[DataFrame, Column]:
    cols = set(df.columns)
    if "members" in cols:
        return df.withColumn("_member", F.explode(F.col("members"))), F.col("_member")
    for c in ("node_id", "member_id", "member"):
        if c in cols:
            return df, F.col(c)
    for type_col in ("entity_type", "member_type", "node_type"):
        if type_col in cols and "entity_id" in cols:
            return df, F.concat_ws(":", F.col(type_col), F.col("entity_id"))
    raise ClusterTableError(
        f"cluster table {table!r}: no member column; expected 'members' (array of typed ids), 'node_id', "
        f"'member_id', 'member', or 'entity_type' + 'entity_id'; columns present: {sorted(cols)}"
    )


def _as_text(df: DataFrame, column: str) -> Column:
    dtype = df.schema[column].dataType
    if isinstance(dtype, T.StringType):
        return F.col(column)
    if isinstance(dtype, T.ArrayType) and isinstance(dtype.elementType, T.StringType):
        return F.concat_ws("; ", F.col(column))
    if isinstance(dtype, (T.ArrayType, T.StructType, T.MapType)):
        return F.to_json(F.col(column))
    return F.col(column).cast("string")


def normalise(df: DataFrame, kind: str) -> tuple[DataFrame, DataFrame]:
    """Normalise one cluster table.

    Args:
        df: the table as written by its producer (see the module docstring).
        kind: cluster kind (a key of :data:`CLUSTER_KINDS`).

    Returns:
        ``(members, clusters)``: members ``[cluster_key, member, role]`` (``member`` a
        typed id, ``cluster_key`` = ``<kind>:<cluster_id>``) and clusters
        ``[cluster_key, kind, cluster_id, size, risk, evidence]``.

    Raises:
        ClusterTableError: naming the table and the columns present.
    """
    table = f"clusters/{kind}"
    if "cluster_id" not in df.columns:
        raise ClusterTableError(f"cluster table {table!r}: missing column 'cluster_id'; columns present: {df.columns}")
    exploded, member = _member_col(df, table)
    key = F.concat(F.lit(f"{kind}:"), F.col("cluster_id").cast("string"))
    canonical = next((c for c in _CANONICAL_COLUMNS if c in df.columns), None)
    if "role" in df.columns:
        role = F.coalesce(F.col("role").cast("string"), F.lit("member"))
    elif canonical is not None:
        is_canon = (member == F.col(canonical)) | (F.substring_index(member, ":", -1) == F.col(canonical))
        role = F.when(is_canon, F.lit("canonical")).otherwise(F.lit("member"))
    else:
        role = F.lit("member")
    members = (
        exploded.select(key.alias("cluster_key"), member.cast("string").alias("member"), role.alias("role"))
        .where(F.col("member").isNotNull())
        .groupBy("cluster_key", "member")
        .agg(F.min("role").alias("role"))  # "canonical" < "member"
    )
    risk_col = next((c for c in _RISK_COLUMNS if c in df.columns), None)
    per_cluster = exploded.groupBy(key.alias("cluster_key"), F.col("cluster_id").cast("string").alias("cluster_id"))
    aggs = [
        (F.max(F.col("size")).cast("long") if "size" in df.columns else F.countDistinct(member)).alias("size"),
        (F.max(F.col(risk_col)).cast("double") if risk_col else F.lit(None).cast("double")).alias("risk"),
        (F.first(_as_text(df, "evidence"), ignorenulls=True) if "evidence" in df.columns else F.lit(None))
        .cast("string")
        .alias("evidence"),
    ]
    clusters = per_cluster.agg(*aggs).select(
        "cluster_key", F.lit(kind).alias("kind"), "cluster_id", "size", "risk", "evidence"
    )
    return members, clusters


def read_clusters(spark: SparkSession, run_dir: Path) -> tuple[DataFrame | None, DataFrame | None]:
    """All cluster kinds present in ``run_dir/clusters``, normalised and unioned.

    Returns:
        ``(members, clusters)`` or ``(None, None)`` when the run has no cluster table.
    """
    members: DataFrame | None = None
    clusters: DataFrame | None = None
    for kind in CLUSTER_KINDS:
        path = run_dir / "clusters" / kind
        if not path.exists():
            log.info("clusters/%s absent in %s: not exported", kind, run_dir)
            continue
        m, c = normalise(spark.read.parquet(str(path)), kind)
        members = m if members is None else members.unionByName(m)
        clusters = c if clusters is None else clusters.unionByName(c)
    return members, clusters
