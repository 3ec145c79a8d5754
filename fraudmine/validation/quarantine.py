"""The quarantine: schema, projection of failing rows, summary.

``reason_code`` is the first failing rule in
:data:`fraudmine.validation.rules.PRECEDENCE`; ``reasons`` lists every failing
rule in that order; ``detail`` joins every failure's message with ``; ``.
Malformed identifier hashes are redacted in ``detail`` and ``row_json`` since
they may be raw identifiers.
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from fraudmine.contracts.raw import HASH_PATTERN, TableSpec
from fraudmine.validation.crossrow import row_key
from fraudmine.validation.reader import RAW_ERRORS
from fraudmine.validation.rules import FAILURES, full_match_regex

REDACTED = "<redacted: malformed identifier hash>"

Q_TABLE = "table"
Q_REASON_CODE = "reason_code"
Q_REASONS = "reasons"
Q_DETAIL = "detail"
Q_ROW_KEY = "row_key"
Q_ROW_JSON = "row_json"
Q_AS_OF = "as_of"

QUARANTINE_SCHEMA = T.StructType(
    [
        T.StructField(Q_TABLE, T.StringType(), False),
        T.StructField(Q_REASON_CODE, T.StringType(), True),
        T.StructField(Q_REASONS, T.ArrayType(T.StringType(), True), True),
        T.StructField(Q_DETAIL, T.StringType(), True),
        T.StructField(Q_ROW_KEY, T.StringType(), True),
        T.StructField(Q_ROW_JSON, T.StringType(), True),
        T.StructField(Q_AS_OF, T.TimestampType(), True),
    ]
)


def sorted_failures() -> Column:
    """``_failures`` sorted by precedence (rank first)."""
    return F.array_sort(F.col(FAILURES))


def reasons_column() -> Column:
    """All failing reason codes, distinct, in precedence order."""
    return F.array_distinct(F.transform(sorted_failures(), lambda x: x["reason"]))


def detail_column() -> Column:
    """All failure details in precedence order, joined with ``; ``."""
    return F.array_join(F.transform(sorted_failures(), lambda x: x["detail"]), "; ")


def row_json(spec: TableSpec) -> Column:
    """JSON of the original row (malformed identifier hashes redacted; CSV originals kept).

    Uncastable CSV values are null in the typed columns, so rows with ``_raw_errors``
    also carry that map in their JSON.
    """
    cols: list[Column] = []
    for c in spec.columns:
        col = F.col(c.name)
        if c.pattern == HASH_PATTERN:
            col = F.when(~col.rlike(full_match_regex(c.pattern)), F.lit(REDACTED)).otherwise(col)
        cols.append(col.alias(c.name))
    plain = F.to_json(F.struct(*cols))
    with_raw = F.to_json(F.struct(*cols, F.col(RAW_ERRORS)))
    return F.when(F.size(F.col(RAW_ERRORS)) > 0, with_raw).otherwise(plain)


def quarantine_summary(quarantine: DataFrame) -> DataFrame:
    """Rows per (table, reason_code), largest first.

    Args:
        quarantine: a frame with :data:`QUARANTINE_SCHEMA`.

    Returns:
        Columns ``table``, ``reason_code``, ``rows`` (long).
    """
    return (
        quarantine.groupBy(Q_TABLE, Q_REASON_CODE)
        .agg(F.count(F.lit(1)).alias("rows"))
        .orderBy(F.col("rows").desc(), Q_TABLE, Q_REASON_CODE)
    )


def quarantine_rows(flagged: DataFrame, spec: TableSpec, as_of: datetime) -> DataFrame:
    """Project the failing rows of a flagged table onto :data:`QUARANTINE_SCHEMA`.

    Args:
        flagged: frame with the spec columns, ``_raw_errors`` and ``_failures``.
        spec: the table contract.
        as_of: the run's reference instant.

    Returns:
        One row per row with at least one failure.
    """
    reasons = reasons_column()
    return flagged.filter(F.size(FAILURES) > 0).select(
        F.lit(spec.name).alias(Q_TABLE),
        F.element_at(reasons, 1).alias(Q_REASON_CODE),
        reasons.alias(Q_REASONS),
        detail_column().alias(Q_DETAIL),
        row_key(spec).alias(Q_ROW_KEY),
        row_json(spec).alias(Q_ROW_JSON),
        F.lit(as_of).cast(T.TimestampType()).alias(Q_AS_OF),
    )
