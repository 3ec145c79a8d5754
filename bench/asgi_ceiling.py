"""Ceiling apps for bench/bench_api.py, served by the same uvicorn (uvloop + httptools) as the API.

``bare``: a raw ASGI callable returning a constant JSON body (the server's ceiling).
``bare_sized``: the same with a body as long as a lookup's (``BENCH_BODY_BYTES``, default 330) and the
lookup's headers (``content-length``, ``content-type``): the ceiling for an answer of that size, an extra
row beside ``bare``, not a replacement.
``fastapi_constant``: a FastAPI app with the API's middleware and API-key dependency
whose endpoint returns a constant (the framework's ceiling: everything but the lookup).
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI

from fraudmine.api.auth import ApiKeyMiddleware
from fraudmine.api.metrics import ApiMetrics, MetricsMiddleware
from fraudmine.api.settings import ApiSettings

BODY = b'{"entity_type":"merchant","entity_id":"m0000001","band":"low"}'
SIZED = BODY[:-1] + b',"pad":"' + b"x" * max(0, int(os.environ.get("BENCH_BODY_BYTES", "330")) - len(BODY) - 9) + b'"}'
SIZED_HEADERS = [(b"content-length", str(len(SIZED)).encode()), (b"content-type", b"application/json")]


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Raw ASGI: answer every HTTP request with ``BODY``."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": BODY})


async def bare_sized(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Raw ASGI: answer every HTTP request with ``SIZED`` and a lookup's headers."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    await send({"type": "http.response.start", "status": 200, "headers": list(SIZED_HEADERS)})
    await send({"type": "http.response.body", "body": SIZED})


def fastapi_constant() -> FastAPI:
    """FastAPI with the API's middleware (metrics, key check), returning a constant dict (no lookup)."""
    app = FastAPI()
    digests = ApiSettings(api_keys=(os.environ["FRAUDMINE_API_KEYS"],)).key_digests()
    metrics = ApiMetrics()

    @app.get("/v1/risk/{entity_type}/{entity_id}")
    async def constant(entity_type: str, entity_id: str) -> dict[str, str]:
        return {"entity_type": "merchant", "entity_id": "m0000001", "band": "low"}

    app.add_middleware(ApiKeyMiddleware, digests=digests)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
