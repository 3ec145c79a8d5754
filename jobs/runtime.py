"""Run mechanics: attempt folders, the manifest, and atomic, self-describing stage commits.

A run for date D lives in an *attempt* folder: ``<out>/runs/<D>`` for the first
attempt, ``<out>/runs/<D>.<n>`` for attempt ``n >= 2``.  A published attempt
(``current`` points at it, or its ``publish`` stage is committed) is sealed:
nothing ever writes into it again; recomputing any of its stages starts the next
attempt, which reuses the still-valid earlier stages by hard links (copies where
the file system has none).

Each stage writes into ``<attempt>/_staging/<output>/``.  The runtime then drops
``_stage.json`` (the stage's record: validity key, row counts, versions) into
that folder and commits it with one ``os.replace`` into ``<attempt>/<output>/``,
then records it in ``manifest.json`` (itself replaced atomically).  Because the
committed folder carries its own record, a crash between the rename and the
manifest write is recovered on resume (:func:`recover`) instead of blocking
every rerun.  Spark and pyarrow ignore files starting with ``_``.

On a cluster the run folder would be on HDFS/S3; there the commit is a Hadoop
``FileSystem.rename`` of the staging folder (atomic on HDFS, not on S3, where a
``_SUCCESS`` marker plus the manifest entry play that role).  Only local and
mounted file systems are implemented here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import fraudmine

MANIFEST = "manifest.json"
STAGING = "_staging"
STAGE_RECORD = "_stage.json"
RUNS = "runs"
CURRENT = "current"
COMMITTED = "committed"


def utc_now_iso() -> str:
    """Wall-clock time for the manifest only (never for data)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def code_version() -> str:
    """Package version plus git commit when run from a checkout (for people; staleness uses the code hash)."""
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


def make_run_id(run_date: str, *fingerprints: str) -> str:
    """Deterministic run id: the same date and fingerprints give the same id."""
    from fraudmine.jobs.fingerprint import digest

    return f"{run_date}-{digest(run_date, *fingerprints)[:8]}"


@dataclass
class StageRecord:
    """One stage's entry in the manifest (and in its committed folder's ``_stage.json``)."""

    status: str
    output: str
    key: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    duration_s: float | None = None
    rows_in: dict[str, int] = field(default_factory=dict)
    rows_out: dict[str, int] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    reused_from: str | None = None
    spark_jobs: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StageRecord:
        """Build from a manifest entry, ignoring unknown keys (older manifests)."""
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


class Manifest:
    """The run manifest (``<attempt>/manifest.json``), rewritten atomically on every change."""

    def __init__(self, run_dir: Path, header: Mapping[str, Any] | None = None) -> None:
        self.path = run_dir / MANIFEST
        self.data: dict[str, Any] = {"stages": {}}
        if self.path.exists():
            self.data = json.loads(self.path.read_text())
        self.data.update(header or {})
        self.data.setdefault("stages", {})

    @property
    def stages(self) -> dict[str, dict[str, Any]]:
        """Stage name → record dict."""
        stages: dict[str, dict[str, Any]] = self.data["stages"]
        return stages

    def set_stage(self, name: str, record: StageRecord) -> None:
        """Record a stage's state and write the manifest."""
        self.stages[name] = asdict(record)
        self.save()

    def save(self) -> None:
        """Write via a temp file and ``os.replace`` so readers never see a torn file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.data, indent=2))
        os.replace(tmp, self.path)


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The manifest of a run folder (empty dict when there is none)."""
    path = run_dir / MANIFEST
    return dict(json.loads(path.read_text())) if path.exists() else {}


# --- attempts -------------------------------------------------------------------------------

_ATTEMPT = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.(\d+))?$")


def attempt_dir(out_dir: Path, run_date: date, attempt: int) -> Path:
    """``runs/<D>`` for attempt 1, ``runs/<D>.<n>`` after."""
    name = run_date.isoformat() if attempt == 1 else f"{run_date.isoformat()}.{attempt}"
    return out_dir / RUNS / name


def attempts(out_dir: Path, run_date: date) -> list[tuple[int, Path]]:
    """Existing attempts of ``run_date``, oldest first."""
    runs = out_dir / RUNS
    if not runs.is_dir():
        return []
    found = []
    for p in runs.iterdir():
        m = _ATTEMPT.match(p.name)
        if m and m.group(1) == run_date.isoformat() and p.is_dir():
            found.append((int(m.group(2) or 1), p))
    return sorted(found)


def current_target(out_dir: Path) -> Path | None:
    """The attempt folder ``<out>/current`` points at, or ``None``."""
    link = out_dir / CURRENT
    if not link.is_symlink() and not link.exists():
        return None
    target = link.resolve()
    return target if target.is_dir() else None


def is_sealed(run_dir: Path, out_dir: Path) -> bool:
    """Whether an attempt is (or was) published and therefore must never be written again."""
    if current_target(out_dir) == run_dir.resolve():
        return True
    rec = read_manifest(run_dir).get("stages", {}).get("publish", {})
    return bool(rec.get("status") == COMMITTED)


# --- staging and commit ---------------------------------------------------------------------


def staging_dir(run_dir: Path, output: str) -> Path:
    """A fresh, empty staging folder for a stage output (any leftover from a crash is removed)."""
    path = run_dir / STAGING / output
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def commit(run_dir: Path, output: str, record: StageRecord | None = None) -> Path:
    """Write ``record`` into ``_staging/<output>/_stage.json`` and atomically move it to ``<output>``.

    Raises:
        FileExistsError: if the output is already committed (stages never overwrite;
            the orchestrator un-commits first).
    """
    src = run_dir / STAGING / output
    dst = run_dir / output
    if dst.exists():
        raise FileExistsError(f"stage output already committed: {dst}")
    if record is not None:
        (src / STAGE_RECORD).write_text(json.dumps(asdict(record), indent=2))
    os.replace(src, dst)
    return dst


def committed_record(run_dir: Path, output: str) -> StageRecord | None:
    """The record a committed output carries in its ``_stage.json`` (``None`` if absent)."""
    path = run_dir / output / STAGE_RECORD
    if not path.exists():
        return None
    with contextlib.suppress(ValueError, TypeError):
        return StageRecord.from_dict(json.loads(path.read_text()))
    return None


def uncommit(run_dir: Path, output: str) -> None:
    """Remove a committed output (renamed aside first, so a crash never leaves half a folder)."""
    path = run_dir / output
    if path.exists():
        doomed = run_dir / STAGING / f"{output}.deleting"
        if doomed.exists():
            shutil.rmtree(doomed)
        doomed.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, doomed)
        shutil.rmtree(doomed)


def recover(run_dir: Path, manifest: Manifest, name: str, output: str, may_delete: bool = True) -> str | None:
    """Reconcile one stage's manifest entry with its folder after a crash.

    * folder committed, manifest not updated (crash between rename and manifest
      write): the record inside the folder is adopted;
    * a folder without a commit record is removed (only if ``may_delete``: never in a
      published attempt, where it is merely left out of date);
    * manifest says committed but the folder is gone: the entry is dropped.

    Returns:
        A log line describing what was repaired, or ``None``.
    """
    rec = manifest.stages.get(name)
    on_disk = (run_dir / output).exists()
    if on_disk and (rec is None or rec.get("status") != COMMITTED):
        inner = committed_record(run_dir, output)
        if inner is not None and inner.status == COMMITTED:
            manifest.set_stage(name, inner)
            return f"stage {name}: output was committed before a crash; manifest entry recovered"
        if not may_delete:
            return None
        uncommit(run_dir, output)
        manifest.stages.pop(name, None)
        manifest.save()
        return f"stage {name}: removed an output without a commit record"
    if not on_disk and rec is not None and rec.get("status") == COMMITTED:
        manifest.stages.pop(name, None)
        manifest.save()
        return f"stage {name}: manifest said committed but {run_dir / output} is missing; will recompute"
    return None


def clone_output(src_run: Path, dst_run: Path, output: str) -> None:
    """Copy a committed output into another attempt's staging folder, by hard links where possible.

    Stage outputs are immutable once committed (files are never rewritten in place,
    only whole folders renamed or removed), so sharing inodes between attempts is safe.
    """
    src = src_run / output
    dst = dst_run / STAGING / output
    if dst.exists():
        shutil.rmtree(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)

    def link_or_copy(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    shutil.copytree(src, dst, copy_function=link_or_copy)
    (dst / STAGE_RECORD).unlink(missing_ok=True)  # the new attempt writes its own record
