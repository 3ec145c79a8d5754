"""The outcome of the validation stage (its own module so the exceptions can carry it without a cycle)."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame


@dataclass
class ValidationResult:
    """Outcome of :func:`validate_tables`.

    Attributes:
        clean: clean rows per table (exactly the spec's columns and types).
        quarantine: every rejected row of every table, schema :data:`QUARANTINE_SCHEMA`.
        counts: per table ``{"input": n, "clean": n, "quarantined": n}``.
        persisted: the cached flagged frames behind ``clean``/``quarantine``.
    """

    clean: dict[str, DataFrame]
    quarantine: DataFrame
    counts: dict[str, dict[str, int]]
    persisted: list[DataFrame]

    def unpersist(self) -> None:
        """Release the cached frames once ``clean`` and ``quarantine`` have been written."""
        for df in self.persisted:
            df.unpersist()
