"""Stage ``validate``: raw tables → clean tables + quarantine (every input row in exactly one,
or excluded from the run when it happened at or after the run date)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from fraudmine.contracts.raw import RAW_TABLES
from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.validation import ValidationFailed
from fraudmine.validation.reader import read_raw
from fraudmine.validation.streaming import validate_to_disk

OUTPUT = "validate"


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Read every contract table, validate it as of the run date and write clean + quarantine.

    Raises:
        SchemaError: a table's columns do not match the contract (nothing is written).
        ConservationError: rows read differ from the rows in the files.
        ValidationFailed: too many bad rows; the outputs are moved to ``<run>/_failed/validate``
            for inspection and the stage is not committed.
    """
    tables = {spec.name: read_raw(ctx.spark, str(ctx.input_dir / spec.name), spec) for spec in RAW_TABLES}
    now = ctx.started_at or datetime.now(UTC)
    workers = ctx.workers
    try:
        counts = validate_to_disk(
            ctx.spark, tables, ctx.as_of, now, ctx.config.validation, staging, parallel_tables=workers
        )
    except ValidationFailed:
        failed = ctx.run_dir / "_failed" / OUTPUT
        if failed.exists():
            shutil.rmtree(failed)
        failed.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, failed)
        raise
    (staging / "counts.json").write_text(json.dumps(counts, indent=2, sort_keys=True))
    return StageResult(
        rows_in={t: c["input"] for t, c in counts.items()},
        rows_out={
            **{t: c["clean"] for t, c in counts.items()},
            "quarantine": sum(c["quarantined"] for c in counts.values()),
            "excluded_after_run_date": sum(c["excluded"] for c in counts.values()),
        },
    )
