"""Shared pieces of the Spark DataFrame engine: node indexing, edge normalisation, checkpoints.

Iterative DataFrame loops must cut their lineage: caching each round doubled the
time per round and ran out of heap at round 15 here (ENVIRONMENT.md).  Every
round is ``localCheckpoint``-ed (lineage cut, blocks kept by the executors) and
every ``checkpoint_interval`` rounds a reliable ``checkpoint`` is written to the
session's checkpoint directory (set by :func:`fraudmine.spark.get_spark`), so a
lost executor never recomputes more than that many rounds.

The reliable cut is a Parquet write and read-back, not ``DataFrame.checkpoint``:
since SPARK-39834 a checkpointed frame keeps the *estimated* statistics of the plan
it came from, and a join's size estimate is the product of its inputs', so after a
dozen rounds the estimate has millions of digits and planning one round took minutes
(BigInteger multiplications in ``SizeInBytesOnlyStatsPlanVisitor``; label propagation
steps went 8 s, 16 s, 60 s, 290 s here).  A Parquet scan reports its real file size,
which resets the estimate every ``checkpoint_interval`` rounds.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import pandas as pd
from pyspark.sql import Column, DataFrame, Observation
from pyspark.sql import functions as F
from pyspark.sql import types as T

SRC, DST, WEIGHT = "src", "dst", "weight"
NODE, ID = "node", "id"

EXACT_SUM_SCALE = float(2**30)
"""Fixed-point resolution of :func:`exact_sum` (about 1e-9)."""


def exact_sum(col: str | Column) -> Column:
    """Order-independent sum of a double column: each value rounded to 2**-30 and summed as a long.

    Spark merges partial sums of doubles in the order shuffle blocks arrive, so ``F.sum`` of doubles can
    differ in the last bits between two runs on the same input, and a rounded evidence string or a
    threshold can flip (measured: a collusion cluster's buyer evidence 14.9 in one run, 14.899 in the
    next).  Integer addition is associative, so this sum is the same whatever the order.  Exact for
    |sum| < 2**33 (8.6e9); the per-value rounding error is below 5e-10.  Not for values far below 1e-6
    (PageRank masses keep ``F.sum``: an absolute resolution would cost them their precision).
    """
    c = F.col(col) if isinstance(col, str) else col
    return F.sum(F.round(c * F.lit(EXACT_SUM_SCALE)).cast("long")) / F.lit(EXACT_SUM_SCALE)


def exact_avg(col: str | Column) -> Column:
    """Order-independent mean of a double column (:func:`exact_sum` over the non-null count)."""
    c = F.col(col) if isinstance(col, str) else col
    return exact_sum(c) / F.count(c)


class EdgeFrameError(ValueError):
    """An edge or node frame given to a graph algorithm lacks its columns."""


def require_columns(df: DataFrame, cols: list[str], what: str) -> None:
    """Raise :class:`EdgeFrameError` naming the missing columns and the columns present."""
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise EdgeFrameError(f"{what}: missing column(s) {missing}; columns present: {df.columns}")


def weighted_edges(edges: DataFrame) -> DataFrame:
    """``[src, dst, weight]`` with string ids; weight 1.0 when the frame has none; self-loops dropped.

    Raises:
        EdgeFrameError: ``src`` or ``dst`` is missing.
    """
    require_columns(edges, [SRC, DST], "edges")
    w = F.col(WEIGHT).cast("double") if WEIGHT in edges.columns else F.lit(1.0)
    return edges.select(
        F.col(SRC).cast("string").alias(SRC), F.col(DST).cast("string").alias(DST), w.alias(WEIGHT)
    ).where(F.col(SRC).isNotNull() & F.col(DST).isNotNull() & (F.col(SRC) != F.col(DST)))


def node_index(edges: DataFrame, nodes: DataFrame | None = None) -> DataFrame:
    """``[node, id]``: every node name with a dense long id in lexicographic order of the names.

    Ordering the ids like the names makes "smallest id" mean "smallest name", so component
    labels agree across engines.
    """
    names = edges.select(F.col(SRC).alias(NODE)).union(edges.select(F.col(DST).alias(NODE)))
    if nodes is not None:
        require_columns(nodes, [NODE], "nodes")
        names = names.union(nodes.select(F.col(NODE).cast("string")))
    ordered = names.distinct().orderBy(NODE)
    schema = T.StructType([T.StructField(NODE, T.StringType(), False), T.StructField(ID, T.LongType(), False)])
    rdd = ordered.rdd.zipWithIndex().map(lambda r: (r[0][0], int(r[1])))
    return ordered.sparkSession.createDataFrame(rdd, schema)


def indexed_edges(edges: DataFrame, index: DataFrame) -> DataFrame:
    """``[a, b, w]`` long-id edges, undirected and merged: ``a < b``, weights summed."""
    e = (
        edges.join(index.select(F.col(NODE).alias(SRC), F.col(ID).alias("_s")), SRC)
        .join(index.select(F.col(NODE).alias(DST), F.col(ID).alias("_d")), DST)
        .select(F.least("_s", "_d").alias("a"), F.greatest("_s", "_d").alias("b"), F.col(WEIGHT).alias("w"))
    )
    return e.groupBy("a", "b").agg(exact_sum("w").alias("w"))


def checkpoint_with_counts(
    df: DataFrame, extra: Mapping[str, Column] | None = None
) -> tuple[DataFrame, dict[str, int]]:
    """``localCheckpoint`` ``df`` and count its rows (and ``extra`` aggregates) in the same Spark job.

    The counts are observed while the checkpoint materialises (:class:`pyspark.sql.Observation`),
    so a row count for a log line or an engine choice costs no job of its own (a ``count()`` on
    the checkpointed frame is one or two more jobs).

    Args:
        df: the frame to materialise.
        extra: more aggregates by name, e.g. ``{"strong": F.count_if(F.col("weight") >= 0.5)}``.

    Returns:
        ``(checkpointed frame, {"rows": n, **extra})``, every value an int (0 for a null aggregate).
    """
    obs = Observation(f"checkpoint-{uuid.uuid4().hex}")
    aggs = [F.count(F.lit(1)).alias("rows"), *[c.alias(name) for name, c in (extra or {}).items()]]
    out = df.observe(obs, *aggs).localCheckpoint(eager=True)
    return out, {k: int(v or 0) for k, v in obs.get.items()}


def cut_lineage(df: DataFrame, round_no: int, checkpoint_interval: int) -> DataFrame:
    """Materialise ``df`` and cut its lineage (reliable checkpoint every ``checkpoint_interval`` rounds)."""
    if checkpoint_interval > 0 and round_no % checkpoint_interval == 0:
        return _parquet_cut(df)
    return df.localCheckpoint(eager=True)


def _parquet_cut(df: DataFrame) -> DataFrame:
    """Write ``df`` under the session's checkpoint directory and read it back (lineage and estimates reset)."""
    spark = df.sparkSession
    root = spark.sparkContext.getCheckpointDir()
    if not root:
        raise RuntimeError(
            "graph algorithms need a Spark checkpoint directory: call fraudmine.spark.get_spark(..., "
            "checkpoint_dir=...) or SparkContext.setCheckpointDir before running them"
        )
    path = f"{root.rstrip('/')}/fraudmine-cut-{uuid.uuid4().hex}"
    df.write.parquet(path)
    return spark.read.parquet(path)


def to_pandas(df: DataFrame) -> pd.DataFrame:
    """Collect a (small) Spark frame to pandas, typed for mypy."""
    out: pd.DataFrame = df.toPandas()
    return out
