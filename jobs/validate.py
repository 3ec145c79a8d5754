"""Stage ``validate``: raw tables → clean tables + quarantine (every input row in exactly one)."""

from __future__ import annotations

import json
from pathlib import Path

from fraudmine.contracts.raw import RAW_TABLES
from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.validation import ValidationFailed, check_conservation, read_raw_table, validate_tables

OUTPUT = "validate"


def _write(result_clean: dict[str, object], quarantine: object, counts: dict[str, dict[str, int]], dst: Path) -> None:
    for name, df in result_clean.items():
        df.write.mode("overwrite").parquet(str(dst / "clean" / name))  # type: ignore[attr-defined]
    quarantine.coalesce(1).write.mode("overwrite").parquet(str(dst / "quarantine"))  # type: ignore[attr-defined]
    (dst / "counts.json").write_text(json.dumps(counts, indent=2, sort_keys=True))


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Read every contract table, validate it as of the run date and write clean + quarantine.

    Raises:
        SchemaError: a table's columns do not match the contract (nothing is written).
        ValidationFailed: too many bad rows; the quarantine is written under
            ``<run>/_failed/validate`` for inspection and the stage is not committed.
    """
    tables = {spec.name: read_raw_table(ctx.spark, str(ctx.input_dir / spec.name), spec) for spec in RAW_TABLES}
    try:
        result = validate_tables(tables, ctx.as_of, ctx.config.validation)
    except ValidationFailed as exc:
        failed = ctx.run_dir / "_failed" / OUTPUT
        _write({}, exc.result.quarantine, exc.result.counts, failed)
        raise
    check_conservation(result.counts)
    _write(dict(result.clean), result.quarantine, result.counts, staging)
    result.unpersist()
    return StageResult(
        rows_in={t: c["input"] for t, c in result.counts.items()},
        rows_out={
            **{t: c["clean"] for t, c in result.counts.items()},
            "quarantine": sum(c["quarantined"] for c in result.counts.values()),
        },
    )
