"""``GET /v1/decisions/{item_id}``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path

from fraudmine.api.deps import Reader
from fraudmine.api.routers.risk import stamp
from fraudmine.api.schemas import ID_PATTERN, DecisionResponse, Problem

router = APIRouter(tags=["decisions"])


@router.get(
    "/v1/decisions/{item_id}",
    response_model=DecisionResponse,
    responses={404: {"model": Problem}, 422: {"model": Problem}},
    summary="The moderation decision on a queue item, with reason codes and evidence",
)
async def get_decision(
    item_id: Annotated[str, Path(pattern=ID_PATTERN, description="moderation-queue item id")],
    reader: Reader,
) -> dict[str, Any]:
    """Look up one decision in the current snapshot."""
    row = reader.decision(item_id)
    if row is None:
        raise HTTPException(404, f"no decision for item {item_id!r} in snapshot {reader.info.snapshot_id}")
    return {**row, **stamp(reader.info)}
