"""Prometheus metrics: request counts and latencies per route template, and the snapshot served.

A pure ASGI middleware (no ``BaseHTTPMiddleware``, which costs a task per
request) records ``fraudmine_api_requests_total{method,route,status}`` and
``fraudmine_api_request_seconds{route}``; the route label is the path template
(``/v1/risk/{entity_type}/{entity_id}``), never the raw path, so cardinality
stays bounded.  Each app has its own registry.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class ApiMetrics:
    """The metric families of one app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "fraudmine_api_requests", "HTTP requests", ("method", "route", "status"), registry=self.registry
        )
        self.latency = Histogram(
            "fraudmine_api_request_seconds", "request latency", ("route",), buckets=_BUCKETS, registry=self.registry
        )
        self.snapshot = Gauge(
            "fraudmine_api_snapshot_info",
            "snapshot being served (value 1)",
            ("snapshot_id", "run_date"),
            registry=self.registry,
        )
        self.swaps = Counter("fraudmine_api_snapshot_swaps", "snapshot swaps while serving", registry=self.registry)
        self.batch_size = Histogram(
            "fraudmine_api_batch_entities",
            "entities per batch request",
            buckets=(1, 10, 50, 100, 250, 500, 1000),
            registry=self.registry,
        )

    def serving(self, snapshot_id: str, run_date: str) -> None:
        """Mark ``snapshot_id`` as the one served (clears the previous label set)."""
        self.snapshot.clear()
        self.snapshot.labels(snapshot_id, run_date).set(1)


class MetricsMiddleware:
    """ASGI middleware recording :class:`ApiMetrics` request metrics for HTTP requests."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request and count it by its route template and status."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = [500]

        async def _send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, _send)
        finally:
            route: Any = scope.get("route")
            name = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], name, str(status[0])).inc()
            self.metrics.latency.labels(name).observe(time.perf_counter() - t0)
