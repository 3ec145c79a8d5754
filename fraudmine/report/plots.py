"""Plots of the run report, each returned as PNG bytes (matplotlib, Agg back end, no timestamps in the file)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from fraudmine.contracts.outputs import ACTIONS, RISK_BANDS

ACTION_COLOURS = {"approve": "#4c9f70", "review": "#e0a526", "reject": "#b03a2e", "escalate": "#6c3483"}
BAND_COLOURS = {"low": "#4c9f70", "medium": "#e0a526", "high": "#d35400", "critical": "#b03a2e"}


def _fig(width: float = 6.0, height: float = 3.0) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), dpi=100)


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def actions_by_item_type(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """Stacked bars: decisions per item type, split by action (rows of ``kpis['by_item_type']``)."""
    df = pd.DataFrame(list(rows), columns=["item_type", "action", "items"])
    table = df.pivot_table(index="item_type", columns="action", values="items", aggfunc="sum", fill_value=0)
    fig, ax = _fig()
    bottom = None
    for action in ACTIONS:
        if action in table.columns:
            vals = table[action]
            ax.barh(table.index, vals, left=bottom, color=ACTION_COLOURS[action], label=action)
            bottom = vals if bottom is None else bottom + vals
    ax.set_xlabel("items")
    ax.legend(loc="lower right", fontsize=8)
    return _png(fig)


def queue_vs_capacity(queue: Mapping[str, Any]) -> bytes:
    """Bars: review pool, capacity, and where the pool went (queued, exploration, deferred / approved)."""
    labels = ["review pool", "capacity", "queued", "exploration", "deferred", "over-capacity approved"]
    keys = ["review_pool", "review_capacity", "queued_review", "exploration", "deferred", "over_capacity_approved"]
    vals = [int(queue.get(k) or 0) for k in keys]
    fig, ax = _fig()
    colours = ["#7f8c8d", "#2c3e50", "#e0a526", "#2e86c1", "#b03a2e", "#b03a2e"]
    ax.bar(labels, vals, color=colours)
    ax.axhline(int(queue.get("review_capacity") or 0), color="#2c3e50", linestyle="--", linewidth=1)
    ax.set_ylabel("items")
    ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    return _png(fig)


def expected_loss_capture(losses: Sequence[float], capacity: int) -> bytes:
    """Cumulative share of the review pool's expected loss against queue position, with the capacity cut."""
    import numpy as np

    fig, ax = _fig()
    arr = np.sort(np.asarray(losses, dtype=float))[::-1]
    if arr.size and arr.sum() > 0:
        cum = np.cumsum(arr) / arr.sum()
        ax.plot(np.arange(1, arr.size + 1), cum, color="#b03a2e")
        ax.axvline(capacity, color="#2c3e50", linestyle="--", linewidth=1, label=f"capacity {capacity}")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("queue position (by expected loss)")
    ax.set_ylabel("share of expected loss")
    ax.set_ylim(0, 1.02)
    return _png(fig)


def risk_histogram(hist: pd.DataFrame) -> bytes:
    """Log-count histogram of calibrated fraud risk per entity type (``[entity_type, bin, count]``, 20 bins)."""
    fig, ax = _fig()
    for etype, sub in hist.groupby("entity_type", sort=True):
        sub = sub.sort_values("bin")
        ax.step(sub["bin"] / 20.0 + 0.025, sub["count"], where="mid", label=str(etype))
    ax.set_yscale("log")
    ax.set_xlim(0, 1)
    ax.set_xlabel("calibrated fraud risk")
    ax.set_ylabel("entities (log)")
    ax.legend(fontsize=8)
    return _png(fig)


def calibration_curve(cal: pd.DataFrame) -> bytes:
    """Reliability diagram: mean predicted risk vs observed fraud share per bin.

    Args:
        cal: ``[entity_type, p_mean, y_mean, n]``.
    """
    fig, ax = _fig(4.5, 4.0)
    ax.plot([0, 1], [0, 1], color="#7f8c8d", linestyle="--", linewidth=1, label="perfect")
    for etype, sub in cal.groupby("entity_type", sort=True):
        sub = sub.sort_values("p_mean")
        ax.plot(sub["p_mean"], sub["y_mean"], marker="o", label=str(etype))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean calibrated risk")
    ax.set_ylabel("observed fraud share")
    ax.legend(fontsize=8, loc="upper left")
    return _png(fig)


def band_drift(bands: pd.DataFrame) -> bytes:
    """Grouped bars of band shares, previous run vs this run (``[entity_type, risk_band, run, share]``)."""
    fig, ax = _fig()
    etypes = sorted(bands["entity_type"].unique())
    width = 0.4
    x = 0.0
    ticks, labels = [], []
    for etype in etypes:
        for band in RISK_BANDS:
            sub = bands[(bands["entity_type"] == etype) & (bands["risk_band"] == band)]
            prev = float(sub.loc[sub["run"] == "previous", "share"].sum())
            now = float(sub.loc[sub["run"] == "this", "share"].sum())
            ax.bar(x - width / 2, prev, width, color="#aab7b8")
            ax.bar(x + width / 2, now, width, color=BAND_COLOURS[band])
            ticks.append(x)
            labels.append(f"{etype}\n{band}")
            x += 1.2
    ax.set_xticks(ticks, labels, fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("share (grey: previous run)")
    return _png(fig)
