"""Incremental, idempotent, resumable upserts of a bundle into a graph sink.

For each file group (nodes first, then relationships) every row's content hash is
compared with the hash recorded for that key at the last load into the same
target; only new or changed rows are sent, in ``UNWIND $rows`` batches of
``batch_size``, one write transaction each.  After a batch commits its keys and
hashes are recorded in the state file (SQLite), so a load that fails half-way is
resumed by running it again: committed batches are not resent.  Keys recorded for
a target but absent from the bundle are deleted (relationships before nodes), so
a member leaving a cluster loses its ``MEMBER_OF``.  A rerun of a completed load
sends nothing; ``full=True`` ignores the state and resends everything (MERGE keeps
the result identical).  The state is per target (URI and database, or FalkorDB
graph); if the database was wiped, load with ``full=True``.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fraudmine.analyst import dialect, statements
from fraudmine.analyst.reader import Bundle, Group, iter_rows
from fraudmine.analyst.sinks import GraphSink

log = logging.getLogger(__name__)

_SEP = "\x1f"


class LoadState:
    """Keys and content hashes loaded into each target, in a SQLite file.

    Args:
        path: the SQLite file (created with its folder if missing).
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path))
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS loaded (target TEXT, grp TEXT, key TEXT, hash TEXT,
                                               PRIMARY KEY (target, grp, key));
            CREATE TABLE IF NOT EXISTS groups (target TEXT, grp TEXT, kind TEXT, a TEXT, b TEXT, c TEXT,
                                               PRIMARY KEY (target, grp));
            CREATE TABLE IF NOT EXISTS loads (target TEXT, run_id TEXT, finished_at REAL);
            """
        )

    def hashes(self, target: str, grp: str) -> dict[str, str]:
        """``key → hash`` recorded for a group of a target."""
        cur = self._db.execute("SELECT key, hash FROM loaded WHERE target = ? AND grp = ?", (target, grp))
        return dict(cur.fetchall())

    def record(self, target: str, grp: str, items: Iterable[tuple[str, str]]) -> None:
        """Record committed ``(key, hash)`` pairs (one SQLite transaction)."""
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO loaded VALUES (?, ?, ?, ?)", [(target, grp, k, h) for k, h in items]
            )

    def forget(self, target: str, grp: str, keys: Iterable[str]) -> None:
        """Drop deleted keys."""
        with self._db:
            self._db.executemany(
                "DELETE FROM loaded WHERE target = ? AND grp = ? AND key = ?", [(target, grp, k) for k in keys]
            )

    def register_group(self, target: str, grp: str, kind: str, a: str, b: str = "", c: str = "") -> None:
        """Remember how to delete a group's rows (kind and ID spaces / type)."""
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO groups VALUES (?, ?, ?, ?, ?, ?)", (target, grp, kind, a, b, c))

    def groups(self, target: str) -> dict[str, tuple[str, str, str, str]]:
        """Registered groups of a target: ``grp → (kind, a, b, c)``."""
        cur = self._db.execute("SELECT grp, kind, a, b, c FROM groups WHERE target = ?", (target,))
        return {r[0]: (r[1], r[2], r[3], r[4]) for r in cur.fetchall()}

    def finish(self, target: str, run_id: str) -> None:
        """Record a completed load."""
        with self._db:
            self._db.execute("INSERT INTO loads VALUES (?, ?, ?)", (target, run_id, time.time()))

    def last_run(self, target: str) -> str | None:
        """Run id of the last completed load into ``target``."""
        row = self._db.execute(
            "SELECT run_id FROM loads WHERE target = ? ORDER BY finished_at DESC LIMIT 1", (target,)
        ).fetchone()
        return str(row[0]) if row else None

    def clear(self, target: str) -> None:
        """Forget everything about ``target`` (a full reload follows)."""
        with self._db:
            for table in ("loaded", "groups", "loads"):
                self._db.execute(f"DELETE FROM {table} WHERE target = ?", (target,))

    def close(self) -> None:
        """Close the SQLite connection."""
        self._db.close()


@dataclass
class GroupReport:
    """What a load did to one group."""

    written: int = 0
    unchanged: int = 0
    deleted: int = 0
    batches: int = 0


@dataclass
class LoadReport:
    """What a load did, per group, and how long it took."""

    groups: dict[str, GroupReport] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def written(self) -> int:
        """Rows sent (new or changed)."""
        return sum(g.written for g in self.groups.values())

    @property
    def deleted(self) -> int:
        """Rows deleted."""
        return sum(g.deleted for g in self.groups.values())

    @property
    def unchanged(self) -> int:
        """Rows skipped because their hash was unchanged."""
        return sum(g.unchanged for g in self.groups.values())


def _grp(group: Group) -> str:
    return f"{group.kind}/{group.name}"


def _changed(
    group: Group, previous: dict[str, str], engine: dialect.Engine, seen: set[str], rep: GroupReport
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    conv = (lambda v: dialect.datetime_value(v, engine)) if engine is dialect.Engine.NEO4J else str
    props = [(i, f.name) for i, f in enumerate(group.fields) if f.name and f.type != "ID"]
    node = group.kind == "nodes"
    for raw, values in iter_rows(group, conv):
        key = raw[0] if node else f"{raw[0]}{_SEP}{raw[1]}"
        digest = hashlib.blake2b(_SEP.join(raw).encode(), digest_size=12).hexdigest()
        seen.add(key)
        if previous.get(key) == digest:
            rep.unchanged += 1
            continue
        row: dict[str, Any] = {"props": {name: values[i] for i, name in props}}
        if node:
            row["id"] = raw[0]
            row["labels"] = values[1] or []
        else:
            row["start"], row["end"] = raw[0], raw[1]
        yield key, digest, row


def _flush(sink: GraphSink, state: LoadState, target: str, grp: str, group: Group, batch: list[Any]) -> None:
    if group.kind == "nodes":
        by_extras: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for _k, _h, row in batch:
            extras = tuple(lab for lab in row.pop("labels") if lab != group.name)
            by_extras.setdefault(extras, []).append(row)
        for extras, rows in by_extras.items():
            sink.write(statements.node_upsert(group.name, extras), rows)
    else:
        rel_type = str(group.rel_type)
        sink.write(
            statements.rel_upsert(rel_type, str(group.start_space), str(group.end_space)), [r for *_x, r in batch]
        )
    state.record(target, grp, [(k, h) for k, h, _r in batch])


def _sync(
    sink: GraphSink, state: LoadState, target: str, group: Group, batch_size: int, full: bool
) -> tuple[GroupReport, set[str]]:
    grp = _grp(group)
    rep = GroupReport()
    previous = {} if full else state.hashes(target, grp)
    seen: set[str] = set()
    batch: list[Any] = []
    for item in _changed(group, previous, sink.engine, seen, rep):
        batch.append(item)
        if len(batch) >= batch_size:
            _flush(sink, state, target, grp, group, batch)
            rep.written, rep.batches, batch = rep.written + len(batch), rep.batches + 1, []
    if batch:
        _flush(sink, state, target, grp, group, batch)
        rep.written, rep.batches = rep.written + len(batch), rep.batches + 1
    stale = set(previous) - seen if not full else set(state.hashes(target, grp)) - seen
    return rep, stale


def _delete(
    sink: GraphSink,
    state: LoadState,
    target: str,
    grp: str,
    spec: tuple[str, str, str, str],
    keys: set[str],
    batch_size: int,
) -> int:
    kind, a, b, c = spec
    ordered = sorted(keys)
    for i in range(0, len(ordered), batch_size):
        chunk = ordered[i : i + batch_size]
        if kind == "nodes":
            sink.write(statements.node_delete(a), [{"id": k} for k in chunk])
        else:
            rows = [dict(zip(("start", "end"), k.split(_SEP, 1), strict=True)) for k in chunk]
            sink.write(statements.rel_delete(c, a, b), rows)
        state.forget(target, grp, chunk)
    return len(ordered)


def load_bundle(
    bundle: Bundle, sink: GraphSink, state: LoadState, target: str, batch_size: int = 1000, full: bool = False
) -> LoadReport:
    """Bring ``target`` in line with ``bundle``: constraints, changed nodes, changed relationships, deletions.

    Args:
        bundle: an opened bundle (:func:`fraudmine.analyst.reader.open_bundle`).
        sink: where to write.
        state: the load state.
        target: a name for the destination (URI + database, or FalkorDB graph), never with credentials.
        batch_size: rows per ``UNWIND`` batch.
        full: ignore the recorded state and resend every row.

    Returns:
        Per-group counts of written, unchanged and deleted rows.
    """
    t0 = time.monotonic()
    report = LoadReport()
    sink.ensure_schema([g.name for g in bundle.nodes])
    stale: dict[str, set[str]] = {}
    for group in (*bundle.nodes, *bundle.relationships):
        g0 = time.monotonic()
        grp = _grp(group)
        if group.kind == "nodes":
            state.register_group(target, grp, "nodes", group.name)
        else:
            state.register_group(
                target, grp, "relationships", str(group.start_space), str(group.end_space), str(group.rel_type)
            )
        rep, stale[grp] = _sync(sink, state, target, group, batch_size, full)
        report.groups[grp] = rep
        log.info(
            "%s: %d written, %d unchanged in %d batches, %.1fs",
            grp,
            rep.written,
            rep.unchanged,
            rep.batches,
            time.monotonic() - g0,
        )
    present = {_grp(g) for g in (*bundle.nodes, *bundle.relationships)}
    registered = state.groups(target)
    for grp in registered:
        if grp not in present:
            stale[grp] = set(state.hashes(target, grp))
    for want in ("relationships", "nodes"):
        for grp, keys in stale.items():
            spec = registered.get(grp)
            if keys and spec and spec[0] == want:
                n = _delete(sink, state, target, grp, spec, keys, batch_size)
                report.groups.setdefault(grp, GroupReport()).deleted += n
                log.info("%s: %d deleted", grp, n)
    state.finish(target, bundle.run_id)
    report.seconds = round(time.monotonic() - t0, 3)
    return report
