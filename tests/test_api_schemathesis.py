"""Property-based run of the OpenAPI spec (schemathesis): no generated request gets a 5xx.

Requests go through the ASGI app in process.  For every operation of the spec,
schemathesis generates valid requests (positive mode: answered 200, 404 or 422,
and the body conforms to the documented response schema) and invalid ones
(negative mode: never a 5xx), with a valid key; a last pass without a key must
get 401 everywhere under ``/v1``.  Examples per operation are capped to keep the
suite fast.  (Schemathesis' own pytest plugin does not run under pytest 9 here,
so the Hypothesis strategies are driven directly.)
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from fraudmine.api.app import create_app
from fraudmine.api.settings import ApiSettings
from fraudmine.api.stores.sqlite import SqliteStore
from tests.serving_runs import publish, write_run

KEY = "schemathesis-key"
_SETTINGS = {"deadline": None, "suppress_health_check": list(HealthCheck), "database": None}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    out = tmp_path_factory.mktemp("st-out")
    publish(out, write_run(out, "2026-11-01", "2026-11-01-aaaa"))
    return create_app(ApiSettings(output=out, api_keys=(KEY,)), SqliteStore(out))


def _operations(app: FastAPI) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    ops = [result.ok() for result in schema.get_all_operations()]
    assert len(ops) == 7, [op.label for op in ops]  # 4 under /v1, healthz, readyz, metrics
    return ops


def _run(op: Any, mode: schemathesis.GenerationMode, examples: int, check: Any) -> list[str]:
    failures: list[str] = []

    @given(case=op.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, **_SETTINGS)
    def explore(case: schemathesis.Case) -> None:
        problem = check(case)
        if problem:
            failures.append(f"{case.method} {case.formatted_path} {case.body!r}: {problem}")

    explore()
    return failures


def test_valid_requests_conform_and_never_fail(app: FastAPI) -> None:
    def check(case: schemathesis.Case) -> str | None:
        response = case.call_and_validate(headers={"X-API-Key": KEY})
        if case.path.startswith("/v1/") and response.status_code not in (200, 404, 422):
            return f"status {response.status_code}: {response.text}"
        return None

    failures = [f for op in _operations(app) for f in _run(op, schemathesis.GenerationMode.POSITIVE, 30, check)]
    assert failures == []


def test_invalid_requests_never_get_a_server_error(app: FastAPI) -> None:
    def check(case: schemathesis.Case) -> str | None:
        response = case.call(headers={"X-API-Key": KEY})
        return f"status {response.status_code}: {response.text}" if response.status_code >= 500 else None

    ops = [op for op in _operations(app) if op.path.startswith("/v1/")]  # the others take no input to break
    failures = [f for op in ops for f in _run(op, schemathesis.GenerationMode.NEGATIVE, 30, check)]
    assert failures == []


def test_every_v1_operation_refuses_a_request_without_a_key(app: FastAPI) -> None:
    def check(case: schemathesis.Case) -> str | None:
        response = case.call(headers={})
        return None if response.status_code == 401 else f"status {response.status_code} without a key"

    ops = [op for op in _operations(app) if op.path.startswith("/v1/")]
    assert len(ops) == 4
    failures = [f for op in ops for f in _run(op, schemathesis.GenerationMode.POSITIVE, 5, check)]
    assert failures == []
