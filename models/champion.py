"""Champion/challenger in the nightly ``train`` stage: which model scores this run, and why.

The freshly trained bundle is the *challenger*; the bundle the registry alias ``champion`` points at
is the *champion* (fetched from the registry by alias).  They are compared on the **same time-based
holdout that neither has seen**: the labels that arrived at or after the champion's label cut-off
(``labels_before`` in its ``model.json``: it was trained on labels before that instant).  The
challenger's code and configuration are refitted on the labels before that cut-off for the comparison
(so it has not seen the holdout either); the challenger that is registered and scores is still the
one fitted on every label.  The merchant fraud head decides (the primary model; the other heads
travel with their bundle).

Outcomes (each with a sentence saying why, recorded in ``model.json`` and the run report):

* no champion, the same model, a champion whose features this code no longer computes, or a champion
  trained on labels after this run's date (a backfill scores with its own model): the challenger;
* a holdout too small to compare (``model.promotion.min_holdout_positives`` / ``_negatives``):
  ``model.promotion.on_small_holdout`` decides (default: the challenger, so sparse labels do not
  freeze the model);
* otherwise :func:`fraudmine.models.promotion.promotion_gate`: the challenger must beat the champion
  by ``model.promotion.margin`` of ``model.promotion.metric``, else the champion keeps scoring.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fraudmine.config import ModelConfig
from fraudmine.models.bundle import Head, NotEnoughLabels, train_bundle
from fraudmine.models.promotion import promotion_gate


@dataclass(frozen=True)
class Promotion:
    """Which bundle scores this run (``promote``: the challenger) and the evidence."""

    promote: bool
    reason: str
    challenger_version: str
    champion_version: str | None
    metric: str | None = None
    challenger_metric: float | None = None
    champion_metric: float | None = None
    margin: float | None = None
    holdout_rows: int = 0
    holdout_positives: int = 0
    holdout_from: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for ``model.json``."""
        return asdict(self)


def _ts(value: Any) -> pd.Timestamp:
    t = pd.Timestamp(value)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def decide(
    train: pd.DataFrame,
    features: list[str],
    cfg: ModelConfig,
    challenger_version: str,
    champion: tuple[dict[str, Any], dict[str, Head | None]] | None,
    champion_version: str | None,
    labels_before: datetime,
) -> Promotion:
    """Decide whether the challenger replaces the champion (module docstring).

    Args:
        train: this run's labelled training rows: ``features``, ``y_fraud``, ``y_low_quality`` and
            ``labelled_at`` (when each row's label became known).
        features: the challenger's feature columns.
        cfg: model settings (``cfg.promotion`` holds the gate's).
        challenger_version: the registered version of this run's bundle.
        champion: the champion bundle's ``(model.json, heads)``, ``None`` when there is none.
        champion_version: the version the ``champion`` alias points at.
        labels_before: this run's label cut-off (its run date).
    """
    p = cfg.promotion

    def out(promote: bool, reason: str, **kw: Any) -> Promotion:
        return Promotion(promote, reason, challenger_version, champion_version, **kw)

    if champion is None or champion_version is None:
        return out(True, "no champion registered: the challenger scores and becomes champion")
    if champion_version == challenger_version:
        return out(True, "the champion is this run's model (a rerun)")
    if not p.enabled:
        return out(True, "the promotion gate is off (model.promotion.enabled): the challenger scores")
    meta, heads = champion
    head = heads.get("fraud")
    cut = meta.get("labels_before")
    if head is None or cut is None:
        return out(True, f"champion {champion_version} does not record its label cut-off: the challenger scores")
    cutoff = _ts(cut)
    if cutoff > _ts(labels_before):
        return out(
            True,
            f"champion {champion_version} was trained on labels up to {cutoff.date()}, after this run's date "
            f"{_ts(labels_before).date()}: a backfill scores with its own model",
        )
    missing = sorted(set(meta["features"]) - set(train.columns))
    if missing:
        return out(True, f"champion {champion_version} needs features this code no longer computes: {missing[:5]}")
    rows = train[train["y_fraud"].notna()]
    holdout = (pd.to_datetime(rows["labelled_at"], utc=True) >= cutoff).to_numpy()
    y = rows["y_fraud"].astype(int).to_numpy()
    n_pos, n_neg = int(y[holdout].sum()), int(holdout.sum() - y[holdout].sum())
    evidence: dict[str, Any] = {
        "metric": p.metric,
        "margin": p.margin,
        "holdout_rows": int(holdout.sum()),
        "holdout_positives": n_pos,
        "holdout_from": cutoff.isoformat(),
    }
    if n_pos < p.min_holdout_positives or n_neg < p.min_holdout_negatives:
        keep = p.on_small_holdout == "keep"
        why = (
            f"only {n_pos} positive and {n_neg} negative labels arrived since the champion's cut-off "
            f"{cutoff.date()} (need {p.min_holdout_positives} and {p.min_holdout_negatives} to compare): "
            + ("the champion keeps scoring" if keep else "the challenger scores (model.promotion.on_small_holdout)")
        )
        return out(not keep, why, **evidence)
    with tempfile.TemporaryDirectory(prefix="fraudmine-gate-") as tmp:
        try:
            meta_gate = train_bundle(rows[~holdout].reset_index(drop=True), features, cfg, Path(tmp), ("fraud",))
        except NotEnoughLabels as e:
            return out(True, f"the challenger cannot be refitted before the cut-off ({e}): it scores", **evidence)
        fraud = meta_gate["heads"]["fraud"]
        gate_head = Head((Path(tmp) / fraud["file"]).read_text(), fraud["calib"])
    x = rows.loc[holdout]
    p_challenger = gate_head.predict(x[features].astype("float64"))[0]
    p_champion = head.predict(x[list(meta["features"])].astype("float64"))[0]
    d = promotion_gate(y[holdout], np.asarray(p_challenger), np.asarray(p_champion), p.metric, p.margin)
    return out(d.promote, d.reason, challenger_metric=d.challenger, champion_metric=d.champion, **evidence)
