"""Input validation: read raw tables, check the contract, quarantine bad rows.

Public API:

* :func:`read_raw` / :func:`read_raw_table` - read one table (Parquet, CSV, CSV.gz) conformed
  to its contract (with its row count taken without Spark).
* :func:`check_schema` - structural check of a schema against a :class:`TableSpec`.
* :func:`validate_tables` - split tables into clean rows and a quarantine (in memory);
  :func:`fraudmine.validation.streaming.validate_to_disk` - the same, table by table to disk.
* :func:`check_conservation`, :func:`quarantine_summary`, :func:`fk_order`.
* Exceptions :class:`SchemaError`, :class:`ValidationFailed`, :class:`ConservationError`.
* Reason codes (``NULL_REQUIRED`` ...) and their :data:`PRECEDENCE`.

Modules: ``reader`` (files -> conformed frames), ``rules`` (reason codes,
single-row rules), ``crossrow`` (duplicates, foreign keys), ``quarantine``
(schema and projection), ``stage`` (orchestration and run-level guards),
``errors`` (exceptions), ``result`` (the outcome).
"""

from fraudmine.validation.errors import ConservationError, SchemaError, ValidationFailed
from fraudmine.validation.quarantine import QUARANTINE_SCHEMA, quarantine_summary
from fraudmine.validation.reader import (
    CSV_OPTIONS,
    RAW_ERRORS,
    RawTable,
    check_schema,
    conform,
    read_raw,
    read_raw_table,
)
from fraudmine.validation.result import ValidationResult
from fraudmine.validation.rules import (
    BAD_INTERVAL,
    BAD_PATTERN,
    BAD_TYPE,
    DANGLING_FK,
    DUPLICATE_KEY,
    DUPLICATE_ROW,
    FUTURE_TIMESTAMP,
    INTERVAL_RULES,
    MALFORMED_HASH,
    MALFORMED_ROW,
    NULL_REQUIRED,
    OUT_OF_RANGE,
    PRECEDENCE,
    REQUIRES_RULES,
    TOO_LONG,
    UNKNOWN_ENUM,
)
from fraudmine.validation.stage import check_conservation, fk_order, validate_tables

__all__ = [
    "BAD_INTERVAL",
    "BAD_PATTERN",
    "BAD_TYPE",
    "CSV_OPTIONS",
    "DANGLING_FK",
    "DUPLICATE_KEY",
    "DUPLICATE_ROW",
    "FUTURE_TIMESTAMP",
    "INTERVAL_RULES",
    "MALFORMED_HASH",
    "MALFORMED_ROW",
    "NULL_REQUIRED",
    "OUT_OF_RANGE",
    "PRECEDENCE",
    "QUARANTINE_SCHEMA",
    "RAW_ERRORS",
    "REQUIRES_RULES",
    "TOO_LONG",
    "UNKNOWN_ENUM",
    "ConservationError",
    "RawTable",
    "SchemaError",
    "ValidationFailed",
    "ValidationResult",
    "check_conservation",
    "check_schema",
    "conform",
    "fk_order",
    "quarantine_summary",
    "read_raw",
    "read_raw_table",
    "validate_tables",
]
