"""The FastAPI application: ``create_app(settings, store)``.

Routers live in :mod:`fraudmine.api.routers` (one module per resource) and get
the request's snapshot reader through ``Depends`` (:mod:`fraudmine.api.deps`);
API keys are checked by :class:`fraudmine.api.auth.ApiKeyMiddleware` for every
``/v1`` path before routing.  In front of all that, the raw-ASGI fast path
(:mod:`fraudmine.api.fastpath`) answers the hot risk routes' 200s and 404s itself
and hands every other request to FastAPI.  The store (SQLite
snapshot or Redis) is passed in, so tests and deployments choose it.  While the
app runs, a background task calls ``store.refresh()`` every
``settings.reload_interval_s`` seconds: a newly published snapshot is picked up
without a restart and without failing a request (a request keeps the reader it
started with).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from fraudmine.api import errors
from fraudmine.api.auth import ApiKeyMiddleware, declare_in_openapi
from fraudmine.api.fastpath import RiskApi
from fraudmine.api.metrics import ApiMetrics, MetricsMiddleware
from fraudmine.api.routers import clusters, decisions, health, risk
from fraudmine.api.settings import ApiSettings
from fraudmine.api.stores.base import RiskStore

log = logging.getLogger(__name__)

DESCRIPTION = """Risk score lookup over the published nightly run's serving snapshot.

Every `/v1` call needs an `X-API-Key` header. Answers carry the snapshot id and date
(the published run), so a caller knows which run answered."""


def _mark_served(app: FastAPI) -> None:
    reader = app.state.store.current()
    if reader is not None:
        app.state.metrics.serving(reader.info.snapshot_id, reader.info.run_date)


def refresh_once(app: FastAPI) -> bool:
    """Ask the store for a newer snapshot; update the metrics when it switched. Returns whether it did."""
    swapped = bool(app.state.store.refresh())
    if swapped:
        app.state.metrics.swaps.inc()
        _mark_served(app)
    return swapped


async def _refresh_loop(app: FastAPI, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            # In a worker thread: opening a snapshot (and, with ``preload``, reading its bodies) must not
            # stall the requests the event loop is serving; the swap itself is one reference assignment.
            await asyncio.to_thread(refresh_once, app)
        except Exception:  # a refresh must never take the server down
            log.exception("snapshot refresh failed; still serving the previous snapshot")


def create_app(settings: ApiSettings, store: RiskStore) -> RiskApi:
    """Build the API over ``store``.

    Args:
        settings: API settings (keys, limits, reload interval).
        store: the snapshot store (see :mod:`fraudmine.api.stores.base`).

    Returns:
        The FastAPI app (serve it with uvicorn; ``fraudmine serve`` does), with the raw-ASGI
        fast path for the risk routes in front unless ``settings.fast_path`` is false.

    Raises:
        ValueError: no API key is configured.
    """
    key_digests = settings.key_digests()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_refresh_loop(app, settings.reload_interval_s))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = RiskApi(
        title="fraudmine risk lookup",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.key_digests = key_digests
    app.state.metrics = ApiMetrics()
    _mark_served(app)
    errors.install(app)
    for module in (risk, clusters, decisions, health):
        app.include_router(module.router)
    declare_in_openapi(app)
    app.add_middleware(ApiKeyMiddleware, digests=key_digests)  # every /v1 route needs a key
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)  # outermost: counts the 401s too
    if settings.fast_path:
        app.enable_fast_path(store, key_digests, app.state.metrics, settings.max_batch)
    return app
