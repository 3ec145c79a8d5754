"""Reason codes and single-row rules: pure DataFrame -> DataFrame functions.

Every rule appends entries to one array column, ``_failures``
(``array<struct<rank:int, reason:string, detail:string>>``); a row is clean iff
the array is empty.  ``rank`` is the reason's position in :data:`PRECEDENCE`, so
sorting the array puts the most fundamental failure first.  All column rules
are evaluated in a single projection (one ``when`` per rule, nulls filtered
out); the cross-row rules (duplicates, foreign keys) are in
:mod:`fraudmine.validation.crossrow`.  No Python UDFs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from fraudmine.contracts.raw import HASH_PATTERN, PHASH_PATTERN, ColumnSpec, TableSpec
from fraudmine.validation.reader import RAW_ERRORS, ROW_ERROR

log = logging.getLogger(__name__)

FAILURES = "_failures"

MALFORMED_ROW = "malformed_row"
NULL_REQUIRED = "null_required"
BAD_TYPE = "bad_type"
UNKNOWN_ENUM = "unknown_enum"
OUT_OF_RANGE = "out_of_range"
TOO_LONG = "too_long"
BAD_PATTERN = "bad_pattern"
MALFORMED_HASH = "malformed_hash"
FUTURE_TIMESTAMP = "future_timestamp"
BAD_INTERVAL = "bad_interval"
DUPLICATE_KEY = "duplicate_key"
DUPLICATE_ROW = "duplicate_row"
DANGLING_FK = "dangling_fk"

# Most fundamental first: a value that is not even of the right type says more
# about the row than a rule evaluated on top of it; cross-row rules come last
# because they are consequences of the row's content.
PRECEDENCE: tuple[str, ...] = (
    MALFORMED_ROW,
    BAD_TYPE,
    NULL_REQUIRED,
    MALFORMED_HASH,
    BAD_PATTERN,
    UNKNOWN_ENUM,
    OUT_OF_RANGE,
    TOO_LONG,
    FUTURE_TIMESTAMP,
    BAD_INTERVAL,
    DUPLICATE_KEY,
    DUPLICATE_ROW,
    DANGLING_FK,
)
_RANK = {code: i for i, code in enumerate(PRECEDENCE)}

FAILURE_TYPE = T.StructType(
    [
        T.StructField("rank", T.IntegerType(), False),
        T.StructField("reason", T.StringType(), False),
        T.StructField("detail", T.StringType(), True),
    ]
)

# Longest value echoed into a detail message (descriptions can be 5000 chars).
_MAX_DETAIL_VALUE = 80


@dataclass(frozen=True)
class IntervalRule:
    """``earlier`` must not be after ``later`` (both set); ``strict`` forbids equality too."""

    table: str
    earlier: str
    later: str
    strict: bool = False


@dataclass(frozen=True)
class RequiresRule:
    """When ``column`` is set, ``requires`` must be set as well."""

    table: str
    column: str
    requires: str


INTERVAL_RULES: tuple[IntervalRule, ...] = (
    IntervalRule("identities", "first_seen", "last_seen"),
    IntervalRule("brand_authorizations", "valid_from", "valid_to", strict=True),
    IntervalRule("reports", "reported_at", "reviewed_at"),
)
REQUIRES_RULES: tuple[RequiresRule, ...] = (RequiresRule("reports", "outcome", "reviewed_at"),)


def failure(reason: str, detail: Column) -> Column:
    """A ``_failures`` entry for ``reason`` with a ``detail`` message column."""
    return F.struct(F.lit(_RANK[reason]).alias("rank"), F.lit(reason).alias("reason"), detail.alias("detail"))


def value_text(col: Column) -> Column:
    """Value as text for detail messages, truncated and with nulls spelt out."""
    text = col.cast("string")
    short = F.when(
        F.length(text) > _MAX_DETAIL_VALUE,
        F.concat(F.substring(text, 1, _MAX_DETAIL_VALUE), F.lit("...")),
    ).otherwise(text)
    return F.coalesce(short, F.lit("null"))


def detail_text(column: str, value: Column, rule: str) -> Column:
    """Detail message ``column=<name> value=<value> rule=<rule>``."""
    return F.concat(F.lit(f"column={column} value="), value, F.lit(f" rule={rule}"))


def _bound(x: float) -> str:
    return f"{x:g}"


def full_match_regex(pattern: str) -> str:
    """Java regex that must match the whole value (``$`` alone also matches before a final newline)."""
    core = pattern.removeprefix("^")
    if core.endswith("$") and not core.endswith("\\$"):
        core = core[:-1]
    return f"^(?:{core})\\z"


def is_hash_column(col: ColumnSpec) -> bool:
    """Whether a pattern failure on ``col`` is reported as ``malformed_hash``."""
    return col.pattern in (HASH_PATTERN, PHASH_PATTERN) or col.name.endswith("_hash")


def column_checks(spec: TableSpec, as_of: datetime, tolerance_minutes: int = 0) -> list[Column]:
    """One ``when(failed, failure)`` column per declared single-column rule.

    Args:
        spec: the table contract.
        as_of: the latest possible instant: a ``not_future`` value after it (plus the
            tolerance) is impossible.  The validation stage passes the wall-clock start
            of the run here, not the run date: rows after the run date but before now are
            excluded from the run, not quarantined.
        tolerance_minutes: clock-skew allowance added to ``as_of``.

    Returns:
        Columns of type ``FAILURE_TYPE`` (null when the rule passes), expecting the
        input to have the spec's columns and ``_raw_errors``.
    """
    limit = as_of + timedelta(minutes=tolerance_minutes)
    checks: list[Column] = []
    for c in spec.columns:
        col = F.col(c.name)
        raw = F.try_element_at(F.col(RAW_ERRORS), F.lit(c.name))
        checks.append(F.when(raw.isNotNull(), failure(BAD_TYPE, detail_text(c.name, value_text(raw), c.dtype))))
        if not c.nullable:
            null_detail = detail_text(c.name, F.lit("null"), "not_null")
            checks.append(F.when(col.isNull() & raw.isNull(), failure(NULL_REQUIRED, null_detail)))
        if c.pattern is not None:
            code = MALFORMED_HASH if is_hash_column(c) else BAD_PATTERN
            # Never echo a malformed identifier hash: it may be a raw identifier.
            shown = F.lit("<redacted>") if c.pattern == HASH_PATTERN else value_text(col)
            bad = ~col.rlike(full_match_regex(c.pattern))
            checks.append(F.when(bad, failure(code, detail_text(c.name, shown, f"pattern {c.pattern}"))))
        if c.enum is not None:
            bad = ~col.isin(*c.enum)
            checks.append(F.when(bad, failure(UNKNOWN_ENUM, detail_text(c.name, value_text(col), "enum"))))
        if c.min_value is not None:
            rule = f"min_value {_bound(c.min_value)}"
            checks.append(F.when(col < c.min_value, failure(OUT_OF_RANGE, detail_text(c.name, value_text(col), rule))))
        if c.max_value is not None:
            rule = f"max_value {_bound(c.max_value)}"
            checks.append(F.when(col > c.max_value, failure(OUT_OF_RANGE, detail_text(c.name, value_text(col), rule))))
        if c.dtype == "double" and (c.min_value is not None or c.max_value is not None):
            # NaN compares greater than everything in Spark and would pass a min bound.
            bad = F.isnan(col) | col.isin(float("inf"), float("-inf"))
            checks.append(F.when(bad, failure(OUT_OF_RANGE, detail_text(c.name, value_text(col), "finite"))))
        if c.max_length is not None:
            rule = f"max_length {c.max_length}"
            bad = F.length(col) > c.max_length
            checks.append(F.when(bad, failure(TOO_LONG, detail_text(c.name, value_text(col), rule))))
        if c.not_future:
            rule = f"not_future as_of+{tolerance_minutes}min"
            bad = col > F.lit(limit)
            checks.append(F.when(bad, failure(FUTURE_TIMESTAMP, detail_text(c.name, value_text(col), rule))))
    return checks


def _require_columns(spec: TableSpec, *names: str) -> None:
    """Fail loudly (KeyError) if a declared cross-column rule outlived a contract change."""
    for name in names:
        spec.column(name)


def interval_checks(spec: TableSpec) -> list[Column]:
    """Cross-column ``bad_interval`` checks declared for ``spec`` in the rule lists.

    Raises:
        KeyError: a declared rule names a column the spec does not have.
    """
    checks: list[Column] = []
    for r in INTERVAL_RULES:
        if r.table != spec.name:
            continue
        _require_columns(spec, r.earlier, r.later)
        early, late = F.col(r.earlier), F.col(r.later)
        bad = late <= early if r.strict else late < early
        op = "<" if r.strict else "<="
        detail = F.concat(
            F.lit(f"column={r.earlier},{r.later} value="),
            value_text(early),
            F.lit(","),
            value_text(late),
            F.lit(f" rule={r.earlier} {op} {r.later}"),
        )
        checks.append(F.when(bad, failure(BAD_INTERVAL, detail)))
    for q in REQUIRES_RULES:
        if q.table != spec.name:
            continue
        _require_columns(spec, q.column, q.requires)
        bad = F.col(q.column).isNotNull() & F.col(q.requires).isNull()
        detail = detail_text(q.column, value_text(F.col(q.column)), f"requires {q.requires}")
        checks.append(F.when(bad, failure(BAD_INTERVAL, detail)))
    return checks


def compact(checks: list[Column]) -> Column:
    """Array of the non-null entries of ``checks`` (typed empty array when there are none)."""
    if not checks:
        return F.array().cast(T.ArrayType(FAILURE_TYPE))
    return F.filter(F.array(*checks), lambda x: x.isNotNull())


def row_checks() -> list[Column]:
    """``malformed_row`` when the reader marked the whole line as unparseable (CSV)."""
    problem = F.try_element_at(F.col(RAW_ERRORS), F.lit(ROW_ERROR))
    detail = F.concat(F.lit("row rule=csv_line: "), problem)
    return [F.when(problem.isNotNull(), failure(MALFORMED_ROW, detail))]


def add_row_failures(df: DataFrame, spec: TableSpec, as_of: datetime, tolerance_minutes: int = 0) -> DataFrame:
    """Add ``_failures`` with every single-row rule (line, column rules and intervals).

    Args:
        df: conformed input (spec columns plus ``_raw_errors``).
        spec: the table contract.
        as_of: the latest possible instant (see :func:`column_checks`).
        tolerance_minutes: clock-skew allowance for ``not_future``.

    Returns:
        ``df`` plus ``_failures``.
    """
    checks = row_checks() + column_checks(spec, as_of, tolerance_minutes) + interval_checks(spec)
    return df.withColumn(FAILURES, compact(checks))
