"""Read a run's Parquet outputs (scores, decisions) with pyarrow, checked and normalised.

No Spark here: the snapshot builder must stay light enough to run on an API
host.  Each reader returns plain column lists (row order sorted by key, so the
snapshot bytes do not depend on Spark's part-file order) in the shapes the
SQLite snapshot declares (:mod:`fraudmine.contracts.serving`).

Accepted inputs:

- ``scores/`` (``SCORES_DDL``): ``entity_type``, ``entity_id`` and ``fraud_risk`` are
  required; every numeric ``*_risk`` column becomes an entry of ``risks``; the
  other columns of ``SCORES_DDL`` are optional.  Any entity type may appear.
- ``clusters/``: see :mod:`fraudmine.serving.clusters`.
- ``decisions/`` (optional, ``DECISIONS_DDL``): ``item_id`` and ``action`` required.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from fraudmine.contracts.ids import NodeType, ScoredType


def dumps(value: Any) -> str:
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


def require(table: pa.Table, folder: Path, columns: Sequence[str]) -> None:
    """Raise :class:`SnapshotSourceError` naming the missing columns and those present."""
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise SnapshotSourceError(f"{folder}: missing column(s) {missing}; columns present: {table.column_names}")


def col(table: pa.Table, name: str) -> list[Any]:
    """A column as Python values (all ``None`` when the optional column is absent)."""
    return table.column(name).to_pylist() if name in table.column_names else [None] * table.num_rows


def no_nulls(table: pa.Table, folder: Path, columns: Sequence[str]) -> None:
    """Raise :class:`SnapshotSourceError` if a key column holds nulls."""
    for c in columns:
        nulls = table.column(c).null_count
        if nulls:
            raise SnapshotSourceError(f"{folder}: column {c!r} has {nulls} null value(s); it is a key and must be set")


def as_float(v: Any) -> float | None:
    """A number as float, NaN and null as ``None``."""
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) else f


def json_text(v: Any) -> str | None:
    """Evidence of any Arrow type as text: strings unchanged, everything else as JSON."""
    if v is None or isinstance(v, str):
        return v
    return dumps(v)


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
    require(t, folder, ("entity_type", "entity_id", "fraud_risk"))
    no_nulls(t, folder, ("entity_type", "entity_id"))
    t = t.sort_by([("entity_type", "ascending"), ("entity_id", "ascending")])
    for et in pc.unique(t.column("entity_type")).to_pylist():
        scored_type(et, folder)
    risk_cols = sorted(
        c for c in t.column_names if c.endswith("_risk") and pa.types.is_floating(t.schema.field(c).type)
    )
    for c in risk_cols:
        lo, hi = pc.min(t.column(c)).as_py(), pc.max(t.column(c)).as_py()
        if (lo is not None and lo < 0) or (hi is not None and hi > 1):
            raise SnapshotSourceError(f"{folder}: column {c!r} has values outside [0, 1] (min {lo}, max {hi})")
    names = [c[: -len("_risk")] for c in risk_cols]
    risk_values = [col(t, c) for c in risk_cols]
    risks = [dumps({n: as_float(v[i]) for n, v in zip(names, risk_values, strict=True)}) for i in range(t.num_rows)]
    reasons = [dumps(list(r or [])) for r in col(t, "top_reasons")]
    calibrated = [None if c is None else int(bool(c)) for c in col(t, "calibrated")]
    fraud = [as_float(v) for v in col(t, "fraud_risk")]
    rows = list(
        zip(
            col(t, "entity_type"),
            col(t, "entity_id"),
            fraud,
            risks,
            col(t, "risk_band"),
            calibrated,
            reasons,
            ["[]"] * t.num_rows,
            col(t, "model_version"),
            strict=True,
        )
    )
    as_of = pc.max(t.column("as_of")).as_py() if "as_of" in t.column_names else None
    return Scores(
        rows=rows,
        entity_types=sorted(set(col(t, "entity_type"))),
        model_versions=sorted({v for v in col(t, "model_version") if v is not None}),
        run_ids=sorted({v for v in col(t, "run_id") if v is not None}),
        as_of=_iso(as_of),
    )


def _member(kind: type[NodeType] | type[ScoredType], value: str, folder: Path) -> str:
    try:
        return str(kind(value))
    except ValueError:
        known = [str(n) for n in kind]
        raise SnapshotSourceError(f"{folder}: unknown entity_type {value!r}; known: {known}") from None


def node_type(value: str, folder: Path) -> str:
    """``value`` as a known entity type name.

    Raises:
        SnapshotSourceError: naming the folder and the known types.
    """
    return _member(NodeType, value, folder)


def scored_type(value: str, folder: Path) -> str:
    """``value`` as a known scored entity type name (every node type, plus ``reporter``).

    Raises:
        SnapshotSourceError: naming the folder and the known types.
    """
    return _member(ScoredType, value, folder)


def read_decisions(folder: Path) -> list[tuple[Any, ...]]:
    """Read ``decisions/`` into rows following ``DECISION_COLUMNS``, sorted by ``item_id``.

    Raises:
        SnapshotSourceError: naming the folder when ``item_id`` or ``action`` is missing or null.
    """
    t = read_table(folder)
    require(t, folder, ("item_id", "action"))
    no_nulls(t, folder, ("item_id", "action"))
    t = t.sort_by("item_id")
    reason_codes = [dumps(list(r or [])) for r in col(t, "reason_codes")]
    return list(
        zip(
            col(t, "item_id"),
            col(t, "item_type"),
            col(t, "action"),
            reason_codes,
            [json_text(v) for v in col(t, "evidence")],
            col(t, "merchant_id"),
            col(t, "creator_id"),
            col(t, "product_id"),
            col(t, "policy_version"),
            col(t, "model_version"),
            strict=True,
        )
    )
