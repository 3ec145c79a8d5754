"""The request metrics kept as plain numbers render exactly as prometheus_client's Counter and Histogram."""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from fraudmine.api.metrics import _BUCKETS, LATENCY, REQUESTS, RequestStats

OBSERVED = [0.0001, 0.0005, 0.00051, 0.002, 0.0075, 0.3, 1.0, 2.5, 0.0]  # bucket edges and +Inf included
CREATED = re.compile(rb"^(\S+_created\{.*\}) \S+$", re.MULTILINE)


def test_request_stats_render_like_counter_and_histogram() -> None:
    ours = CollectorRegistry(auto_describe=True)
    stats = RequestStats()
    ours.register(stats)
    reference = CollectorRegistry(auto_describe=True)
    counter = Counter(REQUESTS, "HTTP requests", ("method", "route", "status"), registry=reference)
    histogram = Histogram(LATENCY, "request latency", ("route",), buckets=_BUCKETS, registry=reference)
    assert generate_latest(ours) == generate_latest(reference)  # no series before the first request
    for i, seconds in enumerate(OBSERVED):
        route, status = ("/v1/risk/{entity_type}/{entity_id}", "200") if i % 3 else ("/healthz", "404")
        stats.count("GET", route, status).value += 1
        stats.latency(route).observe(seconds)
        counter.labels("GET", route, status).inc()
        histogram.labels(route).observe(seconds)
    got, expected = generate_latest(ours), generate_latest(reference)
    assert CREATED.sub(rb"\1 T", got) == CREATED.sub(rb"\1 T", expected)
    assert b'_bucket{le="+Inf",route="/v1/risk/{entity_type}/{entity_id}"} 6.0' in got and b"_created{" in got
