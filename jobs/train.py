"""Stage ``train``: fit the LightGBM heads on time-safe training features; register in MLflow.

One bundle, several heads: the merchant heads at the top level, a creator head when creator labels
suffice, label-free rules for the other entity types (``fraudmine/models/entity_bundle.py``); the whole
bundle is registered as one MLflow model version.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fraudmine.features.columns import FEATURE_COLUMNS, TABULAR_FEATURES
from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.models.bundle import train_bundle, write_meta
from fraudmine.models.entities import ENTITY_SPECS
from fraudmine.models.entity_bundle import train_entities
from fraudmine.models.registry import make_registry

OUTPUT = "model"


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Collect the (small) labelled frames to the driver, train, write the bundle, register it."""
    train: pd.DataFrame = ctx.read("features", "merchant_train").toPandas()
    train = train.sort_values("merchant_id", kind="stable")
    features = list(FEATURE_COLUMNS if ctx.config.model.feature_set == "all" else TABULAR_FEATURES)
    meta = train_bundle(train.reset_index(drop=True), features, ctx.config.model, staging)
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
    registry = make_registry(ctx.config.model.registry, ctx.out_dir)
    version = registry.register(staging, ctx.run_id, params, metrics)
    meta.update(model_version=version, run_id=ctx.run_id, train_as_of=ctx.train_as_of.isoformat())
    write_meta(staging, meta)
    rows_in = {"merchant_train": len(train)} | {f"{e}_train": len(f) for e, f in frames.items() if f is not None}
    rows_out = {f"{h}_positives": v["n_pos"] for h, v in meta["heads"].items() if v}
    for e, entry in meta["entities"].items():
        rows_out |= {f"{e}_{h}_positives": v["n_pos"] for h, v in entry.get("heads", {}).items() if v}
    return StageResult(rows_in=rows_in, rows_out=rows_out, versions={"model": version})
