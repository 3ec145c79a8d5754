"""Config loading: strict keys, environment overrides, errors naming key and file."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudmine.config import Config, ConfigError, load_config
from fraudmine.spark import session_conf


def test_default_config_loads(repo_root: Path) -> None:
    cfg = load_config(repo_root / "conf" / "default.yaml", env={})
    assert isinstance(cfg, Config)
    assert cfg.spark.shuffle_partitions == 4
    assert cfg.model.registry.type == "mlflow"


def test_misspelt_key_names_key_and_file(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("spark:\n  shufle_partitions: 3\n")
    with pytest.raises(ConfigError) as exc:
        load_config(p, env={})
    assert "spark.shufle_partitions" in str(exc.value)
    assert str(p) in str(exc.value)


def test_wrong_type_is_reported(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("scoring:\n  band_high: lots\n")
    with pytest.raises(ConfigError, match=r"scoring\.band_high"):
        load_config(p, env={})


def test_environment_overrides_paths_and_secrets(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("paths:\n  output: from-file\n")
    cfg = load_config(p, env={"FRAUDMINE_OUTPUT": "/x/out", "NEO4J_PASSWORD": "s3cret"})
    assert cfg.paths.output == "/x/out"
    assert cfg.neo4j.resolved_password() == "s3cret"
    assert "s3cret" not in repr(cfg) and "s3cret" not in str(cfg.model_dump())


def test_fingerprint_is_stable_and_excludes_secrets(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("{}\n")
    a = load_config(p, env={"NEO4J_PASSWORD": "a"})
    b = load_config(p, env={"NEO4J_PASSWORD": "b"})
    c = load_config(p, env={}, overrides={"model.seed": 8})
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_band_order_validated(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("scoring:\n  band_high: 0.9\n  band_critical: 0.5\n")
    with pytest.raises(ConfigError, match="band_medium <= band_high <= band_critical"):
        load_config(p, env={})


def test_spark_conf_keys_must_be_spark(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("spark:\n  conf:\n    executor.memory: 2g\n")
    with pytest.raises(ConfigError, match=r"spark\.conf"):
        load_config(p, env={})


def test_session_conf_suits_small_machines() -> None:
    conf = session_conf(Config().spark)
    assert conf["spark.sql.shuffle.partitions"] == "4"
    assert conf["spark.sql.adaptive.enabled"] == "true"
    assert conf["spark.sql.session.timeZone"] == "UTC"
    extra = session_conf(Config.model_validate({"spark": {"conf": {"spark.jars.packages": "x:y:1"}}}).spark)
    assert extra["spark.jars.packages"] == "x:y:1"


def test_every_shipped_config_loads(repo_root: Path) -> None:
    shipped = sorted(p for p in (repo_root / "conf").glob("*.yaml") if p.name != "policy.yaml")
    assert {p.name for p in shipped} >= {"default.yaml", "local-large.yaml"}
    for path in shipped:
        load_config(path, env={})
