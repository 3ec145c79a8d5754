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
from datetime import UTC, datetime, timedelta
from functools import reduce

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from fraudmine.config import ValidationConfig
from fraudmine.contracts.raw import RAW_BY_NAME, TableSpec, event_time_column
from fraudmine.validation.crossrow import add_duplicate_failures, add_fk_failures
from fraudmine.validation.errors import ConservationError, ValidationFailed
from fraudmine.validation.quarantine import quarantine_rows
from fraudmine.validation.reader import RAW_ERRORS, ROW_ERROR, conform
from fraudmine.validation.result import ValidationResult
from fraudmine.validation.rules import FAILURES, add_row_failures

log = logging.getLogger(__name__)

COUNT_INPUT = "input"
COUNT_CLEAN = "clean"
COUNT_QUARANTINED = "quarantined"
COUNT_EXCLUDED = "excluded"
EXCLUDED = "_excluded"
SCOPE = "_scope"


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
    """Check that every input row is clean, quarantined or excluded (after the run date), exactly once.

    Args:
        counts: per table ``{"input", "clean", "quarantined", "excluded"}`` counts
            (``excluded`` may be absent: 0).

    Raises:
        ConservationError: naming each table where input != clean + quarantined + excluded.
    """
    bad = [
        f"{t}: input={c[COUNT_INPUT]} clean={c[COUNT_CLEAN]} quarantined={c[COUNT_QUARANTINED]} "
        f"excluded={c.get(COUNT_EXCLUDED, 0)}"
        for t, c in counts.items()
        if c[COUNT_INPUT] != c[COUNT_CLEAN] + c[COUNT_QUARANTINED] + c.get(COUNT_EXCLUDED, 0)
    ]
    if bad:
        raise ConservationError("row conservation violated: " + "; ".join(bad))


def flag(
    df: DataFrame,
    spec: TableSpec,
    as_of: datetime,
    now: datetime,
    cfg: ValidationConfig,
    clean: Mapping[str, DataFrame],
    specs: Mapping[str, TableSpec],
) -> DataFrame:
    """Conform ``df``, mark rows outside the run, and add ``_failures`` from every rule.

    A row whose event time (:func:`~fraudmine.contracts.raw.event_time_column`) is at or
    after ``as_of`` (and not after ``now``) gets ``_excluded``: it belongs to later runs.
    ``not_future`` values after ``now`` (plus the tolerance) are impossible in any run and
    quarantined.  Excluded and unparseable rows are kept apart in the duplicate check.

    Returns:
        The conformed frame plus ``_excluded`` (boolean) and ``_failures``.
    """
    conformed = conform(df, spec)
    event = event_time_column(spec)
    limit = now + timedelta(minutes=cfg.future_tolerance_minutes)
    if event is None:
        excluded = F.lit(False)
    else:
        ev = F.col(event)
        excluded = F.coalesce((ev >= F.lit(as_of)) & (ev <= F.lit(limit)), F.lit(False))
    malformed = F.try_element_at(F.col(RAW_ERRORS), F.lit(ROW_ERROR)).isNotNull()
    conformed = conformed.withColumn(EXCLUDED, excluded).withColumn(
        SCOPE, F.when(F.col(EXCLUDED), 1).when(malformed, 2).otherwise(0)
    )
    flagged = add_row_failures(conformed, spec, now, cfg.future_tolerance_minutes)
    flagged = add_duplicate_failures(flagged, spec, SCOPE)
    return add_fk_failures(flagged, spec, clean, specs).drop(SCOPE)


def count_columns() -> list[Column]:
    """Aggregates giving clean / quarantined / excluded counts of a flagged frame (one pass)."""
    n_failures = F.size(FAILURES)
    return [
        F.count_if(~F.col(EXCLUDED) & (n_failures == 0)).alias(COUNT_CLEAN),
        F.count_if(~F.col(EXCLUDED) & (n_failures > 0)).alias(COUNT_QUARANTINED),
        F.count_if(F.col(EXCLUDED)).alias(COUNT_EXCLUDED),
    ]


def is_clean() -> Column:
    """Rows of the run with no failure."""
    return ~F.col(EXCLUDED) & (F.size(FAILURES) == 0)


def is_quarantined() -> Column:
    """Rows of the run with at least one failure."""
    return ~F.col(EXCLUDED) & (F.size(FAILURES) > 0)


def validate_tables(
    tables: Mapping[str, DataFrame],
    as_of: datetime,
    cfg: ValidationConfig,
    specs: Mapping[str, TableSpec] | None = None,
    now: datetime | None = None,
) -> ValidationResult:
    """Validate raw tables in memory: split each into clean, quarantined and excluded rows.

    (The nightly stage streams table by table to disk instead:
    :func:`fraudmine.validation.streaming.validate_to_disk`.)

    Args:
        tables: input frames by raw table name (from :func:`read_raw_table`, or any
            frame with the spec's columns; ``_raw_errors`` is optional).
        as_of: the run's cut-off; a naive datetime is taken as UTC.  Rows whose event
            time is at or after it are excluded from the run (counted, not quarantined).
        cfg: validation settings (future tolerance, max quarantine fraction).
        specs: contracts by name; defaults to :data:`fraudmine.contracts.raw.RAW_BY_NAME`.
        now: when the run happens (default ``as_of``: a nightly run for today);
            timestamps after it are impossible and quarantined as ``future_timestamp``.

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
    as_of = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    now = as_of if now is None else (now if now.tzinfo else now.replace(tzinfo=UTC))
    ordered = fk_order({name: contracts[name] for name in tables})
    log.info("validating %d tables in order %s (as_of=%s)", len(ordered), ordered, as_of.isoformat())

    clean: dict[str, DataFrame] = {}
    quarantines: list[DataFrame] = []
    counts: dict[str, dict[str, int]] = {}
    persisted: list[DataFrame] = []
    for name in ordered:
        spec = contracts[name]
        flagged = flag(tables[name], spec, as_of, now, cfg, clean, contracts).persist(StorageLevel.MEMORY_AND_DISK)
        persisted.append(flagged)
        row = flagged.agg(*count_columns()).first()
        assert row is not None  # a global aggregate always returns one row
        counts[name] = {
            COUNT_INPUT: tables[name].count(),
            COUNT_CLEAN: int(row[COUNT_CLEAN]),
            COUNT_QUARANTINED: int(row[COUNT_QUARANTINED]),
            COUNT_EXCLUDED: int(row[COUNT_EXCLUDED]),
        }
        clean[name] = flagged.filter(is_clean()).select(*spec.column_names)
        quarantines.append(quarantine_rows(flagged.filter(~F.col(EXCLUDED)), spec, as_of))
        log.info("table %r: %s", name, counts[name])

    quarantine = reduce(DataFrame.unionByName, quarantines)
    result = ValidationResult(clean=clean, quarantine=quarantine, counts=counts, persisted=persisted)
    check_conservation(counts)
    check_quarantine_fraction(counts, cfg, result)
    return result


def check_quarantine_fraction(
    counts: Mapping[str, Mapping[str, int]], cfg: ValidationConfig, result: ValidationResult | None
) -> None:
    """Raise :class:`ValidationFailed` if a table quarantined more than ``cfg.max_quarantine_fraction``.

    The fraction is over the rows of the run (excluded rows do not count).
    """
    offenders = {}
    for t, c in counts.items():
        in_run = c[COUNT_CLEAN] + c[COUNT_QUARANTINED]
        if in_run and c[COUNT_QUARANTINED] / in_run > cfg.max_quarantine_fraction:
            offenders[t] = c[COUNT_QUARANTINED] / in_run
    if offenders:
        listed = ", ".join(f"{t} ({f:.1%})" for t, f in offenders.items())
        raise ValidationFailed(
            f"quarantined fraction above max_quarantine_fraction={cfg.max_quarantine_fraction}: {listed}",
            list(offenders),
            result,
        )
