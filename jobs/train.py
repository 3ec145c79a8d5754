"""Stage ``train``: fit the LightGBM heads on time-safe training features; register in MLflow; gate.

One bundle, several heads: the merchant heads at the top level, a creator head when creator labels
suffice, label-free rules for the other entity types (``fraudmine/models/entity_bundle.py``); the whole
bundle is registered as one MLflow model version, with the alias ``challenger``.  The champion/challenger
gate (:mod:`fraudmine.models.champion`) then decides which bundle this run's ``model/`` folder holds, and
so which one scores: the challenger, or the champion fetched from the registry by its alias (the
challenger then stays under ``model/challenger/``).  The decision and its reason are in ``model.json``
(``promotion``) and the run report.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from fraudmine.features.columns import FEATURE_COLUMNS, TABULAR_FEATURES
from fraudmine.features.dictionary import render_markdown
from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.models import champion as gate
from fraudmine.models.bundle import load_bundle, train_bundle, write_meta
from fraudmine.models.entities import ENTITY_SPECS
from fraudmine.models.entity_bundle import train_entities
from fraudmine.models.registry import make_registry

OUTPUT = "model"
CHALLENGER_DIR = "challenger"
CHALLENGER_ALIAS = "challenger"
CHAMPION_ALIAS = "champion"
log = logging.getLogger(__name__)


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Collect the (small) labelled frames to the driver, train, write the bundle, register it, gate it."""
    train: pd.DataFrame = ctx.read("features", "merchant_train").toPandas()
    train = train.sort_values("merchant_id", kind="stable").reset_index(drop=True)
    features = list(FEATURE_COLUMNS if ctx.config.model.feature_set == "all" else TABULAR_FEATURES)
    meta = train_bundle(train, features, ctx.config.model, staging)
    frames: dict[str, pd.DataFrame | None] = {
        e: ctx.read("features", f"{e}_train").toPandas() if ctx.path("features", f"{e}_train").exists() else None
        for e, s in ENTITY_SPECS.items()
        if s.trainable
    }
    meta["entities"] = train_entities(frames, ctx.config.model, staging)
    metrics = {f"{h}_val_auroc": v["val_auroc"] for h, v in meta["heads"].items() if v}
    cal = {h: v["calibration"] for h, v in meta["heads"].items() if v}
    metrics |= {f"{h}_val_brier": c["brier"][c["method"]] for h, c in cal.items()}
    for e, entry in meta["entities"].items():
        metrics |= {f"{e}_{h}_val_auroc": v["val_auroc"] for h, v in entry.get("heads", {}).items() if v}
    params = {k: str(v) for k, v in ctx.config.model.model_dump(exclude={"registry"}).items()}
    params |= {f"{e}_scorer": entry["kind"] for e, entry in meta["entities"].items()}
    registry = make_registry(ctx.config.model.registry, ctx.out_dir, ctx.config.scoring)
    meta.update(run_id=ctx.run_id, train_as_of=ctx.train_as_of.isoformat(), labels_before=ctx.as_of.isoformat())
    write_meta(staging, meta)  # the registered artifacts carry their label cut-off (the gate needs it)
    (staging / "feature_dictionary.md").write_text(render_markdown())  # logged with the model version
    version = registry.register(staging, ctx.run_id, params, metrics)
    meta["model_version"] = version
    registry.promote(version, CHALLENGER_ALIAS)
    champion_version = registry.alias_version(CHAMPION_ALIAS)
    with tempfile.TemporaryDirectory(prefix="fraudmine-champion-") as tmp:
        folder = registry.fetch(champion_version, Path(tmp)) if champion_version else None
        champion = load_bundle(folder) if folder is not None else None
        decision = gate.decide(train, features, ctx.config.model, version, champion, champion_version, ctx.as_of)
        log.info("train: %s", decision.reason)
        if decision.promote or folder is None:
            meta["promotion"] = decision.to_dict()
            write_meta(staging, meta)
        else:
            meta = _champion_scores(staging, meta, folder, decision)
    rows_in = {"merchant_train": len(train)} | {f"{e}_train": len(f) for e, f in frames.items() if f is not None}
    rows_out = {f"{h}_positives": v["n_pos"] for h, v in meta["heads"].items() if v}
    for e, entry in meta.get("entities", {}).items():
        rows_out |= {f"{e}_{h}_positives": v["n_pos"] for h, v in entry.get("heads", {}).items() if v}
    return StageResult(
        rows_in=rows_in, rows_out=rows_out, versions={"model": str(meta["model_version"]), "challenger": version}
    )


def _champion_scores(
    staging: Path, challenger_meta: dict[str, Any], champion_dir: Path, decision: gate.Promotion
) -> dict[str, Any]:
    """Keep the challenger under ``challenger/`` and put the champion's bundle in ``staging`` to score."""
    keep = staging / CHALLENGER_DIR
    keep.mkdir()
    for f in list(staging.iterdir()):
        if f != keep:
            shutil.move(str(f), keep / f.name)
    write_meta(keep, challenger_meta)
    for f in champion_dir.iterdir():
        if f.is_dir():
            shutil.copytree(f, staging / f.name)  # sub-bundles (creator/)
        else:
            shutil.copy2(f, staging / f.name)
    meta, _ = load_bundle(staging)
    meta["model_version"] = decision.champion_version
    meta["promotion"] = decision.to_dict()
    write_meta(staging, meta)
    return meta
