"""Label-free risk for entity types without enough time-safe labels: documented rank rules.

A :class:`RankRule` is a fixed, documented list of ``(feature, weight)`` terms, each a feature whose
*higher* value is riskier (a negative weight: lower is riskier).  The score of an entity is the
weighted mean of its per-feature percentile ranks (``method="min"``: the many accounts tied at zero
get the lowest rank, so "no evidence" adds nothing; a missing value adds nothing either), and the
published risk is the percentile rank of that score among the entities scored in the run, in
``(0, 1]``.  It is a ranking, not a probability: rows carry ``calibrated=false`` and get bands from
rank cut-offs (:func:`rank_band`) that never reach ``critical`` (no automatic action rests on an
uncalibrated score).  Reasons are the terms that put the entity in the top decile of the feature,
strongest first, mapped to reason codes.

The weights were set from the typology descriptions (DESIGN.md), before any evaluation against the
synthetic truth, and are not tuned on it.  When labels arrive for an entity type (``labels`` or
moderator outcomes), a LightGBM head replaces the rule (see ``models/README.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from fraudmine.config import ScoringConfig
from fraudmine.contracts.outputs import RISK_BANDS

REASON_MIN_PCT = 0.9


@dataclass(frozen=True)
class RankRule:
    """A label-free score: weighted mean of percentile ranks of risk-direction features.

    Attributes:
        name: rule name (recorded in ``model.json``).
        terms: ``(feature, weight)`` pairs; weight > 0: higher is riskier, < 0: lower is riskier.
    """

    name: str
    terms: tuple[tuple[str, float], ...]

    @property
    def features(self) -> tuple[str, ...]:
        """Every feature the rule reads."""
        return tuple(f for f, _ in self.terms)

    def to_json(self) -> dict[str, Any]:
        """The rule as plain data (for ``model.json`` and the MLflow artefact)."""
        return {"name": self.name, "terms": [[f, w] for f, w in self.terms]}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> RankRule:
        """Inverse of :meth:`to_json`."""
        return cls(str(d["name"]), tuple((str(f), float(w)) for f, w in d["terms"]))

    def rank(self, x: pd.DataFrame) -> RankedRows:
        """Score every row of ``x`` (see :class:`ScoringRule`)."""
        t = rule_terms(x, self)
        return _RankRuleRows(_average_pct(t.score), t, self)


class RankedRows(Protocol):
    """The rows a rule scored: their risk and, on demand, the reasons of some of them."""

    @property
    def risk(self) -> NDArray[np.float64]:
        """Rank-normalised risk in ``(0, 1]`` per row."""
        ...

    def reasons(self, rows: NDArray[np.int64], codes: Mapping[str, str], k: int) -> list[list[str]]:
        """Top-``k`` distinct reason codes of each row of ``rows``, strongest first."""
        ...


class ScoringRule(Protocol):
    """A label-free rule :func:`score_rank_rules` applies: :class:`RankRule` or
    :class:`fraudmine.models.evidence_rule.EvidenceRule`."""

    @property
    def name(self) -> str:
        """Rule name (recorded in ``model.json``)."""
        ...

    @property
    def features(self) -> tuple[str, ...]:
        """Every feature the rule reads."""
        ...

    def to_json(self) -> dict[str, Any]:
        """The rule as plain data."""
        ...

    def rank(self, x: pd.DataFrame) -> RankedRows:
        """Rank-normalised risk in ``(0, 1]`` of every row of ``x`` (one row per entity)."""
        ...


@dataclass(frozen=True)
class RuleTerms:
    """A rank rule's terms on some rows.

    Attributes:
        ranks: ``(n, n_terms)`` per-term percentile ranks (:func:`term_ranks`).
        weighted: ``ranks * |weight|``.
        score: the weighted mean of the ranks per row.
    """

    ranks: NDArray[np.float64]
    weighted: NDArray[np.float64]
    score: NDArray[np.float64]

    def reasons(self, rows: NDArray[np.int64], rule: RankRule, codes: Mapping[str, str], k: int) -> list[list[str]]:
        """:func:`rank_reasons` of ``rows``."""
        return rank_reasons(self.ranks[rows], self.weighted[rows], rule, codes, k)


@dataclass(frozen=True)
class _RankRuleRows:
    risk: NDArray[np.float64]
    terms: RuleTerms
    rule: RankRule

    def reasons(self, rows: NDArray[np.int64], codes: Mapping[str, str], k: int) -> list[list[str]]:
        return self.terms.reasons(rows, self.rule, codes, k)


def term_ranks(x: pd.DataFrame, rule: RankRule) -> NDArray[np.float64]:
    """Per-term percentile ranks in ``[0, 1]``, shape ``(n, n_terms)``; missing values rank 0.

    Raises:
        ValueError: a term's feature is not a column of ``x`` (names the rule and the columns present).
    """
    missing = [f for f, _ in rule.terms if f not in x.columns]
    if missing:
        raise ValueError(f"rank rule {rule.name!r}: feature(s) {missing} missing; columns present: {list(x.columns)}")
    n = len(x)
    out = np.zeros((n, len(rule.terms)))
    for j, (f, w) in enumerate(rule.terms):
        v = pd.to_numeric(x[f], errors="coerce").astype("float64")
        v = v if w > 0 else -v
        r = v.rank(method="min", na_option="keep")
        # rank 1 (the minimum, shared by every tie at it) maps to 0: the floor is no evidence
        out[:, j] = ((r - 1) / max(n - 1, 1)).fillna(0.0).to_numpy()
    return out


def rule_terms(x: pd.DataFrame, rule: RankRule) -> RuleTerms:
    """Per-term ranks, weighted ranks and the weighted-mean score of every row of ``x``."""
    ranks = term_ranks(x, rule)
    w = np.array([abs(wt) for _, wt in rule.terms])
    weighted = ranks * w
    return RuleTerms(ranks, weighted, np.asarray(weighted.sum(axis=1) / w.sum(), dtype=np.float64))


def _average_pct(score: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(pd.Series(score).rank(method="average", pct=True), dtype=np.float64)


def rank_rule_score(x: pd.DataFrame, rule: RankRule) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Rank-normalised risk in ``(0, 1]`` and the per-term weighted ranks (for reasons).

    Returns:
        ``(risk, weighted)``: ``risk[i]`` is the percentile rank of entity ``i``'s rule score (ties share
        the average rank); ``weighted`` is ``(n, n_terms)`` ``|weight| * rank``.
    """
    t = rule_terms(x, rule)
    return _average_pct(t.score), t.weighted


def rank_reasons(
    ranks: NDArray[np.float64], weighted: NDArray[np.float64], rule: RankRule, codes: Mapping[str, str], k: int
) -> list[list[str]]:
    """Top-``k`` distinct reason codes per row, strongest first: the terms in the feature's top decile, or,
    when no term is (a high combined score made of several moderately high terms), the terms that add
    the most to the score.  A row with any evidence gets at least one reason."""
    out: list[list[str]] = []
    order = np.argsort(-weighted, axis=1, kind="stable")
    for i in range(weighted.shape[0]):
        top = [j for j in order[i] if ranks[i, j] >= REASON_MIN_PCT]
        picks = top or [j for j in order[i] if weighted[i, j] > 0]
        got: list[str] = []
        for j in picks:
            feat = rule.terms[j][0]
            code = codes.get(feat, feat.upper())
            if code not in got:
                got.append(code)
            if len(got) >= k:
                break
        out.append(got)
    return out


def rank_band(risk: NDArray[np.float64], cfg: ScoringConfig) -> NDArray[np.str_]:
    """Band of a rank-normalised risk: ``medium`` from ``rank_band_medium``, ``high`` from ``rank_band_high``.

    ``critical`` is never given to an uncalibrated score.
    """
    idx = np.searchsorted(np.array([cfg.rank_band_medium, cfg.rank_band_high]), risk, side="right")
    return np.asarray(np.array(RISK_BANDS[:3])[idx])


def score_rank_rules(
    pdf: pd.DataFrame,
    entity_type: str,
    id_col: str,
    fraud: ScoringRule,
    low_quality: ScoringRule | None,
    codes: Mapping[str, str],
    cfg: ScoringConfig,
    model_version: str,
    run_id: str,
    as_of: datetime,
) -> pd.DataFrame:
    """Score one entity type with rank rules into the :data:`~fraudmine.contracts.outputs.SCORES_DDL` layout.

    Args:
        pdf: one row per entity, ``id_col`` plus the rules' features.
        entity_type: value of the ``entity_type`` column.
        id_col: raw id column of ``pdf``.
        fraud: rule of ``fraud_risk``.
        low_quality: rule of ``low_quality_risk`` (``None``: null, the notion does not apply).
        codes: feature → reason code.
        cfg: rank bands and reason settings.
        model_version, run_id, as_of: stamped on every row.
    """
    x = pdf.reset_index(drop=True)
    scored = fraud.rank(x)
    bands = rank_band(scored.risk, cfg)
    reasons: list[list[str]] = [[] for _ in range(len(x))]
    need = np.flatnonzero(np.isin(bands, RISK_BANDS[RISK_BANDS.index(cfg.reasons_min_band) :])).astype(np.int64)
    if len(need):
        for i, got in zip(need, scored.reasons(need, codes, cfg.reasons_top_k), strict=True):
            reasons[i] = got
    lq = low_quality.rank(x).risk if low_quality is not None else np.full(len(x), np.nan)
    risk = scored.risk
    return pd.DataFrame(
        {
            "entity_type": entity_type,
            "entity_id": x[id_col].astype(str).to_numpy(),
            "fraud_risk": risk,
            "low_quality_risk": pd.array(lq, dtype="Float64"),
            "calibrated": False,
            "risk_band": bands,
            "top_reasons": reasons,
            "model_version": model_version,
            "run_id": run_id,
            "as_of": pd.Timestamp(as_of),
        }
    )
