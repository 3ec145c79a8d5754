"""The risk lookup API in process (FastAPI TestClient over a real SQLite snapshot): auth, validation,
404s, batch limits, clusters, decisions, metrics, readiness and snapshot swaps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fraudmine.api.app import create_app, refresh_once
from fraudmine.api.settings import ApiSettings
from fraudmine.api.stores.sqlite import SqliteStore
from tests.serving_runs import publish, write_run

KEY = "test-key-0123456789"
H = {"X-API-Key": KEY}
GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def out(tmp_path: Path) -> Path:
    publish(tmp_path, write_run(tmp_path, "2026-11-01", "2026-11-01-aaaa"))
    return tmp_path


def _client(out: Path, **settings: object) -> TestClient:
    s = ApiSettings(output=out, api_keys=(KEY, "second-key"), **settings)  # type: ignore[arg-type]
    return TestClient(create_app(s, SqliteStore(out)))


@pytest.fixture
def client(out: Path) -> Iterator[TestClient]:
    with _client(out) as c:
        yield c


def test_risk_answer_matches_the_golden_payload(client: TestClient) -> None:
    r = client.get("/v1/risk/merchant/m0000001", headers=H)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["snapshot_id"].startswith("2026-11-01-aaaa-")
    body["snapshot_id"] = "<snapshot>"
    assert body == json.loads((GOLDEN / "api_risk_merchant.json").read_text())


def test_other_entity_types_are_served_too(client: TestClient) -> None:
    r = client.get("/v1/risk/creator/c0000001", headers=H)
    assert r.status_code == 200
    assert r.json()["risks"]["fraud"] == 0.88 and [c["cluster_id"] for c in r.json()["clusters"]] == ["identity-0001"]


def test_every_scored_entity_type_is_served_reporters_included(tmp_path: Path) -> None:
    extra = {
        "product": {"p0000001": (0.995, 0.4, "high", ["CROSS_SHOP_DUPLICATES"])},
        "buyer": {"b0000001": (0.5, None, "low", [])},
        "reporter": {"b0000001": (0.999, None, "high", ["REPORT_BURSTS", "REPORTER_RING"])},
    }
    publish(tmp_path, write_run(tmp_path, "2026-11-01", "2026-11-01-aaaa", extra_scores=extra))
    with _client(tmp_path) as c:
        rep = c.get("/v1/risk/reporter/b0000001", headers=H)
        assert rep.status_code == 200, rep.text
        body = rep.json()
        assert body["calibrated"] is False and body["band"] == "high"
        assert body["reasons"] == ["REPORT_BURSTS", "REPORTER_RING"] and body["risks"]["fraud"] == 0.999
        # the same raw id as a buyer is another row
        assert c.get("/v1/risk/buyer/b0000001", headers=H).json()["risks"]["fraud"] == 0.5
        batch = c.post(
            "/v1/risk:batch",
            headers=H,
            json={
                "entities": [
                    {"entity_type": "reporter", "entity_id": "b0000001"},
                    {"entity_type": "product", "entity_id": "p0000001"},
                ]
            },
        )
        assert [r["found"] for r in batch.json()["results"]] == [True, True]


@pytest.mark.parametrize(
    ("headers", "detail"),
    [({}, "missing X-API-Key header"), ({"X-API-Key": "wrong"}, "invalid API key"), ({"X-API-Key": ""}, None)],
)
def test_v1_needs_a_valid_key(client: TestClient, headers: dict[str, str], detail: str | None) -> None:
    for method, url, body in (
        ("GET", "/v1/risk/merchant/m0000001", None),
        ("POST", "/v1/risk:batch", {"entities": [{"entity_type": "merchant", "entity_id": "m0000001"}]}),
        ("GET", "/v1/clusters/identity-0001", None),
        ("GET", "/v1/decisions/q00000000", None),
    ):
        r = client.request(method, url, headers=headers, json=body)
        assert r.status_code == 401, (url, r.text)
        if detail:
            assert r.json()["detail"] == detail
    assert client.get("/v1/risk/merchant/m0000001", headers={"X-API-Key": "second-key"}).status_code == 200


def test_keys_from_a_key_file(out: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("# ops keys\nfile-key-1\n\n  file-key-2  \n")
    with TestClient(create_app(ApiSettings(output=out, api_key_file=keys), SqliteStore(out))) as c:
        assert c.get("/v1/risk/merchant/m0000001", headers={"X-API-Key": "file-key-2"}).status_code == 200
        assert c.get("/v1/risk/merchant/m0000001", headers={"X-API-Key": "# ops keys"}).status_code == 401


def test_no_key_configured_refuses_to_start(out: Path) -> None:
    with pytest.raises(ValueError, match="no API keys configured: set FRAUDMINE_API_KEYS"):
        create_app(ApiSettings(output=out), SqliteStore(out))


def test_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch, out: Path) -> None:
    monkeypatch.setenv("FRAUDMINE_API_KEYS", " k1 ,k2,, ")
    monkeypatch.setenv("FRAUDMINE_OUTPUT", str(out))
    s = ApiSettings()
    assert s.api_keys == ("k1", "k2") and s.output == out


def test_health_ready_docs_and_metrics_need_no_key(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "snapshot_id": None, "snapshot_date": None}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["snapshot_date"] == "2026-11-01"
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey",
        "description": "one of the keys in FRAUDMINE_API_KEYS",
        "in": "header",
        "name": "X-API-Key",
    }
    assert {"/v1/risk/{entity_type}/{entity_id}", "/v1/risk:batch", "/v1/clusters/{cluster_id}"} <= set(spec["paths"])
    client.get("/v1/risk/merchant/m0000001", headers=H)
    client.get("/v1/risk/merchant/nobody", headers=H)
    text = client.get("/metrics").text
    assert (
        'fraudmine_api_requests_total{method="GET",route="/v1/risk/{entity_type}/{entity_id}",status="200"} 1.0' in text
    )
    assert (
        'fraudmine_api_requests_total{method="GET",route="/v1/risk/{entity_type}/{entity_id}",status="404"} 1.0' in text
    )
    assert 'fraudmine_api_snapshot_info{run_date="2026-11-01",snapshot_id="2026-11-01-aaaa-' in text


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("/v1/risk/shop/m1", "path.entity_type: Input should be 'merchant', 'creator', 'product', 'brand', 'buyer',"),
        ("/v1/risk/merchant/bad%20id", "path.entity_id: String should match pattern"),
        ("/v1/risk/merchant/" + "x" * 129, "path.entity_id: String should match pattern"),
        ("/v1/clusters/identity-0001?limit=0", "query.limit: Input should be greater than or equal to 1 (got '0')"),
    ],
)
def test_bad_input_gets_a_clear_422(client: TestClient, url: str, detail: str) -> None:
    r = client.get(url, headers=H)
    assert r.status_code == 422
    assert r.json()["detail"].startswith(detail), r.json()["detail"]


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("/v1/risk/merchant/m9999999", "merchant 'm9999999' is not scored in snapshot 2026-11-01-aaaa-"),
        ("/v1/risk/product/p1", "scores no product (scored types: creator, merchant)"),
        ("/v1/clusters/identity-0099", "cluster 'identity-0099' not in snapshot"),
        ("/v1/decisions/q99", "no decision for item 'q99' in snapshot"),
    ],
)
def test_unknown_ids_get_404(client: TestClient, url: str, detail: str) -> None:
    r = client.get(url, headers=H)
    assert r.status_code == 404
    assert detail in r.json()["detail"]


def test_batch_keeps_request_order_and_flags_unknown_ids(client: TestClient) -> None:
    ids = [("merchant", "m0000003"), ("creator", "c0000002"), ("merchant", "nobody"), ("merchant", "m0000003")]
    body = {"entities": [{"entity_type": t, "entity_id": i} for t, i in ids]}
    r = client.post("/v1/risk:batch", headers=H, json=body)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [(x["entity_type"], x["entity_id"], x["found"]) for x in results] == [
        ("merchant", "m0000003", True),
        ("creator", "c0000002", True),
        ("merchant", "nobody", False),
        ("merchant", "m0000003", True),
    ]
    assert results[2]["risk"] is None
    single = client.get("/v1/risk/merchant/m0000003", headers=H).json()
    assert results[0]["risk"] == {
        k: v for k, v in single.items() if k not in ("snapshot_id", "snapshot_date", "run_id")
    }


def test_batch_limits(client: TestClient, out: Path) -> None:
    one = {"entity_type": "merchant", "entity_id": "m0000001"}
    ok = client.post("/v1/risk:batch", headers=H, json={"entities": [one] * 1000})
    assert ok.status_code == 200 and len(ok.json()["results"]) == 1000
    too_many = client.post("/v1/risk:batch", headers=H, json={"entities": [one] * 1001})
    assert too_many.status_code == 422
    assert too_many.json()["detail"].startswith("body.entities: List should have at most 1000 items")
    empty = client.post("/v1/risk:batch", headers=H, json={"entities": []})
    assert empty.status_code == 422 and "at least 1 item" in empty.json()["detail"]
    extra = client.post("/v1/risk:batch", headers=H, json={"entities": [one], "limit": 3})
    assert extra.status_code == 422 and extra.json()["detail"].startswith("body.limit: Extra inputs are not permitted")
    not_json = client.post("/v1/risk:batch", headers={**H, "content-type": "application/json"}, content=b"{nope")
    assert not_json.status_code == 422 and "JSON decode error" in not_json.json()["detail"]
    with _client(out, max_batch=10) as small:
        r = small.post("/v1/risk:batch", headers=H, json={"entities": [one] * 11})
        assert r.status_code == 422
        assert r.json()["detail"] == "body.entities: at most 10 entities per batch (got 11); split the request"


def test_cluster_members_evidence_and_truncation(client: TestClient) -> None:
    r = client.get("/v1/clusters/identity-0001", headers=H)
    assert r.status_code == 200
    c = r.json()
    assert (c["kind"], c["size"], c["risk"]) == ("identity", 3, 0.93)
    assert c["evidence"] == {"shared": ["device", "payment"]}
    assert c["members"] == [
        {"entity_type": "creator", "entity_id": "c0000001", "role": None},
        {"entity_type": "merchant", "entity_id": "m0000001", "role": None},
        {"entity_type": "merchant", "entity_id": "m0000002", "role": "seller"},
    ]
    assert c["members_truncated"] is False
    ring = client.get("/v1/clusters/reporter_ring-0003", headers=H).json()
    assert ring["kind"] == "reporter_rings" and {m["role"] for m in ring["members"]} == {"reporter", "target"}
    short = client.get("/v1/clusters/identity-0001?limit=2", headers=H).json()
    assert len(short["members"]) == 2 and short["members_truncated"] is True


def test_decision_with_reasons_and_parsed_evidence(client: TestClient) -> None:
    d = client.get("/v1/decisions/q00000000", headers=H).json()
    assert (d["action"], d["reason_codes"], d["merchant_id"]) == ("reject", ["CRITICAL_FRAUD"], "m0000001")
    assert d["evidence"] == ["seller m0000001 is in risk band critical"]
    assert d["snapshot_date"] == "2026-11-01"


def test_not_ready_without_a_snapshot(tmp_path: Path) -> None:
    with _client(tmp_path) as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/readyz").status_code == 503
        r = c.get("/v1/risk/merchant/m0000001", headers=H)
        assert r.status_code == 503 and "no serving snapshot published yet" in r.json()["detail"]
        publish(tmp_path, write_run(tmp_path, "2026-11-01", "r1"))
        assert refresh_once(c.app) is True  # type: ignore[arg-type]
        assert c.get("/readyz").status_code == 200
        assert c.get("/v1/risk/merchant/m0000001", headers=H).status_code == 200


def test_new_snapshot_is_picked_up_and_a_bad_one_is_refused(out: Path) -> None:
    with _client(out) as c:
        assert c.get("/v1/risk/merchant/m0000001", headers=H).json()["risks"]["fraud"] == 0.97
        publish(out, write_run(out, "2026-11-02", "2026-11-02-bbbb", m1_risk=0.42))
        assert refresh_once(c.app) is True  # type: ignore[arg-type]
        body = c.get("/v1/risk/merchant/m0000001", headers=H).json()
        assert (body["risks"]["fraud"], body["snapshot_date"]) == (0.42, "2026-11-02")
        assert "fraudmine_api_snapshot_swaps_total 1.0" in c.get("/metrics").text
        # a snapshot of a schema version this API does not know is refused; the old one keeps serving
        bad = out / "serving" / "snapshots" / "future.sqlite"
        snap = (out / "serving" / "current").resolve()
        bad.write_bytes(snap.read_bytes())
        bad.chmod(0o644)
        import sqlite3

        con = sqlite3.connect(bad)
        con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        con.commit()
        con.close()
        from fraudmine.serving.publishing import point_symlink

        point_symlink(out / "serving" / "current", bad)
        assert refresh_once(c.app) is False  # type: ignore[arg-type]
        assert c.get("/v1/risk/merchant/m0000001", headers=H).json()["snapshot_date"] == "2026-11-02"
