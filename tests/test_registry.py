"""MLflow registry back end against a real local sqlite tracking store."""

from __future__ import annotations

import os
from pathlib import Path

from fraudmine.config import RegistryConfig
from fraudmine.models.registry import LocalRegistry, make_registry


def _bundle(d: Path, text: str) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "fraud.lgb.txt").write_text(text)
    (d / "model.json").write_text("{}")
    return d


def test_mlflow_register_is_idempotent_per_run_and_promotes(tmp_path: Path) -> None:
    reg = make_registry(RegistryConfig(), tmp_path / "out")
    before = os.environ.get("MLFLOW_TRACKING_URI")
    v1 = reg.register(_bundle(tmp_path / "b1", "tree-1"), "run-a", {"seed": "7"}, {"auc": 0.9})
    assert v1 == "fraudmine-merchant-risk/1"
    assert reg.register(_bundle(tmp_path / "b1", "tree-1"), "run-a", {"seed": "7"}, {"auc": 0.9}) == v1
    v2 = reg.register(_bundle(tmp_path / "b2", "tree-2"), "run-b", {"seed": "7"}, {"auc": 0.8})
    assert v2 == "fraudmine-merchant-risk/2"
    reg.promote(v2, "champion")
    assert os.environ.get("MLFLOW_TRACKING_URI") == before  # no leak into later runs / subprocesses

    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{(tmp_path / 'out' / 'mlflow.db').resolve()}"
    client = MlflowClient(uri, uri)
    assert str(client.get_model_version_by_alias("fraudmine-merchant-risk", "champion").version) == "2"
    assert (tmp_path / "out" / "mlartifacts").is_dir()  # artifacts beside the db, not ./mlruns
    assert not Path("mlruns").exists()
    # the champion's bundle comes back by its alias, file for file
    got = reg.fetch(str(reg.alias_version("champion")), tmp_path / "fetched")
    assert got is not None and (got / "fraud.lgb.txt").read_text() == "tree-2"
    assert reg.fetch("fraudmine-merchant-risk/9", tmp_path / "none") is None
    assert os.environ.get("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR") is None


def test_local_registry_versions_by_content(tmp_path: Path) -> None:
    reg = LocalRegistry()
    a = reg.register(_bundle(tmp_path / "a", "x"), "r", {}, {})
    assert a == reg.register(_bundle(tmp_path / "b", "x"), "r2", {}, {})
    assert a != reg.register(_bundle(tmp_path / "c", "y"), "r", {}, {})
    assert reg.alias_version("champion") is None and reg.fetch(a, tmp_path / "f") is None
