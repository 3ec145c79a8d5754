"""Tiny published runs for the serving tests (test helper, not a fixture module).

The Parquet files are written with pyarrow in the pipeline's declared output
schemas (``SCORES_DDL``, ``DECISIONS_DDL`` of :mod:`fraudmine.contracts.outputs`),
split over two part files plus a ``_SUCCESS`` marker as Spark writes them.
Cluster tables come in the two shapes the snapshot builder accepts.
"""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from fraudmine.contracts.outputs import DECISIONS_DDL, SCORES_DDL

_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "long": pa.int64(),
    "int": pa.int32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "array<string>": pa.list_(pa.string()),
}


def ddl_schema(ddl: str) -> pa.Schema:
    """Arrow schema of a simple Spark DDL string (the types the output contracts use)."""
    fields = []
    for part in ddl.split(","):
        name, dtype = part.strip().split(" ", 1)
        fields.append(pa.field(name, _TYPES[dtype.strip()]))
    return pa.schema(fields)


def write_parts(folder: Path, rows: list[dict[str, Any]], schema: pa.Schema, reverse: bool = False) -> None:
    """Write ``rows`` as two part files (halves; ``reverse`` swaps which half goes first) and ``_SUCCESS``."""
    folder.mkdir(parents=True)
    half = len(rows) // 2
    parts = [rows[:half], rows[half:]]
    if reverse:
        parts = parts[::-1]
    for i, chunk in enumerate(parts):
        pq.write_table(pa.Table.from_pylist(chunk, schema=schema), folder / f"part-{i:05d}.snappy.parquet")
    (folder / "_SUCCESS").write_text("")


MERCHANTS = {  # id → (fraud_risk, low_quality_risk, band, reasons)
    "m0000001": (0.97, 0.30, "critical", ["SHARED_IDENTIFIERS", "IDENTITY_PROFILE"]),
    "m0000002": (0.91, None, "critical", ["SHARED_IDENTIFIERS"]),
    "m0000003": (0.55, 0.70, "high", ["UNAUTHORISED_BRAND"]),
    "m0000004": (0.05, 0.02, "low", []),
    "m0000005": (0.25, 0.10, "medium", ["PRICE_PROFILE"]),
}
CREATORS = {"c0000001": (0.88, 0.15, "critical", ["PROMOTES_RING"]), "c0000002": (0.01, 0.01, "low", [])}


def write_run(
    out: Path,
    run_date: str,
    run_id: str,
    m1_risk: float = 0.97,
    clusters: bool = True,
    decisions: bool = True,
    reverse_parts: bool = False,
    extra_scores: dict[str, dict[str, tuple[float, float | None, str, list[str]]]] | None = None,
) -> Path:
    """Write ``<out>/runs/<run_date>/`` with scores (merchants + creators), clusters and decisions.

    Args:
        m1_risk: fraud risk of merchant ``m0000001`` (distinguishes runs in swap tests).
        clusters, decisions: write those optional outputs.
        reverse_parts: swap the order of the part files (determinism checks).
        extra_scores: more entity types' rows (entity type -> id -> (fraud, low quality, band, reasons)),
            written as uncalibrated (label-free rank scores).

    Returns:
        The run folder.
    """
    run_dir = out / "runs" / run_date
    as_of = datetime.fromisoformat(run_date).replace(tzinfo=UTC)
    model_version = "fraudmine-merchant-risk/3"
    scores = []
    tables = [("merchant", MERCHANTS), ("creator", CREATORS), *(extra_scores or {}).items()]
    for etype, table in tables:
        for eid, (fr, lq, band, reasons) in table.items():
            if eid == "m0000001":
                fr = m1_risk
            scores.append(
                {
                    "entity_type": etype,
                    "entity_id": eid,
                    "fraud_risk": fr,
                    "low_quality_risk": lq,
                    "calibrated": etype in ("merchant", "creator"),
                    "risk_band": band,
                    "top_reasons": reasons,
                    "model_version": model_version,
                    "run_id": run_id,
                    "as_of": as_of,
                }
            )
    write_parts(run_dir / "scores", scores, ddl_schema(SCORES_DDL), reverse_parts)
    if clusters:
        c = run_dir / "clusters"
        # identity: one row per cluster with a members list of typed ids (graphcore's shape)
        identity = pa.table(
            {
                "cluster_id": ["identity-0001", "identity-0002"],
                "cluster_type": ["identity", "identity"],
                "size": [3, 1],
                "members": [["merchant:m0000001", "merchant:m0000002", "creator:c0000001"], ["merchant:m0000003"]],
                "risk": [0.93, 0.4],
                "evidence": [json.dumps({"shared": ["device", "payment"]}), None],
            }
        )
        (c / "identity").mkdir(parents=True)
        pq.write_table(identity, c / "identity" / "part-00000.parquet")
        # collusion: one row per member with entity_type / entity_id, evidence as a struct, no cluster_type
        collusion = pa.table(
            {
                "cluster_id": ["collusion-0017", "collusion-0017"],
                "entity_type": ["merchant", "merchant"],
                "entity_id": ["m0000001", "m0000005"],
                "cluster_risk": [0.8, 0.8],
                "evidence": [{"channels": ["co_promotion"]}, {"channels": ["co_promotion"]}],
            }
        )
        (c / "collusion").mkdir(parents=True)
        pq.write_table(collusion, c / "collusion" / "part-00000.parquet")
        # reporter rings only in the per-member table, with roles: m0000004 is the ring's target
        members = pa.table(
            {
                "cluster_id": ["identity-0001", "reporter_ring-0003", "reporter_ring-0003"],
                "cluster_type": ["identity", "reporter_rings", "reporter_rings"],
                "node_id": ["merchant:m0000002", "creator:c0000002", "merchant:m0000004"],
                "role": ["seller", "reporter", "target"],
            }
        )
        (c / "members").mkdir(parents=True)
        pq.write_table(members, c / "members" / "part-00000.parquet")
        # per-entity cluster features: not a cluster table (no cluster_id), skipped
        (c / "entity_features").mkdir(parents=True)
        pq.write_table(
            pa.table({"node_id": ["merchant:m0000001"], "identity_cluster_size": [3]}),
            c / "entity_features" / "part-0.parquet",
        )
    if decisions:
        rows = [
            {
                "item_id": f"q{i:08d}",
                "item_type": "product_listing",
                "merchant_id": mid,
                "creator_id": None,
                "product_id": f"p{i:09d}",
                "action": action,
                "reason_codes": [reason],
                # evidence is array<string> in the decisions contract: one human sentence per fact
                "evidence": [f"seller {mid} is in risk band {MERCHANTS[mid][2]}"],
                "policy_version": "2026-11-01",
                "model_version": model_version,
                "run_id": run_id,
            }
            for i, (mid, action, reason) in enumerate(
                [("m0000001", "reject", "CRITICAL_FRAUD"), ("m0000004", "approve", "NO_RISK_SIGNAL")]
            )
        ]
        write_parts(run_dir / "decisions", rows, ddl_schema(DECISIONS_DDL), reverse_parts)
    (run_dir / "manifest.json").write_text(json.dumps({"run_id": run_id, "run_date": run_date, "stages": {}}))
    return run_dir


def publish(out: Path, run_dir: Path, when: str = "2026-11-02T03:00:00+00:00", keep: int = 5) -> Path:
    """Build and activate a run's snapshot and point ``<out>/current`` at the run, as the publish step does."""
    from fraudmine.serving import activate_snapshot, build_snapshot
    from fraudmine.serving.publishing import RUN_CURRENT, point_symlink

    snap = build_snapshot(run_dir, out)
    point_symlink(out / RUN_CURRENT, run_dir)
    activate_snapshot(out, snap, run_dir, when, keep=keep)
    return snap


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
