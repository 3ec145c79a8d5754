"""Read a run's Parquet outputs (scores, clusters, decisions) with pyarrow, checked and normalised.

No Spark here: the snapshot builder must stay light enough to run on an API
host.  Each reader returns plain column lists (row order sorted by key, so the
snapshot bytes do not depend on Spark's part-file order) in the shapes the
SQLite snapshot declares (:mod:`fraudmine.contracts.serving`).

Accepted inputs:

- ``scores/`` (``SCORES_DDL``): ``entity_type``, ``entity_id`` and ``fraud_risk`` are
  required; every numeric ``*_risk`` column becomes an entry of ``risks``; the
  other columns of ``SCORES_DDL`` are optional.  Any entity type may appear.
- ``clusters/<kind>/`` (optional, one folder per kind), either one row per
  cluster with a ``members`` list of typed ids (``merchant:m0000042``), or one row
  per member with ``member``/``node_id`` (a typed id) or ``entity_type`` +
  ``entity_id``.  ``cluster_id`` is required; ``size`` (else the member count),
  ``risk`` (or ``cluster_risk``) and ``evidence`` (any type; kept as JSON) are
  optional.  The snapshot's cluster id is ``<kind>:<cluster_id>`` (kept as is when
  it already starts with ``<kind>:``), so ids never collide across kinds.
- ``decisions/`` (optional, ``DECISIONS_DDL``): ``item_id`` and ``action`` required.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from fraudmine.contracts.ids import NodeType, split_typed_id


def _dumps(value: Any) -> str:
    """Compact, key-sorted JSON (the snapshot's JSON text columns; deterministic bytes)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


class SnapshotSourceError(ValueError):
    """A run output cannot be turned into a snapshot (missing folder, column or bad value)."""


@dataclass
class Scores:
    """Normalised scores, one list per snapshot column (see ``SCORE_COLUMNS``), sorted by key."""

    rows: list[tuple[Any, ...]]
    entity_types: list[str]
    model_versions: list[str]
    run_ids: list[str]
    as_of: str | None


@dataclass
class Clusters:
    """Cluster rows ``(cluster_id, kind, size, risk, evidence)`` and members ``(cluster_id, type, id)``."""

    clusters: list[tuple[Any, ...]] = field(default_factory=list)
    members: list[tuple[str, str, str]] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)


def has_parquet(folder: Path) -> bool:
    """Whether ``folder`` exists and holds at least one Parquet file (at any depth)."""
    return folder.is_dir() and any(folder.rglob("*.parquet"))


def read_table(folder: Path) -> pa.Table:
    """Read a Parquet folder as written by Spark or pyarrow (``_``/``.`` files ignored).

    Raises:
        SnapshotSourceError: if the folder is missing or holds no Parquet file.
    """
    if not has_parquet(folder):
        raise SnapshotSourceError(f"{folder}: no Parquet files (expected a committed stage output)")
    dataset = ds.dataset(str(folder), format="parquet", partitioning="hive", exclude_invalid_files=False)
    return dataset.to_table()


def _require(table: pa.Table, folder: Path, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise SnapshotSourceError(f"{folder}: missing column(s) {missing}; columns present: {table.column_names}")


def _col(table: pa.Table, name: str) -> list[Any]:
    return table.column(name).to_pylist() if name in table.column_names else [None] * table.num_rows


def _no_nulls(table: pa.Table, folder: Path, columns: Sequence[str]) -> None:
    for c in columns:
        nulls = table.column(c).null_count
        if nulls:
            raise SnapshotSourceError(f"{folder}: column {c!r} has {nulls} null value(s); it is a key and must be set")


def _float(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) else f


def _json_text(v: Any) -> str | None:
    """Evidence of any Arrow type as text: strings unchanged, everything else as JSON."""
    if v is None or isinstance(v, str):
        return v
    return _dumps(v)


def _iso(v: Any) -> str | None:
    return None if v is None else (v.isoformat() if hasattr(v, "isoformat") else str(v))


def read_scores(folder: Path) -> Scores:
    """Read and normalise ``scores/``.

    Returns:
        :class:`Scores` whose ``rows`` follow ``SCORE_COLUMNS`` with an empty ``clusters``
        list (``"[]"``); the builder fills cluster memberships in SQL.

    Raises:
        SnapshotSourceError: naming the folder and column (missing key columns,
            null keys, a risk outside [0, 1]).
    """
    t = read_table(folder)
    _require(t, folder, ("entity_type", "entity_id", "fraud_risk"))
    _no_nulls(t, folder, ("entity_type", "entity_id"))
    t = t.sort_by([("entity_type", "ascending"), ("entity_id", "ascending")])
    for et in pc.unique(t.column("entity_type")).to_pylist():
        _node_type(et, folder)
    risk_cols = sorted(
        c for c in t.column_names if c.endswith("_risk") and pa.types.is_floating(t.schema.field(c).type)
    )
    for c in risk_cols:
        lo, hi = pc.min(t.column(c)).as_py(), pc.max(t.column(c)).as_py()
        if (lo is not None and lo < 0) or (hi is not None and hi > 1):
            raise SnapshotSourceError(f"{folder}: column {c!r} has values outside [0, 1] (min {lo}, max {hi})")
    names = [c[: -len("_risk")] for c in risk_cols]
    risk_values = [_col(t, c) for c in risk_cols]
    risks = [_dumps({n: _float(v[i]) for n, v in zip(names, risk_values, strict=True)}) for i in range(t.num_rows)]
    reasons = [_dumps(list(r or [])) for r in _col(t, "top_reasons")]
    calibrated = [None if c is None else int(bool(c)) for c in _col(t, "calibrated")]
    fraud = [_float(v) for v in _col(t, "fraud_risk")]
    rows = list(
        zip(
            _col(t, "entity_type"),
            _col(t, "entity_id"),
            fraud,
            risks,
            _col(t, "risk_band"),
            calibrated,
            reasons,
            ["[]"] * t.num_rows,
            _col(t, "model_version"),
            strict=True,
        )
    )
    as_of = pc.max(t.column("as_of")).as_py() if "as_of" in t.column_names else None
    return Scores(
        rows=rows,
        entity_types=sorted(set(_col(t, "entity_type"))),
        model_versions=sorted({v for v in _col(t, "model_version") if v is not None}),
        run_ids=sorted({v for v in _col(t, "run_id") if v is not None}),
        as_of=_iso(as_of),
    )


def _node_type(value: str, folder: Path) -> str:
    try:
        return str(NodeType(value))
    except ValueError:
        known = [str(n) for n in NodeType]
        raise SnapshotSourceError(f"{folder}: unknown entity_type {value!r}; known: {known}") from None


def _typed(value: str, where: str) -> tuple[str, str]:
    try:
        node_type, raw = split_typed_id(value)
    except ValueError as exc:
        raise SnapshotSourceError(f"{where}: member {value!r} is not a typed id '<type>:<id>' ({exc})") from None
    return str(node_type), raw


def _cluster_key(kind: str, raw: Any) -> str:
    s = str(raw)
    return s if s.startswith(f"{kind}:") else f"{kind}:{s}"


def read_cluster_kind(folder: Path, kind: str) -> Clusters:
    """Read one ``clusters/<kind>/`` table in either accepted shape (see the module docstring).

    Raises:
        SnapshotSourceError: naming the folder and the columns present when neither shape fits.
    """
    t = read_table(folder)
    _require(t, folder, ("cluster_id",))
    _no_nulls(t, folder, ("cluster_id",))
    cids = [_cluster_key(kind, c) for c in _col(t, "cluster_id")]
    members: dict[str, set[tuple[str, str]]] = {}
    facts: dict[str, tuple[Any, Any, Any]] = {}
    risk_name = "risk" if "risk" in t.column_names else "cluster_risk"
    sizes, risks, evidence = _col(t, "size"), _col(t, risk_name), _col(t, "evidence")
    if "members" in t.column_names:
        for cid, ms in zip(cids, _col(t, "members"), strict=True):
            members.setdefault(cid, set()).update(_typed(m, str(folder)) for m in ms or [])
    elif "member" in t.column_names or "node_id" in t.column_names:
        name = "member" if "member" in t.column_names else "node_id"
        _no_nulls(t, folder, (name,))
        for cid, m in zip(cids, _col(t, name), strict=True):
            members.setdefault(cid, set()).add(_typed(m, str(folder)))
    elif "entity_type" in t.column_names and "entity_id" in t.column_names:
        _no_nulls(t, folder, ("entity_type", "entity_id"))
        for cid, et, eid in zip(cids, _col(t, "entity_type"), _col(t, "entity_id"), strict=True):
            members.setdefault(cid, set()).add((_node_type(et, folder), str(eid)))
    else:
        raise SnapshotSourceError(
            f"{folder}: no member column: expected 'members' (list of typed ids), 'member' or 'node_id' "
            f"(typed id), or 'entity_type' + 'entity_id'; columns present: {t.column_names}"
        )
    for i, cid in enumerate(cids):
        facts.setdefault(cid, (sizes[i], _float(risks[i]), _json_text(evidence[i])))
    out = Clusters(kinds=[kind])
    for cid in sorted(members):
        size, risk, ev = facts[cid]
        out.clusters.append((cid, kind, int(size) if size is not None else len(members[cid]), risk, ev))
        out.members.extend((cid, et, eid) for et, eid in sorted(members[cid]))
    return out


def read_clusters(folder: Path) -> Clusters:
    """Read every ``clusters/<kind>/`` folder that holds Parquet (none: empty :class:`Clusters`)."""
    out = Clusters()
    if not folder.is_dir():
        return out
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))):
        if not has_parquet(sub):
            continue
        one = read_cluster_kind(sub, sub.name)
        out.clusters.extend(one.clusters)
        out.members.extend(one.members)
        out.kinds.extend(one.kinds)
    return out


def read_decisions(folder: Path) -> list[tuple[Any, ...]]:
    """Read ``decisions/`` into rows following ``DECISION_COLUMNS``, sorted by ``item_id``.

    Raises:
        SnapshotSourceError: naming the folder when ``item_id`` or ``action`` is missing or null.
    """
    t = read_table(folder)
    _require(t, folder, ("item_id", "action"))
    _no_nulls(t, folder, ("item_id", "action"))
    t = t.sort_by("item_id")
    reason_codes = [_dumps(list(r or [])) for r in _col(t, "reason_codes")]
    return list(
        zip(
            _col(t, "item_id"),
            _col(t, "item_type"),
            _col(t, "action"),
            reason_codes,
            [_json_text(v) for v in _col(t, "evidence")],
            _col(t, "merchant_id"),
            _col(t, "creator_id"),
            _col(t, "product_id"),
            _col(t, "policy_version"),
            _col(t, "model_version"),
            strict=True,
        )
    )
