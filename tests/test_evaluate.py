"""Tests of the ground-truth evaluator on a hand-built fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from fraudmine.evaluate import DatasetMismatch, evaluate, format_table, resolve_run


def _fixture(tmp: Path) -> tuple[Path, Path]:
    truth, run = tmp / "truth", tmp / "run"
    truth.mkdir()
    (run / "scores").mkdir(parents=True)
    pd.DataFrame(
        {
            "merchant_id": ["m1", "m2", "m3", "m4", "m5", "m6"],
            "is_fraud": [True, True, False, False, False, False],
            "is_low_quality": [False, False, True, False, False, False],
            "typologies": ["collusion_ring", "collusion_ring", "low_quality", "", "", ""],
            "camouflaged": [False] * 6,
            "group_id": ["ring-0", "ring-0", None, None, None, None],
        }
    ).to_parquet(truth / "merchants.parquet")
    pd.DataFrame(
        {
            "entity_type": ["merchant", "merchant", "merchant", "merchant", "buyer"],
            "entity_id": ["m1", "m2", "m3", "m6", "b1"],
            "typology": [
                "collusion_ring",
                "collusion_ring",
                "low_quality",
                "malicious_reporting",
                "malicious_reporting",
            ],
            "group_id": ["ring-0", "ring-0", None, "mrep-0", "mrep-0"],
            "role": ["shop", "shop", "seller", "victim", "reporter"],
        }
    ).to_parquet(truth / "entities.parquet")
    pd.DataFrame(
        {
            "entity_type": ["merchant"] * 6,
            "entity_id": ["m1", "m2", "m3", "m4", "m5", "m6"],
            "fraud_risk": [0.9, 0.3, 0.8, 0.5, 0.1, 0.2],
            "low_quality_risk": [0.1, 0.2, 0.7, 0.8, 0.1, 0.0],
        }
    ).to_parquet(run / "scores" / "part-00000.parquet")
    (truth / "summary.json").write_text(json.dumps({"dataset_id": "synth-a"}))
    (run / "manifest.json").write_text(json.dumps({"dataset_id": "synth-a", "run_date": "2026-11-01"}))
    return truth, run


def test_exact_auroc(tmp_path: Path) -> None:
    truth, run = _fixture(tmp_path)
    res = evaluate(truth, run, budget=0.2)
    rows = {(r["typology"], r["entity_type"]): r for r in res["metrics"]}
    ring = rows[("collusion_ring", "merchant")]
    # positives m1 (0.9), m2 (0.3); negatives m4 (0.5), m5 (0.1), m6 (0.2) (m3 is low quality)
    # pairs won: m1 beats 3, m2 beats m5 and m6 -> 5 / 6
    assert ring["n_pos"] == 2 and ring["n_neg"] == 3
    assert ring["auroc"] == pytest.approx(5 / 6)
    # budget 0.2 of 6 -> top 2 by fraud_risk: m1, m3 -> recall 1/2
    assert ring["recall_at_budget"] == pytest.approx(0.5)
    lq = rows[("low_quality", "merchant")]
    # positive m3 (0.7) vs negatives m4 0.8, m5 0.1, m6 0.0 -> 2/3
    assert lq["auroc"] == pytest.approx(2 / 3)
    # the fixture scores no reporters: malicious reporting (buyers in the truth) maps to reporter scores
    assert rows[("malicious_reporting", "reporter")]["status"] == "not_scored"
    assert ("malicious_reporting", "merchant") not in rows  # victims are not members
    overall = rows[("overall_fraud", "merchant")]
    # pos m1 .9, m2 .3 vs neg m3 .8, m4 .5, m5 .1, m6 .2 -> (4 + 2) / 8
    assert overall["auroc"] == pytest.approx(6 / 8)
    text = format_table(res)
    assert "collusion_ring" in text and "not_scored" in text


def test_every_typology_scored_from_its_entity_type_with_a_baseline(tmp_path: Path) -> None:
    truth, run = _fixture(tmp_path)
    scores = pd.read_parquet(run / "scores" / "part-00000.parquet")
    reporters = pd.DataFrame(
        {
            "entity_type": ["reporter"] * 4,
            "entity_id": ["b1", "b2", "b3", "b4"],
            "fraud_risk": [0.7, 0.9, 0.1, 0.2],
            "low_quality_risk": [0.0] * 4,
        }
    )
    pd.concat([scores, reporters]).to_parquet(run / "scores" / "part-00000.parquet")
    (run / "features" / "reporter_score").mkdir(parents=True)
    pd.DataFrame({"reporter_id": ["b1", "b2", "b3", "b4"], "n_reports": [9.0, 1.0, 2.0, 3.0]}).to_parquet(
        run / "features" / "reporter_score" / "part-0.parquet"
    )
    res = evaluate(truth, run, budget=0.25)
    rows = {(r["typology"], r["entity_type"]): r for r in res["metrics"]}
    assert not [r for r in res["metrics"] if r["status"] == "not_scored"]
    mal = rows[("malicious_reporting", "reporter")]
    # positive b1 (0.7) vs b2 .9, b3 .1, b4 .2 -> 2/3; top 1 of 4 is b2 -> recall 0
    assert mal["n_pos"] == 1 and mal["n_neg"] == 3
    assert mal["auroc"] == pytest.approx(2 / 3) and mal["recall_at_budget"] == 0.0
    # the baseline ranks by reports filed: b1 (9) is first -> AUROC 1, recall 1
    assert mal["baseline"] == "n_reports" and mal["baseline_auroc"] == 1.0 and mal["baseline_recall_at_budget"] == 1.0
    assert rows[("collusion_ring", "merchant")]["baseline_auroc"] is None  # no merchant feature table in the fixture
    assert "n_reports" in format_table(res)


def test_missing_scores(tmp_path: Path) -> None:
    truth, _ = _fixture(tmp_path)
    with pytest.raises(FileNotFoundError, match="scores"):
        evaluate(truth, tmp_path / "nowhere", force=True)


def test_unlabelled_row_excludes_merchants_labelled_before_the_run(tmp_path: Path) -> None:
    truth, run = _fixture(tmp_path)
    (run / "validate" / "clean" / "labels").mkdir(parents=True)
    pd.DataFrame(
        {
            "entity_type": ["merchant", "merchant"],
            "entity_id": ["m1", "m4"],
            "label": ["fraud", "ok"],
            "source": ["manual_review", "manual_review"],
            # m4's label arrives after the run date: it is still "unlabelled" for this run
            "labelled_at": pd.to_datetime(["2026-10-01", "2026-11-05"], utc=True),
        }
    ).to_parquet(run / "validate" / "clean" / "labels" / "part-0.parquet")
    rows = {(r["typology"], r["entity_type"]): r for r in evaluate(truth, run)["metrics"]}
    unl = rows[("overall_fraud_unlabelled", "merchant")]
    # m1 dropped; pos m2 (.3) vs neg m3 .8, m4 .5, m5 .1, m6 .2 -> 2 / 4
    assert unl["n_pos"] == 1 and unl["n_neg"] == 4
    assert unl["auroc"] == pytest.approx(2 / 4)


def test_truth_of_another_dataset_is_refused_unless_forced(tmp_path: Path) -> None:
    truth, run = _fixture(tmp_path)
    (truth / "summary.json").write_text(json.dumps({"dataset_id": "synth-b"}))
    with pytest.raises(DatasetMismatch, match=r"synth-b.*synth-a.*--force"):
        evaluate(truth, run)
    assert evaluate(truth, run, force=True)["metrics"]
    (run / "manifest.json").write_text(json.dumps({"run_date": "2026-11-01"}))  # input not from the generator
    with pytest.raises(DatasetMismatch, match="unknown"):
        evaluate(truth, run)


def test_run_option_accepts_the_output_folder(tmp_path: Path) -> None:
    _, run = _fixture(tmp_path)
    out = tmp_path / "out"
    (out / "runs").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no published run"):
        resolve_run(out)
    (out / "current").symlink_to(run)
    assert resolve_run(out) == run.resolve()
    assert resolve_run(run) == run
