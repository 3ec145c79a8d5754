"""Build the immutable SQLite serving snapshot of one run (pyarrow + sqlite3, no Spark).

:func:`build_snapshot` reads the run's ``scores/`` (required), ``clusters/<kind>/``
and ``decisions/`` (optional) through :mod:`fraudmine.serving.sources`, writes the
tables of :data:`fraudmine.contracts.serving.SNAPSHOT_DDL` into a temporary file,
indexes and checks it, makes it read-only and renames it to
``<out>/serving/snapshots/<run_id>-<sha8>.sqlite``.  The same run outputs give
the same bytes, hence the same name: rebuilding a snapshot never changes an
existing file.  Building does not publish: :func:`fraudmine.serving.publishing.activate_snapshot`
moves the pointer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from fraudmine.contracts import serving as S
from fraudmine.serving.clusters import Clusters, read_clusters
from fraudmine.serving.sources import SnapshotSourceError, dumps, has_parquet, read_decisions, read_scores

log = logging.getLogger(__name__)


def snapshots_dir(out_dir: Path) -> Path:
    """``<out>/serving/snapshots``."""
    return out_dir / S.SERVING_DIR / S.SNAPSHOTS_DIR


def _run_header(run_dir: Path) -> dict[str, str]:
    manifest = run_dir / "manifest.json"
    if not manifest.exists():
        return {}
    data = json.loads(manifest.read_text())
    return {k: str(data[k]) for k in ("run_id", "run_date") if k in data}


def _with_cluster_refs(rows: list[tuple[object, ...]], clusters: Clusters) -> list[tuple[object, ...]]:
    """Scores rows with their ``clusters`` column filled: the entity's clusters, by kind then id."""
    if not clusters.members:
        return rows
    facts = {c[0]: c for c in clusters.clusters}
    refs: dict[tuple[str, str], list[tuple[str, str, dict[str, object]]]] = {}
    for cid, et, eid, role in clusters.members:
        _, kind, size, risk, _ = facts[cid]
        ref = {"cluster_id": cid, "kind": kind, "size": size, "risk": risk, "role": role}
        refs.setdefault((et, eid), []).append((str(kind), cid, ref))
    col = S.SCORE_COLUMNS.index("clusters")
    out = []
    for row in rows:
        mine = refs.get((str(row[0]), str(row[1])))
        if mine:
            row = (*row[:col], dumps([r for _, _, r in sorted(mine, key=lambda x: (x[0], x[1]))]), *row[col + 1 :])
        out.append(row)
    return out


def _risk_docs(rows: list[tuple[object, ...]]) -> Iterator[tuple[str, bytes]]:
    """``risk_docs`` rows of scores rows (``SCORE_COLUMNS`` order, clusters filled): key, document bytes."""
    pick = [S.SCORE_COLUMNS.index(c) for c in S.RISK_COLUMNS]
    for row in rows:
        yield S.risk_doc_key(str(row[0]), str(row[1])), S.risk_json(tuple(row[i] for i in pick)).encode()


def _insert(con: sqlite3.Connection, table: str, columns: tuple[str, ...], rows: Iterable[tuple[object, ...]]) -> None:
    marks = ", ".join("?" * len(columns))
    try:
        con.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
    except sqlite3.IntegrityError as exc:
        raise SnapshotSourceError(f"snapshot table {table}: {exc} (duplicate key in the run's output?)") from None


def _write(path: Path, run_dir: Path) -> tuple[str, dict[str, int]]:
    """Fill a fresh SQLite file at ``path`` from ``run_dir``; return the run id and row counts per table."""
    t0 = time.monotonic()
    scores = read_scores(run_dir / "scores")
    log.info("snapshot: read scores (%d rows) in %.1fs", len(scores.rows), time.monotonic() - t0)
    clusters = read_clusters(run_dir / "clusters")
    decisions = read_decisions(run_dir / "decisions") if has_parquet(run_dir / "decisions") else []
    header = _run_header(run_dir)
    if len(scores.run_ids) > 1:
        raise SnapshotSourceError(f"{run_dir / 'scores'}: {len(scores.run_ids)} run_id values {scores.run_ids}")
    run_id = header.get("run_id") or (scores.run_ids[0] if scores.run_ids else run_dir.name)
    run_date = header.get("run_date") or (scores.as_of or "")[:10] or run_dir.name
    con = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "locking_mode = EXCLUSIVE", "cache_size = -262144"):
            con.execute(f"PRAGMA {pragma}")
        con.execute("BEGIN")
        for ddl in S.SNAPSHOT_DDL:
            con.execute(ddl)
        rows = _with_cluster_refs(scores.rows, clusters)
        _insert(con, "scores", S.SCORE_COLUMNS, rows)
        _insert(con, "risk_docs", ("key", "doc"), _risk_docs(rows))
        _insert(con, "clusters", S.CLUSTER_COLUMNS, clusters.clusters)
        _insert(con, "cluster_members", S.MEMBER_COLUMNS, clusters.members)
        _insert(con, "decisions", S.DECISION_COLUMNS, decisions)
        for ddl in S.SNAPSHOT_INDEXES:
            con.execute(ddl)
        counts = {
            "scores": len(scores.rows),
            "clusters": len(clusters.clusters),
            "cluster_members": len(clusters.members),
            "decisions": len(decisions),
        }
        meta = {
            "schema_version": str(S.SCHEMA_VERSION),
            "run_id": run_id,
            "run_date": run_date,
            "as_of": scores.as_of or "",
            "model_versions": json.dumps(scores.model_versions),
            "entity_types": json.dumps(scores.entity_types),
            "cluster_kinds": json.dumps(clusters.kinds),
            "row_counts": json.dumps(counts, sort_keys=True),
            "sources": json.dumps(
                [name for name in ("scores", "clusters", "decisions") if has_parquet(run_dir / name)]
            ),
        }
        con.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", sorted(meta.items()))
        con.execute("COMMIT")
        con.execute("ANALYZE")
        check = con.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise RuntimeError(f"snapshot {path}: SQLite quick_check failed: {check}")
    finally:
        con.close()
    return run_id, counts


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build_snapshot(run_dir: Path, out_dir: Path) -> Path:
    """Build the serving snapshot of ``run_dir`` under ``out_dir`` (not yet published).

    Args:
        run_dir: a run folder with a committed ``scores/`` (and optionally ``clusters/``,
            ``decisions/``, ``manifest.json``).
        out_dir: the output root; the file lands in ``<out>/serving/snapshots/``.

    Returns:
        Path of the read-only snapshot ``<run_id>-<sha8>.sqlite`` (an existing file
        of that name already holds the same bytes and is kept).

    Raises:
        SnapshotSourceError: a required output is missing or malformed (names the folder
            and column).
    """
    t0 = time.monotonic()
    dest_dir = snapshots_dir(out_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    tmp = dest_dir / f".building-{os.getpid()}-{run_dir.name}{S.SNAPSHOT_SUFFIX}"
    tmp.unlink(missing_ok=True)
    try:
        run_id, counts = _write(tmp, run_dir)
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        final = dest_dir / f"{run_id}-{_sha256(tmp)[:8]}{S.SNAPSHOT_SUFFIX}"
        tmp.chmod(0o444)
        if final.exists():
            tmp.unlink()
        else:
            os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    log.info(
        "snapshot %s built in %.1fs (%s; %.1f MiB)",
        final.name,
        time.monotonic() - t0,
        ", ".join(f"{k} {v}" for k, v in counts.items()),
        final.stat().st_size / 2**20,
    )
    return final
