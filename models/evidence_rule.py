"""Label-free risk of an entity that can be abused in several unrelated ways: evidence first, per typology.

A listing can be a duplicate copy, a counterfeit or a brushing target.  One weighted mean of all their
features (:class:`~fraudmine.models.rank_score.RankRule` ``listing_abuse_v1``) let the many duplicate terms
drown the few brushing ones, and let honest relistings (within-shop title repeats, which are not fraud)
outrank every brushing target.  An :class:`EvidenceRule` keeps one part per typology and ranks entities
lexicographically by

1. whether any part has **hard evidence** (an output of a mining stage: a duplicate cluster, a brand
   violation, a brushing block — each part names its own conditions),
2. the strongest part with hard evidence (the part's own rank-rule score as a floor-anchored percentile),
3. the strongest part overall (the same percentile, evidence or not), which orders the entities with
   no hard evidence by their strongest soft signal.

The published risk is the percentile rank of that order, ``(0, 1]``, ties averaged; like every rank rule
it is a ranking, not a probability (``calibrated=false``).  Reasons come from the part that placed the
entity (the evidence part, else the strongest soft part).  A part's percentile is anchored at its floor:
an entity with no signal in a part ranks 0 there, so parts compare by how far into their own tail an entity
sits.  The parts' terms are those of ``listing_abuse_v1`` regrouped by typology, plus the brushing part's
order volume, five-star share and reviews per order (the typology inflates exactly these).  The design was
chosen on one development seed (s seed 1) and measured on others: see ``docs/benchmarks.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from fraudmine.models.rank_score import RankRule, RuleTerms, rule_terms


@dataclass(frozen=True)
class EvidencePart:
    """One typology of an :class:`EvidenceRule`.

    Attributes:
        rule: the part's terms (its ``name`` names the typology).
        evidence: ``(feature, minimum)`` pairs; the part has hard evidence when any feature reaches its minimum.
    """

    rule: RankRule
    evidence: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class EvidenceRule:
    """Evidence-first, per-typology rank rule (see the module docstring).

    Attributes:
        name: rule name (recorded in ``model.json``).
        parts: one part per typology.
    """

    name: str
    parts: tuple[EvidencePart, ...]

    @property
    def features(self) -> tuple[str, ...]:
        """Every feature the rule reads, in first-use order."""
        seen: dict[str, None] = {}
        for p in self.parts:
            for f, _ in p.rule.terms:
                seen.setdefault(f, None)
            for f, _ in p.evidence:
                seen.setdefault(f, None)
        return tuple(seen)

    def to_json(self) -> dict[str, Any]:
        """The rule as plain data (for ``model.json`` and the MLflow artefact)."""
        return {
            "name": self.name,
            "parts": [{**p.rule.to_json(), "evidence": [[f, m] for f, m in p.evidence]} for p in self.parts],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> EvidenceRule:
        """Inverse of :meth:`to_json`."""
        parts = tuple(
            EvidencePart(RankRule.from_json(p), tuple((str(f), float(m)) for f, m in p["evidence"])) for p in d["parts"]
        )
        return cls(str(d["name"]), parts)

    def rank(self, x: pd.DataFrame) -> EvidenceScores:
        """Score every row of ``x`` (see :class:`~fraudmine.models.rank_score.ScoringRule`)."""
        return evidence_rule_score(x, self)


@dataclass(frozen=True)
class EvidenceScores:
    """What :func:`evidence_rule_score` computed, kept for reasons and tests.

    Attributes:
        risk: published risk in ``(0, 1]``.
        part_pct: ``(n, n_parts)`` floor-anchored percentile of each part's score.
        has_evidence: ``(n, n_parts)`` hard evidence per part.
        winner: index of the part that placed each entity.
        terms: each part's :class:`~fraudmine.models.rank_score.RuleTerms` (ranks over the whole population).
        rule: the rule.
    """

    risk: NDArray[np.float64]
    part_pct: NDArray[np.float64]
    has_evidence: NDArray[np.bool_]
    winner: NDArray[np.int64]
    terms: tuple[RuleTerms, ...]
    rule: EvidenceRule

    def reasons(self, rows: NDArray[np.int64], codes: Mapping[str, str], k: int) -> list[list[str]]:
        """Top-``k`` reason codes of ``rows``, from the terms of the part that placed each row (ranks are those
        of the whole population: a reason says "top decile of all entities")."""
        out: dict[int, list[str]] = {}
        for j, part in enumerate(self.rule.parts):
            sel = rows[self.winner[rows] == j]
            if len(sel):
                out.update(zip(sel.tolist(), self.terms[j].reasons(sel, part.rule, codes, k), strict=True))
        return [out.get(int(i), []) for i in rows]


def _floor_pct(score: NDArray[np.float64]) -> NDArray[np.float64]:
    r = pd.Series(score).rank(method="min").to_numpy(dtype=np.float64)
    return np.asarray((r - 1) / max(len(score) - 1, 1), dtype=np.float64)


def lexicographic_pct(*keys: NDArray[np.float64]) -> NDArray[np.float64]:
    """Percentile rank in ``(0, 1]`` of rows ordered by ``keys`` (the first the most significant); equal key
    tuples share their average rank."""
    n = len(keys[0])
    if n == 0:
        return np.zeros(0)
    order = np.lexsort(tuple(reversed(keys)))
    stacked = np.stack([k[order] for k in keys], axis=1)
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = (stacked[1:] != stacked[:-1]).any(axis=1)
    group = np.cumsum(new_group)
    avg = pd.Series(np.arange(1, n + 1, dtype=np.float64)).groupby(group).transform("mean").to_numpy()
    out = np.empty(n)
    out[order] = avg / n
    return out


def evidence_rule_score(x: pd.DataFrame, rule: EvidenceRule) -> EvidenceScores:
    """Score every row of ``x`` (one row per entity, the rule's features as columns).

    Raises:
        ValueError: a feature of the rule is not a column of ``x`` (names the rule and the columns present).
    """
    missing = [f for f in rule.features if f not in x.columns]
    if missing:
        raise ValueError(
            f"evidence rule {rule.name!r}: feature(s) {missing} missing; columns present: {list(x.columns)}"
        )
    n, k = len(x), len(rule.parts)
    terms = tuple(rule_terms(x, part.rule) for part in rule.parts)
    pct = np.zeros((n, k))
    ev = np.zeros((n, k), dtype=bool)
    for j, part in enumerate(rule.parts):
        pct[:, j] = _floor_pct(terms[j].score)
        for f, minimum in part.evidence:
            ev[:, j] |= (pd.to_numeric(x[f], errors="coerce").fillna(-np.inf) >= minimum).to_numpy()
    any_ev = ev.any(axis=1)
    hard = np.where(ev, pct, -1.0)
    # 1 + the strongest evidence part's percentile for rows with evidence (so they come first), else 0
    hard_key: NDArray[np.float64] = np.where(any_ev, 1.0 + hard.max(axis=1), 0.0) if k else np.zeros(n)
    strongest: NDArray[np.float64] = pct.max(axis=1) if k else np.zeros(n)
    winner = np.where(any_ev, hard.argmax(axis=1), pct.argmax(axis=1)) if k else np.zeros(n, dtype=np.int64)
    risk = lexicographic_pct(hard_key, strongest)
    return EvidenceScores(risk, pct, ev, winner.astype(np.int64), terms, rule)


def rule_from_json(d: Mapping[str, Any]) -> RankRule | EvidenceRule:
    """A rule of ``model.json``: an :class:`EvidenceRule` when it has ``parts``, else a :class:`RankRule`."""
    return EvidenceRule.from_json(d) if "parts" in d else RankRule.from_json(d)
