"""Read the run's ``clusters/`` tables (identity, duplicate, collusion, brushing, reporter rings ...).

Every sub-folder of ``clusters/`` holding Parquet with a ``cluster_id`` column is
a cluster table; other tables there (per-entity cluster features, for example)
are skipped with a log line.  Two shapes are accepted and may be mixed:

- one row per cluster with a ``members`` list of typed ids (``merchant:m0000042``);
- one row per member with ``member`` or ``node_id`` (a typed id), or
  ``entity_type`` + ``entity_id``, and optionally a ``role`` (``target``, ``buyer``...).

The kind of a cluster is its ``cluster_type`` column when present, else the
folder name.  ``size`` (else the member count), ``risk`` (or ``cluster_risk``) and
``evidence`` (any type; kept as JSON text) are optional.  Rows of the same
``cluster_id`` from several tables are one cluster: members are united (a
member's role comes from the table that has one) and the first non-null facts
win, in folder-name order.  Cluster ids are kept as written; the same id under
two kinds is refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fraudmine.contracts.ids import split_typed_id
from fraudmine.serving.sources import (
    SnapshotSourceError,
    as_float,
    col,
    has_parquet,
    json_text,
    no_nulls,
    node_type,
    read_table,
)

log = logging.getLogger(__name__)


@dataclass
class Clusters:
    """Cluster rows ``(cluster_id, kind, size, risk, evidence)`` and members ``(cluster_id, type, id, role)``."""

    clusters: list[tuple[Any, ...]] = field(default_factory=list)
    members: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)


@dataclass
class _Cluster:
    kind: str
    size: int | None = None
    risk: float | None = None
    evidence: str | None = None
    members: dict[tuple[str, str], str | None] = field(default_factory=dict)


def _typed(value: str, folder: Path) -> tuple[str, str]:
    try:
        nt, raw = split_typed_id(value)
    except ValueError as exc:
        raise SnapshotSourceError(f"{folder}: member {value!r} is not a typed id '<type>:<id>' ({exc})") from None
    return str(nt), raw


def _member_keys(t: Any, folder: Path) -> list[list[tuple[str, str]]]:
    """Per row, the members it names (a list for the per-cluster shape, one for the per-member shape)."""
    if "members" in t.column_names:
        return [[_typed(m, folder) for m in ms or []] for ms in col(t, "members")]
    for name in ("member", "node_id"):
        if name in t.column_names:
            no_nulls(t, folder, (name,))
            return [[_typed(m, folder)] for m in col(t, name)]
    if "entity_type" in t.column_names and "entity_id" in t.column_names:
        no_nulls(t, folder, ("entity_type", "entity_id"))
        return [
            [(node_type(et, folder), str(eid))]
            for et, eid in zip(col(t, "entity_type"), col(t, "entity_id"), strict=True)
        ]
    raise SnapshotSourceError(
        f"{folder}: no member column: expected 'members' (list of typed ids), 'member' or 'node_id' "
        f"(typed id), or 'entity_type' + 'entity_id'; columns present: {t.column_names}"
    )


def _merge_table(folder: Path, found: dict[str, _Cluster]) -> None:
    t = read_table(folder)
    if "cluster_id" not in t.column_names:
        log.info("snapshot: %s has no cluster_id column, not a cluster table: skipped", folder)
        return
    no_nulls(t, folder, ("cluster_id",))
    kinds = col(t, "cluster_type") if "cluster_type" in t.column_names else [folder.name] * t.num_rows
    risk_name = "risk" if "risk" in t.column_names else "cluster_risk"
    rows = zip(
        col(t, "cluster_id"),
        kinds,
        col(t, "size"),
        col(t, risk_name),
        col(t, "evidence"),
        col(t, "role"),
        _member_keys(t, folder),
        strict=True,
    )
    for raw_id, kind, size, risk, evidence, role, keys in rows:
        cid, kind = str(raw_id), str(kind or folder.name)
        c = found.setdefault(cid, _Cluster(kind))
        if c.kind != kind:
            raise SnapshotSourceError(f"{folder}: cluster id {cid!r} is used by kinds {c.kind!r} and {kind!r}")
        c.size = c.size if c.size is not None or size is None else int(size)
        c.risk = c.risk if c.risk is not None else as_float(risk)
        c.evidence = c.evidence if c.evidence is not None else json_text(evidence)
        for key in keys:
            if role is not None or key not in c.members:
                c.members[key] = role


def read_clusters(folder: Path) -> Clusters:
    """Read every cluster table under ``folder`` (absent folder: empty :class:`Clusters`).

    Raises:
        SnapshotSourceError: a table without a member column, a member that is not a typed
            id, a null ``cluster_id``, or one id under two kinds (names the folder).
    """
    found: dict[str, _Cluster] = {}
    if folder.is_dir():
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))):
            if has_parquet(sub):
                _merge_table(sub, found)
    out = Clusters(kinds=sorted({c.kind for c in found.values()}))
    for cid in sorted(found):
        c = found[cid]
        size = c.size if c.size is not None else len(c.members)
        out.clusters.append((cid, c.kind, size, c.risk, c.evidence))
        out.members.extend((cid, et, eid, role) for (et, eid), role in sorted(c.members.items()))
    return out
