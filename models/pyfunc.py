"""The registered bundle as an MLflow pyfunc, usable from Spark with ``mlflow.pyfunc.spark_udf``.

Every model version the ``train`` stage registers carries two artefact folders: ``model/`` (the raw
bundle, :mod:`fraudmine.models.bundle` layout, what the nightly ``score`` stage and the promotion gate
read) and ``pyfunc/`` (this wrapper around the same files, with a signature), so that any Spark job can
score feature rows by model URI::

    udf = mlflow.pyfunc.spark_udf(spark, "models:/fraudmine-merchant-risk@champion",
                                  result_type=PYFUNC_RESULT_DDL, env_manager="local")
    df.withColumn("risk", udf(struct(*features)))

Input: one column per model feature (``model.json`` ``features``, double); the ``entity_type`` param
(default ``merchant``) picks the head set: the merchant heads, or an entity type scored by a trained
LightGBM sub-bundle.  Entity types scored by a rank rule (percentile ranks over the whole population)
cannot be scored batch by batch and raise a clear error.  Output: ``fraud_risk``, ``low_quality_risk``
(NaN without a low-quality head), ``risk_band`` and ``top_reasons`` exactly as the ``score`` stage
computes them (:func:`fraudmine.models.scoring.score_pandas`); bands and reasons follow the scoring
config logged with the model (``model_config``).
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd

from fraudmine.config import ScoringConfig
from fraudmine.models.bundle import Head, load_bundle

PYFUNC_ARTIFACT = "pyfunc"
BUNDLE_KEY = "bundle"
PYFUNC_RESULT_DDL = "fraud_risk double, low_quality_risk double, risk_band string, top_reasons array<string>"
"""``result_type`` to pass to ``mlflow.pyfunc.spark_udf`` (the output columns of :class:`BundleModel`)."""

_ROW_ID = "__row__"


def _heads_for(bundle: Path, meta: dict[str, Any], entity_type: str) -> tuple[list[str], dict[str, Head | None]]:
    """Feature order and loaded heads of ``entity_type`` in the bundle at ``bundle``."""
    if entity_type == "merchant":
        _, heads = load_bundle(bundle)
        return list(meta["features"]), heads
    entry = meta.get("entities", {}).get(entity_type)
    if entry is None:
        known = ", ".join(["merchant", *sorted(meta.get("entities", {}))])
        raise ValueError(f"pyfunc: entity_type {entity_type!r} is not in this model (known: {known})")
    if entry["kind"] != "lightgbm":
        raise ValueError(
            f"pyfunc: {entity_type} is scored by a rank rule over the whole population ({entry.get('why', '')}); "
            "it cannot be scored batch by batch: use the nightly `score` stage"
        )
    sub_meta, heads = load_bundle(bundle / entry["dir"])
    return list(sub_meta["features"]), heads


class BundleModel(mlflow.pyfunc.PythonModel):  # type: ignore[misc,name-defined]
    """MLflow ``PythonModel`` over a bundle folder."""

    def load_context(self, context: Any) -> None:
        """Read ``model.json`` and the scoring config logged with the model."""
        import json

        self._bundle = Path(context.artifacts[BUNDLE_KEY])
        self._meta: dict[str, Any] = json.loads((self._bundle / "model.json").read_text())
        self._cfg = ScoringConfig(**(getattr(context, "model_config", None) or {}))
        self._cache: dict[str, tuple[list[str], dict[str, Head | None]]] = {}

    # no hints on the inputs: MLflow 3 reads ``predict``'s type hints as a second signature and warns on any
    # hint that is not ``list[...]`` (the signature comes from model.json instead, see :func:`signature`)
    def predict(self, context, model_input, params=None) -> pd.DataFrame:  # type: ignore[no-untyped-def]
        """Score feature rows (a pandas frame): one output row per input row, in order (module docstring)."""
        from fraudmine.models.scoring import score_pandas

        etype = str((params or {}).get("entity_type", "merchant"))
        if etype not in self._cache:
            self._cache[etype] = _heads_for(self._bundle, self._meta, etype)
        feats, heads = self._cache[etype]
        missing = [f for f in feats if f not in model_input.columns]
        if missing:
            raise ValueError(f"pyfunc: input lacks the {etype} model features {missing[:5]} ({len(missing)} missing)")
        pdf = model_input[feats].reset_index(drop=True).assign(**{_ROW_ID: range(len(model_input))})
        version = str(self._meta.get("model_version", "unregistered"))
        scored = score_pandas(pdf, feats, heads, self._cfg, version, "", datetime.now(UTC), etype, _ROW_ID)
        return pd.DataFrame(
            {
                "fraud_risk": scored["fraud_risk"].astype("float64"),
                "low_quality_risk": scored["low_quality_risk"].astype("float64"),
                "risk_band": scored["risk_band"].astype(str),
                "top_reasons": scored["top_reasons"],
            }
        )


def signature(meta: dict[str, Any]) -> Any:
    """Model signature: the merchant feature columns (double) in, the four output columns out, ``entity_type`` param."""
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import Array, ColSpec, ParamSchema, ParamSpec, Schema

    inputs = Schema([ColSpec("double", f) for f in meta["features"]])
    outputs = Schema(
        [
            ColSpec("double", "fraud_risk"),
            ColSpec("double", "low_quality_risk"),
            ColSpec("string", "risk_band"),
            ColSpec(Array("string"), "top_reasons"),
        ]
    )
    params = ParamSchema([ParamSpec("entity_type", "string", "merchant")])
    return ModelSignature(inputs=inputs, outputs=outputs, params=params)


def log_pyfunc(bundle: Path, meta: dict[str, Any], scoring: ScoringConfig | None) -> Any:
    """Log the bundle as a pyfunc under ``pyfunc/`` of the active MLflow run; return its ``ModelInfo``.

    The signature is built from ``model.json`` (no input example is needed); the requirements are
    given explicitly (MLflow's inference would import-trace the model in a subprocess).
    """
    from fraudmine import __version__

    reqs = ["lightgbm", "pandas", "numpy", "scikit-learn", "pydantic", f"fraudmine=={__version__}"]
    with warnings.catch_warnings():
        # the signature comes from model.json; an input example would only add a predict at log time
        warnings.filterwarnings("ignore", message=".*input example was not provided.*")
        warnings.filterwarnings("ignore", message=".*Add type hints to the `predict` method.*")
        return mlflow.pyfunc.log_model(
            name=PYFUNC_ARTIFACT,
            python_model=BundleModel(),
            artifacts={BUNDLE_KEY: str(bundle)},
            signature=signature(meta) if meta.get("features") else None,
            model_config=(scoring or ScoringConfig()).model_dump(),
            pip_requirements=reqs,
        )


def load_pyfunc(model_uri: str, tracking_uri: str | None = None) -> Any:
    """``mlflow.pyfunc.load_model`` of ``model_uri`` (e.g. ``models:/<name>@champion``) from ``tracking_uri``."""
    from fraudmine.models.registry import mlflow_store

    with mlflow_store(tracking_uri):
        return mlflow.pyfunc.load_model(model_uri)


def spark_score_udf(spark: Any, model_uri: str, entity_type: str = "merchant", tracking_uri: str | None = None) -> Any:
    """A Spark UDF scoring feature structs of ``entity_type`` with the pyfunc at ``model_uri``.

    The model is downloaded once on the driver (from ``tracking_uri`` when given) and shipped to the
    executors by MLflow; call the UDF on ``struct(*features)`` (any column order: fields match by name).
    """
    from fraudmine.models.registry import mlflow_store

    with mlflow_store(tracking_uri):
        return mlflow.pyfunc.spark_udf(
            spark, model_uri, result_type=PYFUNC_RESULT_DDL, env_manager="local", params={"entity_type": entity_type}
        )


__all__ = ["PYFUNC_RESULT_DDL", "BundleModel", "load_pyfunc", "log_pyfunc", "signature", "spark_score_udf"]
