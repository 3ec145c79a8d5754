"""The store port of the API: where the current snapshot's rows are looked up.

Two back ends implement it: :class:`fraudmine.api.stores.sqlite.SqliteStore`
(the immutable per-run SQLite file, the default) and
:class:`fraudmine.api.stores.redis.RedisStore` (the same rows loaded into Redis).
A request takes one :class:`SnapshotReader` from :meth:`RiskStore.current` and
does all its lookups through it, so every answer comes from one snapshot even
when a new one is swapped in meanwhile.

Shapes (JSON text or plain dicts; lists keep the snapshot's order):

- risk body (bytes, the 200 answer of a single lookup): the risk JSON object below with the
  snapshot stamp (:attr:`SnapshotInfo.stamp_json`) as its last members;
- risk (JSON object text, compact, returned to clients as is):
  ``{"entity_type": str, "entity_id": str, "risks": {name: float | None},
  "band": str | None, "calibrated": bool | None, "reasons": [str],
  "clusters": [{"cluster_id": str, "kind": str, "size": int, "risk": float | None, "role": str | None}],
  "model_version": str | None}``
- cluster: ``{"cluster_id": str, "kind": str, "size": int, "risk": float | None,
  "evidence": Any, "members": [{"entity_type": str, "entity_id": str, "role": str | None}],
  "members_truncated": bool}``
- decision: ``{"item_id": str, "item_type": str | None, "action": str,
  "reason_codes": [str], "evidence": Any, "merchant_id": str | None,
  "creator_id": str | None, "product_id": str | None, "policy_version": str | None,
  "model_version": str | None}``

``evidence`` is the parsed JSON when the run wrote JSON, else the text.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from fraudmine.contracts.serving import SUPPORTED_SCHEMA_VERSIONS


class SnapshotUnavailable(RuntimeError):
    """No snapshot is published (yet) in the configured output folder / Redis."""


class IncompatibleSnapshot(RuntimeError):
    """A snapshot's schema version is not one this API understands."""


@dataclass(frozen=True)
class SnapshotInfo:
    """What a snapshot is: its id and the run it was built from.

    Attributes:
        snapshot_id: file stem ``<run_id>-<sha8>``.
        schema_version: :data:`fraudmine.contracts.serving.SCHEMA_VERSION` it was built with.
        run_id, run_date: the published run (``run_date`` is the snapshot date, ISO).
        as_of: the scores' cut-off instant (ISO) or ``""``.
        model_versions: versions that scored the run.
        entity_types, cluster_kinds: what the snapshot holds.
        row_counts: table → rows.
    """

    snapshot_id: str
    schema_version: int
    run_id: str
    run_date: str
    as_of: str
    model_versions: tuple[str, ...]
    entity_types: tuple[str, ...]
    cluster_kinds: tuple[str, ...]
    row_counts: Mapping[str, int]

    @functools.cached_property
    def stamp_json(self) -> str:
        """``"snapshot_id":…,"snapshot_date":…,"run_id":…`` (JSON members, no braces) for responses."""
        return json.dumps(
            {"snapshot_id": self.snapshot_id, "snapshot_date": self.run_date, "run_id": self.run_id},
            separators=(",", ":"),
        )[1:-1]

    @functools.cached_property
    def body_suffix(self) -> bytes:
        """What follows a risk document's members in a lookup's body: ``,<stamp>}`` as bytes."""
        return f",{self.stamp_json}}}".encode()

    def risk_body(self, risk_json: str | bytes) -> bytes:
        """A risk document (JSON object text or bytes) with the stamp spliced in before its closing brace."""
        doc = risk_json.encode() if isinstance(risk_json, str) else risk_json
        return doc[:-1] + self.body_suffix

    @classmethod
    def from_meta(cls, snapshot_id: str, meta: Mapping[str, str]) -> SnapshotInfo:
        """Parse a ``meta`` table (key → text value).

        Raises:
            IncompatibleSnapshot: the schema version is missing or unsupported.
        """
        version = int(meta.get("schema_version", "0"))
        if version not in SUPPORTED_SCHEMA_VERSIONS:
            raise IncompatibleSnapshot(
                f"snapshot {snapshot_id}: schema version {version} not supported "
                f"(this API reads {sorted(SUPPORTED_SCHEMA_VERSIONS)})"
            )
        return cls(
            snapshot_id=snapshot_id,
            schema_version=version,
            run_id=meta["run_id"],
            run_date=meta["run_date"],
            as_of=meta.get("as_of", ""),
            model_versions=tuple(json.loads(meta["model_versions"])),
            entity_types=tuple(json.loads(meta["entity_types"])),
            cluster_kinds=tuple(json.loads(meta["cluster_kinds"])),
            row_counts=json.loads(meta["row_counts"]),
        )


class SnapshotReader(Protocol):
    """Lookups in one snapshot (see the module docstring for the row shapes)."""

    @property
    def info(self) -> SnapshotInfo:
        """The snapshot these lookups read."""
        ...

    def risk_json(self, entity_type: str, entity_id: str) -> str | None:
        """The risk of one entity as JSON object text, or ``None`` if it is not scored."""
        ...

    def risk_body(self, entity_type: str, entity_id: str) -> bytes | None:
        """The 200 body of a single lookup (see the module docstring), or ``None`` if it is not scored."""
        ...

    @property
    def preloaded(self) -> Mapping[str, bytes] | None:
        """Every servable entity's 200 body by ``"<entity_type>/<entity_id>"`` (the lookup path after
        ``/v1/risk/``) when the reader holds them all in memory, else ``None``.

        Servable means the route would accept the path (a scored type, an id matching the API's id
        pattern), so a hit is a request the route answers with 200 and exactly this body.
        """
        ...

    def risks_json(self, keys: Sequence[tuple[str, str]]) -> list[str | None]:
        """Risks of ``(entity_type, entity_id)`` keys as JSON text, in the same order (``None`` where not scored)."""
        ...

    def cluster(self, cluster_id: str, limit: int) -> dict[str, Any] | None:
        """A cluster with at most ``limit`` members (sorted by type then id), or ``None``."""
        ...

    def decision(self, item_id: str) -> dict[str, Any] | None:
        """The decision on one moderation-queue item, or ``None``."""
        ...


class RiskStore(Protocol):
    """A source of snapshots that can move to a newer one while serving."""

    def current(self) -> SnapshotReader | None:
        """The reader of the current snapshot (``None`` until one is published). Cheap: no I/O."""
        ...

    def refresh(self) -> bool:
        """Check for a newly published snapshot and switch to it; ``True`` if it switched.

        Never leaves the store without a snapshot it had: a new snapshot that fails
        to open or has an unsupported schema is logged and the old one kept.
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def parse_evidence(text: str | None) -> Any:
    """Evidence as stored (JSON text or plain text) → parsed JSON, or the text unchanged."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
