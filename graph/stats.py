"""Per node type and per relation statistics of the typed graph (for the run report).

Degree quantiles are approximate (``percentile_approx``, accuracy 10 000); the
hub list names the highest-degree destination nodes of each relation (for
identifier nodes those are typed ids carrying the keyed hash, never a raw value).
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from fraudmine.graph import schemas as S

_QUANTILES = [0.5, 0.9, 0.99]


def _degree_stats(edges: DataFrame, side: str, prefix: str) -> DataFrame:
    deg = edges.groupBy(S.EDGE_TYPE, side).agg(F.count(F.lit(1)).alias("_d"))
    return (
        deg.groupBy(S.EDGE_TYPE)
        .agg(
            F.percentile_approx("_d", _QUANTILES, 10_000).alias("_q"),
            F.max("_d").alias(f"{prefix}_degree_max"),
        )
        .select(
            S.EDGE_TYPE,
            *[
                F.col("_q")[i].cast("double").alias(f"{prefix}_degree_p{int(q * 100)}")
                for i, q in enumerate(_QUANTILES)
            ],
            F.col(f"{prefix}_degree_max").cast("long"),
        )
    )


def graph_stats(nodes: DataFrame, edges: DataFrame, top_hubs: int = 3) -> DataFrame:
    """Counts, degree quantiles and hubs per node type and edge type.

    Args:
        nodes: node table (:data:`~fraudmine.graph.schemas.NODES_SCHEMA`).
        edges: edge table (:data:`~fraudmine.graph.schemas.EDGES_SCHEMA`).
        top_hubs: how many highest-degree destination nodes to list per relation.

    Returns:
        DataFrame with schema :data:`~fraudmine.graph.schemas.STATS_SCHEMA`, ordered by kind and type.
    """
    spark: SparkSession = nodes.sparkSession
    node_rows = nodes.groupBy(S.NODE_TYPE).agg(F.count(F.lit(1)).alias("count"))
    node_part = node_rows.select(
        F.lit("node").alias("kind"), F.col(S.NODE_TYPE).alias("type"), F.col("count").cast("long")
    )
    counts = edges.groupBy(S.EDGE_TYPE).agg(
        F.count(F.lit(1)).cast("long").alias("count"), F.sum(S.N_EVENTS).cast("long").alias(S.N_EVENTS)
    )
    dst_deg = edges.groupBy(S.EDGE_TYPE, S.DST).agg(F.count(F.lit(1)).alias("_d"))
    rank = Window.partitionBy(S.EDGE_TYPE).orderBy(F.col("_d").desc(), F.col(S.DST))
    hubs = (
        dst_deg.withColumn("_r", F.row_number().over(rank))
        .where(F.col("_r") <= top_hubs)
        .groupBy(S.EDGE_TYPE)
        .agg(
            F.sort_array(
                F.collect_list(F.struct(F.col("_r"), F.concat_ws("=", S.DST, F.col("_d").cast("string"))))
            ).alias("_h")
        )
        .select(S.EDGE_TYPE, F.col("_h.col2").alias("top_dst_hubs"))
    )
    edge_part = (
        counts.join(_degree_stats(edges, S.SRC, "src"), S.EDGE_TYPE, "left")
        .join(_degree_stats(edges, S.DST, "dst"), S.EDGE_TYPE, "left")
        .join(hubs, S.EDGE_TYPE, "left")
        .withColumnRenamed(S.EDGE_TYPE, "type")
        .withColumn("kind", F.lit("edge"))
    )
    empty = spark.createDataFrame([], S.STATS_SCHEMA)
    out = empty.unionByName(node_part, allowMissingColumns=True).unionByName(edge_part, allowMissingColumns=True)
    return S.check_schema(out, S.STATS_SCHEMA, "graph.stats").orderBy("kind", "type")
