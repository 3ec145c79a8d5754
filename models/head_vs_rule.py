"""Does a trained head earn its place over its label-free rule?  An out-of-fold comparison on the labels.

A creator or listing head is trained only when the labels known before the run date suffice
(``model.min_*_labels``).  Enough labels to fit are not enough to trust: listing labels are moderator
verdicts on queued items, a few hundred, and the label-free rule (:mod:`fraudmine.models.rank_score`,
:mod:`fraudmine.models.evidence_rule`) already ranks with the relational evidence.  So the head replaces the
rule only when, on the labelled rows, its **out-of-fold** AUROC (stratified ``model.head_vs_rule_folds``
folds, each row scored by a model fitted without it, same hyperparameters as the head) beats the rule's
AUROC on the same rows by ``model.head_vs_rule_margin``; for a type whose rule also gives
``low_quality_risk`` (listings), the low-quality head must win against that rule too (a missing
low-quality head keeps the rule for both: one scorer per entity type, so every row's ``calibrated`` flag
holds for both of its risks).

The rule's percentile ranks need a population: here it is ranked over the labelled rows themselves (a
monotone transform per feature of its ranks over all entities, so its per-feature order is the same; the
weighted mean of ranks can differ slightly from the whole population's).  Too few labels for folds of
at least ``2 * calibration_folds`` per class is no evidence for the head: the rule stays.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from fraudmine.config import ModelConfig
from fraudmine.models.bundle import make_model
from fraudmine.models.rank_score import ScoringRule


@dataclass(frozen=True)
class HeadVsRule:
    """The comparison of one head with its rule on the same labelled rows (AUROC ``None``: not comparable)."""

    head: str
    head_oof_auroc: float | None
    rule_auroc: float
    n_pos: int
    n_neg: int
    folds: int
    margin: float

    @property
    def head_wins(self) -> bool:
        """Whether the head beats the rule by the margin."""
        return self.head_oof_auroc is not None and self.head_oof_auroc > self.rule_auroc + self.margin

    def reason(self) -> str:
        """One sentence for ``model.json`` and the run report."""
        if self.head_oof_auroc is None:
            return (
                f"{self.head} rule kept: {self.n_pos} positive / {self.n_neg} negative labels are too few for "
                f"{self.folds}-fold out-of-fold training (rule AUROC {self.rule_auroc:.3f} on them)"
            )
        verb = "replaces" if self.head_wins else "does not replace"
        return (
            f"{self.head} head {verb} the rule: out-of-fold AUROC {self.head_oof_auroc:.3f} "
            f"vs rule {self.rule_auroc:.3f} on {self.n_pos} positive / {self.n_neg} negative labels "
            f"(margin {self.margin:+.3f})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields plus ``head_wins`` and ``reason``."""
        return {**asdict(self), "head_wins": self.head_wins, "reason": self.reason()}


def compare_head_to_rule(
    frame: pd.DataFrame, features: list[str], rule: ScoringRule, cfg: ModelConfig, head: str = "fraud"
) -> HeadVsRule:
    """Out-of-fold AUROC of one head against its rule's AUROC on the rows with a ``y_<head>`` label.

    Args:
        frame: labelled rows with ``features`` and ``y_<head>`` (nullable).
        features: the head's feature columns.
        rule: the entity type's label-free rule of that risk (needs its own feature columns in ``frame``).
        cfg: hyperparameters, folds and margin.
        head: ``fraud`` or ``low_quality``.
    """
    rows = frame[frame[f"y_{head}"].notna()].reset_index(drop=True)
    y = rows[f"y_{head}"].astype(int).to_numpy()
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    rule_auroc = float(roc_auc_score(y, rule.rank(rows).risk)) if n_pos and n_neg else 0.5
    need = 2 * cfg.calibration_folds  # per class in every training part (RiskModel.fit)
    folds = cfg.head_vs_rule_folds
    if min(n_pos, n_neg) * (folds - 1) < need * folds:
        return HeadVsRule(head, None, rule_auroc, n_pos, n_neg, folds, cfg.head_vs_rule_margin)
    oof = np.zeros(len(rows), dtype=np.float64)
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=cfg.seed)
    for fit_rows, held in split.split(rows, y):
        model = make_model(cfg).fit(rows.loc[fit_rows, features], y[fit_rows])
        oof[held] = model.decision_function(rows.loc[held, features])
    return HeadVsRule(head, float(roc_auc_score(y, oof)), rule_auroc, n_pos, n_neg, folds, cfg.head_vs_rule_margin)
