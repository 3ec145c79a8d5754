"""The validation stage: split every raw table into clean rows and quarantine.

Tables are processed parents first (order derived from the foreign keys) so a
child's foreign keys are checked against the parent's CLEAN rows: a reference to
a quarantined parent row is itself dangling.  Each table is flagged in one
projection + one window + one join per FK group, persisted once, and counted
with a single aggregation; clean and quarantine frames are derived from that
persisted frame.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import reduce

from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraudmine.config import ValidationConfig
from fraudmine.contracts.raw import RAW_BY_NAME, TableSpec
from fraudmine.validation.crossrow import add_duplicate_failures, add_fk_failures
from fraudmine.validation.errors import ConservationError, ValidationFailed
from fraudmine.validation.quarantine import quarantine_rows
from fraudmine.validation.reader import conform
from fraudmine.validation.result import ValidationResult
from fraudmine.validation.rules import FAILURES, add_row_failures

log = logging.getLogger(__name__)

COUNT_INPUT = "input"
COUNT_CLEAN = "clean"
COUNT_QUARANTINED = "quarantined"


def fk_order(specs: Mapping[str, TableSpec]) -> list[str]:
    """Table names ordered parents first, from the foreign keys among ``specs``.

    References to tables outside ``specs`` are ignored.  Ties keep the input order
    (deterministic).

    Args:
        specs: contracts of the tables to order, by name.

    Returns:
        Every name in ``specs``, each after all of its parents.

    Raises:
        ValueError: the foreign keys form a cycle (named).
    """
    parents = {
        name: {fk.ref_table for fk in spec.foreign_keys if fk.ref_table in specs} for name, spec in specs.items()
    }
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(specs):
        ready = [n for n in specs if n not in done and parents[n] <= done]
        if not ready:
            raise ValueError(f"foreign-key cycle among tables {sorted(set(specs) - done)}")
        order.extend(ready)
        done.update(ready)
    return order


def check_conservation(counts: Mapping[str, Mapping[str, int]]) -> None:
    """Check that every input row is either clean or quarantined, exactly once.

    Args:
        counts: per table ``{"input", "clean", "quarantined"}`` counts.

    Raises:
        ConservationError: naming each table where input != clean + quarantined.
    """
    bad = [
        f"{t}: input={c[COUNT_INPUT]} clean={c[COUNT_CLEAN]} quarantined={c[COUNT_QUARANTINED]}"
        for t, c in counts.items()
        if c[COUNT_INPUT] != c[COUNT_CLEAN] + c[COUNT_QUARANTINED]
    ]
    if bad:
        raise ConservationError("row conservation violated: " + "; ".join(bad))


def _flag(
    df: DataFrame,
    spec: TableSpec,
    as_of: datetime,
    cfg: ValidationConfig,
    clean: Mapping[str, DataFrame],
    specs: Mapping[str, TableSpec],
) -> DataFrame:
    """Conform ``df`` and add ``_failures`` from every rule (row, duplicate, foreign key)."""
    flagged = add_row_failures(conform(df, spec), spec, as_of, cfg.future_tolerance_minutes)
    flagged = add_duplicate_failures(flagged, spec)
    return add_fk_failures(flagged, spec, clean, specs)


def validate_tables(
    tables: Mapping[str, DataFrame],
    as_of: datetime,
    cfg: ValidationConfig,
    specs: Mapping[str, TableSpec] | None = None,
) -> ValidationResult:
    """Validate raw tables: split each into clean rows and quarantined rows.

    Args:
        tables: input frames by raw table name (from :func:`read_raw_table`, or any
            frame with the spec's columns; ``_raw_errors`` is optional).
        as_of: the run's reference instant; a naive datetime is taken as UTC.
        cfg: validation settings (future tolerance, max quarantine fraction).
        specs: contracts by name; defaults to :data:`fraudmine.contracts.raw.RAW_BY_NAME`.

    Returns:
        A :class:`ValidationResult`.  The flagged frames are persisted; call
        ``result.unpersist()`` after writing.

    Raises:
        KeyError: a table has no contract.
        SchemaError: a table's columns do not match its contract.
        ValueError: no tables, or the foreign keys form a cycle.
        ConservationError: a table's rows are not split exactly (an internal bug).
        ValidationFailed: a table quarantined more than ``cfg.max_quarantine_fraction``
            of its rows; raised after everything is computed, with the result attached.
    """
    if not tables:
        raise ValueError("validate_tables: no tables given")
    contracts = RAW_BY_NAME if specs is None else specs
    missing = [name for name in tables if name not in contracts]
    if missing:
        raise KeyError(f"no contract for tables {missing}; known: {sorted(contracts)}")
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    ordered = fk_order({name: contracts[name] for name in tables})
    log.info("validating %d tables in order %s (as_of=%s)", len(ordered), ordered, as_of.isoformat())

    clean: dict[str, DataFrame] = {}
    quarantines: list[DataFrame] = []
    counts: dict[str, dict[str, int]] = {}
    persisted: list[DataFrame] = []
    for name in ordered:
        spec = contracts[name]
        flagged = _flag(tables[name], spec, as_of, cfg, clean, contracts).persist(StorageLevel.MEMORY_AND_DISK)
        persisted.append(flagged)
        n_failures = F.size(FAILURES)
        # One job for both counts; an input count taken separately from the raw frame
        # makes the conservation check catch joins that drop or multiply rows.
        row = flagged.agg(
            F.count_if(n_failures == 0).alias(COUNT_CLEAN),
            F.count_if(n_failures > 0).alias(COUNT_QUARANTINED),
        ).first()
        assert row is not None  # a global aggregate always returns one row
        counts[name] = {
            COUNT_INPUT: tables[name].count(),
            COUNT_CLEAN: int(row[COUNT_CLEAN]),
            COUNT_QUARANTINED: int(row[COUNT_QUARANTINED]),
        }
        clean[name] = flagged.filter(n_failures == 0).select(*spec.column_names)
        quarantines.append(quarantine_rows(flagged, spec, as_of))
        log.info("table %r: %s", name, counts[name])

    quarantine = reduce(DataFrame.unionByName, quarantines)
    result = ValidationResult(clean=clean, quarantine=quarantine, counts=counts, persisted=persisted)
    check_conservation(counts)
    offenders = {
        t: c[COUNT_QUARANTINED] / c[COUNT_INPUT]
        for t, c in counts.items()
        if c[COUNT_INPUT] and c[COUNT_QUARANTINED] / c[COUNT_INPUT] > cfg.max_quarantine_fraction
    }
    if offenders:
        listed = ", ".join(f"{t} ({f:.1%})" for t, f in offenders.items())
        raise ValidationFailed(
            f"quarantined fraction above max_quarantine_fraction={cfg.max_quarantine_fraction}: {listed}",
            list(offenders),
            result,
        )
    return result
