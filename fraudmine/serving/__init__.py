"""Serving snapshots: build one immutable SQLite file per published run, point ``current``, roll back.

Light on purpose (pyarrow + sqlite3, never Spark or torch) so it runs on an API
host as well as in the nightly publish step.  The file layout and SQLite schema
are declared in :mod:`fraudmine.contracts.serving`; the API reads them.
"""

from __future__ import annotations

from fraudmine.serving.build import build_snapshot, snapshots_dir
from fraudmine.serving.publishing import (
    HistoryEntry,
    RollbackError,
    activate_snapshot,
    current_snapshot,
    read_history,
    rollback,
)
from fraudmine.serving.sources import SnapshotSourceError

__all__ = [
    "HistoryEntry",
    "RollbackError",
    "SnapshotSourceError",
    "activate_snapshot",
    "build_snapshot",
    "current_snapshot",
    "read_history",
    "rollback",
    "snapshots_dir",
]
