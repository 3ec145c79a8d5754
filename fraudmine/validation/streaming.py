"""Validation written to disk table by table: the nightly stage's path.

Memory stays bounded by one table (or ``parallel_tables`` tables): each table is
flagged, its clean rows are written (the clean / quarantined / excluded counts
are collected by an ``Observation`` during that same write, so counting costs no
extra Spark job), its quarantined rows are written only when there are some, and
a child's foreign keys are checked against its parents' clean rows read back
from disk.  A table therefore costs one write (plus the adaptive query stages of
its duplicate window and foreign-key joins) when it is clean and one more when it
has bad rows, and no persisted frame or counting job.

The rows read are checked against a count taken without Spark (Parquet
footers, CSV lines): a row that parsing merged, split or dropped fails the
stage with a :class:`ConservationError` naming the table.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from fraudmine.config import ValidationConfig
from fraudmine.contracts.physical import spark_schema
from fraudmine.contracts.raw import RAW_BY_NAME, TableSpec
from fraudmine.validation.errors import ConservationError
from fraudmine.validation.quarantine import quarantine_rows
from fraudmine.validation.reader import RawTable
from fraudmine.validation.stage import (
    COUNT_CLEAN,
    COUNT_EXCLUDED,
    COUNT_INPUT,
    COUNT_QUARANTINED,
    EXCLUDED,
    check_conservation,
    check_quarantine_fraction,
    count_columns,
    fk_levels,
    flag,
    is_clean,
)

log = logging.getLogger(__name__)

CLEAN = "clean"
QUARANTINE = "quarantine"
_PARTS = "_quarantine_parts"  # per-table quarantine files before they are merged into QUARANTINE
JOB_GROUP = "spark.jobGroup.id"  # Spark's local property naming the job group of a thread's jobs
# Arrow schema of an empty quarantine (Spark reads it as QUARANTINE_SCHEMA).
_EMPTY_QUARANTINE = pa.schema(
    [
        ("table", pa.string()),
        ("reason_code", pa.string()),
        ("reasons", pa.list_(pa.string())),
        ("detail", pa.string()),
        ("row_key", pa.string()),
        ("row_json", pa.string()),
        ("as_of", pa.timestamp("us", tz="UTC")),
    ]
)


def _validate_table(
    spark: SparkSession,
    name: str,
    raw: RawTable,
    spec: TableSpec,
    times: tuple[datetime, datetime],
    cfg: ValidationConfig,
    clean: Mapping[str, DataFrame],
    contracts: Mapping[str, TableSpec],
    dst: Path,
) -> tuple[dict[str, int], DataFrame]:
    """Flag one table, write its clean rows (counting them by an Observation) and its quarantined rows.

    Quarantined rows go to ``dst/_quarantine_parts/<table>`` (merged into ``dst/quarantine``
    by the caller), so tables validated at the same time never append to one folder.

    Returns:
        The table's counts and its clean rows read back from disk (for its children's foreign keys).
    """
    t0 = time.monotonic()
    as_of, now = times
    flagged = flag(raw.frame, spec, as_of, now, cfg, clean, contracts)
    obs = Observation(f"validate_{name}")
    observed = flagged.observe(obs, F.count(F.lit(1)).alias("rows"), *count_columns())
    out = dst / CLEAN / name
    observed.where(is_clean()).select(*spec.column_names).write.parquet(str(out))
    got = obs.get
    c = {
        COUNT_INPUT: int(got["rows"]) if raw.expected_rows is None else raw.expected_rows,
        COUNT_CLEAN: int(got[COUNT_CLEAN]),
        COUNT_QUARANTINED: int(got[COUNT_QUARANTINED]),
        COUNT_EXCLUDED: int(got[COUNT_EXCLUDED]),
    }
    if int(got["rows"]) != c[COUNT_INPUT]:
        raise ConservationError(
            f"table {name!r}: {c[COUNT_INPUT]} rows in {raw.source} but {int(got['rows'])} rows parsed; "
            "the input is malformed in a way the reader could not quarantine"
        )
    if c[COUNT_QUARANTINED]:
        bad = quarantine_rows(flagged.where(~F.col(EXCLUDED)), spec, as_of)
        bad.coalesce(1).write.parquet(str(dst / _PARTS / name))
    log.info(
        "validate %s: %s rows -> %s clean, %s quarantined, %s after the run date (%.1fs)",
        name,
        f"{c[COUNT_INPUT]:,}",
        f"{c[COUNT_CLEAN]:,}",
        f"{c[COUNT_QUARANTINED]:,}",
        f"{c[COUNT_EXCLUDED]:,}",
        time.monotonic() - t0,
    )
    if not c[COUNT_CLEAN]:
        log.warning("validate %s: no clean rows (the publish audit requires rows unless allowed)", name)
    return c, spark.read.schema(spark_schema(spec)).parquet(str(out))  # no schema-inference job


def _merge_quarantine(dst: Path, order: list[str]) -> None:
    """Move every table's quarantine files into ``dst/quarantine`` (an empty file when there are none)."""
    quarantine_dir, parts = dst / QUARANTINE, dst / _PARTS
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    moved = 0
    for name in order:
        folder = parts / name
        if folder.is_dir():
            for f in sorted(folder.glob("*.parquet")):
                f.rename(quarantine_dir / f.name)  # Spark's part names carry a unique job id
                moved += 1
    if parts.exists():
        shutil.rmtree(parts)
    if not moved:
        pq.write_table(_EMPTY_QUARANTINE.empty_table(), quarantine_dir / "part-00000-empty.parquet")


def validate_to_disk(
    spark: SparkSession,
    tables: Mapping[str, RawTable],
    as_of: datetime,
    now: datetime,
    cfg: ValidationConfig,
    dst: Path,
    specs: Mapping[str, TableSpec] | None = None,
    parallel_tables: int = 1,
) -> dict[str, dict[str, int]]:
    """Validate every table and write ``dst/clean/<table>`` and ``dst/quarantine``.

    Tables are processed in foreign-key order (:func:`fk_levels`): parents before
    children.  With ``parallel_tables > 1`` that many threads validate tables at once,
    each table starting as soon as its parents are written: on small inputs a table's
    time is mostly fixed driver work (building and planning its query, scheduling its
    jobs) that overlaps well with another table's execution.  Memory is then bounded by that many tables
    instead of one, so the nightly stage uses it for small inputs only.

    Args:
        spark: the session.
        tables: raw tables from :func:`fraudmine.validation.reader.read_raw`, by name.
        as_of: the run's cut-off (rows at or after it are excluded and counted).
        now: when the run started (timestamps after it are impossible: quarantined).
        cfg: validation settings.
        dst: the stage's staging folder.
        specs: contracts by name (default: the raw contract).
        parallel_tables: tables validated at the same time.

    Returns:
        Per table ``{"input", "clean", "quarantined", "excluded"}``.

    Raises:
        ConservationError: the rows read differ from the rows in the files, or do not split exactly.
        ValidationFailed: a table quarantined more than ``cfg.max_quarantine_fraction`` of its rows
            (the outputs are written; the caller decides not to commit them).
    """
    contracts = RAW_BY_NAME if specs is None else specs
    times = (
        as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC),
        now if now.tzinfo else now.replace(tzinfo=UTC),
    )
    clean: dict[str, DataFrame] = {}
    counts: dict[str, dict[str, int]] = {}
    sc = spark.sparkContext
    group = sc.getLocalProperty(JOB_GROUP)

    def one(name: str) -> None:
        counts[name], clean[name] = _validate_table(
            spark, name, tables[name], contracts[name], times, cfg, clean, contracts, dst
        )

    levels = fk_levels({n: contracts[n] for n in tables})
    order = [n for level in levels for n in level]
    if parallel_tables > 1 and len(order) > 1:
        # A table starts as soon as its parents are written (not when their whole level is): tables are
        # submitted parents first and taken in that order, so a parent waited for has already started.
        futures: dict[str, Future[None]] = {}

        def after_parents(name: str) -> None:
            for fk in contracts[name].foreign_keys:
                if fk.ref_table in futures and fk.ref_table != name:
                    futures[fk.ref_table].result()
            sc.setLocalProperty(JOB_GROUP, group)  # type: ignore[arg-type]  # a new thread starts without it
            try:
                one(name)
            finally:
                sc.setLocalProperty(JOB_GROUP, None)  # type: ignore[arg-type]

        with ThreadPoolExecutor(max_workers=parallel_tables) as pool:
            for name in order:
                futures[name] = pool.submit(after_parents, name)
        for name in order:
            futures[name].result()  # the first failure in parents-first order
    else:
        for name in order:
            one(name)
    counts = {name: counts[name] for name in order}
    _merge_quarantine(dst, order)
    check_conservation(counts)
    check_quarantine_fraction(counts, cfg, None)
    return counts
