"""Stage ``train``: fit the LightGBM heads on time-safe training features; register in MLflow."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fraudmine.features.columns import FEATURE_COLUMNS, TABULAR_FEATURES
from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.models.bundle import train_bundle, write_meta
from fraudmine.models.registry import make_registry

OUTPUT = "model"


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Collect the (small) labelled frame to the driver, train, write the bundle, register it."""
    train: pd.DataFrame = ctx.read("features", "merchant_train").toPandas()
    train = train.sort_values("merchant_id", kind="stable")
    features = list(FEATURE_COLUMNS if ctx.config.model.feature_set == "all" else TABULAR_FEATURES)
    meta = train_bundle(train.reset_index(drop=True), features, ctx.config.model, staging)
    metrics = {f"{h}_val_auroc": v["val_auroc"] for h, v in meta["heads"].items() if v}
    cal = {h: v["calibration"] for h, v in meta["heads"].items() if v}
    metrics |= {f"{h}_val_brier": c["brier"][c["method"]] for h, c in cal.items()}
    params = {k: str(v) for k, v in ctx.config.model.model_dump(exclude={"registry"}).items()}
    registry = make_registry(ctx.config.model.registry, ctx.out_dir)
    version = registry.register(staging, ctx.run_id, params, metrics)
    meta.update(model_version=version, run_id=ctx.run_id, train_as_of=ctx.train_as_of.isoformat())
    write_meta(staging, meta)
    return StageResult(
        rows_in={"merchant_train": len(train)},
        rows_out={f"{h}_positives": v["n_pos"] for h, v in meta["heads"].items() if v},
        versions={"model": version},
    )
