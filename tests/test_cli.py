"""Every command checks its paths and options before starting Spark and fails with one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fraudmine.jobs.lock import OutputLock

DATE = "2026-11-01"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    return subprocess.run(
        [sys.executable, "-m", "fraudmine.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    """An input folder with every contract table present (empty folders: enough for the pre-checks)."""
    from fraudmine.contracts.raw import RAW_TABLES

    root = tmp_path / "raw"
    for t in RAW_TABLES:
        (root / t.name).mkdir(parents=True)
    return root


def _one_line(done: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert done.returncode == code, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr  # one line, no traceback, no JVM log
    for n in needles:
        assert n in done.stderr, done.stderr


def test_missing_input_and_missing_table(raw: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    _one_line(
        _run("nightly", "--input", str(tmp_path / "nope"), "--out", out, "--date", DATE, cwd=tmp_path),
        1,
        "fraudmine nightly: PreflightError: --input",
        "folder not found",
    )
    (raw / "orders").rmdir()
    _one_line(
        _run("nightly", "--input", str(raw), "--out", out, "--date", DATE, cwd=tmp_path), 1, "['orders'] not found"
    )
    assert not (tmp_path / "out").exists()  # nothing was started


def test_output_path_that_is_a_file(raw: Path, tmp_path: Path) -> None:
    (tmp_path / "out").write_text("x")
    done = _run("nightly", "--input", str(raw), "--out", str(tmp_path / "out"), "--date", DATE, cwd=tmp_path)
    _one_line(done, 1, "--out", "is a file, expected a folder")


def test_bad_date_is_a_one_line_usage_error(raw: Path, tmp_path: Path) -> None:
    done = _run("nightly", "--input", str(raw), "--out", str(tmp_path), "--date", "2026-13-01", cwd=tmp_path)
    _one_line(done, 2, "argument --date: must be YYYY-MM-DD, got '2026-13-01'")


def test_unknown_config_key_and_non_yaml_config(raw: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("spark:\n  shufle_partitions: 3\n")
    args = ["nightly", "--input", str(raw), "--out", str(tmp_path / "o"), "--date", DATE, "--config", str(bad)]
    _one_line(_run(*args, cwd=tmp_path), 1, "spark.shufle_partitions", str(bad))
    bad.write_text("spark: [unclosed\n")
    _one_line(_run(*args, cwd=tmp_path), 1, "not valid YAML (line")


def test_second_run_on_a_locked_output_folder_fails_at_once(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with OutputLock(out, DATE):
        done = _run("nightly", "--input", str(raw), "--out", str(out), "--date", DATE, cwd=tmp_path)
    _one_line(done, 1, "RunLocked: another fraudmine run is using", f"pid {os.getpid()}")
    assert not (out / "runs").exists()


def test_evaluate_missing_folders(tmp_path: Path) -> None:
    done = _run("evaluate", "--truth", str(tmp_path / "t"), "--run", str(tmp_path / "r"), cwd=tmp_path)
    _one_line(done, 1, "--run", "folder not found")
