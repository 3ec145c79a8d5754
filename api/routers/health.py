"""``/healthz`` (the process is up), ``/readyz`` (a snapshot is loaded) and ``/metrics`` (Prometheus).

These three need no API key: orchestrators and scrapers call them.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from fraudmine.api.schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    """Always ``ok`` while the process serves requests."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}}, summary="Readiness")
async def readyz(request: Request) -> JSONResponse:
    """200 with the snapshot served, or 503 while no snapshot is loaded."""
    reader = request.app.state.store.current()
    if reader is None:
        return JSONResponse(Health(status="no snapshot").model_dump(), status_code=503)
    body = Health(status="ready", snapshot_id=reader.info.snapshot_id, snapshot_date=reader.info.run_date)
    return JSONResponse(body.model_dump())


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Metrics in the Prometheus text format."""
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
