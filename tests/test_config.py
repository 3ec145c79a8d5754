"""Config loading: strict keys, environment overrides, errors naming key and file."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudmine.config import Config, ConfigError, load_config
from fraudmine.spark import QUICK_JIT_MAX_INPUT_BYTES, QUICK_JIT_OPTIONS, GiB, MiB, session_conf, size_resources


def test_default_config_loads(repo_root: Path) -> None:
    cfg = load_config(repo_root / "conf" / "default.yaml", env={})
    assert isinstance(cfg, Config)
    assert cfg.spark.shuffle_partitions == "auto" and cfg.spark.driver_memory == "auto"
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
    conf = session_conf(Config().spark, resources=size_resources(Config().spark, 5 * MiB, 2, 24 * GiB))
    assert conf["spark.sql.shuffle.partitions"] == "4"
    assert conf["spark.driver.memory"] == "3g"
    assert "log4j2-quiet.properties" in conf["spark.driver.extraJavaOptions"]
    assert "log4j2" not in session_conf(Config().spark, quiet=False).get("spark.driver.extraJavaOptions", "")
    assert conf["spark.sql.adaptive.enabled"] == "true"
    assert conf["spark.sql.session.timeZone"] == "UTC"
    extra = session_conf(Config.model_validate({"spark": {"conf": {"spark.jars.packages": "x:y:1"}}}).spark)
    assert extra["spark.jars.packages"] == "x:y:1"


def test_small_inputs_get_the_quick_jit_and_large_ones_the_full_one() -> None:
    auto = Config().spark
    small = size_resources(auto, 6 * MiB, 2, 24 * GiB)
    large = size_resources(auto, QUICK_JIT_MAX_INPUT_BYTES + 1, 2, 24 * GiB)
    assert small.quick_jit and not large.quick_jit
    assert QUICK_JIT_OPTIONS in session_conf(auto, resources=small)["spark.driver.extraJavaOptions"]
    assert QUICK_JIT_OPTIONS not in session_conf(auto, resources=large)["spark.driver.extraJavaOptions"]
    full = Config.model_validate({"spark": {"jit": "full"}}).spark
    assert not size_resources(full, 6 * MiB, 2, 24 * GiB).quick_jit
    quick = Config.model_validate({"spark": {"jit": "quick"}}).spark
    assert size_resources(quick, 40 * GiB, 2, 24 * GiB).quick_jit
    # the user's own JVM options are kept beside it
    mine = Config.model_validate({"spark": {"conf": {"spark.driver.extraJavaOptions": "-Dx=1"}}}).spark
    opts = session_conf(mine, resources=size_resources(mine, 6 * MiB, 2, 24 * GiB))["spark.driver.extraJavaOptions"]
    assert QUICK_JIT_OPTIONS in opts and "-Dx=1" in opts


def test_small_inputs_plan_without_constraint_propagation_unless_the_config_says_otherwise() -> None:
    key = "spark.sql.constraintPropagation.enabled"
    auto = Config().spark
    small = size_resources(auto, 6 * MiB, 2, 24 * GiB)
    large = size_resources(auto, QUICK_JIT_MAX_INPUT_BYTES + 1, 2, 24 * GiB)
    assert small.lean_planning and not large.lean_planning
    assert session_conf(auto, resources=small)[key] == "false"
    assert key not in session_conf(auto, resources=large)
    mine = Config.model_validate({"spark": {"conf": {key: "true"}}}).spark
    assert session_conf(mine, resources=size_resources(mine, 6 * MiB, 2, 24 * GiB))[key] == "true"


def test_every_shipped_config_loads(repo_root: Path) -> None:
    shipped = sorted(p for p in (repo_root / "conf").glob("*.yaml") if p.name != "policy.yaml")
    assert {p.name for p in shipped} >= {"default.yaml"}
    for path in shipped:
        load_config(path, env={})


def test_resources_grow_with_the_input_and_stay_within_the_machine() -> None:
    auto = Config().spark
    xs = size_resources(auto, 6 * MiB, 2, 24 * GiB)
    m = size_resources(auto, 400 * MiB, 2, 24 * GiB)
    huge = size_resources(auto, 40 * GiB, 2, 24 * GiB)
    assert (xs.driver_memory, xs.shuffle_partitions) == ("3g", 4)
    assert (m.driver_memory, m.shuffle_partitions) == ("4g", 9)
    assert huge.driver_memory == "15g" and huge.shuffle_partitions == 400  # 60% of RAM, partition cap
    fixed = Config.model_validate({"spark": {"driver_memory": "6g", "shuffle_partitions": 8}}).spark
    assert size_resources(fixed, 40 * GiB, 2, 24 * GiB).driver_memory == "6g"
    assert size_resources(fixed, 40 * GiB, 2, 24 * GiB).shuffle_partitions == 8


def test_environment_overrides_come_from_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRAUDMINE_SPARK_MASTER", "spark://127.0.0.1:7077")
    monkeypatch.setenv("FRAUDMINE_INPUT", "")  # empty means unset
    cfg = load_config()
    assert cfg.spark.master == "spark://127.0.0.1:7077"
    assert cfg.paths.input == "data/synth/raw"


def test_config_that_is_not_yaml_names_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("spark: [unclosed\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: not valid YAML \(line"):
        load_config(p, env={})
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path, env={})
