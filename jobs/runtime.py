"""Run mechanics: run folders, the manifest, and atomic stage commits.

A run for date D lives in ``<out>/runs/<D>/``.  Each stage writes into
``<run>/_staging/<output>/`` and is committed by one ``os.replace`` into
``<run>/<output>/``, then recorded in ``manifest.json`` (itself replaced
atomically).  A stage counts as done only when its output folder exists *and*
the manifest says ``committed``; anything else (a crash, ``kill -9``) is rerun
from scratch, so a rerun resumes after the last committed stage.

On a cluster the run folder would be on HDFS/S3; there the commit is a Hadoop
``FileSystem.rename`` of the staging folder (atomic on HDFS, not on S3, where a
``_SUCCESS`` marker plus the manifest entry play that role).  Only local and
mounted file systems are implemented here.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fraudmine

MANIFEST = "manifest.json"
STAGING = "_staging"


def utc_now_iso() -> str:
    """Wall-clock time for the manifest only (never for data)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def code_version() -> str:
    """Package version plus git commit when run from a checkout."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).resolve().parent.parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{fraudmine.__version__}+{sha}" if sha else fraudmine.__version__


def input_fingerprint(input_dir: Path) -> str:
    """Hash of the input files' relative paths and sizes (content-addressed enough to spot a change)."""
    h = hashlib.sha256()
    for p in sorted(input_dir.rglob("*")):
        if p.is_file() and not p.name.startswith((".", "_")):
            h.update(f"{p.relative_to(input_dir)}:{p.stat().st_size}\n".encode())
    return h.hexdigest()[:12]


def make_run_id(run_date: str, config_fp: str, input_fp: str) -> str:
    """Deterministic run id: the same date, config and input give the same id."""
    digest = hashlib.sha256(f"{run_date}|{config_fp}|{input_fp}".encode()).hexdigest()[:8]
    return f"{run_date}-{digest}"


@dataclass
class StageRecord:
    """One stage's entry in the manifest."""

    status: str
    output: str
    started_at: str | None = None
    finished_at: str | None = None
    duration_s: float | None = None
    rows_in: dict[str, int] = field(default_factory=dict)
    rows_out: dict[str, int] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class Manifest:
    """The run manifest (``<run>/manifest.json``), rewritten atomically on every change."""

    def __init__(self, run_dir: Path, header: Mapping[str, Any]) -> None:
        self.path = run_dir / MANIFEST
        self.data: dict[str, Any] = {"stages": {}}
        if self.path.exists():
            self.data = json.loads(self.path.read_text())
        self.data.update(header)
        self.data.setdefault("stages", {})

    @property
    def stages(self) -> dict[str, dict[str, Any]]:
        """Stage name → record dict."""
        stages: dict[str, dict[str, Any]] = self.data["stages"]
        return stages

    def set_stage(self, name: str, record: StageRecord) -> None:
        """Record a stage's state and write the manifest."""
        self.stages[name] = record.__dict__.copy()
        self.save()

    def save(self) -> None:
        """Write via a temp file and ``os.replace`` so readers never see a torn file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.data, indent=2))
        os.replace(tmp, self.path)


def staging_dir(run_dir: Path, output: str) -> Path:
    """A fresh, empty staging folder for a stage output (any leftover from a crash is removed)."""
    path = run_dir / STAGING / output
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def commit(run_dir: Path, output: str) -> Path:
    """Atomically move ``_staging/<output>`` to ``<output>`` and return the final path.

    Raises:
        FileExistsError: if the output is already committed (stages never overwrite).
    """
    src = run_dir / STAGING / output
    dst = run_dir / output
    if dst.exists():
        raise FileExistsError(f"stage output already committed: {dst}")
    os.replace(src, dst)
    return dst


def uncommit(run_dir: Path, output: str) -> None:
    """Remove a committed output (used by ``--from-stage`` to recompute from a stage on)."""
    path = run_dir / output
    if path.exists():
        # rename first so a crash mid-delete never leaves a half-deleted "committed" folder
        doomed = run_dir / STAGING / f"{output}.deleting"
        if doomed.exists():
            shutil.rmtree(doomed)
        doomed.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, doomed)
        shutil.rmtree(doomed)
