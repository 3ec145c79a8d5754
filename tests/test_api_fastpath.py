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
from fraudmine.api.stores.sqlite import SqliteStore
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


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> tuple[RiskApi, RiskApi, list[str]]:
    out = tmp_path_factory.mktemp("fast")
    publish(out, write_run(out, "2026-11-01", "2026-11-01-aaaa"))
    fast = create_app(ApiSettings(output=out, api_keys=(KEY,), max_batch=3), SqliteStore(out))
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


def _as_version_1(out: Path, dest: Path) -> None:
    """Copy ``out``'s current snapshot under the same name into ``dest`` as a schema-1 file (no ``risk_docs``)."""
    snap = (out / "serving" / "current").resolve()
    copy = dest / "serving" / "snapshots" / snap.name
    copy.parent.mkdir(parents=True)
    copy.write_bytes(snap.read_bytes())
    con = sqlite3.connect(copy)
    con.execute("DROP TABLE risk_docs")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    (dest / "serving" / "current").symlink_to(Path("snapshots") / snap.name)


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
