"""Request and response bodies of the API (the OpenAPI schema is generated from these)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fraudmine.api.settings import MAX_BATCH
from fraudmine.contracts.ids import ScoredType

ID_PATTERN = r"^[A-Za-z0-9_.:@-]{1,128}$"
"""Ids accepted in paths and bodies: 1-128 characters of letters, digits and ``_ . : @ -``."""

EntityId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ClusterRef(_Out):
    """A cluster an entity belongs to."""

    cluster_id: str
    kind: str
    size: int
    risk: float | None
    role: str | None = Field(description="the entity's role in the cluster when the clustering names one")


class SnapshotStamp(_Out):
    """Which snapshot answered."""

    snapshot_id: str = Field(description="<run_id>-<sha8> of the SQLite snapshot")
    snapshot_date: str = Field(description="the published run's date (ISO)")
    run_id: str


class RiskBody(_Out):
    """Risk of one scored entity."""

    entity_type: ScoredType
    entity_id: str
    risks: dict[str, float | None] = Field(description="calibrated risks by model head, e.g. fraud, low_quality")
    band: str | None = Field(description="risk band of the fraud risk: low < medium < high < critical")
    calibrated: bool | None
    reasons: list[str] = Field(description="top reason codes (computed for medium bands and above)")
    clusters: list[ClusterRef]
    model_version: str | None


class RiskResponse(SnapshotStamp, RiskBody):
    """``GET /v1/risk/{entity_type}/{entity_id}``."""


class EntityRef(BaseModel):
    """One entity to look up."""

    model_config = ConfigDict(extra="forbid")
    entity_type: ScoredType
    entity_id: EntityId


class BatchRequest(BaseModel):
    """``POST /v1/risk:batch`` body: 1 to 1000 entities."""

    model_config = ConfigDict(extra="forbid")
    entities: list[EntityRef] = Field(min_length=1, max_length=MAX_BATCH)


class BatchResult(_Out):
    """One looked-up entity: ``found`` false (and ``risk`` null) when it is not scored."""

    entity_type: ScoredType
    entity_id: str
    found: bool
    risk: RiskBody | None


class BatchBody(_Out):
    """Results in request order."""

    results: list[BatchResult]


class BatchResponse(SnapshotStamp, BatchBody):
    """``POST /v1/risk:batch``."""


class Member(_Out):
    """A cluster member."""

    entity_type: str
    entity_id: str
    role: str | None


class ClusterBody(_Out):
    """A cluster with its members."""

    cluster_id: str
    kind: str
    size: int
    risk: float | None
    evidence: Any = Field(description="as written by the clustering stage (JSON)")
    members: list[Member]
    members_truncated: bool


class ClusterResponse(SnapshotStamp, ClusterBody):
    """``GET /v1/clusters/{cluster_id}``."""


class DecisionBody(_Out):
    """A moderation decision."""

    item_id: str
    item_type: str | None
    action: str
    reason_codes: list[str]
    evidence: Any
    merchant_id: str | None
    creator_id: str | None
    product_id: str | None
    policy_version: str | None
    model_version: str | None


class DecisionResponse(SnapshotStamp, DecisionBody):
    """``GET /v1/decisions/{item_id}``."""


class Problem(BaseModel):
    """Error body: ``detail`` is one line saying what is wrong and what to do."""

    detail: str
    errors: list[dict[str, Any]] | None = None


class Health(BaseModel):
    """Liveness / readiness."""

    status: str
    snapshot_id: str | None = None
    snapshot_date: str | None = None
