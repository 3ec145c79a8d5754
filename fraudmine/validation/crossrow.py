"""Cross-row rules: duplicates (one window) and foreign keys (one join per FK group).

Both append to the ``_failures`` column built by
:func:`fraudmine.validation.rules.add_row_failures`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import reduce

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from fraudmine.contracts.raw import ForeignKey, TableSpec
from fraudmine.validation.rules import (
    DANGLING_FK,
    DUPLICATE_KEY,
    DUPLICATE_ROW,
    FAILURES,
    compact,
    detail_text,
    failure,
    value_text,
)

log = logging.getLogger(__name__)


def row_key(spec: TableSpec) -> Column:
    """Primary-key values joined with ``|`` (null spelt ``null``)."""
    return F.concat_ws("|", *[F.coalesce(F.col(k).cast("string"), F.lit("null")) for k in spec.primary_key])


def add_duplicate_failures(df: DataFrame, spec: TableSpec, scope: str | None = None) -> DataFrame:
    """Append ``duplicate_row`` and ``duplicate_key`` failures (needs ``_failures``).

    Within each primary key, rows are ordered by their full content, so exact copies
    are adjacent: every copy after the first is a ``duplicate_row`` (one is kept).  When
    the first and last content of a key differ, the key is ambiguous and every row
    with it gets ``duplicate_key``.  Rows with a null key part are left to
    ``null_required``.  One window, i.e. one shuffle.

    Args:
        df: frame with the spec columns and ``_failures``.
        spec: the table contract.
        scope: optional column splitting the comparison (rows outside the run, or
            unparseable lines, are never compared with the run's rows).

    Returns:
        ``df`` with ``_failures`` extended.
    """
    content = F.struct(*[F.col(c) for c in spec.column_names])
    keys = [*spec.primary_key, *([scope] if scope else [])]
    ordered = Window.partitionBy(*keys).orderBy(*[F.col(c).asc_nulls_first() for c in spec.column_names])
    whole = ordered.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    prev = F.lag(content).over(ordered)
    key_ok = F.lit(True)
    for k in spec.primary_key:
        key_ok = key_ok & F.col(k).isNotNull()
    is_dup_row = prev.isNotNull() & prev.eqNullSafe(content)
    is_dup_key = key_ok & ~F.first(content).over(whole).eqNullSafe(F.last(content).over(whole))
    key_text = F.concat(F.lit("key="), row_key(spec))
    extra = compact(
        [
            F.when(is_dup_key, failure(DUPLICATE_KEY, F.concat(key_text, F.lit(" rule=primary_key conflict")))),
            F.when(is_dup_row, failure(DUPLICATE_ROW, F.concat(key_text, F.lit(" rule=exact_duplicate")))),
        ]
    )
    return df.withColumn(FAILURES, F.concat(F.col(FAILURES), extra))


def _fk_groups(spec: TableSpec) -> list[list[ForeignKey]]:
    """Polymorphic FKs sharing (column, type column) form one group; others stand alone.

    Plain FKs are never merged: two plain FKs on one column mean "in both parents",
    which a single join against the union of keys would not express.
    """
    poly: dict[tuple[str, str], list[ForeignKey]] = {}
    groups: list[list[ForeignKey]] = []
    for fk in spec.foreign_keys:
        if fk.type_column is None:
            groups.append([fk])
        elif (fk.column, fk.type_column) in poly:
            poly[(fk.column, fk.type_column)].append(fk)
        else:
            poly[(fk.column, fk.type_column)] = [fk]
            groups.append(poly[(fk.column, fk.type_column)])
    return groups


def add_fk_failures(
    df: DataFrame, spec: TableSpec, clean: Mapping[str, DataFrame], specs: Mapping[str, TableSpec]
) -> DataFrame:
    """Append ``dangling_fk`` failures: FK values absent from the parent's CLEAN rows.

    Foreign keys on the same (column, type column) are checked with one left join
    against the union of their parents' keys, tagged with the type value, so a
    polymorphic reference costs one join.  A polymorphic key applies only where
    ``type_column == type_value``; null FK values are not checked (nullability is
    its own rule).  A parent missing from ``clean`` is skipped with a warning.

    Args:
        df: frame with the spec columns and ``_failures``.
        spec: the child table contract.
        clean: clean frames of the already validated tables, by name.
        specs: contracts by table name (to know whether a referenced column is unique).

    Returns:
        ``df`` with ``_failures`` extended (same rows, same columns).
    """
    checks: list[Column] = []
    helpers: list[str] = []
    for i, fks in enumerate(_fk_groups(spec)):
        column, type_column = fks[0].column, fks[0].type_column
        present = [fk for fk in fks if fk.ref_table in clean]
        for fk in fks:
            if fk.ref_table not in clean:
                log.warning(
                    "table %r: parent %r not among the validated tables; FK %s -> %s.%s not checked",
                    spec.name,
                    fk.ref_table,
                    fk.column,
                    fk.ref_table,
                    fk.ref_column,
                )
        if not present:
            continue
        key, tag, hit = f"_fk{i}_key", f"_fk{i}_type", f"_fk{i}_hit"
        parts: list[DataFrame] = []
        for fk in present:
            part = clean[fk.ref_table].select(
                F.col(fk.ref_column).alias(key), F.lit(fk.type_value).cast("string").alias(tag)
            )
            # Clean rows have unique primary keys; other referenced columns may repeat
            # and would multiply child rows in the join.
            if specs[fk.ref_table].primary_key != (fk.ref_column,):
                part = part.distinct()
            parts.append(part)
        keys = reduce(DataFrame.unionByName, parts)
        cond = F.col(column) == F.col(key)
        applies = F.col(column).isNotNull()
        if type_column is not None:
            cond = cond & (F.col(type_column) == F.col(tag))
            applies = applies & F.col(type_column).isin(*[fk.type_value for fk in present])
        df = df.join(keys.withColumn(hit, F.lit(True)), cond, "left").drop(key, tag)
        refs = ",".join(f"{fk.ref_table}.{fk.ref_column}" for fk in present)
        checks.append(
            F.when(
                applies & F.col(hit).isNull(),
                failure(DANGLING_FK, detail_text(column, value_text(F.col(column)), f"fk {refs}")),
            )
        )
        helpers.append(hit)
    if not checks:
        return df
    return df.withColumn(FAILURES, F.concat(F.col(FAILURES), compact(checks))).drop(*helpers)
