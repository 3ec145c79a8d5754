"""The serving-snapshot contract: folder layout and the SQLite schema the API reads.

A published run gets one immutable SQLite file (built by
:func:`fraudmine.serving.build.build_snapshot` from the run's Parquet outputs,
without Spark).  The API depends on this module only: table and column names,
the schema version it understands, and where ``current`` lives.

Layout under an output folder ``<out>``::

    <out>/runs/<date>/...                    the runs (written by the nightly pipeline)
    <out>/current -> runs/<date>             the published run
    <out>/serving/snapshots/<id>.sqlite      one read-only snapshot per published run
    <out>/serving/current -> snapshots/<id>.sqlite
    <out>/serving/history.json               publish / rollback history (newest last)

``<id>`` is ``<run_id>-<sha256 prefix of the file>``: a name always means the
same bytes, so a snapshot is never rewritten in place.

Tables (``SNAPSHOT_DDL``); list-valued and nested fields are JSON text:

``meta(key, value)``
    ``schema_version``, ``run_id``, ``run_date`` (ISO date, the
    snapshot date), ``as_of`` (ISO instant), ``model_versions`` (JSON list),
    ``entity_types`` (JSON list), ``cluster_kinds`` (JSON list), ``row_counts``
    (JSON object table → rows), ``sources`` (JSON list of the run folders read).
``scores(entity_type, entity_id)`` → one row per scored entity
    ``fraud_risk`` REAL, ``risks`` JSON object (every ``*_risk`` column of the
    run's scores, keyed without the suffix: ``{"fraud": 0.93, "low_quality": 0.1}``),
    ``risk_band``, ``calibrated`` (0/1/NULL), ``reasons`` JSON list of reason codes,
    ``clusters`` JSON list of ``{"cluster_id", "kind", "size", "risk", "role"}`` the
    entity belongs to (``role`` as the clustering wrote it, e.g. ``target`` of a
    reporter ring, or null), ``model_version``.
``clusters(cluster_id)``
    ``kind``, ``size``, ``risk`` (REAL or NULL), ``evidence`` (JSON text or NULL).
``cluster_members(cluster_id, entity_type, entity_id)``
    membership with the member's ``role`` (or NULL), indexed both ways.
``decisions(item_id)``
    ``item_type``, ``action``, ``reason_codes`` JSON list, ``evidence`` (text; JSON when
    the run wrote JSON), ``merchant_id``, ``creator_id``, ``product_id``,
    ``policy_version``, ``model_version``.
``risk_docs(key)`` (schema version 2)
    ``key`` is ``"<entity_type>/<entity_id>"`` (:func:`risk_doc_key`), ``doc`` the
    entity's risk document, exactly as the API answers it before the snapshot stamp:
    the UTF-8 bytes of :func:`risk_json` of its ``scores`` row.  Redundant with
    ``scores`` (about as large again) so that a lookup is one primary-key read
    returning the bytes to send; the snapshot is immutable, so the copy cannot drift.

The risk document (:func:`risk_json`), compact JSON with its keys in this order::

    {"entity_type": str, "entity_id": str, "risks": {name: float | None},
     "band": str | None, "calibrated": bool | None, "reasons": [str],
     "clusters": [{"cluster_id", "kind", "risk", "role", "size"}], "model_version": str | None}
"""

from __future__ import annotations

from json.encoder import encode_basestring
from typing import Any

SCHEMA_VERSION = 2
"""Bump when a table or column changes meaning; readers refuse a version they do not know.

Version 2 added ``risk_docs``; readers serve version 1 files (no ``risk_docs``) by
building the document from ``scores``, so a rollback to an older snapshot still serves.
"""

SUPPORTED_SCHEMA_VERSIONS: frozenset[int] = frozenset({1, 2})

RISK_DOCS_SINCE = 2
"""First schema version whose snapshots hold ``risk_docs``."""

SERVING_DIR = "serving"
SNAPSHOTS_DIR = "snapshots"
CURRENT = "current"
HISTORY = "history.json"
SNAPSHOT_SUFFIX = ".sqlite"

SNAPSHOT_DDL: tuple[str, ...] = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE scores ("
    " entity_type TEXT NOT NULL, entity_id TEXT NOT NULL,"
    " fraud_risk REAL, risks TEXT NOT NULL, risk_band TEXT, calibrated INTEGER,"
    " reasons TEXT NOT NULL, clusters TEXT NOT NULL, model_version TEXT,"
    " PRIMARY KEY (entity_type, entity_id)) WITHOUT ROWID",
    "CREATE TABLE clusters ("
    " cluster_id TEXT PRIMARY KEY, kind TEXT NOT NULL, size INTEGER NOT NULL, risk REAL, evidence TEXT"
    ") WITHOUT ROWID",
    "CREATE TABLE cluster_members ("
    " cluster_id TEXT NOT NULL, entity_type TEXT NOT NULL, entity_id TEXT NOT NULL, role TEXT,"
    " PRIMARY KEY (cluster_id, entity_type, entity_id)) WITHOUT ROWID",
    "CREATE TABLE decisions ("
    " item_id TEXT PRIMARY KEY, item_type TEXT, action TEXT NOT NULL, reason_codes TEXT NOT NULL,"
    " evidence TEXT, merchant_id TEXT, creator_id TEXT, product_id TEXT,"
    " policy_version TEXT, model_version TEXT) WITHOUT ROWID",
    "CREATE TABLE risk_docs (key TEXT PRIMARY KEY, doc BLOB NOT NULL) WITHOUT ROWID",
)

SNAPSHOT_INDEXES: tuple[str, ...] = (
    "CREATE INDEX cluster_members_by_entity ON cluster_members (entity_type, entity_id)",
    "CREATE INDEX scores_by_risk ON scores (entity_type, fraud_risk DESC)",
)

SCORE_COLUMNS = (
    "entity_type",
    "entity_id",
    "fraud_risk",
    "risks",
    "risk_band",
    "calibrated",
    "reasons",
    "clusters",
    "model_version",
)
RISK_COLUMNS = tuple(c for c in SCORE_COLUMNS if c != "fraud_risk")
"""The ``scores`` columns a risk document is built from, in :func:`risk_json`'s row order."""

CLUSTER_COLUMNS = ("cluster_id", "kind", "size", "risk", "evidence")
MEMBER_COLUMNS = ("cluster_id", "entity_type", "entity_id", "role")
DECISION_COLUMNS = (
    "item_id",
    "item_type",
    "action",
    "reason_codes",
    "evidence",
    "merchant_id",
    "creator_id",
    "product_id",
    "policy_version",
    "model_version",
)

META_KEYS = (
    "schema_version",
    "run_id",
    "run_date",
    "as_of",
    "model_versions",
    "entity_types",
    "cluster_kinds",
    "row_counts",
    "sources",
)


def risk_doc_key(entity_type: str, entity_id: str) -> str:
    """The ``risk_docs`` key of an entity: ``"<entity_type>/<entity_id>"`` (as in the API path)."""
    return f"{entity_type}/{entity_id}"


def _quoted(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def risk_json(row: tuple[Any, ...]) -> str:
    """A ``scores`` row (:data:`RISK_COLUMNS` order) → the risk document as JSON text.

    The JSON columns (risks, reasons, clusters) are spliced in as stored, not parsed
    and re-serialised.  The snapshot builder writes this into ``risk_docs``; readers of
    version 1 snapshots build it per lookup; so both give the same bytes.
    """
    et, eid, risks, band, calibrated, reasons, clusters, mv = row
    cal = "null" if calibrated is None else ("true" if calibrated else "false")
    return (
        f'{{"entity_type":{_quoted(et)},"entity_id":{_quoted(eid)},"risks":{risks},"band":{_quoted(band)},'
        f'"calibrated":{cal},"reasons":{reasons},"clusters":{clusters},"model_version":{_quoted(mv)}}}'
    )
