"""The Redis store against a real ``redis-server`` (Debian package ``redis-server``).

The test starts its own server on a free loopback port (no persistence) and stops
it by its process id; without the binary it is skipped with the reason shown.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fraudmine.api.app import create_app, refresh_once
from fraudmine.api.settings import ApiSettings
from fraudmine.api.stores.redis import RedisStore, load_snapshot
from fraudmine.api.stores.sqlite import SqliteStore
from tests.serving_runs import CREATORS, MERCHANTS, free_port, publish, write_run

REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(
    REDIS is None, reason="redis-server not installed (Debian: apt-get install redis-server; .ci/run does)"
)
KEY = "redis-key"


@pytest.fixture(scope="module")
def redis_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import redis

    assert REDIS is not None
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    args = [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen([*args, "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"redis-server on port {port} did not answer")
        yield client
    finally:
        client.close()
        proc.terminate()  # our own server, by its process id
        proc.wait(timeout=10)


@pytest.fixture
def client(redis_client: Any) -> Any:
    redis_client.flushall()
    return redis_client


def test_redis_store_answers_exactly_what_the_sqlite_store_answers(client: Any, tmp_path: Path) -> None:
    snap = publish(tmp_path, write_run(tmp_path, "2026-11-01", "r1"))
    assert load_snapshot(client, snap, "fm") == snap.stem
    redis_reader = RedisStore(client, "fm").current()
    sqlite_reader = SqliteStore(tmp_path).current()
    assert redis_reader is not None and sqlite_reader is not None
    assert redis_reader.info == sqlite_reader.info
    keys = [("merchant", m) for m in MERCHANTS] + [("creator", c) for c in CREATORS] + [("merchant", "nobody")]
    for et, eid in keys:
        assert redis_reader.risk_json(et, eid) == sqlite_reader.risk_json(et, eid)
    assert redis_reader.risks_json(keys) == sqlite_reader.risks_json(keys)
    assert redis_reader.risks_json(keys)[-1] is None and redis_reader.risks_json(keys)[0] is not None
    for cid, limit in (("identity-0001", 10), ("identity-0001", 2), ("collusion-0017", 10), ("nope", 1)):
        assert redis_reader.cluster(cid, limit) == sqlite_reader.cluster(cid, limit)
    for item in ("q00000000", "q00000001", "missing"):
        assert redis_reader.decision(item) == sqlite_reader.decision(item)


def test_api_over_redis_loads_follows_and_retains_snapshots(client: Any, tmp_path: Path) -> None:
    s1 = publish(tmp_path, write_run(tmp_path, "2026-11-01", "r1", m1_risk=0.1))
    store = RedisStore(client, "fm", out_dir=tmp_path, keep=2)  # the loader role: pushes serving/current
    settings = ApiSettings(output=tmp_path, api_keys=(KEY,), store="redis")
    with TestClient(create_app(settings, store)) as api:
        body = api.get("/v1/risk/merchant/m0000001", headers={"X-API-Key": KEY}).json()
        assert (body["snapshot_id"], body["risks"]["fraud"]) == (s1.stem, 0.1)
        assert api.get("/v1/clusters/identity-0001", headers={"X-API-Key": KEY}).json()["size"] == 3
        for day, risk in ((2, 0.2), (3, 0.3)):
            snap = publish(tmp_path, write_run(tmp_path, f"2026-11-0{day}", f"r{day}", m1_risk=risk))
            assert refresh_once(api.app) is True  # type: ignore[arg-type]
            body = api.get("/v1/risk/merchant/m0000001", headers={"X-API-Key": KEY}).json()
            assert (body["snapshot_id"], body["risks"]["fraud"]) == (snap.stem, risk)
        assert api.get("/v1/risk/merchant/zzz", headers={"X-API-Key": KEY}).status_code == 404
    loaded = [s.decode() for s in client.lrange("fm:snapshots", 0, -1)]
    assert len(loaded) == 2 and s1.stem not in loaded
    assert not client.exists(f"fm:{s1.stem}:risk"), "snapshots beyond keep are unlinked"
    assert client.get("fm:current").decode() == loaded[-1]


def test_a_second_replica_reads_without_loading(client: Any, tmp_path: Path) -> None:
    snap = publish(tmp_path, write_run(tmp_path, "2026-11-01", "r1"))
    RedisStore(client, "fm", out_dir=tmp_path)  # loader
    replica = RedisStore(client, "fm")  # a replica without the files
    reader = replica.current()
    assert reader is not None and reader.info.snapshot_id == snap.stem
    assert reader.risk_json("merchant", "m0000003") is not None
