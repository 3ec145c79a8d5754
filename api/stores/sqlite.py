"""The default store: the immutable SQLite snapshot that ``<out>/serving/current`` points at.

Each snapshot is opened read-only with ``immutable=1`` (no locking, no change
detection: the file never changes once published) and memory-mapped.  A swap
opens the new file, checks its schema version, then replaces one reference;
requests that already hold the old reader finish on it, and its connection is
closed when the last reference goes.  Lookups are primary-key reads of a few
microseconds, so they run inline on the event loop.

A single lookup reads the entity's ready-made risk document from ``risk_docs``
(schema version 2) and appends the snapshot stamp: one indexed read, no JSON
work.  Version 1 snapshots (built before ``risk_docs`` existed, e.g. after a
rollback) are served too, by building the same document from ``scores``.

With ``preload`` (``FRAUDMINE_PRELOAD``) the reader reads every entity's document once
when it opens the snapshot and keeps the finished bodies (document plus stamp) in a
dict: a single lookup is then one dict read, no SQLite call.  This is the whole
immutable snapshot's risk documents in memory, not a cache: no entry is added,
evicted or depends on the traffic; the cost is memory and the load at each swap.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fraudmine.api.schemas import ID_PATTERN
from fraudmine.api.stores.base import IncompatibleSnapshot, SnapshotInfo, parse_evidence
from fraudmine.contracts import serving as S
from fraudmine.contracts.ids import ScoredType
from fraudmine.contracts.serving import risk_json

log = logging.getLogger(__name__)

_RISK_SQL = f"SELECT {', '.join(S.RISK_COLUMNS)} FROM scores WHERE entity_type = ? AND entity_id = ?"
_DOC_SQL = "SELECT doc FROM risk_docs WHERE key = ?"
_BATCH_CHUNK = 400  # bound variables per IN (...) list
_SERVABLE = re.compile(f"(?:{'|'.join(re.escape(t.value) for t in ScoredType)})/{ID_PATTERN.strip('^$')}")
"""A ``risk_docs`` key the lookup route accepts as ``/v1/risk/<key>`` (used with ``fullmatch``)."""


class SqliteSnapshot:
    """Reader of one snapshot file (implements :class:`fraudmine.api.stores.base.SnapshotReader`).

    Args:
        path: the snapshot file.
        preload: read every risk body into memory now (single lookups then skip SQLite).

    Raises:
        sqlite3.Error: the file is not a readable SQLite database.
        IncompatibleSnapshot: its schema version is not supported.
    """

    def __init__(self, path: Path, preload: bool = False) -> None:
        self.path = path
        self._con = sqlite3.connect(
            f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False, cached_statements=32
        )
        self._con.execute("PRAGMA mmap_size = 1073741824")
        self._con.execute("PRAGMA query_only = 1")
        # One read transaction for the connection's life: the file never changes, and a lookup then
        # skips the begin/commit of an autocommit statement.
        self._con.execute("BEGIN")
        self._cursor = self._con.cursor()
        meta = dict(self._con.execute("SELECT key, value FROM meta").fetchall())
        self._info = SnapshotInfo.from_meta(path.name.removesuffix(S.SNAPSHOT_SUFFIX), meta)
        self._docs = self._info.schema_version >= S.RISK_DOCS_SINCE
        self._suffix = self._info.body_suffix
        self._bodies: dict[str, bytes] | None = self._all_bodies() if preload else None

    def _all_bodies(self) -> dict[str, bytes]:
        """Every servable entity's finished body (document plus stamp) by ``risk_docs`` key.

        Keys the route would refuse (422) are left out, so that a hit is always a valid request.
        """
        cut, ok = self._suffix, _SERVABLE.fullmatch
        if self._docs:
            rows = self._con.execute("SELECT key, doc FROM risk_docs")
            return {key: doc[:-1] + cut for key, doc in rows if ok(key)}
        rows = self._con.execute(f"SELECT {', '.join(S.RISK_COLUMNS)} FROM scores")
        keyed = ((S.risk_doc_key(r[0], r[1]), r) for r in rows)
        return {key: risk_json(r).encode()[:-1] + cut for key, r in keyed if ok(key)}

    @property
    def preloaded(self) -> dict[str, bytes] | None:
        """See :attr:`SnapshotReader.preloaded` (set when the reader was opened with ``preload``)."""
        return self._bodies

    @property
    def info(self) -> SnapshotInfo:
        """The snapshot's metadata."""
        return self._info

    def _doc(self, entity_type: str, entity_id: str) -> bytes | None:
        """The risk document's bytes (one cursor reused: lookups never interleave on the event loop)."""
        if self._docs:
            row = self._cursor.execute(_DOC_SQL, (f"{entity_type}/{entity_id}",)).fetchone()
            return None if row is None else row[0]  # type: ignore[no-any-return]
        row = self._cursor.execute(_RISK_SQL, (entity_type, entity_id)).fetchone()
        return None if row is None else risk_json(row).encode()

    def risk_body(self, entity_type: str, entity_id: str) -> bytes | None:
        """See :meth:`SnapshotReader.risk_body`: the stored document with the snapshot stamp appended."""
        if self._bodies is not None:  # preloaded: one dict read
            return self._bodies.get(f"{entity_type}/{entity_id}")
        if self._docs:  # the hot path, inlined: one primary-key read
            row = self._cursor.execute(_DOC_SQL, (f"{entity_type}/{entity_id}",)).fetchone()
            return None if row is None else row[0][:-1] + self._suffix  # type: ignore[no-any-return]
        doc = self._doc(entity_type, entity_id)
        return None if doc is None else doc[:-1] + self._suffix

    def risk_json(self, entity_type: str, entity_id: str) -> str | None:
        """See :meth:`SnapshotReader.risk_json`."""
        doc = self._doc(entity_type, entity_id)
        return None if doc is None else doc.decode()

    def risks_json(self, keys: Sequence[tuple[str, str]]) -> list[str | None]:
        """See :meth:`SnapshotReader.risks_json` (one ``IN`` query per chunk, and per entity type for version 1)."""
        if self._docs:
            return self._docs_json(keys)
        found: dict[tuple[str, str], str] = {}
        by_type: dict[str, list[str]] = {}
        for et, eid in keys:
            by_type.setdefault(et, []).append(eid)
        for et, ids in by_type.items():
            unique = sorted(set(ids))
            for i in range(0, len(unique), _BATCH_CHUNK):
                chunk = unique[i : i + _BATCH_CHUNK]
                sql = _RISK_SQL.replace("entity_id = ?", f"entity_id IN ({', '.join('?' * len(chunk))})")
                for row in self._con.execute(sql, (et, *chunk)):
                    found[(row[0], row[1])] = risk_json(row)
        return [found.get((et, eid)) for et, eid in keys]

    def _docs_json(self, keys: Sequence[tuple[str, str]]) -> list[str | None]:
        wanted = [S.risk_doc_key(et, eid) for et, eid in keys]
        unique = sorted(set(wanted))
        found: dict[str, str] = {}
        for i in range(0, len(unique), _BATCH_CHUNK):
            chunk = unique[i : i + _BATCH_CHUNK]
            sql = f"SELECT key, doc FROM risk_docs WHERE key IN ({', '.join('?' * len(chunk))})"
            found.update((k, doc.decode()) for k, doc in self._con.execute(sql, chunk))
        return [found.get(k) for k in wanted]

    def cluster(self, cluster_id: str, limit: int) -> dict[str, Any] | None:
        """See :meth:`SnapshotReader.cluster`."""
        row = self._con.execute(
            "SELECT cluster_id, kind, size, risk, evidence FROM clusters WHERE cluster_id = ?", (cluster_id,)
        ).fetchone()
        if row is None:
            return None
        members = self._con.execute(
            "SELECT entity_type, entity_id, role FROM cluster_members WHERE cluster_id = ? "
            "ORDER BY entity_type, entity_id LIMIT ?",
            (cluster_id, limit + 1),
        ).fetchall()
        return {
            "cluster_id": row[0],
            "kind": row[1],
            "size": row[2],
            "risk": row[3],
            "evidence": parse_evidence(row[4]),
            "members": [{"entity_type": et, "entity_id": eid, "role": role} for et, eid, role in members[:limit]],
            "members_truncated": len(members) > limit,
        }

    def decision(self, item_id: str) -> dict[str, Any] | None:
        """See :meth:`SnapshotReader.decision`."""
        cols = S.DECISION_COLUMNS
        row = self._con.execute(f"SELECT {', '.join(cols)} FROM decisions WHERE item_id = ?", (item_id,)).fetchone()
        if row is None:
            return None
        out = dict(zip(cols, row, strict=True))
        out["reason_codes"] = json.loads(out["reason_codes"])
        out["evidence"] = parse_evidence(out["evidence"])
        return out

    def close(self) -> None:
        """Close the connection (only when no request can still hold this reader)."""
        self._con.close()


class SqliteStore:
    """Serves ``<out>/serving/current`` and follows it when the pointer moves.

    Args:
        out_dir: the output root the nightly pipeline publishes into.
        preload: open every snapshot with its risk bodies in memory (:class:`SqliteSnapshot`).
    """

    def __init__(self, out_dir: Path, preload: bool = False) -> None:
        self.out_dir = out_dir
        self.preload = preload
        self._link = out_dir / S.SERVING_DIR / S.CURRENT
        self._target: str | None = None
        self._failed: str | None = None
        self._reader: SqliteSnapshot | None = None
        self.refresh()

    def current(self) -> SqliteSnapshot | None:
        """See :meth:`RiskStore.current`."""
        return self._reader

    def _pointed(self) -> str | None:
        try:
            return os.readlink(self._link)
        except OSError:
            return None

    def refresh(self) -> bool:
        """See :meth:`RiskStore.refresh`."""
        target = self._pointed()
        if target is None or target in (self._target, self._failed):
            return False
        path = (self._link.parent / target).resolve()
        try:
            reader = SqliteSnapshot(path, self.preload)
        except (sqlite3.Error, IncompatibleSnapshot, KeyError, ValueError) as exc:
            log.error("cannot open snapshot %s, keeping %s: %s", path, self._target, exc)
            self._failed = target
            return False
        self._reader, self._target = reader, target  # old reader closes when its last request drops it
        log.info("serving snapshot %s (run %s)", reader.info.snapshot_id, reader.info.run_date)
        return True

    def close(self) -> None:
        """See :meth:`RiskStore.close`."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None
