"""Exceptions raised by the validation stage.

Schema problems are structural (the whole table is unusable) and raise before
anything is written; row problems never raise, they quarantine the row.  Only
the two run-level guards below turn row problems into failures.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fraudmine.validation.result import ValidationResult


class SchemaError(ValueError):
    """A raw table's columns or types do not match its contract.

    Attributes:
        table: the raw table name.
        column: the offending declared column.
        expected: the declared logical type.
        found: what the input has (a type name, or ``"missing"``).
        present: the column names actually present in the input.
    """

    def __init__(
        self,
        table: str,
        column: str,
        expected: str,
        found: str,
        present: Iterable[str],
        source: str | None = None,
    ) -> None:
        """Build the message from its parts (see the class attributes).

        Args:
            table: raw table name.
            column: declared column that is missing or has the wrong type.
            expected: declared logical type.
            found: input type name, or ``"missing"``.
            present: column names present in the input, in input order.
            source: optional path the table was read from, appended to the message.
        """
        self.table = table
        self.column = column
        self.expected = expected
        self.found = found
        self.present = list(present)
        msg = f"table {table!r}: column {column!r} expected {expected}, found {found}"
        if found == "missing":
            close = difflib.get_close_matches(column, self.present, n=1, cutoff=0.6)
            if close:
                msg += f"; did you mean {close[0]!r}?"
        msg += f"; columns present: {self.present}"
        if source:
            msg += f" (read from {source})"
        super().__init__(msg)


class ConservationError(AssertionError):
    """A table's input rows are not exactly split between clean and quarantine."""


class ValidationFailed(RuntimeError):
    """One or more tables quarantined more than ``max_quarantine_fraction`` of their rows.

    Attributes:
        tables: names of the offending tables.
        result: the complete :class:`~fraudmine.validation.result.ValidationResult` (in-memory
            validation), so the caller can still write the quarantine; ``None`` when the
            stage streamed to disk (the quarantine is already written).
    """

    def __init__(self, message: str, tables: list[str], result: ValidationResult | None = None) -> None:
        """Store the offending tables and the full result.

        Args:
            message: human-readable summary naming the tables and their fractions.
            tables: offending table names.
            result: the computed validation result.
        """
        super().__init__(message)
        self.tables = tables
        self.result = result
