"""Serving snapshots: built from Parquet without Spark, deterministic, published, retained, rolled back."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fraudmine.cli import main as cli_main
from fraudmine.contracts.serving import CURRENT, RISK_COLUMNS, SCHEMA_VERSION, SERVING_DIR, risk_doc_key, risk_json
from fraudmine.serving import (
    RollbackError,
    SnapshotSourceError,
    activate_snapshot,
    build_snapshot,
    current_snapshot,
    read_history,
    rollback,
)
from tests.serving_runs import publish, write_run


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_snapshot_holds_every_scored_type_reasons_clusters_and_decisions(tmp_path: Path) -> None:
    run = write_run(tmp_path, "2026-11-01", "2026-11-01-aaaa")
    snap = build_snapshot(run, tmp_path)
    assert snap.parent == tmp_path / SERVING_DIR / "snapshots"
    assert snap.name.startswith("2026-11-01-aaaa-") and snap.suffix == ".sqlite"
    assert not os.stat(snap).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), "snapshot must be read-only"
    meta = dict(_rows(snap, "SELECT key, value FROM meta"))
    assert meta["schema_version"] == str(SCHEMA_VERSION)
    assert meta["run_id"] == "2026-11-01-aaaa" and meta["run_date"] == "2026-11-01"
    assert json.loads(meta["entity_types"]) == ["creator", "merchant"]
    assert json.loads(meta["cluster_kinds"]) == ["collusion", "identity", "reporter_rings"]
    assert json.loads(meta["row_counts"]) == {"scores": 7, "clusters": 4, "cluster_members": 8, "decisions": 2}
    (row,) = _rows(snap, "SELECT * FROM scores WHERE entity_type = 'merchant' AND entity_id = 'm0000001'")
    assert row[:3] == ("merchant", "m0000001", 0.97)
    assert json.loads(str(row[3])) == {"fraud": 0.97, "low_quality": 0.30}
    assert row[4:6] == ("critical", 1)
    assert json.loads(str(row[6])) == ["SHARED_IDENTIFIERS", "IDENTITY_PROFILE"]
    assert json.loads(str(row[7])) == [
        {"cluster_id": "collusion-0017", "kind": "collusion", "size": 2, "risk": 0.8, "role": None},
        {"cluster_id": "identity-0001", "kind": "identity", "size": 3, "risk": 0.93, "role": None},
    ]
    (m2,) = _rows(snap, "SELECT risks, clusters FROM scores WHERE entity_id = 'm0000002'")
    assert json.loads(str(m2[0])) == {"fraud": 0.91, "low_quality": None}
    (creator,) = _rows(snap, "SELECT clusters FROM scores WHERE entity_type = 'creator' AND entity_id = 'c0000001'")
    assert [c["cluster_id"] for c in json.loads(str(creator[0]))] == ["identity-0001"]
    (m2c,) = _rows(snap, "SELECT clusters FROM scores WHERE entity_id = 'm0000002'")
    assert json.loads(str(m2c[0]))[0]["role"] == "seller", "the role comes from the per-member table"
    (target,) = _rows(snap, "SELECT clusters FROM scores WHERE entity_id = 'm0000004'")
    assert json.loads(str(target[0])) == [
        {"cluster_id": "reporter_ring-0003", "kind": "reporter_rings", "size": 2, "risk": None, "role": "target"}
    ]
    assert _rows(snap, "SELECT clusters FROM scores WHERE entity_id = 'c0000002'") != [("[]",)]
    assert _rows(snap, "SELECT clusters FROM scores WHERE entity_id = 'm0000003'") != [("[]",)]
    evidence = dict(_rows(snap, "SELECT cluster_id, evidence FROM clusters"))
    assert json.loads(str(evidence["collusion-0017"])) == {"channels": ["co_promotion"]}
    assert evidence["identity-0002"] is None
    decision = _rows(snap, "SELECT item_id, action, reason_codes FROM decisions ORDER BY item_id")
    assert decision == [("q00000000", "reject", '["CRITICAL_FRAUD"]'), ("q00000001", "approve", '["NO_RISK_SIGNAL"]')]
    assert _rows(snap, "PRAGMA index_list(cluster_members)"), "members must be indexed by entity"


def test_risk_docs_hold_each_scored_entity_document_as_bytes(tmp_path: Path) -> None:
    snap = build_snapshot(write_run(tmp_path, "2026-11-01", "2026-11-01-aaaa"), tmp_path)
    rows = _rows(snap, f"SELECT {', '.join(RISK_COLUMNS)} FROM scores")
    docs = dict(_rows(snap, "SELECT key, doc FROM risk_docs"))
    assert docs == {risk_doc_key(str(r[0]), str(r[1])): risk_json(r).encode() for r in rows}
    doc = json.loads(docs["merchant/m0000001"])  # type: ignore[arg-type]
    assert list(doc) == [
        "entity_type", "entity_id", "risks", "band", "calibrated", "reasons", "clusters", "model_version"
    ]  # fmt: skip
    assert doc["risks"] == {"fraud": 0.97, "low_quality": 0.30} and doc["calibrated"] is True
    assert [c["cluster_id"] for c in doc["clusters"]] == ["collusion-0017", "identity-0001"]


def test_same_outputs_give_the_same_bytes_whatever_the_part_file_order(tmp_path: Path) -> None:
    a = build_snapshot(write_run(tmp_path / "a", "2026-11-01", "r1"), tmp_path / "a")
    b = build_snapshot(write_run(tmp_path / "b", "2026-11-01", "r1", reverse_parts=True), tmp_path / "b")
    assert a.name == b.name and a.read_bytes() == b.read_bytes()
    again = build_snapshot(tmp_path / "a" / "runs" / "2026-11-01", tmp_path / "a")
    assert again == a and len(list(a.parent.iterdir())) == 1
    c = build_snapshot(write_run(tmp_path / "c", "2026-11-01", "r1", m1_risk=0.5), tmp_path / "c")
    assert c.name != a.name, "different outputs must give a different snapshot name"


def test_optional_outputs_may_be_absent(tmp_path: Path) -> None:
    run = write_run(tmp_path, "2026-11-01", "r1", clusters=False, decisions=False)
    snap = build_snapshot(run, tmp_path)
    meta = dict(_rows(snap, "SELECT key, value FROM meta"))
    assert json.loads(meta["sources"]) == ["scores"]
    assert json.loads(meta["row_counts"]) == {"scores": 7, "clusters": 0, "cluster_members": 0, "decisions": 0}
    assert {r[0] for r in _rows(snap, "SELECT clusters FROM scores")} == {"[]"}


def test_one_cluster_id_under_two_kinds_is_refused(tmp_path: Path) -> None:
    run = write_run(tmp_path, "2026-11-01", "r1")
    clash = pa.table({"cluster_id": ["identity-0001"], "members": [["merchant:m0000005"]]})
    (run / "clusters" / "brushing").mkdir()
    pq.write_table(clash, run / "clusters" / "brushing" / "part-0.parquet")
    with pytest.raises(SnapshotSourceError, match=r"cluster id 'identity-0001' is used by kinds"):
        build_snapshot(run, tmp_path)


def _rewrite_scores(run: Path, change: dict[str, object]) -> None:
    table = pq.read_table(run / "scores")
    for name, value in change.items():
        if value is None:
            table = table.drop_columns([name])
        else:
            i = table.column_names.index(name)
            table = table.set_column(i, name, pa.array([value] * table.num_rows, table.schema.field(name).type))
    for p in (run / "scores").glob("*.parquet"):
        p.unlink()
    pq.write_table(table, run / "scores" / "part-00000.parquet")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"entity_id": None}, r"scores: missing column\(s\) \['entity_id'\]; columns present: \['entity_type'"),
        ({"fraud_risk": 1.5}, r"scores: column 'fraud_risk' has values outside \[0, 1\]"),
        ({"entity_type": "shop"}, r"scores: unknown entity_type 'shop'"),
        ({"entity_id": "m1"}, r"snapshot table scores: UNIQUE constraint failed"),
    ],
)
def test_bad_scores_fail_with_the_folder_and_column(tmp_path: Path, change: dict[str, object], message: str) -> None:
    run = write_run(tmp_path, "2026-11-01", "r1")
    _rewrite_scores(run, change)
    with pytest.raises(SnapshotSourceError, match=message):
        build_snapshot(run, tmp_path)
    assert not any((tmp_path / SERVING_DIR / "snapshots").iterdir()), "a failed build leaves no file behind"


def test_cluster_table_without_members_is_refused_by_name(tmp_path: Path) -> None:
    run = write_run(tmp_path, "2026-11-01", "r1")
    bad = run / "clusters" / "brushing"
    bad.mkdir()
    pq.write_table(pa.table({"cluster_id": ["b1"], "size": [4]}), bad / "part-0.parquet")  # no members
    with pytest.raises(
        SnapshotSourceError, match=r"brushing: no member column.*columns present: \['cluster_id', 'size'\]"
    ):
        build_snapshot(run, tmp_path)


def test_scores_are_required(tmp_path: Path) -> None:
    (tmp_path / "runs" / "2026-11-01").mkdir(parents=True)
    with pytest.raises(SnapshotSourceError, match=r"2026-11-01/scores: no Parquet files"):
        build_snapshot(tmp_path / "runs" / "2026-11-01", tmp_path)


def test_publish_points_current_and_retention_keeps_the_newest(tmp_path: Path) -> None:
    snaps = []
    for day in range(1, 8):
        run = write_run(tmp_path, f"2026-11-0{day}", f"run-{day}", m1_risk=day / 10)
        snaps.append(publish(tmp_path, run, keep=3))
    assert current_snapshot(tmp_path) == snaps[-1]
    assert os.readlink(tmp_path / SERVING_DIR / CURRENT) == f"snapshots/{snaps[-1].name}", "relative link"
    assert (tmp_path / "current").resolve() == (tmp_path / "runs" / "2026-11-07").resolve()
    assert sorted(p.name for p in snaps[-1].parent.glob("*.sqlite")) == sorted(s.name for s in snaps[-3:])
    history = read_history(tmp_path)["published"]
    assert [e["run_id"] for e in history] == [f"run-{d}" for d in range(1, 8)]
    publish(tmp_path, tmp_path / "runs" / "2026-11-07", keep=3)  # republishing the same run adds nothing
    assert len(read_history(tmp_path)["published"]) == 7
    with pytest.raises(ValueError, match="keep_snapshots must be at least 1"):
        activate_snapshot(tmp_path, snaps[-1], tmp_path / "runs" / "2026-11-07", "t", keep=0)


def test_rollback_moves_run_and_snapshot_back_and_skips_retained_out(tmp_path: Path) -> None:
    s1 = publish(tmp_path, write_run(tmp_path, "2026-11-01", "r1", m1_risk=0.1), keep=2)
    s2 = publish(tmp_path, write_run(tmp_path, "2026-11-02", "r2", m1_risk=0.2), keep=2)
    s3 = publish(tmp_path, write_run(tmp_path, "2026-11-03", "r3", m1_risk=0.3), keep=2)
    assert not s1.exists()  # retention
    before, after = rollback(tmp_path, "2026-11-04T00:00:00+00:00")
    assert (before.snapshot, after.snapshot) == (s3.name, s2.name)
    assert current_snapshot(tmp_path) == s2
    assert (tmp_path / "current").resolve() == (tmp_path / "runs" / "2026-11-02").resolve()
    history = read_history(tmp_path)
    assert [e["run_id"] for e in history["published"]] == ["r1", "r2"]
    assert [e["run_id"] for e in history["rolled_back"]] == ["r3"]
    with pytest.raises(RollbackError, match="no earlier published run with its snapshot still on disk"):
        rollback(tmp_path, "t")  # r1's snapshot fell out of retention
    assert current_snapshot(tmp_path) == s2, "a refused rollback changes nothing"


def test_rollback_refuses_when_nothing_was_published(tmp_path: Path) -> None:
    with pytest.raises(RollbackError, match="nothing has been published"):
        rollback(tmp_path, "t")


def test_rollback_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s1 = publish(tmp_path, write_run(tmp_path, "2026-11-01", "r1", m1_risk=0.1))
    publish(tmp_path, write_run(tmp_path, "2026-11-02", "r2", m1_risk=0.2))
    assert cli_main(["rollback", "--out", str(tmp_path), "--no-champion"]) == 0
    out = capsys.readouterr().out
    assert "rolled back runs/2026-11-02" in out and f"current:    runs/2026-11-01 ({s1.name})" in out
    assert current_snapshot(tmp_path) == s1
    assert cli_main(["rollback", "--out", str(tmp_path), "--no-champion"]) == 1
    assert "RollbackError: no earlier published run" in capsys.readouterr().err


def test_rollback_command_moves_the_champion_alias_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    publish(tmp_path, write_run(tmp_path, "2026-11-01", "r1", m1_risk=0.1))
    publish(tmp_path, write_run(tmp_path, "2026-11-02", "r2", m1_risk=0.2))
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("model:\n  registry:\n    type: none\n")  # the registry port without an MLflow store
    assert cli_main(["rollback", "--out", str(tmp_path), "--config", str(cfg)]) == 0
    assert "champion:   fraudmine-merchant-risk/3" in capsys.readouterr().out


def test_serve_example_names_the_riskiest_merchant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snap = publish(tmp_path, write_run(tmp_path, "2026-11-01", "r1"))
    assert cli_main(["serve", "--out", str(tmp_path), "--example"]) == 0
    out = capsys.readouterr().out
    assert f"snapshot {snap.stem}" in out
    assert "riskiest merchant: m0000001 (fraud risk 0.970, band critical)" in out
    assert "curl -s -H 'X-API-Key: demo-key' http://127.0.0.1:8000/v1/risk/merchant/m0000001" in out
    assert cli_main(["serve", "--out", str(tmp_path / "nope"), "--example"]) == 1
    assert "no such output folder" in capsys.readouterr().err
