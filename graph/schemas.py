"""Declared schemas of the graph tables and a checker that names what is present."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import types as T

NODE_ID = "node_id"
NODE_TYPE = "node_type"
RAW_ID = "raw_id"
CREATED_AT = "created_at"
IS_HUB = "is_hub"
DEGREE = "degree"

SRC = "src"
DST = "dst"
EDGE_TYPE = "edge_type"
WEIGHT = "weight"
N_EVENTS = "n_events"
FIRST_TS = "first_ts"
LAST_TS = "last_ts"
TS = "ts"

REASON = "reason"
OUTCOME = "outcome"
REVIEWED_AT = "reviewed_at"

NODES_SCHEMA = T.StructType(
    [
        T.StructField(NODE_ID, T.StringType(), False),
        T.StructField(NODE_TYPE, T.StringType(), False),
        T.StructField(RAW_ID, T.StringType(), False),
        T.StructField(CREATED_AT, T.TimestampType(), True),
        T.StructField(DEGREE, T.LongType(), True),
        T.StructField(IS_HUB, T.BooleanType(), True),
    ]
)

EDGES_SCHEMA = T.StructType(
    [
        T.StructField(SRC, T.StringType(), False),
        T.StructField(DST, T.StringType(), False),
        T.StructField(EDGE_TYPE, T.StringType(), False),
        T.StructField(WEIGHT, T.DoubleType(), False),
        T.StructField(N_EVENTS, T.LongType(), False),
        T.StructField(FIRST_TS, T.TimestampType(), True),
        T.StructField(LAST_TS, T.TimestampType(), True),
    ]
)


EVENTS_SCHEMA = T.StructType(
    [
        T.StructField(SRC, T.StringType(), False),
        T.StructField(DST, T.StringType(), False),
        T.StructField(EDGE_TYPE, T.StringType(), False),
        T.StructField(TS, T.TimestampType(), True),
        T.StructField(WEIGHT, T.DoubleType(), False),
    ]
)
"""One row per underlying event (an order, a review, a report, an identity observation...).

``graph/edges`` is :func:`fraudmine.graph.asof.edges_as_of` of this table at the run date;
any other date's view is computed from it the same way."""

REPORTS_SCHEMA = T.StructType(
    [
        T.StructField(NODE_ID, T.StringType(), False),
        T.StructField(REASON, T.StringType(), False),
        T.StructField(OUTCOME, T.StringType(), True),
        T.StructField(REVIEWED_AT, T.TimestampType(), True),
    ]
)
"""Attributes of ``report`` nodes: an outcome counts only once ``reviewed_at`` is before the as-of date."""

STATS_SCHEMA = T.StructType(
    [
        T.StructField("kind", T.StringType(), False),
        T.StructField("type", T.StringType(), False),
        T.StructField("count", T.LongType(), False),
        T.StructField(N_EVENTS, T.LongType(), True),
        T.StructField("src_degree_p50", T.DoubleType(), True),
        T.StructField("src_degree_p90", T.DoubleType(), True),
        T.StructField("src_degree_p99", T.DoubleType(), True),
        T.StructField("src_degree_max", T.LongType(), True),
        T.StructField("dst_degree_p50", T.DoubleType(), True),
        T.StructField("dst_degree_p90", T.DoubleType(), True),
        T.StructField("dst_degree_p99", T.DoubleType(), True),
        T.StructField("dst_degree_max", T.LongType(), True),
        T.StructField("top_dst_hubs", T.ArrayType(T.StringType()), True),
    ]
)
"""Graph statistics for the run report: one row per node type (``kind='node'``) and per edge type
(``kind='edge'``: edges, events, source/destination degree quantiles, the highest-degree destinations)."""


class GraphSchemaError(ValueError):
    """A graph table does not have its declared columns and types."""


def check_schema(df: DataFrame, expected: T.StructType, table: str) -> DataFrame:
    """Return ``df`` with exactly the expected columns, or raise naming what is wrong.

    Nullability (also of array elements) is not compared (Spark loosens it through joins); names and types are.

    Raises:
        GraphSchemaError: naming the table, the column, expected and found types and
            the columns actually present.
    """
    present = {f.name: f.dataType for f in df.schema.fields}
    for field in expected.fields:
        if field.name not in present:
            raise GraphSchemaError(
                f"table {table!r}: missing column {field.name!r} ({field.dataType.simpleString()}); "
                f"columns present: {sorted(present)}"
            )
        if present[field.name].simpleString() != field.dataType.simpleString():
            raise GraphSchemaError(
                f"table {table!r}: column {field.name!r} expected {field.dataType.simpleString()}, "
                f"found {present[field.name].simpleString()}"
            )
    return df.select(*[f.name for f in expected.fields])
