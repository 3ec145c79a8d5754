"""Write-audit-publish gates: checks a run must pass before it replaces the published one.

:func:`audit` is pure: it compares statistics of the candidate run with the
previous published run's and returns the list of failures (empty = publishable).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from fraudmine.config import PublishConfig


@dataclass(frozen=True)
class RunStats:
    """Statistics of a run's scores and decisions gathered by the publish stage."""

    scored_rows: int
    null_scores: int
    out_of_range_scores: int
    distinct_run_ids: int
    missing_model_version: int
    decisions_rows: int
    decisions_missing_run_id: int

    def to_dict(self) -> dict[str, int]:
        """Plain dict for JSON."""
        return asdict(self)


class AuditFailed(RuntimeError):
    """The candidate run failed at least one publish gate; nothing was published."""


def audit(candidate: RunStats, previous: RunStats | None, cfg: PublishConfig) -> list[str]:
    """Return the failed gates (human-readable), empty if the run can be published."""
    fails: list[str] = []
    if candidate.scored_rows < cfg.min_scored_rows:
        fails.append(f"scores: {candidate.scored_rows} rows < min_scored_rows {cfg.min_scored_rows}")
    if candidate.null_scores:
        fails.append(f"scores: {candidate.null_scores} rows with null fraud_risk")
    if candidate.out_of_range_scores:
        fails.append(f"scores: {candidate.out_of_range_scores} rows with fraud_risk outside [0, 1]")
    if candidate.distinct_run_ids != 1:
        fails.append(f"scores: {candidate.distinct_run_ids} distinct run_id values (expected 1)")
    if candidate.missing_model_version:
        fails.append(f"scores: {candidate.missing_model_version} rows without model_version")
    if candidate.decisions_missing_run_id:
        fails.append(f"decisions: {candidate.decisions_missing_run_id} rows without run_id")
    if previous is not None and previous.scored_rows > 0:
        change = abs(candidate.scored_rows - previous.scored_rows) / previous.scored_rows
        if change > cfg.max_score_row_change:
            fails.append(
                f"scores: row count changed by {change:.1%} vs the published run "
                f"({previous.scored_rows} → {candidate.scored_rows}); limit {cfg.max_score_row_change:.0%}"
            )
    return fails


def table_gates(clean_rows: Mapping[str, int], cfg: PublishConfig) -> list[str]:
    """Failed per-table volume gates: a table with fewer clean rows than it must have.

    Args:
        clean_rows: clean rows per raw table (from ``validate/counts.json``).
        cfg: ``min_table_rows`` per table, ``default_min_table_rows`` for the rest.

    Returns:
        One message per offending table, naming it and the setting to change.
    """
    fails = []
    for table, n in sorted(clean_rows.items()):
        need = cfg.min_table_rows.get(table, cfg.default_min_table_rows)
        if n < need:
            fails.append(
                f"table {table!r}: {n} clean rows < {need} expected "
                f"(publish.min_table_rows.{table}; set it to 0 if the table may be empty)"
            )
    return fails
