"""Model registry port and its back ends (chosen by ``model.registry.type``).

Shape of the port: ``register(model_dir, run_id, params, metrics) -> version``
where ``model_dir`` holds ``fraud.lgb.txt`` (a LightGBM text model), optionally
``low_quality.lgb.txt``, and ``model.json`` (calibration, feature order), and the
returned version is a string such as ``fraudmine-merchant-risk/3``.
With MLflow a version's source is the bundle wrapped as a pyfunc with a signature
(:mod:`fraudmine.models.pyfunc`, usable from Spark with ``mlflow.pyfunc.spark_udf``);
the raw bundle files are logged beside it under ``model/`` of the same run.
Registering is idempotent per ``run_id``: a rerun of the same run (after a crash)
gets the version registered the first time instead of a new one.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from fraudmine.config import RegistryConfig, ScoringConfig

log = logging.getLogger(__name__)
RUN_TAG = "fraudmine_run_id"
PROGRESS_BAR_ENV = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"  # off while fetching: no progress bars on stderr


class ModelRegistry(Protocol):
    """Where trained models are versioned."""

    def register(self, model_dir: Path, run_id: str, params: dict[str, str], metrics: dict[str, float]) -> str:
        """Record the model in ``model_dir`` for ``run_id`` and return its version string."""
        ...

    def promote(self, version: str, alias: str) -> None:
        """Point ``alias`` (e.g. ``champion``) at ``version``."""
        ...

    def alias_version(self, alias: str) -> str | None:
        """The version ``alias`` points at (``None`` if unset), so a publish can be undone."""
        ...

    def fetch(self, version: str, dst: Path) -> Path | None:
        """Download the bundle files of ``version`` under ``dst``; the bundle folder, or ``None``."""
        ...


class LocalRegistry:
    """No registry server: the version is the content hash of the model files."""

    def register(self, model_dir: Path, run_id: str, params: dict[str, str], metrics: dict[str, float]) -> str:
        """Return ``local/<sha256 prefix of the model files>``."""
        h = hashlib.sha256()
        for p in sorted(model_dir.glob("*.lgb.txt")):
            h.update(p.read_bytes())
        return f"local/{h.hexdigest()[:12]}"

    def promote(self, version: str, alias: str) -> None:
        """Nothing to promote without a registry."""

    def alias_version(self, alias: str) -> str | None:
        """No aliases without a registry."""
        return None

    def fetch(self, version: str, dst: Path) -> Path | None:
        """Nothing stored without a registry."""
        return None


@contextlib.contextmanager
def _scoped_mlflow_env() -> Iterator[None]:
    """Undo the ``MLFLOW_*`` variables that ``mlflow.set_tracking_uri`` exports.

    MLflow writes the tracking URI into ``os.environ``, so without this a later
    subprocess (or another run in the same process) would silently inherit this
    run's tracking store through the ``MLFLOW_TRACKING_URI`` config override.
    """
    keys = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", PROGRESS_BAR_ENV)
    saved = {k: os.environ.get(k) for k in keys}
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def mlflow_store(tracking_uri: str | None) -> Iterator[None]:
    """Point MLflow's tracking and registry at ``tracking_uri`` for the block (``None``: leave as is)."""
    import mlflow

    with _scoped_mlflow_env():
        os.environ[PROGRESS_BAR_ENV] = "false"  # model downloads print no progress bars
        if tracking_uri:
            mlflow.set_tracking_uri(tracking_uri)
            mlflow.set_registry_uri(tracking_uri)
        yield


class MlflowRegistry:
    """MLflow tracking + model registry (local sqlite by default, or a tracking server).

    Args:
        tracking_uri: e.g. ``sqlite:///out/mlflow.db`` or ``http://mlflow:5000``.
        model_name: registered model name.
        experiment: experiment name for the training runs.
    """

    def __init__(
        self,
        tracking_uri: str,
        model_name: str,
        experiment: str,
        artifact_root: str | None = None,
        scoring: ScoringConfig | None = None,
    ) -> None:
        self.tracking_uri = tracking_uri
        self.model_name = model_name
        self.experiment = experiment
        self.artifact_root = artifact_root
        self.scoring = scoring  # bands and reasons of the pyfunc (its ``model_config``)

    def _client(self) -> Any:
        import mlflow
        from mlflow.tracking import MlflowClient

        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)
        return MlflowClient(self.tracking_uri, self.tracking_uri)

    def register(self, model_dir: Path, run_id: str, params: dict[str, str], metrics: dict[str, float]) -> str:
        """Log params, metrics and the model files as an MLflow run; register a model version.

        Returns:
            ``<model_name>/<version>``.
        """
        with _scoped_mlflow_env():
            return self._register(model_dir, run_id, params, metrics)

    def _register(self, model_dir: Path, run_id: str, params: dict[str, str], metrics: dict[str, float]) -> str:
        import json

        import mlflow

        from fraudmine.models.pyfunc import log_pyfunc

        client = self._client()
        try:
            existing = client.search_model_versions(f"name='{self.model_name}' and tag.{RUN_TAG}='{run_id}'")
        except Exception:
            existing = []
        if existing:
            log.info("model for run %s already registered as version %s", run_id, existing[0].version)
            return f"{self.model_name}/{existing[0].version}"
        if client.get_experiment_by_name(self.experiment) is None:
            # with a sqlite store MLflow would otherwise put artifacts under ./mlruns of the CWD
            client.create_experiment(self.experiment, artifact_location=self.artifact_root)
        mlflow.set_experiment(self.experiment)
        with mlflow.start_run(run_name=run_id, tags={RUN_TAG: run_id}) as run:
            mlflow.log_params(params)
            mlflow.log_metrics(metrics)
            mlflow.log_artifacts(str(model_dir), artifact_path="model")
            meta = json.loads((model_dir / "model.json").read_text())
            info = log_pyfunc(model_dir, meta, self.scoring)
        with contextlib.suppress(Exception):
            client.create_registered_model(self.model_name)
        mv = client.create_model_version(
            self.model_name,
            source=info.model_uri,
            run_id=run.info.run_id,
            tags={RUN_TAG: run_id},
        )
        return f"{self.model_name}/{mv.version}"

    def promote(self, version: str, alias: str) -> None:
        """Set the registered-model alias to the given version."""
        name, _, number = version.rpartition("/")
        with _scoped_mlflow_env():
            self._client().set_registered_model_alias(name, alias, number)

    def alias_version(self, alias: str) -> str | None:
        """``<model_name>/<version>`` of the alias, or ``None`` when the model or alias does not exist."""
        with _scoped_mlflow_env():
            try:
                mv = self._client().get_model_version_by_alias(self.model_name, alias)
            except Exception:  # MlflowException: no such model or alias
                return None
        return f"{self.model_name}/{mv.version}"

    def fetch(self, version: str, dst: Path) -> Path | None:
        """Download the raw bundle of a registered version (``runs:/<its run>/model``)."""
        import mlflow

        name, _, number = version.rpartition("/")
        with _scoped_mlflow_env():
            try:
                source = f"runs:/{self._client().get_model_version(name, number).run_id}/model"
            except Exception:  # MlflowException: no such model or version
                return None
            dst.mkdir(parents=True, exist_ok=True)
            os.environ[PROGRESS_BAR_ENV] = "false"
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=source, dst_path=str(dst), tracking_uri=self.tracking_uri
            )
        path = Path(local)
        return path if (path / "model.json").exists() else None


def make_registry(cfg: RegistryConfig, output_dir: Path, scoring: ScoringConfig | None = None) -> ModelRegistry:
    """Build the registry chosen by ``cfg.type`` (default MLflow on ``<output>/mlflow.db``).

    ``scoring`` (bands, reasons) is logged as the ``model_config`` of each version's pyfunc.
    """
    if cfg.type == "none":
        return LocalRegistry()
    if cfg.tracking_uri:
        return MlflowRegistry(cfg.tracking_uri, cfg.model_name, cfg.experiment, scoring=scoring)
    output_dir.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{(output_dir / 'mlflow.db').resolve()}"
    artifacts = (output_dir / "mlartifacts").resolve().as_uri()
    return MlflowRegistry(uri, cfg.model_name, cfg.experiment, artifacts, scoring)
