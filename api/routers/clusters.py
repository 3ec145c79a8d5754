"""``GET /v1/clusters/{cluster_id}``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request

from fraudmine.api.deps import Reader
from fraudmine.api.routers.risk import stamp
from fraudmine.api.schemas import ID_PATTERN, ClusterResponse, Problem

router = APIRouter(tags=["clusters"])


@router.get(
    "/v1/clusters/{cluster_id}",
    response_model=ClusterResponse,
    responses={404: {"model": Problem}, 422: {"model": Problem}},
    summary="A cluster (identity, duplicate, collusion, brushing, reporter ring) with its members and evidence",
)
async def get_cluster(
    cluster_id: Annotated[
        str, Path(pattern=ID_PATTERN, description="as written by the clustering stage, e.g. collusion-51891f6df5f5")
    ],
    reader: Reader,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=10_000, description="members returned at most")] = 1000,
) -> dict[str, Any]:
    """Look up one cluster in the current snapshot."""
    limit = min(limit, request.app.state.settings.max_cluster_members)
    row = reader.cluster(cluster_id, limit)
    if row is None:
        kinds = ", ".join(reader.info.cluster_kinds) or "none"
        raise HTTPException(404, f"cluster {cluster_id!r} not in snapshot {reader.info.snapshot_id} (kinds: {kinds})")
    return {**row, **stamp(reader.info)}
