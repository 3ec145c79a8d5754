"""Champion/challenger promotion gate on a time-based holdout.

A newly trained model (the *challenger*) replaces the registered *champion* only if it beats it on
the **same** holdout, the most recently labelled entities (labels are the slowest, most
time-dependent input: a random holdout would let the challenger be judged on periods it was trained
on), by at least a configured margin of the chosen metric.  Otherwise the champion keeps scoring
and the decision says why.  Pure functions: the caller scores both models on the holdout.

The nightly ``train`` stage applies it through :mod:`fraudmine.models.champion`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.metrics import average_precision_score, roc_auc_score

Metric = Literal["auprc", "auroc"]


@dataclass(frozen=True)
class GateDecision:
    """Outcome of :func:`promotion_gate`: whether to promote, the metric values and a sentence why."""

    promote: bool
    reason: str
    metric: Metric
    challenger: float | None
    champion: float | None


def time_holdout(labelled_at: pd.Series, fraction: float) -> NDArray[np.bool_]:
    """Mask of the latest ``fraction`` of rows by ``labelled_at`` (ties broken by row order).

    Raises:
        ValueError: ``fraction`` outside (0, 1).
    """
    if not 0 < fraction < 1:
        raise ValueError(f"holdout fraction must be in (0, 1); got {fraction}")
    order = np.argsort(pd.to_datetime(labelled_at).to_numpy(), kind="stable")
    k = max(1, round(fraction * len(order)))
    mask = np.zeros(len(order), dtype=bool)
    mask[order[len(order) - k :]] = True
    return mask


def _score(metric: Metric, y: NDArray[np.int_], p: NDArray[np.float64]) -> float:
    return float(average_precision_score(y, p) if metric == "auprc" else roc_auc_score(y, p))


def promotion_gate(
    y: NDArray[np.int_],
    challenger: NDArray[np.float64],
    champion: NDArray[np.float64] | None,
    metric: Metric = "auprc",
    margin: float = 0.01,
) -> GateDecision:
    """Decide whether the challenger replaces the champion.

    Args:
        y: holdout labels (0/1).
        challenger, champion: both models' scores of the same holdout rows (``champion`` ``None``
            when no champion is registered yet).
        metric: ``auprc`` or ``auroc``.
        margin: absolute improvement the challenger needs.
    """
    y = np.asarray(y, dtype=int)
    if champion is None:
        return GateDecision(True, "no champion registered: the challenger becomes champion", metric, None, None)
    if y.min(initial=1) == y.max(initial=0):
        return GateDecision(
            False,
            f"the holdout ({len(y)} rows) has a single class: models cannot be compared, the champion keeps scoring",
            metric,
            None,
            None,
        )
    ch, cp = _score(metric, y, challenger), _score(metric, y, champion)
    name = metric.upper()
    if ch >= cp + margin:
        why = f"challenger {name} {ch:.4f} beats champion {cp:.4f} by {ch - cp:+.4f} (margin {margin}): promoted"
        return GateDecision(True, why, metric, ch, cp)
    why = (
        f"challenger {name} {ch:.4f} vs champion {cp:.4f} ({ch - cp:+.4f}) is below the margin {margin}: "
        "the champion keeps scoring"
    )
    return GateDecision(False, why, metric, ch, cp)
