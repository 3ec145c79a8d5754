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
"""

from __future__ import annotations

SCHEMA_VERSION = 1
"""Bump when a table or column changes meaning; readers refuse a version they do not know."""

SUPPORTED_SCHEMA_VERSIONS: frozenset[int] = frozenset({1})

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
