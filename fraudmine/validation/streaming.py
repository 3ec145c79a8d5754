"""Validation written to disk table by table: the nightly stage's path.

Memory stays bounded by one table: each table is flagged, its clean rows are
written (the clean / quarantined / excluded counts are collected by an
``Observation`` during that same write, so counting costs no extra Spark job),
its quarantined rows are appended to the shared quarantine folder only when
there are some, and a child's foreign keys are checked against its parents'
clean rows read back from disk.  A table therefore costs one Spark job when it
is clean and two when it has bad rows, instead of a persisted frame plus
several counting jobs.

The rows read are checked against a count taken without Spark (Parquet
footers, CSV lines): a row that parsing merged, split or dropped fails the
stage with a :class:`ConservationError` naming the table.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
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
    fk_order,
    flag,
    is_clean,
)

log = logging.getLogger(__name__)

CLEAN = "clean"
QUARANTINE = "quarantine"
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


def validate_to_disk(
    spark: SparkSession,
    tables: Mapping[str, RawTable],
    as_of: datetime,
    now: datetime,
    cfg: ValidationConfig,
    dst: Path,
    specs: Mapping[str, TableSpec] | None = None,
) -> dict[str, dict[str, int]]:
    """Validate every table and write ``dst/clean/<table>`` and ``dst/quarantine``.

    Args:
        spark: the session.
        tables: raw tables from :func:`fraudmine.validation.reader.read_raw`, by name.
        as_of: the run's cut-off (rows at or after it are excluded and counted).
        now: when the run started (timestamps after it are impossible: quarantined).
        cfg: validation settings.
        dst: the stage's staging folder.
        specs: contracts by name (default: the raw contract).

    Returns:
        Per table ``{"input", "clean", "quarantined", "excluded"}``.

    Raises:
        ConservationError: the rows read differ from the rows in the files, or do not split exactly.
        ValidationFailed: a table quarantined more than ``cfg.max_quarantine_fraction`` of its rows
            (the outputs are written; the caller decides not to commit them).
    """
    contracts = RAW_BY_NAME if specs is None else specs
    as_of = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    clean: dict[str, DataFrame] = {}
    counts: dict[str, dict[str, int]] = {}
    quarantine_dir = dst / QUARANTINE
    for name in fk_order({n: contracts[n] for n in tables}):
        t0 = time.monotonic()
        spec, raw = contracts[name], tables[name]
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
            bad.coalesce(1).write.mode("append").parquet(str(quarantine_dir))
        counts[name] = c
        clean[name] = spark.read.schema(spark_schema(spec)).parquet(str(out))  # no schema-inference job
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
    if not quarantine_dir.exists():
        quarantine_dir.mkdir(parents=True)
        pq.write_table(_EMPTY_QUARANTINE.empty_table(), quarantine_dir / "part-00000-empty.parquet")
    check_conservation(counts)
    check_quarantine_fraction(counts, cfg, None)
    return counts
