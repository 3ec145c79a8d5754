"""The non-merchant heads of the one model bundle: train (or fall back to a rule), then score.

``model.json`` gains ``entities``: entity type → entry, and trained heads live in a sub-folder
named after the entity type (itself a bundle folder, :mod:`fraudmine.models.bundle` layout)::

    model.json                  {"features": [...], "heads": {...merchant...}, "entities": {...}}
    fraud.lgb.txt, low_quality.lgb.txt        merchant heads
    creator/model.json, creator/fraud.lgb.txt a trained creator head (when labels suffice)

An entry is ``{"kind": "lightgbm", "dir": "creator", "heads": {head: {n_pos, n_neg, val_auroc} | null},
"head_vs_rule": {...}}`` or ``{"kind": "rank_rule", "fraud_rule": {...}, "low_quality_rule": {...} | null,
"why": "...", "head_vs_rule": {...} (when a head was trained and lost)}``.  A trained head scores only when it
beats its rule out of fold on the labels (:mod:`fraudmine.models.head_vs_rule`).
(a :class:`fraudmine.models.rank_score.RankRule` or an
:class:`fraudmine.models.evidence_rule.EvidenceRule` as data).  The whole folder is registered as one MLflow
model version, so every score row of a run carries the same ``model_version``.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from fraudmine.config import ModelConfig, ScoringConfig
from fraudmine.contracts.outputs import SCORES_DDL
from fraudmine.features.columns import reason_codes
from fraudmine.models.bundle import NotEnoughLabels, load_bundle, train_bundle
from fraudmine.models.entities import ENTITY_SPECS, EntitySpec
from fraudmine.models.evidence_rule import rule_from_json
from fraudmine.models.head_vs_rule import HeadVsRule, compare_head_to_rule
from fraudmine.models.rank_score import score_rank_rules
from fraudmine.models.scoring import score_spark

log = logging.getLogger(__name__)


def _rule_entry(etype: str, why: str) -> dict[str, Any]:
    spec = ENTITY_SPECS[etype]
    lq = spec.low_quality_rule.to_json() if spec.low_quality_rule else None
    return {"kind": "rank_rule", "fraud_rule": spec.fraud_rule.to_json(), "low_quality_rule": lq, "why": why}


def _versus_rules(frame: pd.DataFrame, spec: EntitySpec, sub: dict[str, Any], cfg: ModelConfig) -> list[HeadVsRule]:
    """Each trained head of ``sub`` against the rule of the same risk (low quality only where a rule gives it)."""
    out = [compare_head_to_rule(frame, list(spec.features), spec.fraud_rule, cfg, "fraud")]
    if spec.low_quality_rule is not None and sub["heads"].get("low_quality") is not None:
        out.append(compare_head_to_rule(frame, list(spec.features), spec.low_quality_rule, cfg, "low_quality"))
    return out


def train_entities(train: Mapping[str, pd.DataFrame | None], cfg: ModelConfig, out: Path) -> dict[str, Any]:
    """Train a head per trainable entity type with enough labels; a rule entry for every other type.

    Args:
        train: entity type → labelled frame (features, ``y_fraud``, ``y_low_quality``) or ``None``.
        cfg: hyperparameters and minimum label counts (the merchant ones).
        out: the bundle folder (sub-folders are created per trained type).

    Returns:
        The ``entities`` entry of ``model.json``.
    """
    entities: dict[str, Any] = {}
    for etype, spec in ENTITY_SPECS.items():
        frame = train.get(etype)
        if not spec.trainable:
            entities[etype] = _rule_entry(etype, f"no {etype} labels in the contract")
            continue
        if frame is None or frame.empty:
            entities[etype] = _rule_entry(etype, f"no labelled {etype} before the run date")
            continue
        frame = frame.sort_values(spec.id_col, kind="stable").reset_index(drop=True)
        try:
            sub = train_bundle(frame, list(spec.features), cfg, out / etype, required=("fraud",))
        except NotEnoughLabels as exc:
            shutil.rmtree(out / etype, ignore_errors=True)
            log.info("train: %s scored by its rule: %s", etype, exc)
            entities[etype] = _rule_entry(etype, str(exc))
            continue
        versus = _versus_rules(frame, spec, sub, cfg)
        for v in versus:
            log.info("train: %s %s", etype, v.reason())
        lost = [v for v in versus if not v.head_wins]
        if lost or (spec.low_quality_rule is not None and sub["heads"].get("low_quality") is None):
            why = lost[0].reason() if lost else "low_quality head not trainable: the rule keeps both risks"
            shutil.rmtree(out / etype, ignore_errors=True)
            entities[etype] = _rule_entry(etype, why) | {"head_vs_rule": [v.to_dict() for v in versus]}
            continue
        heads = {
            h: None if v is None else {k: v[k] for k in ("n_pos", "n_neg", "val_auroc")}
            for h, v in sub["heads"].items()
        }
        entities[etype] = {
            "kind": "lightgbm",
            "dir": etype,
            "heads": heads,
            "head_vs_rule": [v.to_dict() for v in versus],
        }
    return entities


def score_entities(
    features: Mapping[str, Any],
    meta: dict[str, Any],
    bundle: Path,
    cfg: ScoringConfig,
    run_id: str,
    as_of: datetime,
) -> list[Any]:
    """Score every non-merchant entity type present in ``features``.

    Args:
        features: entity type → Spark feature frame (``features/<type>_score``).
        meta: the bundle's ``model.json`` (``entities`` entry, ``model_version``).
        bundle: the bundle folder.
        cfg: bands and reasons.
        run_id, as_of: stamped on every row.

    Returns:
        Spark DataFrames with schema :data:`SCORES_DDL`, one per entity type.
    """
    version = str(meta.get("model_version", "unregistered"))
    out = []
    for etype, entry in meta.get("entities", {}).items():
        feats = features.get(etype)
        if feats is None:
            continue
        spec = ENTITY_SPECS[etype]
        if entry["kind"] == "lightgbm":
            sub_meta, heads = load_bundle(bundle / entry["dir"])
            out.append(
                score_spark(
                    feats, {**sub_meta, "model_version": version}, heads, cfg, run_id, as_of, etype, spec.id_col
                )
            )
            continue
        # rank rules need the whole population (percentile ranks): one driver-side pass
        fraud = rule_from_json(entry["fraud_rule"])
        lq = rule_from_json(entry["low_quality_rule"]) if entry.get("low_quality_rule") else None
        cols = sorted({spec.id_col, *fraud.features, *(lq.features if lq else ())})
        pdf = feats.select(*cols).toPandas().sort_values(spec.id_col, kind="stable")
        scored = score_rank_rules(pdf, etype, spec.id_col, fraud, lq, reason_codes(etype), cfg, version, run_id, as_of)
        out.append(feats.sparkSession.createDataFrame(scored, schema=SCORES_DDL))
    return out
