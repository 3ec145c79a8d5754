"""Write-audit-publish: gate logic (pure) and the publish stage blocking a corrupted run (Spark)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fraudmine.audit import AuditFailed, RunStats, ScoreProfile, evaluate_gates, psi, schema_problems
from fraudmine.config import PublishConfig, load_config
from fraudmine.contracts.outputs import DECISIONS_DDL, SCORES_DDL
from fraudmine.contracts.raw import RAW_TABLES


def _stats(**kw: Any) -> RunStats:
    base: dict[str, Any] = dict(
        scored_rows=1000,
        null_scores=0,
        out_of_range_scores=0,
        distinct_run_ids=1,
        missing_model_version=0,
        decisions_rows=100,
        decisions_missing_run_id=0,
        scored_by_type={"merchant": 1000},
        auto_rejects=5,
    )
    base.update(kw)
    return RunStats(**base)


def _failed(results: list[Any]) -> set[str]:
    return {r.gate for r in results if not r.passed}


def test_psi_known_values() -> None:
    assert psi([10, 10, 10, 10], [10, 10, 10, 10]) == 0.0
    # (0.4-0.25)ln(0.4/0.25) + (0.1-0.25)ln(0.1/0.25) twice = 2 * (0.0705 + 0.1374)
    assert psi([25, 25, 25, 25], [40, 10, 40, 10]) == pytest.approx(2 * (0.15 * np.log(1.6) + 0.15 * np.log(2.5)))
    with pytest.raises(ValueError, match="4 expected bins vs 3"):
        psi([1, 1, 1, 1], [1, 1, 1])


def test_schema_problems_name_the_column() -> None:
    cols = [(c, t) for c, t in (p.strip().split(" ", 1) for p in SCORES_DDL.split(","))]
    assert schema_problems("scores", cols, SCORES_DDL) == []
    broken = [(c, "string" if c == "fraud_risk" else t) for c, t in cols if c != "run_id"] + [("extra", "int")]
    assert schema_problems("scores", broken, SCORES_DDL) == [
        "scores: missing column 'run_id' (string)",
        "scores: column 'fraud_risk' is string, declared double",
        "scores: undeclared column 'extra'",
    ]


def test_gates_pass_and_fail_for_the_right_reason() -> None:
    cfg = PublishConfig(max_score_row_change=0.5, max_psi=0.25, max_auto_reject_share=0.2)
    prof = {"merchant/fraud_risk": ScoreProfile([0.1, 0.5], [50, 30, 20])}
    prev = _stats(profiles=prof)
    same = _stats(binned_at_previous={"merchant/fraud_risk": [50, 30, 20]})
    assert _failed(evaluate_gates(same, prev, cfg)) == set()
    assert _failed(evaluate_gates(same, None, cfg)) == set()
    shifted = _stats(binned_at_previous={"merchant/fraud_risk": [10, 30, 60]})
    assert _failed(evaluate_gates(shifted, prev, cfg)) == {"psi"}
    assert _failed(evaluate_gates(_stats(scored_by_type={"merchant": 400}), prev, cfg)) >= {"volume"}
    assert _failed(evaluate_gates(_stats(auto_rejects=30), None, cfg)) == {"auto_reject_share"}
    assert _failed(evaluate_gates(_stats(null_scores=3), None, cfg)) == {"scores"}
    assert _failed(evaluate_gates(_stats(schema_problems=["scores: x"]), None, cfg)) == {"schema"}
    missing = [r for r in evaluate_gates(_stats(), prev, cfg) if r.gate == "psi"]
    assert not missing[0].passed and "missing in this run" in missing[0].message
    # stats written by an older version (no per-type counts, no profiles) still compare
    old = RunStats.from_dict({k: v for k, v in _stats().to_dict().items() if k in RunStats.__dataclass_fields__})
    assert _failed(evaluate_gates(_stats(scored_by_type={"merchant": 1000}), old, cfg)) == set()


# --- the publish stage on fabricated runs (real Spark, real manifest, real symlink) -------------------------

MV = "fraudmine-merchant-risk/1"


def _write_run(spark: Any, out: Path, day: date, risks: np.ndarray, auto_rejects: int) -> Path:
    run = out / "runs" / day.isoformat()
    (run / "model").mkdir(parents=True)
    (run / "model" / "model.json").write_text(json.dumps({"model_version": MV}))
    (run / "validate").mkdir()
    counts = {t.name: {"input": 10, "clean": 10, "quarantined": 0} for t in RAW_TABLES}
    (run / "validate" / "counts.json").write_text(json.dumps(counts))
    (run / "manifest.json").write_text(json.dumps({"run_id": "RID", "run_date": day.isoformat(), "stages": {}}))
    as_of = datetime(day.year, day.month, day.day, tzinfo=UTC)
    bands = np.where(risks >= 0.8, "critical", np.where(risks >= 0.5, "high", np.where(risks >= 0.2, "medium", "low")))
    srows = [
        ("merchant", f"m{i}", float(r), 0.1, True, str(b), [], MV, "RID", as_of)
        for i, (r, b) in enumerate(zip(risks, bands, strict=True))
    ]
    spark.createDataFrame(srows, SCORES_DDL).write.parquet(str(run / "scores"))
    drows = [
        (
            f"q{i}",
            "product_listing",
            "US",
            f"m{i}",
            None,
            None,
            "reject" if i < auto_rejects else "approve",
            "R",
            ["R"],
            [],
            [],
            0.5,
            1.0,
            0.5,
            "auto",
            None,
            None,
            "pv",
            MV,
            "RID",
            as_of,
        )
        for i in range(100)
    ]
    spark.createDataFrame(drows, DECISIONS_DDL).write.parquet(str(run / "decisions"))
    return run


def _publish(spark: Any, cfg: Any, out: Path, run: Path, day: date, repo_root: Path, force: bool = False) -> None:
    """The publish stage as the orchestrator runs it: audit into staging, commit, then release."""
    from fraudmine.jobs import publish
    from fraudmine.jobs.context import StageContext

    ctx = StageContext(cfg, spark, day, out / "raw", out, "RID", "v", repo_root, force_publish=force, attempt_dir=run)
    staging = run / "_staging" / "publish"
    staging.mkdir(parents=True)
    try:
        publish.run(ctx, staging)
    except AuditFailed:
        shutil.rmtree(staging)
        raise
    staging.rename(run / "publish")
    publish.release(ctx)


@pytest.mark.spark
def test_corrupted_run_is_blocked_and_current_stays(spark: Any, tmp_path: Path, repo_root: Path) -> None:
    from fraudmine.jobs.runtime import current_target

    cfg = load_config(repo_root / "conf" / "default.yaml", env={}, overrides={"model.registry.type": "none"})
    out = tmp_path / "out"
    rng = np.random.default_rng(0)
    good = _write_run(spark, out, date(2026, 11, 1), rng.beta(1, 12, 2000), auto_rejects=5)
    _publish(spark, cfg, out, good, date(2026, 11, 1), repo_root)
    assert current_target(out) == good.resolve()
    # the next day's scores are shifted (a broken feature) and a third of the queue is auto-rejected
    bad = _write_run(spark, out, date(2026, 11, 2), rng.beta(3, 3, 2000), auto_rejects=33)
    with pytest.raises(AuditFailed, match=r"2 publish gate\(s\) failed, `current` still names") as e:
        _publish(spark, cfg, out, bad, date(2026, 11, 2), repo_root)
    assert "[psi] merchant/fraud_risk: PSI" in str(e.value) and "[auto_reject_share] decisions: 33.0%" in str(e.value)
    assert current_target(out) == good.resolve()
    kept = json.loads((bad / "_failed" / "publish" / "audit.json").read_text())
    assert {g["gate"] for g in kept["gates"] if not g["passed"]} == {"psi", "auto_reject_share"}
    assert not (bad / "publish").exists()
    # --force publishes and says so
    _publish(spark, cfg, out, bad, date(2026, 11, 2), repo_root, force=True)
    assert current_target(out) == bad.resolve()
    audit = json.loads((bad / "publish" / "audit.json").read_text())
    assert audit["forced"] is True and len(audit["failures"]) == 2
    assert issubclass(AuditFailed, RuntimeError)


@pytest.mark.spark
def test_psi_bins_survive_a_retrained_step_function(spark: Any) -> None:
    """Isotonic scores are a few atoms; a retrain moves each atom by a hair.  Edges on the atoms
    (plain quantiles) would push whole atoms across and report a huge shift; gap edges must not.
    A real shift (mass moving between atoms) must still be caught."""
    from fraudmine.audit import bin_counts, gap_edges

    def frame(values: list[tuple[float, int]]) -> Any:
        return spark.createDataFrame([(v,) for v, n in values for _ in range(n)], "fraud_risk double")

    prev = frame([(0.010, 700), (0.050, 150), (0.200, 100), (0.900, 50)])
    probs = [i / 10 for i in range(1, 10)]
    quantiles = prev.approxQuantile("fraud_risk", probs, 0.001)
    edges = gap_edges(prev, "fraud_risk", quantiles)
    assert edges and all(e not in {0.010, 0.050, 0.200, 0.900} for e in edges)
    expected = bin_counts(prev, "fraud_risk", edges)

    retrained = frame([(0.0099, 700), (0.0503, 150), (0.1990, 100), (0.9010, 50)])
    assert psi(expected, bin_counts(retrained, "fraud_risk", edges)) < 0.01
    on_atoms = sorted(set(quantiles))  # what the gate used before: edges on the atoms
    assert psi(bin_counts(prev, "fraud_risk", on_atoms), bin_counts(retrained, "fraud_risk", on_atoms)) > 1.0

    shifted = frame([(0.010, 450), (0.050, 150), (0.200, 250), (0.900, 150)])
    assert psi(expected, bin_counts(shifted, "fraud_risk", edges)) > 0.25


@pytest.mark.spark
def test_psi_bins_survive_clusters_of_near_ties(spark: Any) -> None:
    """Cross-fitted isotonic calibration gives clusters of near-equal scores (0.03846155, 0.03846156, ...);
    bins must not split a cluster by its noise, or a retrain moves whole bins."""
    from fraudmine.audit import bin_counts, psi_edges

    rng = np.random.default_rng(0)

    def frame(atoms: list[tuple[float, int]], jitter: float) -> Any:
        vals = [float(v + rng.uniform(-jitter, jitter)) for v, n in atoms for _ in range(n)]
        return spark.createDataFrame([(v,) for v in vals], "fraud_risk double")

    atoms = [(0.0384615, 600), (0.0526316, 150), (0.1, 100), (0.3333, 100), (0.6, 50)]
    prev = frame(atoms, 1e-8)
    probs = [i / 10 for i in range(1, 10)]
    edges = psi_edges(prev, "fraud_risk", probs)
    expected = bin_counts(prev, "fraud_risk", edges)
    retrained = frame([(v * 1.002, n) for v, n in atoms], 1e-8)
    assert psi(expected, bin_counts(retrained, "fraud_risk", edges)) < 0.01
    raw_quantiles = sorted(set(prev.approxQuantile("fraud_risk", probs, 0.001)))  # edges inside the cluster
    assert psi(bin_counts(prev, "fraud_risk", raw_quantiles), bin_counts(retrained, "fraud_risk", raw_quantiles)) > 1
    moved = frame([(0.0384615, 300), (0.0526316, 300), (0.1, 200), (0.3333, 150), (0.6, 50)], 1e-8)
    assert psi(expected, bin_counts(moved, "fraud_risk", edges)) > 0.25


@pytest.mark.spark
def test_run_stats_do_not_depend_on_the_workers(spark: Any) -> None:
    from fraudmine.audit import collect_run_stats

    rng = np.random.default_rng(3)
    rows = [("merchant", f"m{i}", float(x), "r1", "v1") for i, x in enumerate(rng.beta(1, 8, 300))]
    rows += [("creator", f"c{i}", float(x), "r1", "v1") for i, x in enumerate(rng.beta(2, 5, 200))]
    scores = spark.createDataFrame(
        rows, "entity_type string, entity_id string, fraud_risk double, run_id string, model_version string"
    )
    decisions = spark.createDataFrame(
        [("r1", "reject", "auto"), ("r1", "review", "queued")], "run_id string, action string, queue_status string"
    )
    cfg = PublishConfig()
    first = collect_run_stats(scores, decisions, None, cfg, workers=1)
    assert set(first.profiles) == {"merchant/fraud_risk", "creator/fraud_risk"}
    assert collect_run_stats(scores, decisions, None, cfg, workers=2) == first
    again = collect_run_stats(scores, decisions, first, cfg, workers=2)
    assert again.binned_at_previous == {k: p.counts for k, p in first.profiles.items()}
    assert again == collect_run_stats(scores, decisions, first, cfg, workers=1)
