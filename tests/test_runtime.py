"""Run mechanics: atomic commit, manifest, run ids, stage selection, audit gates, policy, report."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudmine.audit import RunStats, audit
from fraudmine.config import PublishConfig
from fraudmine.jobs import runtime
from fraudmine.jobs.names import STAGE_NAMES


def test_commit_is_all_or_nothing(tmp_path: Path) -> None:
    st = runtime.staging_dir(tmp_path, "scores")
    (st / "part-0.parquet").write_text("x")
    assert not (tmp_path / "scores").exists()
    runtime.commit(tmp_path, "scores")
    assert (tmp_path / "scores" / "part-0.parquet").exists()
    with pytest.raises(FileExistsError):
        runtime.staging_dir(tmp_path, "scores")
        runtime.commit(tmp_path, "scores")


def test_staging_leftovers_are_cleared(tmp_path: Path) -> None:
    st = runtime.staging_dir(tmp_path, "graph")
    (st / "half-written").write_text("x")
    st2 = runtime.staging_dir(tmp_path, "graph")
    assert list(st2.iterdir()) == []


def test_manifest_persists_and_rewrites(tmp_path: Path) -> None:
    m = runtime.Manifest(tmp_path, {"run_id": "r1"})
    m.set_stage("validate", runtime.StageRecord(status="committed", output="validate", rows_out={"a": 1}))
    again = runtime.Manifest(tmp_path, {"run_id": "r1"})
    assert again.stages["validate"]["rows_out"] == {"a": 1}
    assert not list(tmp_path.glob("*.tmp"))


def test_run_id_deterministic() -> None:
    assert runtime.make_run_id("2026-11-01", "c", "i") == runtime.make_run_id("2026-11-01", "c", "i")
    assert runtime.make_run_id("2026-11-01", "c", "i") != runtime.make_run_id("2026-11-01", "c", "j")


def test_select_stages() -> None:
    from fraudmine.jobs.stages import select_stages

    assert [s.name for s in select_stages(None, None)] == list(STAGE_NAMES)
    assert [s.name for s in select_stages(None, "score")] == ["score", "decide", "report", "neo4j", "publish"]
    assert [s.name for s in select_stages(["graph"], None)] == ["graph"]
    with pytest.raises(ValueError, match="unknown stage"):
        select_stages(["grpah"], None)


def _stats(**kw: int) -> RunStats:
    base = dict(
        scored_rows=100,
        null_scores=0,
        out_of_range_scores=0,
        distinct_run_ids=1,
        missing_model_version=0,
        decisions_rows=10,
        decisions_missing_run_id=0,
    )
    base.update(kw)
    return RunStats(**base)


def test_audit_gates() -> None:
    cfg = PublishConfig(max_score_row_change=0.5)
    assert audit(_stats(), None, cfg) == []
    assert audit(_stats(), _stats(scored_rows=90), cfg) == []
    fails = audit(_stats(scored_rows=10, null_scores=2), _stats(), cfg)
    assert any("null fraud_risk" in f for f in fails)
    assert any("row count changed by 90.0%" in f for f in fails)
