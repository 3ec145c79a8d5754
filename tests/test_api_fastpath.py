"""The raw-ASGI fast path answers exactly what the FastAPI routes answer.

Two apps over the same snapshot, one with the fast path (the default) and one
without (``fast_path=False``), get the same requests as raw ASGI calls; status,
header list and body must be byte-identical, and the fast path must have answered
the cases it is meant to (else the comparison would be FastAPI against itself).
The Prometheus series they record must match too.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from fraudmine.api.app import create_app
from fraudmine.api.fastpath import RiskApi
from fraudmine.api.routers.risk import RISK_ROUTE
from fraudmine.api.settings import ApiSettings
from fraudmine.api.stores.sqlite import SqliteSnapshot, SqliteStore
from fraudmine.contracts.serving import SCHEMA_VERSION
from tests.serving_runs import publish, write_run

KEY = "fast-key"
ONE = {"entity_type": "merchant", "entity_id": "m0000001"}
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


def call(
    app: RiskApi, method: str, path: str, key: str | None = KEY, body: bytes = b"", ctype: bytes | None = None
) -> Answer:
    """One request through the app's ASGI interface (body in two chunks); returns status, headers, body."""
    headers = [(b"host", b"test")]
    if key is not None:
        headers.append((b"x-api-key", key.encode()))
    if ctype is not None:
        headers.append((b"content-type", ctype))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2),
    }  # fmt: skip
    half = len(body) // 2
    incoming = [
        {"type": "http.request", "body": body[:half], "more_body": True},
        {"type": "http.request", "body": body[half:], "more_body": False},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], list(start["headers"]), payload


def batch(*ids: tuple[str, str], **extra: Any) -> bytes:
    return json.dumps({"entities": [{"entity_type": t, "entity_id": i} for t, i in ids], **extra}).encode()


JSON = b"application/json"
# (method, path, key, body, content-type, status, answered by the fast path)
CASES: list[tuple[str, str, str | None, bytes, bytes | None, int, bool]] = [
    ("GET", "/v1/risk/merchant/m0000001", KEY, b"", None, 200, True),
    ("GET", "/v1/risk/creator/c0000001", KEY, b"", None, 200, True),
    ("GET", "/v1/risk/merchant/m9999999", KEY, b"", None, 404, True),
    ("GET", "/v1/risk/product/p1", KEY, b"", None, 404, True),  # a type the snapshot does not score
    ("GET", "/v1/risk/merchant/m0000001", None, b"", None, 401, False),
    ("GET", "/v1/risk/merchant/m0000001", "wrong", b"", None, 401, False),
    ("GET", "/v1/risk/shop/m1", KEY, b"", None, 422, False),
    ("GET", "/v1/risk/merchant/bad id", KEY, b"", None, 422, False),
    ("GET", "/v1/risk/merchant/" + "x" * 129, KEY, b"", None, 422, False),
    ("GET", "/v1/risk/merchant/m\u00e9", KEY, b"", None, 422, False),
    ("GET", "/v1/risk/merchant/m1\n", KEY, b"", None, 422, False),
    ("GET", "/v1/risk/merchant/m1/more", KEY, b"", None, 404, False),  # no such route
    ("GET", "/v1/risk/merchant/", KEY, b"", None, 404, False),
    (
        "POST",
        "/v1/risk:batch",
        KEY,
        batch(("merchant", "m0000003"), ("creator", "c0000002"), ("merchant", "no")),
        JSON,
        200,
        True,
    ),
    (
        "POST",
        "/v1/risk:batch",
        KEY,
        b'{"entities":[{"entity_type":"merchant","entity_id":"m\\u00300000001"}]}',
        JSON,
        200,
        True,
    ),
    ("POST", "/v1/risk:batch", KEY, batch(("merchant", "m0000001")), b"application/json; charset=utf-8", 200, False),
    ("POST", "/v1/risk:batch", None, batch(("merchant", "m0000001")), JSON, 401, False),
    ("POST", "/v1/risk:batch", KEY, batch(), JSON, 422, False),
    ("POST", "/v1/risk:batch", KEY, batch(*[("merchant", "m0000001")] * 1001), JSON, 422, False),
    ("POST", "/v1/risk:batch", KEY, batch(("merchant", "m0000001"), limit=3), JSON, 422, False),
    ("POST", "/v1/risk:batch", KEY, batch(("shop", "m0000001")), JSON, 422, False),
    ("POST", "/v1/risk:batch", KEY, b"{nope", JSON, 422, False),
    ("POST", "/v1/risk:batch", KEY, b"", JSON, 422, False),
    ("POST", "/v1/risk:batch", KEY, batch(*[("merchant", "m0000001")] * 4), JSON, 422, False),  # over max_batch=3
    ("GET", "/v1/risk:batch", KEY, b"", None, 405, False),
]


@pytest.fixture(scope="module", params=[False, True], ids=["sqlite-read", "preloaded"])
def apps(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[RiskApi, RiskApi, list[str]]:
    """The fast app (its store reading SQLite per lookup, or holding every body in memory) and FastAPI alone."""
    out = tmp_path_factory.mktemp("fast")
    publish(out, write_run(out, "2026-11-01", "2026-11-01-aaaa"))
    preload: bool = request.param
    fast = create_app(
        ApiSettings(output=out, api_keys=(KEY,), max_batch=3, preload=preload), SqliteStore(out, preload=preload)
    )
    assert (fast.state.store.current().preloaded is not None) is preload
    slow = create_app(ApiSettings(output=out, api_keys=(KEY,), max_batch=3, fast_path=False), SqliteStore(out))
    assert fast.hot is not None and slow.hot is None
    fell_back: list[str] = []
    fallback = fast.hot.fallback

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        fell_back.append(scope["path"])
        await fallback(scope, receive, send)

    fast.hot.fallback = recording
    return fast, slow, fell_back


@pytest.mark.parametrize(("method", "path", "key", "body", "ctype", "status", "fast_answers"), CASES)
def test_fast_path_answers_byte_identical_to_fastapi(
    apps: tuple[RiskApi, RiskApi, list[str]],
    method: str,
    path: str,
    key: str | None,
    body: bytes,
    ctype: bytes | None,
    status: int,
    fast_answers: bool,
) -> None:
    fast, slow, fell_back = apps
    fell_back.clear()
    expected = call(slow, method, path, key, body, ctype)
    got = call(fast, method, path, key, body, ctype)
    assert expected[0] == status, expected
    assert got == expected
    assert (fell_back == []) is fast_answers, "the fast path answered" if fell_back == [] else "FastAPI answered"


def test_fast_path_records_the_same_metrics(apps: tuple[RiskApi, RiskApi, list[str]]) -> None:
    fast, slow, _ = apps

    def series(app: RiskApi) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        keep = ("fraudmine_api_requests_total", "fraudmine_api_request_seconds_count", "fraudmine_api_batch_entities")
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in app.state.metrics.registry.collect()
            for s in family.samples
            if s.name.startswith(keep) and not s.name.endswith("_created")
        }

    for method, path, key, body, ctype, *_ in CASES:  # whatever ran before, both apps get the same again
        call(fast, method, path, key, body, ctype)
        call(slow, method, path, key, body, ctype)
    got, expected = series(fast), series(slow)
    assert got == expected
    ok = ("fraudmine_api_requests_total", (("method", "GET"), ("route", RISK_ROUTE), ("status", "200")))
    assert got[ok] >= 2
    assert got[("fraudmine_api_batch_entities_count", ())] >= 2


def test_no_snapshot_yet_is_left_to_fastapi(tmp_path: Path) -> None:
    fast = create_app(ApiSettings(output=tmp_path, api_keys=(KEY,)), SqliteStore(tmp_path))
    slow = create_app(ApiSettings(output=tmp_path, api_keys=(KEY,), fast_path=False), SqliteStore(tmp_path))
    for method, path, body in (
        ("GET", "/v1/risk/merchant/m0000001", b""),
        ("POST", "/v1/risk:batch", batch(("merchant", "m1"))),
    ):
        got = call(fast, method, path, body=body, ctype=JSON)
        assert got[0] == 503 and got == call(slow, method, path, body=body, ctype=JSON)


def test_a_failing_lookup_is_answered_by_fastapi(
    apps: tuple[RiskApi, RiskApi, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, _, fell_back = apps
    reader = fast.state.store.current()

    def broken(*_: object) -> None:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(reader, "risk_body", broken)
    if reader.preloaded is not None:  # a held body is answered without a read: make the entity a miss
        monkeypatch.setattr(reader, "_bodies", {})
    fell_back.clear()
    with pytest.raises(RuntimeError, match="disk gone"):  # FastAPI's ServerErrorMiddleware re-raises after its 500
        call(fast, "GET", "/v1/risk/merchant/m0000001")
    assert fell_back == ["/v1/risk/merchant/m0000001"]


def test_a_body_too_large_to_buffer_is_replayed_to_fastapi(apps: tuple[RiskApi, RiskApi, list[str]]) -> None:
    fast, slow, fell_back = apps
    body = b'{"entities":' + b" " * (1 << 20) + b'[{"entity_type":"merchant","entity_id":"m0000001"}]}'
    fell_back.clear()
    got = call(fast, "POST", "/v1/risk:batch", body=body, ctype=JSON)
    assert got[0] == 200 and got == call(slow, "POST", "/v1/risk:batch", body=body, ctype=JSON)
    assert fell_back == ["/v1/risk:batch"]


def _edited_copy(out: Path, dest: Path, *edits: tuple[str, tuple[object, ...]]) -> Path:
    """Copy ``out``'s current snapshot under the same name into ``dest``, apply the SQL ``edits``, point
    ``dest``'s ``serving/current`` at it; returns the copy."""
    snap = (out / "serving" / "current").resolve()
    copy = dest / "serving" / "snapshots" / snap.name
    copy.parent.mkdir(parents=True)
    copy.write_bytes(snap.read_bytes())
    con = sqlite3.connect(copy)
    for sql, params in edits:
        con.execute(sql, params)
    con.commit()
    con.close()
    (dest / "serving" / "current").symlink_to(Path("snapshots") / snap.name)
    return copy


def _as_version_1(out: Path, dest: Path) -> None:
    """Copy ``out``'s current snapshot under the same name into ``dest`` as a schema-1 file (no ``risk_docs``)."""
    _edited_copy(
        out, dest, ("DROP TABLE risk_docs", ()), ("UPDATE meta SET value = '1' WHERE key = 'schema_version'", ())
    )


def test_a_version_1_snapshot_is_served_with_the_same_bytes(
    apps: tuple[RiskApi, RiskApi, list[str]], tmp_path: Path
) -> None:
    fast, _, _ = apps
    out = fast.state.settings.output
    _as_version_1(out, tmp_path)
    old = create_app(ApiSettings(output=tmp_path, api_keys=(KEY,), max_batch=3), SqliteStore(tmp_path))
    reader = old.state.store.current()
    assert reader is not None and reader.info.schema_version == 1
    assert fast.state.store.current().info.schema_version == SCHEMA_VERSION == 2
    for method, path, key, body, ctype, status, _ in CASES:
        if status in (200, 404):
            assert call(old, method, path, key, body, ctype) == call(fast, method, path, key, body, ctype), path


def _with_unservable_keys(out: Path, dest: Path) -> Path:
    """Copy ``out``'s current snapshot into ``dest`` with ``risk_docs`` rows under keys the route refuses."""
    copy = "INSERT INTO risk_docs (key, doc) SELECT ?, doc FROM risk_docs WHERE key = 'merchant/m0000001'"
    return _edited_copy(out, dest, *[(copy, (key,)) for key in UNSERVABLE])


UNSERVABLE = ("merchant/bad id", "shop/m0000001", "merchant/m1/more", "merchant/" + "x" * 129, "merchant/")


def test_preload_holds_every_servable_body_and_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "out"
    publish(out, write_run(out, "2026-11-01", "2026-11-01-aaaa"))
    snap = _with_unservable_keys(out, tmp_path / "odd")
    plain, held = SqliteSnapshot(snap), SqliteSnapshot(snap, preload=True)
    assert plain.preloaded is None and held.preloaded is not None
    keys = [k for (k,) in sqlite3.connect(snap).execute("SELECT key FROM risk_docs")]
    servable = [k for k in keys if k not in UNSERVABLE]
    assert len(servable) == len(keys) - len(UNSERVABLE) >= 5
    assert held.preloaded == {k: plain.risk_body(*k.split("/", 1)) for k in servable}
    # version 1 (no risk_docs): the same bodies, built from the scores rows
    _as_version_1(out, tmp_path / "v1")
    v1 = SqliteSnapshot((tmp_path / "v1" / "serving" / "current").resolve(), preload=True)
    assert v1.info.schema_version == 1 and v1.preloaded == held.preloaded


def test_preloaded_fast_path_leaves_unservable_paths_to_fastapi(tmp_path: Path) -> None:
    out = tmp_path / "out"
    publish(out, write_run(out, "2026-11-01", "2026-11-01-aaaa"))
    odd = tmp_path / "odd"
    _with_unservable_keys(out, odd)
    fast = create_app(ApiSettings(output=odd, api_keys=(KEY,), preload=True), SqliteStore(odd, preload=True))
    slow = create_app(ApiSettings(output=odd, api_keys=(KEY,), fast_path=False), SqliteStore(odd))
    for key in UNSERVABLE:
        expected = call(slow, "GET", "/v1/risk/" + key)
        assert expected[0] in (404, 422) and call(fast, "GET", "/v1/risk/" + key) == expected, key
    assert call(fast, "GET", "/v1/risk/merchant/m0000001")[0] == 200
