"""Champion/challenger gate: margin, same holdout, time-based holdout, reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fraudmine.models.promotion import promotion_gate, time_holdout


def test_gate_needs_the_margin_and_says_why() -> None:
    y = np.array([0, 0, 0, 1, 1, 0, 1, 0])
    good = y + 0.01 * np.arange(8)
    weak = np.linspace(0, 1, 8)
    promoted = promotion_gate(y, good, weak, margin=0.05)
    assert promoted.promote and "promoted" in promoted.reason and promoted.challenger == 1.0
    kept = promotion_gate(y, weak, good, margin=0.05)
    assert not kept.promote and "champion keeps scoring" in kept.reason
    assert not promotion_gate(y, good, good, margin=0.01).promote  # a tie is not enough
    assert promotion_gate(y, good, None).promote
    assert not promotion_gate(np.zeros(4, dtype=int), weak[:4], weak[:4]).promote


def test_time_holdout_takes_the_latest_labels() -> None:
    at = pd.Series(pd.to_datetime(["2026-01-05", "2026-01-01", "2026-01-09", "2026-01-03"]))
    assert time_holdout(at, 0.5).tolist() == [True, False, True, False]
    with pytest.raises(ValueError, match="fraction"):
        time_holdout(at, 1.0)
