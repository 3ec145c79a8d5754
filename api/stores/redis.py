"""Optional store: the snapshot's rows loaded into Redis, for deployments that share one cache.

Keys (``<p>`` is the configured prefix, ``<sid>`` a snapshot id)::

    <p>:current              → snapshot id being served
    <p>:snapshots            → list of loaded snapshot ids, newest last
    <p>:<sid>:meta           hash: the snapshot's meta table
    <p>:<sid>:risk           hash: "<entity_type>/<entity_id>" → risk row JSON
    <p>:<sid>:cluster        hash: cluster_id → cluster JSON (all members)
    <p>:<sid>:decision       hash: item_id → decision JSON

:func:`load_snapshot` copies one SQLite snapshot into a new ``<sid>`` namespace,
then moves ``<p>:current`` with one ``SET`` (readers never see a half-loaded
snapshot) and unlinks namespaces beyond ``keep``.  :class:`RedisStore` follows
``<p>:current``; given an output folder it is also the loader: when the local
``serving/current`` names a snapshot Redis does not have, it loads it (under a
``SET NX`` lock so one replica loads).  The client is synchronous: a lookup is one
``HGET`` round trip (about 0.1 ms on loopback) on the event loop.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError

from fraudmine.api.stores.base import IncompatibleSnapshot, SnapshotInfo
from fraudmine.api.stores.sqlite import SqliteSnapshot
from fraudmine.contracts import serving as S
from fraudmine.contracts.serving import risk_json

log = logging.getLogger(__name__)

_CHUNK = 2000


def _key(et: str, eid: str) -> str:
    return f"{et}/{eid}"


def _text(v: Any) -> str | None:
    return v.decode() if isinstance(v, bytes) else v


def load_snapshot(client: Any, snapshot: Path, prefix: str, keep: int = 2) -> str:
    """Copy a SQLite snapshot into Redis and make it current there.

    Args:
        client: a ``redis.Redis`` client.
        snapshot: the snapshot file.
        prefix: key prefix.
        keep: loaded snapshots kept in Redis (older namespaces are unlinked).

    Returns:
        The snapshot id now current in Redis.
    """
    reader = SqliteSnapshot(snapshot)
    sid = reader.info.snapshot_id
    ns = f"{prefix}:{sid}"
    con = sqlite3.connect(f"file:{snapshot}?mode=ro&immutable=1", uri=True)
    try:
        client.unlink(f"{ns}:risk", f"{ns}:cluster", f"{ns}:decision", f"{ns}:meta")
        cur = con.execute(f"SELECT {', '.join(S.RISK_COLUMNS)} FROM scores")
        while rows := cur.fetchmany(_CHUNK):
            client.hset(f"{ns}:risk", mapping={_key(r[0], r[1]): risk_json(r) for r in rows})
        for (cid,) in con.execute("SELECT cluster_id FROM clusters").fetchall():
            c = reader.cluster(cid, limit=2**31)
            assert c is not None
            client.hset(f"{ns}:cluster", cid, json.dumps(c))
        cur = con.execute("SELECT item_id FROM decisions")
        while ids := cur.fetchmany(_CHUNK):
            client.hset(f"{ns}:decision", mapping={i: json.dumps(reader.decision(i)) for (i,) in ids})
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    finally:
        con.close()
        reader.close()
    client.hset(f"{ns}:meta", mapping=meta)
    client.set(f"{prefix}:current", sid)
    client.lrem(f"{prefix}:snapshots", 0, sid)
    client.rpush(f"{prefix}:snapshots", sid)
    loaded = [_text(s) for s in client.lrange(f"{prefix}:snapshots", 0, -1)]
    for old in loaded[: max(0, len(loaded) - keep)]:
        client.unlink(
            f"{prefix}:{old}:risk", f"{prefix}:{old}:cluster", f"{prefix}:{old}:decision", f"{prefix}:{old}:meta"
        )
        client.lrem(f"{prefix}:snapshots", 0, old)
    log.info("loaded snapshot %s into Redis (%s)", sid, meta.get("row_counts"))
    return sid


class RedisSnapshot:
    """Reader of one snapshot namespace in Redis (implements ``SnapshotReader``)."""

    def __init__(self, client: Any, prefix: str, info: SnapshotInfo) -> None:
        self._c = client
        self._info = info
        self._ns = f"{prefix}:{info.snapshot_id}"

    @property
    def info(self) -> SnapshotInfo:
        """The snapshot's metadata."""
        return self._info

    @property
    def preloaded(self) -> None:
        """Never: every lookup asks Redis (see ``SnapshotReader.preloaded``)."""
        return None

    def risk_json(self, entity_type: str, entity_id: str) -> str | None:
        """See ``SnapshotReader.risk_json``."""
        return _text(self._c.hget(f"{self._ns}:risk", _key(entity_type, entity_id)))

    def risk_body(self, entity_type: str, entity_id: str) -> bytes | None:
        """See ``SnapshotReader.risk_body``."""
        doc = self._c.hget(f"{self._ns}:risk", _key(entity_type, entity_id))
        return None if doc is None else self._info.risk_body(doc)

    def risks_json(self, keys: Sequence[tuple[str, str]]) -> list[str | None]:
        """See ``SnapshotReader.risks_json`` (one ``HMGET``)."""
        if not keys:
            return []
        return [_text(r) for r in self._c.hmget(f"{self._ns}:risk", [_key(et, eid) for et, eid in keys])]

    def cluster(self, cluster_id: str, limit: int) -> dict[str, Any] | None:
        """See ``SnapshotReader.cluster``."""
        raw = self._c.hget(f"{self._ns}:cluster", cluster_id)
        if raw is None:
            return None
        c: dict[str, Any] = json.loads(raw)
        c["members_truncated"] = len(c["members"]) > limit
        c["members"] = c["members"][:limit]
        return c

    def decision(self, item_id: str) -> dict[str, Any] | None:
        """See ``SnapshotReader.decision``."""
        raw = self._c.hget(f"{self._ns}:decision", item_id)
        return None if raw is None else dict(json.loads(raw))


class RedisStore:
    """Serves the snapshot named by ``<prefix>:current`` in Redis (implements ``RiskStore``).

    Args:
        client: a ``redis.Redis`` client.
        prefix: key prefix.
        out_dir: when set, also load ``<out>/serving/current`` into Redis whenever it
            names a snapshot Redis does not have.
        keep: snapshots kept in Redis when loading.
    """

    def __init__(self, client: Any, prefix: str = "fraudmine", out_dir: Path | None = None, keep: int = 2) -> None:
        self._c = client
        self.prefix = prefix
        self.out_dir = out_dir
        self.keep = keep
        self._reader: RedisSnapshot | None = None
        self.refresh()

    def current(self) -> RedisSnapshot | None:
        """See ``RiskStore.current``."""
        return self._reader

    def _load_local(self) -> None:
        if self.out_dir is None:
            return
        link = self.out_dir / S.SERVING_DIR / S.CURRENT
        try:
            target = (link.parent / os.readlink(link)).resolve()
        except OSError:
            return
        sid = target.name.removesuffix(S.SNAPSHOT_SUFFIX)
        if _text(self._c.get(f"{self.prefix}:current")) == sid:
            return
        if not self._c.set(f"{self.prefix}:loading", sid, nx=True, ex=600):
            return  # another replica is loading
        try:
            load_snapshot(self._c, target, self.prefix, self.keep)
        finally:
            self._c.delete(f"{self.prefix}:loading")

    def refresh(self) -> bool:
        """See ``RiskStore.refresh``."""
        try:
            self._load_local()
            sid = _text(self._c.get(f"{self.prefix}:current"))
            if sid is None or (self._reader is not None and self._reader.info.snapshot_id == sid):
                return False
            meta = {str(_text(k)): str(_text(v)) for k, v in self._c.hgetall(f"{self.prefix}:{sid}:meta").items()}
            info = SnapshotInfo.from_meta(sid, meta)
        except (IncompatibleSnapshot, KeyError, ValueError, OSError, sqlite3.Error, RedisError) as exc:
            log.error("Redis snapshot refresh failed, keeping the current one: %s: %s", type(exc).__name__, exc)
            return False
        self._reader = RedisSnapshot(self._c, self.prefix, info)
        log.info("serving Redis snapshot %s (run %s)", sid, info.run_date)
        return True

    def close(self) -> None:
        """See ``RiskStore.close``."""
        self._c.close()
