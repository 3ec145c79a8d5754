"""``GET /v1/risk/{entity_type}/{entity_id}`` and ``POST /v1/risk:batch``.

The hot path: the store hands back each risk as JSON text and the handlers
splice it into the response body, so no per-request parsing or model
serialisation happens; the documented response models (``RiskResponse``,
``BatchResponse``) are what that text conforms to (checked by the golden and
schemathesis tests).
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response

from fraudmine.api.deps import Reader
from fraudmine.api.schemas import ID_PATTERN, BatchRequest, BatchResponse, Problem, RiskResponse
from fraudmine.api.stores.base import SnapshotInfo
from fraudmine.contracts.ids import ScoredType

router = APIRouter(tags=["risk"])
JSON = "application/json"


def stamp(info: SnapshotInfo) -> dict[str, str]:
    """The snapshot fields every answer carries."""
    return {"snapshot_id": info.snapshot_id, "snapshot_date": info.run_date, "run_id": info.run_id}


def not_scored(info: SnapshotInfo, entity_type: str, entity_id: str) -> HTTPException:
    """404 naming what was asked and what the snapshot scores."""
    if entity_type not in info.entity_types:
        why = f"snapshot {info.snapshot_id} scores no {entity_type} (scored types: {', '.join(info.entity_types)})"
    else:
        why = f"{entity_type} {entity_id!r} is not scored in snapshot {info.snapshot_id}"
    return HTTPException(404, why)


@router.get(
    "/v1/risk/{entity_type}/{entity_id}",
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
    row = reader.risk_json(entity_type.value, entity_id)
    if row is None:
        raise not_scored(reader.info, entity_type.value, entity_id)
    return Response(f"{row[:-1]},{reader.info.stamp_json}}}", media_type=JSON)


@router.post(
    "/v1/risk:batch",
    response_class=Response,
    responses={200: {"model": BatchResponse}, 422: {"model": Problem}},
    summary="Risks of up to 1000 entities in one call (results in request order)",
)
async def post_risk_batch(body: BatchRequest, reader: Reader, request: Request) -> Response:
    """Look up many entities in one snapshot; unscored ones come back with ``found: false``."""
    limit = request.app.state.settings.max_batch
    if len(body.entities) > limit:
        detail = f"body.entities: at most {limit} entities per batch (got {len(body.entities)}); split the request"
        raise HTTPException(422, detail)
    request.app.state.metrics.batch_size.observe(len(body.entities))
    keys = [(e.entity_type.value, e.entity_id) for e in body.entities]
    parts = []
    for (et, eid), row in zip(keys, reader.risks_json(keys), strict=True):
        head = f'{{"entity_type":{json.dumps(et)},"entity_id":{json.dumps(eid)}'
        parts.append(f'{head},"found":true,"risk":{row}}}' if row else f'{head},"found":false,"risk":null}}')
    return Response(f'{{"results":[{",".join(parts)}],{reader.info.stamp_json}}}', media_type=JSON)
