"""Raw-ASGI fast path for the two hot routes, in front of FastAPI.

FastAPI's request path (its middleware stack, routing, parameter validation,
dependency resolution, exception middleware) costs about 70 µs of CPU per
request, several times the lookup itself and more than uvicorn's own HTTP
handling.  :class:`RiskApi` is the FastAPI app with one change: before that
stack runs, :class:`HotRoutes` answers the *happy* cases of

- ``GET /v1/risk/{entity_type}/{entity_id}`` (200 and 404), and
- ``POST /v1/risk:batch`` with ``content-type: application/json`` (200),

directly from the store, with the same bodies and headers (the routers' body
builders in :mod:`fraudmine.api.routers.risk` are shared), the same constant-time
key check (:func:`fraudmine.api.auth.key_matches`) and the same Prometheus
series (:class:`fraudmine.api.metrics.ApiMetrics`).  Everything else, and every
request the fast path is not sure about, goes to FastAPI unchanged: a missing or
wrong key (401), a path or body that does not validate (422), a batch over the
configured limit, no snapshot yet (503), any other method, path or
``root_path``, and any exception while building the answer (FastAPI's 500).  A
batch body that was already read is replayed to FastAPI.  The FastAPI routes stay
registered, so the OpenAPI document describes every route and ``fast_path=False``
(``FRAUDMINE_FAST_PATH=false``) serves everything through FastAPI;
``tests/test_api_fastpath.py`` checks that both give byte-identical answers.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fraudmine.api.auth import key_matches
from fraudmine.api.metrics import ApiMetrics, Count, Latency
from fraudmine.api.routers.risk import (
    BATCH_ROUTE,
    RISK_ROUTE,
    batch_body,
    batch_too_large,
    not_scored_detail,
)
from fraudmine.api.schemas import ID_PATTERN, BatchRequest
from fraudmine.api.stores.base import RiskStore, SnapshotReader
from fraudmine.contracts.ids import ScoredType

_RISK_PREFIX = "/v1/risk/"
_PREFIX_LEN = len(_RISK_PREFIX)
_KEY_HEADER = b"x-api-key"
_JSON_HEADERS = b"application/json"
_CONTENT_TYPE = (b"content-type", _JSON_HEADERS)
_TYPES = frozenset(t.value for t in ScoredType)  # what the FastAPI route accepts (else its 422)
_ID = re.compile(ID_PATTERN.removeprefix("^").removesuffix("$"))  # used with fullmatch
_MAX_BODY = 1 << 20  # larger batch bodies are left to FastAPI
_NOT_FOUND = 404


async def _send_json(send: Send, status: int, body: bytes) -> None:
    """Send what Starlette's ``Response(body, media_type="application/json")`` sends: two ASGI messages."""
    headers = [(b"content-length", b"%d" % len(body)), _CONTENT_TYPE]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _problem(detail: str) -> bytes:
    """A ``{"detail": …}`` body exactly as FastAPI's ``JSONResponse`` renders it."""
    return json.dumps({"detail": detail}, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


class _Replay:
    """A ``receive`` that hands out already-read messages first, then reads on."""

    def __init__(self, messages: list[Message], receive: Receive) -> None:
        self.messages = messages
        self.receive = receive

    async def __call__(self) -> Message:
        if self.messages:
            return self.messages.pop(0)
        return await self.receive()


class HotRoutes:
    """The fast path: answers the hot routes' happy cases, hands everything else to ``fallback``.

    A single lookup is: a prefix test and split of the path, the type and id checks
    FastAPI would make, the key check, one read of the stored risk document
    (:meth:`SnapshotReader.risk_body`), two ``send`` calls and two metric updates on
    series this object holds on to.  When the reader holds every body in memory
    (:attr:`SnapshotReader.preloaded`), a found entity skips the split and checks: the
    path after ``/v1/risk/`` is the key, and only valid keys are held.

    Args:
        fallback: the full FastAPI application (its ``__call__`` without this fast path).
        store: the snapshot store (the same object as ``app.state.store``).
        digests: SHA-256 digests of the accepted keys.
        metrics: the app's metrics (the same series the FastAPI path records).
        max_batch: the configured batch limit.
    """

    def __init__(
        self, fallback: ASGIApp, store: RiskStore, digests: tuple[bytes, ...], metrics: ApiMetrics, max_batch: int
    ) -> None:
        self.fallback = fallback
        self.store = store
        self.digests = digests
        self.metrics = metrics
        self.max_batch = max_batch
        self._counts: dict[tuple[str, int], Count] = {}
        self._latency: dict[str, Latency] = {}

    def _authorised(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == _KEY_HEADER:
                return key_matches(value, self.digests)
        return False

    def _record(self, method: str, route: str, status: int, t0: float) -> None:
        """Count the answer and observe its latency (series created on first use, like the middleware's)."""
        count = self._counts.get((route, status))
        if count is None:
            count = self._counts[(route, status)] = self.metrics.requests.count(method, route, str(status))
        count.value += 1
        latency = self._latency.get(route)
        if latency is None:
            latency = self._latency[route] = self.metrics.requests.latency(route)
        latency.observe(time.perf_counter() - t0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a hot route's happy case, or pass the request on to FastAPI."""
        if scope["type"] == "http" and not scope.get("root_path"):
            method: str = scope["method"]
            if method == "GET":
                t0 = time.perf_counter()
                answer = self.single(scope)
                if answer is not None:
                    await _send_json(send, *answer)
                    self._record("GET", RISK_ROUTE, answer[0], t0)
                    return
            elif method == "POST" and scope["path"] == BATCH_ROUTE:
                rest = await self._batch(scope, receive, send)
                if rest is None:
                    return
                receive = rest
        await self.fallback(scope, receive, send)

    def single(self, scope: Scope) -> tuple[int, bytes] | None:
        """Status and body of a single lookup (an HTTP ``GET``), or ``None`` when FastAPI must answer."""
        path: str = scope["path"]
        if not path.startswith(_RISK_PREFIX) or scope.get("root_path") or not self._authorised(scope):
            return None
        reader: SnapshotReader | None = self.store.current()
        if reader is not None and (bodies := reader.preloaded) is not None:
            # Every servable key is in memory: a hit is a valid path (the reader keeps no other keys).
            body = bodies.get(path[_PREFIX_LEN:])
            if body is not None:
                return 200, body
        entity_type, sep, entity_id = path[_PREFIX_LEN:].partition("/")
        if not (sep and entity_type in _TYPES and _ID.fullmatch(entity_id)):
            return None
        if reader is None:
            return None
        try:
            body = reader.risk_body(entity_type, entity_id)
            if body is None:
                return _NOT_FOUND, _problem(not_scored_detail(reader.info, entity_type, entity_id))
        except Exception:  # FastAPI answers it (its 500 and error logging)
            return None
        return 200, body

    async def _batch(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """``None`` when answered; else the ``receive`` FastAPI must use (replaying what was read)."""
        t0 = time.perf_counter()
        content_type = next((v for k, v in scope["headers"] if k == b"content-type"), None)
        if content_type != _JSON_HEADERS or not self._authorised(scope):
            return receive
        messages: list[Message] = []
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return _Replay(messages, receive)
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size > _MAX_BODY:
                return _Replay(messages, receive)
            if not message.get("more_body", False):
                break
        reader: SnapshotReader | None = self.store.current()
        if reader is None:
            return _Replay(messages, receive)
        try:
            request = BatchRequest.model_validate_json(b"".join(chunks))
        except ValidationError:
            return _Replay(messages, receive)
        n = len(request.entities)
        if batch_too_large(n, self.max_batch) is not None:
            return _Replay(messages, receive)
        try:
            body = batch_body(reader, [(e.entity_type.value, e.entity_id) for e in request.entities])
        except Exception:
            return _Replay(messages, receive)
        self.metrics.batch_size.observe(n)
        await _send_json(send, 200, body)
        self._record("POST", BATCH_ROUTE, 200, t0)
        return None


class RiskApi(FastAPI):
    """The API's FastAPI application with :class:`HotRoutes` in front (when :attr:`hot` is set)."""

    hot: HotRoutes | None = None

    def enable_fast_path(
        self, store: RiskStore, digests: tuple[bytes, ...], metrics: ApiMetrics, max_batch: int
    ) -> None:
        """Put the fast path in front of this app's own request handling."""
        fallback: Callable[[Scope, Receive, Send], Awaitable[None]] = super().__call__
        self.hot = HotRoutes(fallback, store, digests, metrics, max_batch)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The fast path first, when enabled; FastAPI's own handling otherwise."""
        if self.hot is not None:
            await self.hot(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)
