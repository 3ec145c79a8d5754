"""Publish, retain and roll back serving snapshots: the ``current`` pointers and the history.

``<out>/serving/current`` is a relative symlink to ``snapshots/<id>.sqlite``,
replaced atomically (a new link renamed over the old one), so a reader opening
``current`` gets either the old or the new file, never a torn state.  Every
activation is appended to ``<out>/serving/history.json`` (a stack, newest last);
:func:`rollback` pops the newest entry and points both ``<out>/current`` (the
run) and ``<out>/serving/current`` (its snapshot) at the entry below it.
Retention keeps the snapshot files of the newest ``keep`` history entries (and
whatever ``current`` names) and deletes the rest.  Changes to the pointers and
history take an exclusive lock on ``<out>/serving/.lock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fraudmine.contracts import serving as S

log = logging.getLogger(__name__)

RUN_CURRENT = "current"
"""``<out>/current``: the published run folder (the nightly pipeline's pointer)."""


class RollbackError(RuntimeError):
    """There is no earlier published run (with its snapshot still present) to roll back to."""


@dataclass(frozen=True)
class HistoryEntry:
    """One activation: which snapshot and run became current, and when.

    Attributes:
        snapshot: file name under ``serving/snapshots/``.
        run_dir: the run folder, relative to the output root.
        run_id, run_date: from the snapshot's ``meta`` table.
        model_versions: model versions that scored the run.
        activated_at: ISO instant of the activation (passed in by the caller).
    """

    snapshot: str
    run_dir: str
    run_id: str
    run_date: str
    model_versions: list[str]
    activated_at: str


def serving_dir(out_dir: Path) -> Path:
    """``<out>/serving``."""
    return out_dir / S.SERVING_DIR


def current_snapshot(out_dir: Path) -> Path | None:
    """The snapshot file ``<out>/serving/current`` points at, or ``None`` if there is none."""
    link = serving_dir(out_dir) / S.CURRENT
    if not link.is_symlink():
        return None
    target = link.parent / os.readlink(link)
    return target if target.exists() else None


def point_symlink(link: Path, target: Path) -> None:
    """Atomically make ``link`` a relative symlink to ``target`` (new link renamed over the old)."""
    tmp = link.parent / f".{link.name}.tmp-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(os.path.relpath(target, link.parent))
    os.replace(tmp, link)


@contextlib.contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    serving_dir(out_dir).mkdir(parents=True, exist_ok=True)
    with (serving_dir(out_dir) / ".lock").open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def read_history(out_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """``{"published": [...], "rolled_back": [...]}`` from ``history.json`` (empty lists if absent)."""
    path = serving_dir(out_dir) / S.HISTORY
    data: dict[str, list[dict[str, Any]]] = {"published": [], "rolled_back": []}
    if path.exists():
        data.update(json.loads(path.read_text()))
    return data


def _write_history(out_dir: Path, data: dict[str, list[dict[str, Any]]]) -> None:
    path = serving_dir(out_dir) / S.HISTORY
    tmp = path.with_suffix(f".tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def snapshot_meta(snapshot: Path) -> dict[str, str]:
    """The ``meta`` table of a snapshot file as a dict (read-only open)."""
    import sqlite3

    con = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
    try:
        return dict(con.execute("SELECT key, value FROM meta").fetchall())
    finally:
        con.close()


def _apply_retention(out_dir: Path, history: list[dict[str, Any]], keep: int) -> list[str]:
    keep_names = {e["snapshot"] for e in history[-keep:]}
    cur = current_snapshot(out_dir)
    if cur is not None:
        keep_names.add(cur.name)
    removed = []
    for p in sorted((serving_dir(out_dir) / S.SNAPSHOTS_DIR).glob(f"*{S.SNAPSHOT_SUFFIX}")):
        if p.name not in keep_names and not p.name.startswith("."):
            p.unlink()
            removed.append(p.name)
    if removed:
        log.info("snapshot retention (keep %d): removed %s", keep, removed)
    return removed


def activate_snapshot(out_dir: Path, snapshot: Path, run_dir: Path, activated_at: str, keep: int = 5) -> HistoryEntry:
    """Point ``<out>/serving/current`` at ``snapshot``, record it, and apply retention.

    The caller (the publish step) moves ``<out>/current`` to the run itself; a
    snapshot that is already current is not recorded twice.

    Args:
        out_dir: the output root.
        snapshot: a file built by :func:`fraudmine.serving.build.build_snapshot` in this root.
        run_dir: the run the snapshot was built from.
        activated_at: ISO instant recorded in the history.
        keep: number of newest published snapshots kept on disk (at least 1).

    Returns:
        The history entry of the activation.

    Raises:
        ValueError: ``keep`` < 1 or the snapshot is not under ``<out>/serving/snapshots``.
    """
    if keep < 1:
        raise ValueError(f"serving.keep_snapshots must be at least 1 (got {keep})")
    snaps = serving_dir(out_dir) / S.SNAPSHOTS_DIR
    if snapshot.parent.resolve() != snaps.resolve():
        raise ValueError(f"snapshot {snapshot} is not in {snaps}; build it with build_snapshot(run_dir, out_dir)")
    meta = snapshot_meta(snapshot)
    entry = HistoryEntry(
        snapshot=snapshot.name,
        run_dir=os.path.relpath(run_dir.resolve(), out_dir.resolve()),
        run_id=meta["run_id"],
        run_date=meta["run_date"],
        model_versions=json.loads(meta["model_versions"]),
        activated_at=activated_at,
    )
    with _locked(out_dir):
        point_symlink(serving_dir(out_dir) / S.CURRENT, snapshot)
        data = read_history(out_dir)
        top = data["published"][-1] if data["published"] else None
        if top is None or (top["snapshot"], top["run_dir"]) != (entry.snapshot, entry.run_dir):
            data["published"].append(asdict(entry))
        _write_history(out_dir, data)
        _apply_retention(out_dir, data["published"], keep)
    log.info("serving snapshot %s is current (run %s)", entry.snapshot, entry.run_dir)
    return entry


def rollback(out_dir: Path, rolled_back_at: str) -> tuple[HistoryEntry, HistoryEntry]:
    """Make the previously published run and its snapshot current again.

    Entries whose run folder or snapshot file no longer exists (retention) are
    skipped over and dropped from the history with the rolled-back entry.

    Args:
        out_dir: the output root.
        rolled_back_at: ISO instant recorded with the rolled-back entry.

    Returns:
        ``(from_entry, to_entry)``: what was current and what is current now.

    Raises:
        RollbackError: nothing was published, or no earlier entry is still on disk.
    """
    with _locked(out_dir):
        data = read_history(out_dir)
        published = data["published"]
        if not published:
            raise RollbackError(f"{serving_dir(out_dir) / S.HISTORY}: nothing has been published in {out_dir}")
        top = published[-1]
        cur = current_snapshot(out_dir)
        if cur is None or cur.name != top["snapshot"]:
            raise RollbackError(
                f"{serving_dir(out_dir) / S.CURRENT} names {cur.name if cur else 'nothing'} but the newest published "
                f"snapshot is {top['snapshot']}; fix the pointer by hand before rolling back"
            )
        snaps = serving_dir(out_dir) / S.SNAPSHOTS_DIR
        for i in range(len(published) - 2, -1, -1):
            cand = published[i]
            if (snaps / cand["snapshot"]).exists() and (out_dir / cand["run_dir"]).is_dir():
                break
        else:
            raise RollbackError(
                f"no earlier published run with its snapshot still on disk in {out_dir} "
                f"({len(published)} published, retention keeps the newest snapshots only)"
            )
        point_symlink(out_dir / RUN_CURRENT, out_dir / cand["run_dir"])
        point_symlink(serving_dir(out_dir) / S.CURRENT, snaps / cand["snapshot"])
        dropped = published[i + 1 :]
        data["published"] = published[: i + 1]
        data["rolled_back"].extend({**e, "rolled_back_at": rolled_back_at} for e in dropped)
        _write_history(out_dir, data)
    log.info("rolled back from %s to %s", top["run_dir"], cand["run_dir"])
    return HistoryEntry(**top), HistoryEntry(**cand)
