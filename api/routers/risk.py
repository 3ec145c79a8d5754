"""``GET /v1/risk/{entity_type}/{entity_id}`` and ``POST /v1/risk:batch``.

The hot path: the store hands back each risk as JSON text and the handlers
splice it into the response body, so no per-request parsing or model
serialisation happens; the documented response models (``RiskResponse``,
``BatchResponse``) are what that text conforms to (checked by the golden and
schemathesis tests).  The bodies are built by :func:`risk_body`,
:func:`not_scored_detail` and :func:`batch_body`, which the raw-ASGI fast path
(:mod:`fraudmine.api.fastpath`) shares, so both paths answer the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from json.encoder import encode_basestring_ascii as _quote  # = json.dumps(str), without its per-call overhead
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response

from fraudmine.api.deps import Reader
from fraudmine.api.schemas import ID_PATTERN, BatchRequest, BatchResponse, Problem, RiskResponse
from fraudmine.api.stores.base import SnapshotInfo, SnapshotReader
from fraudmine.contracts.ids import ScoredType

router = APIRouter(tags=["risk"])
JSON = "application/json"
RISK_ROUTE = "/v1/risk/{entity_type}/{entity_id}"
BATCH_ROUTE = "/v1/risk:batch"


def stamp(info: SnapshotInfo) -> dict[str, str]:
    """The snapshot fields every answer carries."""
    return {"snapshot_id": info.snapshot_id, "snapshot_date": info.run_date, "run_id": info.run_id}


def not_scored_detail(info: SnapshotInfo, entity_type: str, entity_id: str) -> str:
    """The 404 ``detail``: what was asked and what the snapshot scores."""
    if entity_type not in info.entity_types:
        return f"snapshot {info.snapshot_id} scores no {entity_type} (scored types: {', '.join(info.entity_types)})"
    return f"{entity_type} {entity_id!r} is not scored in snapshot {info.snapshot_id}"


def risk_body(reader: SnapshotReader, entity_type: str, entity_id: str) -> bytes | None:
    """The 200 body of one lookup (``RiskResponse`` as JSON), or ``None`` when the entity is not scored."""
    return reader.risk_body(entity_type, entity_id)


def batch_body(reader: SnapshotReader, keys: Sequence[tuple[str, str]]) -> bytes:
    """The 200 body of a batch (``BatchResponse`` as JSON): results in the order of ``keys``."""
    parts = []
    for (et, eid), row in zip(keys, reader.risks_json(keys), strict=True):
        head = f'{{"entity_type":{_quote(et)},"entity_id":{_quote(eid)}'
        parts.append(f'{head},"found":true,"risk":{row}}}' if row else f'{head},"found":false,"risk":null}}')
    return f'{{"results":[{",".join(parts)}],{reader.info.stamp_json}}}'.encode()


def batch_too_large(n: int, limit: int) -> str | None:
    """The 422 ``detail`` when a batch of ``n`` exceeds the configured ``limit`` (``None`` when it fits)."""
    if n <= limit:
        return None
    return f"body.entities: at most {limit} entities per batch (got {n}); split the request"


@router.get(
    RISK_ROUTE,
    response_class=Response,
    responses={200: {"model": RiskResponse}, 404: {"model": Problem}, 422: {"model": Problem}},
    summary="Risk of one entity, with band, reasons, clusters and the snapshot that answered",
)
async def get_risk(
    entity_type: ScoredType,
    entity_id: Annotated[str, Path(pattern=ID_PATTERN, description="raw id, e.g. m0000042")],
    reader: Reader,
) -> Response:
    """Look up one entity in the current snapshot."""
    body = risk_body(reader, entity_type.value, entity_id)
    if body is None:
        raise HTTPException(404, not_scored_detail(reader.info, entity_type.value, entity_id))
    return Response(body, media_type=JSON)


@router.post(
    BATCH_ROUTE,
    response_class=Response,
    responses={200: {"model": BatchResponse}, 422: {"model": Problem}},
    summary="Risks of up to 1000 entities in one call (results in request order)",
)
async def post_risk_batch(body: BatchRequest, reader: Reader, request: Request) -> Response:
    """Look up many entities in one snapshot; unscored ones come back with ``found: false``."""
    too_large = batch_too_large(len(body.entities), request.app.state.settings.max_batch)
    if too_large is not None:
        raise HTTPException(422, too_large)
    request.app.state.metrics.batch_size.observe(len(body.entities))
    keys = [(e.entity_type.value, e.entity_id) for e in body.entities]
    return Response(batch_body(reader, keys), media_type=JSON)
