"""Store back ends of the API behind one port (:mod:`fraudmine.api.stores.base`)."""

from __future__ import annotations

from pathlib import Path

from fraudmine.api.settings import ApiSettings
from fraudmine.api.stores.base import RiskStore, SnapshotInfo, SnapshotReader
from fraudmine.api.stores.sqlite import SqliteStore

__all__ = ["RiskStore", "SnapshotInfo", "SnapshotReader", "SqliteStore", "make_store"]


def make_store(settings: ApiSettings) -> RiskStore:
    """The back end named by ``settings.store`` (``sqlite`` or ``redis``) over ``settings.output``."""
    out = Path(settings.output)
    if settings.store == "redis":
        import redis

        from fraudmine.api.stores.redis import RedisStore

        client = redis.Redis.from_url(settings.redis_url)
        return RedisStore(client, settings.redis_prefix, out_dir=out, keep=settings.redis_keep)
    return SqliteStore(out, preload=settings.preload)
