"""Write-audit-publish gates: checks a run must pass before it replaces the published one.

The publish step gathers a :class:`RunStats` of the candidate run with
:func:`collect_run_stats` (Spark aggregations over its scores and decisions), reads the
published run's stats from its ``publish/audit.json``, and calls :func:`evaluate_gates`
(pure).  Gates:

- ``schema``: scores and decisions have exactly the declared columns and types
  (:data:`~fraudmine.contracts.outputs.SCORES_DDL`, :data:`~fraudmine.contracts.outputs.DECISIONS_DDL`);
- ``scores``: at least ``min_scored_rows``, no null or out-of-range ``fraud_risk``, one
  ``run_id``, a ``model_version`` on every row; ``decisions``: a ``run_id`` on every row;
- ``volume``: row count of each scored entity type, and of the decisions, changed by at
  most ``max_score_row_change`` / ``max_decision_row_change`` vs the published run;
- ``psi``: the population stability index of every model's score (entity type x risk column)
  against the published run, binned at the published run's quantiles (scores rounded to 4 decimals,
  edges moved into the gaps between distinct values, see :func:`psi_edges`), at most ``max_psi``
  (Siddiqi, *Credit Risk Scorecards*, 2006: < 0.1 stable, 0.1-0.25 watch, > 0.25 shifted);
- ``auto_reject_share``: automatic rejects over decisions at most ``max_auto_reject_share``.

A failing gate blocks publishing (``current`` keeps naming the last good run) unless the run
is forced; a forced publish records the gates it overrode.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from fraudmine.config import PublishConfig
from fraudmine.contracts.outputs import DECISIONS_DDL, SCORES_DDL

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

RISK_COLUMNS = ("fraud_risk", "low_quality_risk")


@dataclass(frozen=True)
class ScoreProfile:
    """A model's score distribution: interior bin edges and the count in each of ``len(edges) + 1`` bins."""

    edges: list[float]
    counts: list[int]


@dataclass(frozen=True)
class RunStats:
    """Statistics of a run's scores and decisions gathered by the publish stage.

    ``profiles`` are the run's own score distributions (the next run's PSI reference);
    ``binned_at_previous`` are its counts at the *previous* run's edges (for this run's PSI).
    """

    scored_rows: int
    null_scores: int
    out_of_range_scores: int
    distinct_run_ids: int
    missing_model_version: int
    decisions_rows: int
    decisions_missing_run_id: int
    scored_by_type: dict[str, int] = field(default_factory=dict)
    auto_rejects: int = 0
    schema_problems: list[str] = field(default_factory=list)
    profiles: dict[str, ScoreProfile] = field(default_factory=dict)
    binned_at_previous: dict[str, list[int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunStats:
        """Inverse of :meth:`to_dict` (stats written by older versions lack the newer fields)."""
        d = dict(data)
        d["profiles"] = {k: ScoreProfile(**v) for k, v in d.get("profiles", {}).items()}
        return cls(**d)


@dataclass(frozen=True)
class GateResult:
    """One gate's outcome: ``value`` against ``limit``, and a message saying what to do when it fails."""

    gate: str
    passed: bool
    message: str
    value: float | None = None
    limit: float | None = None


class AuditFailed(RuntimeError):
    """The candidate run failed at least one publish gate; nothing was published."""


def ddl_types(ddl: str) -> list[tuple[str, str]]:
    """``[(column, type)]`` of a simple DDL string."""
    return [(p.strip().split(" ", 1)[0], p.strip().split(" ", 1)[1].strip()) for p in ddl.split(",")]


def schema_problems(table: str, actual: list[tuple[str, str]], ddl: str) -> list[str]:
    """Differences between a table's ``(column, simpleString type)`` list and its declared DDL."""
    want = dict(ddl_types(ddl))
    have = dict(actual)
    out = [f"{table}: missing column {c!r} ({t})" for c, t in want.items() if c not in have]
    out += [f"{table}: column {c!r} is {have[c]}, declared {t}" for c, t in want.items() if c in have and have[c] != t]
    out += [f"{table}: undeclared column {c!r}" for c in have if c not in want]
    return out


def psi(expected: list[int], actual: list[int], eps: float = 1e-4) -> float:
    """Population stability index ``sum((a - e) * ln(a / e))`` over bins of proportions (``eps``-smoothed).

    Raises:
        ValueError: the two count lists differ in length.
    """
    if len(expected) != len(actual):
        raise ValueError(f"psi: {len(expected)} expected bins vs {len(actual)} actual bins")
    te, ta = sum(expected) or 1, sum(actual) or 1
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        pe, pa = max(e / te, eps), max(a / ta, eps)
        total += (pa - pe) * math.log(pa / pe)
    return total


def _change(gate: str, what: str, cand: int, prev: int, limit: float) -> GateResult:
    change = abs(cand - prev) / prev
    ok = change <= limit
    msg = f"{what}: row count changed by {change:.1%} vs the published run ({prev} → {cand}); limit {limit:.0%}"
    return GateResult(gate, ok, msg, change, limit)


def evaluate_gates(candidate: RunStats, previous: RunStats | None, cfg: PublishConfig) -> list[GateResult]:
    """Evaluate every gate (see the module docstring); ``previous`` is the published run's stats, if any."""
    c, out = candidate, []
    out.append(
        GateResult("schema", not c.schema_problems, "; ".join(c.schema_problems) or "scores and decisions match")
    )
    checks = [
        (c.scored_rows >= cfg.min_scored_rows, f"scores: {c.scored_rows} rows (min_scored_rows {cfg.min_scored_rows})"),
        (not c.null_scores, f"scores: {c.null_scores} rows with null fraud_risk"),
        (not c.out_of_range_scores, f"scores: {c.out_of_range_scores} rows with fraud_risk outside [0, 1]"),
        (c.distinct_run_ids == 1, f"scores: {c.distinct_run_ids} distinct run_id values (expected 1)"),
        (not c.missing_model_version, f"scores: {c.missing_model_version} rows without model_version"),
        (not c.decisions_missing_run_id, f"decisions: {c.decisions_missing_run_id} rows without run_id"),
    ]
    out += [GateResult("scores", ok, msg) for ok, msg in checks]
    if previous is not None:
        prev_types = previous.scored_by_type or {"all": previous.scored_rows}
        cand_types = c.scored_by_type if previous.scored_by_type else {"all": c.scored_rows}
        for etype, n_prev in sorted(prev_types.items()):
            if n_prev > 0:
                what = f"scores ({etype})" if etype != "all" else "scores"
                out.append(_change("volume", what, cand_types.get(etype, 0), n_prev, cfg.max_score_row_change))
        if previous.decisions_rows > 0:
            out.append(
                _change("volume", "decisions", c.decisions_rows, previous.decisions_rows, cfg.max_decision_row_change)
            )
        for key, prof in sorted(previous.profiles.items()):
            got = c.binned_at_previous.get(key)
            if got is None:
                out.append(GateResult("psi", False, f"{key}: scored in the published run, missing in this run"))
                continue
            value = psi(prof.counts, got)
            ok = value <= cfg.max_psi
            msg = f"{key}: PSI {value:.3f} vs the published run (limit {cfg.max_psi})"
            out.append(GateResult("psi", ok, msg, value, cfg.max_psi))
    share = c.auto_rejects / c.decisions_rows if c.decisions_rows else 0.0
    lim = cfg.max_auto_reject_share
    msg = f"decisions: {share:.1%} automatic rejects ({c.auto_rejects} of {c.decisions_rows}); limit {lim:.0%}"
    out.append(GateResult("auto_reject_share", share <= lim, msg, share, lim))
    return out


def table_gates(
    clean_rows: Mapping[str, int], cfg: PublishConfig, optional: frozenset[str] = frozenset()
) -> list[GateResult]:
    """Per-table volume gates: every raw table has at least the clean rows it must have.

    Args:
        clean_rows: clean rows per raw table (from ``validate/counts.json``).
        cfg: ``min_table_rows`` per table, ``default_min_table_rows`` for the rest.
        optional: tables the contract marks optional (they may be empty unless
            ``min_table_rows`` says otherwise).

    Returns:
        One :class:`GateResult` per table; a failed one names the table and the setting to change.
    """
    out = []
    for table, n in sorted(clean_rows.items()):
        need = cfg.min_table_rows.get(table, 0 if table in optional else cfg.default_min_table_rows)
        msg = (
            f"table {table!r}: {n} clean rows < {need} expected "
            f"(publish.min_table_rows.{table}; set it to 0 if the table may be empty)"
            if n < need
            else f"table {table!r}: {n} clean rows (at least {need})"
        )
        out.append(GateResult("table_rows", n >= need, msg, float(n), float(need)))
    return out


def audit(candidate: RunStats, previous: RunStats | None, cfg: PublishConfig) -> list[str]:
    """Messages of the failed gates, empty if the run can be published."""
    return [f"[{r.gate}] {r.message}" for r in evaluate_gates(candidate, previous, cfg) if not r.passed]


def bin_counts(df: DataFrame, col: str, edges: list[float]) -> list[int]:
    """Counts of ``col`` in the ``len(edges) + 1`` bins ``(-inf, e1), [e1, e2), ..., [ek, inf)`` (one aggregation)."""
    from pyspark.sql import functions as F

    x = F.col(col)
    conds = [x < edges[0]] if edges else []
    conds += [(x >= lo) & (x < hi) for lo, hi in itertools.pairwise(edges)]
    conds.append(x >= edges[-1] if edges else x.isNotNull())
    row = df.agg(*[F.sum(cond.cast("long")).alias(f"b{i}") for i, cond in enumerate(conds)]).first()
    return [int(row[f"b{i}"] or 0) for i in range(len(conds))] if row else [0] * len(conds)


def gap_edges(df: DataFrame, col: str, quantiles: list[float]) -> list[float]:
    """Bin edges placed in the gaps below the given quantile values, not on them (one aggregation).

    Calibrated scores are step functions (isotonic calibration gives a few dozen distinct values), so
    a quantile edge usually sits exactly on an atom holding a large share of the rows.  A retrained
    model moves that atom by a hair (0.0100 → 0.0099) and the whole mass would cross the edge: the
    PSI would explode on a distribution that did not change.  Each edge is moved down to the midpoint
    between its quantile value and the largest value below it (an edge with nothing below is dropped),
    so an atom stays in its bin unless it moves by half the gap to its neighbour.  Continuous scores
    are barely affected (the gaps are tiny).
    """
    from pyspark.sql import functions as F

    qs = sorted(set(quantiles))
    if not qs:
        return []
    x = F.col(col)
    row = df.agg(*[F.max(F.when(x < q, x)).alias(f"b{i}") for i, q in enumerate(qs)]).first()
    below = [None if row is None else row[f"b{i}"] for i in range(len(qs))]
    # an edge at the minimum (nothing below it) bounds an empty bin and sits on the lowest atom: drop it
    return [(float(b) + q) / 2.0 for q, b in zip(qs, below, strict=True) if b is not None]


PSI_DECIMALS = 4
"""Scores are compared at this resolution when the PSI bins are placed: calibrated scores are clusters of
near-ties (cross-fitted isotonic calibration averages several step functions: 0.03846155, 0.03846156, ...),
and an edge inside such a cluster would split it by noise."""


def psi_edges(df: DataFrame, col: str, probs: list[float]) -> list[float]:
    """PSI bin edges of ``col``: quantiles of the scores rounded to :data:`PSI_DECIMALS`, moved into the gaps.

    Args:
        df: the scores (non-null ``col``).
        col: the risk column.
        probs: the quantile probabilities (``psi_bins - 1`` of them).
    """
    from pyspark.sql import functions as F

    rounded = df.select(F.round(F.col(col), PSI_DECIMALS).alias("_r"))
    return gap_edges(rounded, "_r", rounded.approxQuantile("_r", probs, 0.001))


def collect_run_stats(
    scores: DataFrame, decisions: DataFrame, previous: RunStats | None, cfg: PublishConfig, workers: int = 1
) -> RunStats:
    """Gather the audited statistics of a candidate run (a handful of Spark aggregations).

    Args:
        scores: the run's scores; decisions: its decisions.
        previous: the published run's stats (their profiles give the PSI bins), or ``None``.
        cfg: ``psi_bins``.
        workers: aggregations run at once (:func:`fraudmine.spark.run_concurrently`; the
            result does not depend on it).
    """
    from pyspark.sql import functions as F

    from fraudmine.spark import run_concurrently

    spark = scores.sparkSession
    problems = schema_problems("scores", [(f.name, f.dataType.simpleString()) for f in scores.schema], SCORES_DDL)
    problems += schema_problems(
        "decisions", [(f.name, f.dataType.simpleString()) for f in decisions.schema], DECISIONS_DDL
    )
    has_status = "queue_status" in decisions.columns
    auto_reject = (F.col("action") == "reject") & (F.col("queue_status") == "auto" if has_status else F.lit(True))
    aggregations: list[Callable[[], Any]] = [
        lambda: scores.agg(
            F.count(F.lit(1)).alias("n"),
            F.sum(F.col("fraud_risk").isNull().cast("long")).alias("null"),
            F.sum(((F.col("fraud_risk") < 0) | (F.col("fraud_risk") > 1)).cast("long")).alias("oor"),
            F.countDistinct("run_id").alias("runs"),
            F.sum(F.col("model_version").isNull().cast("long")).alias("nomv"),
        ).first(),
        lambda: decisions.agg(
            F.count(F.lit(1)).alias("n"),
            F.sum(F.col("run_id").isNull().cast("long")).alias("norun"),
            F.sum(auto_reject.cast("long")).alias("rej"),
        ).first(),
        lambda: scores.groupBy("entity_type").count().collect(),
    ]
    s, d, type_rows = run_concurrently(spark, aggregations, workers)
    by_type = {r["entity_type"]: int(r["count"]) for r in type_rows}
    probs = [i / cfg.psi_bins for i in range(1, cfg.psi_bins)]

    def profile(etype: str, col: str) -> tuple[ScoreProfile, list[int] | None] | None:
        key = f"{etype}/{col}"
        vals = scores.where(F.col("entity_type") == etype).where(F.col(col).isNotNull())
        if not vals.limit(1).collect():
            return None
        edges = psi_edges(vals, col, probs)
        binned = None
        if previous is not None and key in previous.profiles:
            binned = bin_counts(vals, col, previous.profiles[key].edges)
        return ScoreProfile(edges, bin_counts(vals, col, edges)), binned

    keys = [(etype, col) for etype in sorted(by_type) for col in RISK_COLUMNS if col in scores.columns]
    found = run_concurrently(spark, [functools.partial(profile, *k) for k in keys], workers)
    profiles: dict[str, ScoreProfile] = {}
    binned: dict[str, list[int]] = {}
    for (etype, col), got in zip(keys, found, strict=True):
        if got is not None:
            profiles[f"{etype}/{col}"] = got[0]
            if got[1] is not None:
                binned[f"{etype}/{col}"] = got[1]
    return RunStats(
        scored_rows=int(s["n"]),
        null_scores=int(s["null"] or 0),
        out_of_range_scores=int(s["oor"] or 0),
        distinct_run_ids=int(s["runs"]),
        missing_model_version=int(s["nomv"] or 0),
        decisions_rows=int(d["n"]),
        decisions_missing_run_id=int(d["norun"] or 0),
        scored_by_type=by_type,
        auto_rejects=int(d["rej"] or 0),
        schema_problems=problems,
        profiles=profiles,
        binned_at_previous=binned,
    )
