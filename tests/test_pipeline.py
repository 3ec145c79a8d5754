"""End to end: generate xs → nightly → evaluate; idempotent rerun; failed runs never publish;
kill -9 mid-stage then rerun gives the same outputs as an uninterrupted run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fraudmine.config import Config, load_config
from fraudmine.contracts.physical import arrow_schema
from fraudmine.contracts.raw import table_spec
from fraudmine.jobs.names import STAGE_NAMES
from fraudmine.jobs.nightly import StageFailed, run_nightly
from fraudmine.jobs.plan import StaleUpstream
from tests.notebook_runner import run_notebook

pytestmark = [pytest.mark.spark, pytest.mark.slow]

RUN_DATE = date(2026, 11, 1)


def _cfg(repo_root: Path) -> Config:
    return load_config(repo_root / "conf" / "default.yaml", env={}, overrides={"model.n_estimators": 120})


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Path:
    from fraudmine.synth import generate

    out = tmp_path_factory.mktemp("synth")
    # the easy scenario: a clear planted signal, so the AUROC bound below tests the pipeline, not the data
    generate("xs", 11, out, repo_root / "conf" / "scenarios" / "easy.yaml")
    return out


@pytest.fixture(scope="module")
def first_run(spark: Any, synth: Path, repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    run_nightly(_cfg(repo_root), synth / "raw", out, RUN_DATE)
    return out


def _read(path: Path) -> pd.DataFrame:
    df = pd.read_parquet(path)
    return df.sort_values(list(df.columns[:2])).reset_index(drop=True)


def test_all_stages_committed_and_published(first_run: Path, synth: Path) -> None:
    run_dir = first_run / "runs" / RUN_DATE.isoformat()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert list(manifest["stages"]) == [n for n in STAGE_NAMES if n != "neo4j"]  # neo4j: off by default
    assert all(s["status"] == "committed" for s in manifest["stages"].values())
    assert (first_run / "current").resolve() == run_dir.resolve()
    assert (run_dir / "reports" / "report.html").read_text().count("<table>") >= 4
    counts = json.loads((run_dir / "validate" / "counts.json").read_text())
    assert all(c["input"] == c["clean"] + c["quarantined"] for c in counts.values())
    assert sum(c["quarantined"] for c in counts.values()) == 0  # generated data is clean
    merchants = pd.read_parquet(synth / "raw" / "merchants")
    scores = _read(run_dir / "scores")
    # one scores table holds every risky entity type; merchants (and creators with enough labels) calibrated
    assert set(scores["entity_type"]) == {"merchant", "creator", "product", "buyer", "reporter"}
    assert (scores["entity_type"] == "merchant").sum() == len(merchants)
    assert scores.loc[scores["entity_type"] == "merchant", "calibrated"].all()
    label_free = scores[scores["entity_type"].isin(["product", "buyer", "reporter"])]
    assert not label_free["calibrated"].any() and "critical" not in set(label_free["risk_band"])
    assert label_free.loc[label_free["risk_band"] == "high", "top_reasons"].map(len).gt(0).all()
    assert scores["fraud_risk"].between(0, 1).all()
    assert scores["run_id"].nunique() == 1 and scores["run_id"].iloc[0] == manifest["run_id"]
    assert scores["model_version"].iloc[0].startswith("fraudmine-merchant-risk/")
    decisions = _read(run_dir / "decisions")
    assert set(decisions["action"]) <= {"approve", "review", "reject", "escalate"}
    assert decisions["policy_version"].nunique() == 1


def test_published_run_has_its_snapshot_and_the_api_answers_every_scored_merchant(first_run: Path) -> None:
    from fastapi.testclient import TestClient

    from fraudmine.api.app import create_app
    from fraudmine.api.settings import ApiSettings
    from fraudmine.api.stores.sqlite import SqliteStore
    from fraudmine.serving import current_snapshot, read_history

    run_dir = first_run / "runs" / RUN_DATE.isoformat()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    snap = current_snapshot(first_run)
    assert snap is not None and snap.name.startswith(manifest["run_id"])
    assert manifest["stages"]["publish"]["versions"]["snapshot"] == snap.name
    assert read_history(first_run)["published"][-1]["run_dir"] == f"runs/{RUN_DATE.isoformat()}"
    scores = _read(run_dir / "scores")
    app = create_app(ApiSettings(output=first_run, api_keys=("k",)), SqliteStore(first_run))
    with TestClient(app) as client:
        scores = scores[scores["entity_type"] == "merchant"]
        ids = scores["entity_id"].tolist()
        found = {}
        for i in range(0, len(ids), 1000):
            body = {"entities": [{"entity_type": "merchant", "entity_id": e} for e in ids[i : i + 1000]]}
            r = client.post("/v1/risk:batch", headers={"X-API-Key": "k"}, json=body)
            assert r.status_code == 200, r.text
            found.update({x["entity_id"]: x["risk"] for x in r.json()["results"] if x["found"]})
        assert len(found) == len(scores)
        for row in scores.itertuples():
            risk = found[row.entity_id]
            assert (risk["risks"]["fraud"], risk["band"]) == (row.fraud_risk, row.risk_band)
            assert risk["reasons"] == list(row.top_reasons) and risk["model_version"] == row.model_version
        top = scores.loc[scores["fraud_risk"].idxmax()]
        one = client.get(f"/v1/risk/merchant/{top.entity_id}", headers={"X-API-Key": "k"}).json()
        assert one["reasons"] and one["snapshot_date"] == RUN_DATE.isoformat()


def test_evaluate_reports_metrics_per_typology(first_run: Path, synth: Path) -> None:
    from fraudmine.evaluate import evaluate

    result = evaluate(synth / "truth", first_run / "current")
    assert not [(m["typology"], m["entity_type"]) for m in result["metrics"] if m["status"] == "not_scored"]
    rows = {(m["typology"], m["entity_type"]): m for m in result["metrics"]}
    assert rows[("overall_fraud", "merchant")]["auroc"] > 0.6
    assert ("malicious_reporting", "reporter") in rows and ("brushing", "buyer") in rows
    assert rows[("duplicate_listing", "product")]["baseline"] == "n_orders"


def test_rerun_is_idempotent(first_run: Path, synth: Path, repo_root: Path) -> None:
    run_dir = first_run / "runs" / RUN_DATE.isoformat()
    before = _read(run_dir / "scores")
    mtime = (run_dir / "scores").stat().st_mtime_ns
    run_nightly(_cfg(repo_root), synth / "raw", first_run, RUN_DATE)
    assert (run_dir / "scores").stat().st_mtime_ns == mtime
    pd.testing.assert_frame_equal(before, _read(run_dir / "scores"))


def test_failed_run_never_touches_published_outputs(
    first_run: Path, synth: Path, repo_root: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "raw"
    shutil.copytree(synth / "raw", bad)
    products = pd.read_parquet(bad / "products").rename(columns={"price": "pirce"})
    shutil.rmtree(bad / "products")
    (bad / "products").mkdir()
    products.to_parquet(bad / "products" / "part-0.parquet")
    published = (first_run / "current").resolve()
    serving = (first_run / "serving" / "current").resolve()
    with pytest.raises(StageFailed, match=r"products.*pirce|pirce.*products"):
        run_nightly(_cfg(repo_root), bad, first_run, date(2026, 11, 2))
    assert (first_run / "current").resolve() == published
    assert (first_run / "serving" / "current").resolve() == serving
    failed_dir = first_run / "runs" / "2026-11-02"
    manifest = json.loads((failed_dir / "manifest.json").read_text())
    assert manifest["stages"]["validate"]["status"] == "failed"
    assert not (failed_dir / "validate").exists()


def _io_args(synth: Path, out: Path) -> list[str]:
    """``--input/--out/--date`` of a nightly command line on the xs marketplace."""
    return ["--input", str(synth / "raw"), "--out", str(out), "--date", RUN_DATE.isoformat()]


def _wait_for_stage(manifest: Path, stage: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if manifest.exists():
            try:
                data = json.loads(manifest.read_text())
            except json.JSONDecodeError:
                data = {}
            if data.get("stages", {}).get(stage, {}).get("status") == "running":
                return
        time.sleep(0.2)
    raise TimeoutError(f"stage {stage} never started")


@pytest.mark.heavy
def test_kill_9_mid_stage_then_resume_matches_uninterrupted(
    first_run: Path, synth: Path, repo_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "fraudmine.cli", "nightly", *_io_args(synth, out)]
    cfg_file = tmp_path / "cfg.yaml"
    cfg_file.write_text(
        (repo_root / "conf" / "default.yaml").read_text().replace("n_estimators: 300", "n_estimators: 120")
    )
    cmd += ["--config", str(cfg_file)]
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    proc = subprocess.Popen(
        cmd,
        cwd=repo_root,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # generous: on a loaded shared machine JVM start-up and validation alone can take minutes
        _wait_for_stage(out / "runs" / RUN_DATE.isoformat() / "manifest.json", "features", 900)
        time.sleep(1.0)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its JVM, by our own process group id
        proc.wait(timeout=60)
    run_dir = out / "runs" / RUN_DATE.isoformat()
    assert not (run_dir / "features").exists() and not (out / "current").exists()
    done = subprocess.run(cmd, cwd=repo_root, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"taking over the lock left by a run that is no longer alive (pid {proc.pid}" in done.stderr
    assert "stage features: committed" in done.stderr  # progress lines, one per stage
    assert "Traceback" not in done.stderr and " WARN " not in done.stderr and "INFO mlflow" not in done.stderr
    assert f"current:    {out / 'current'} -> {RUN_DATE.isoformat()}" in done.stdout
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert all(s["status"] == "committed" for s in manifest["stages"].values())
    ref = first_run / "runs" / RUN_DATE.isoformat()
    a, b = _read(ref / "scores"), _read(run_dir / "scores")
    pd.testing.assert_frame_equal(
        a.drop(columns=["fraud_risk", "low_quality_risk"]), b.drop(columns=["fraud_risk", "low_quality_risk"])
    )
    pd.testing.assert_series_equal(a["fraud_risk"], b["fraud_risk"], rtol=1e-9)
    pd.testing.assert_frame_equal(_read(ref / "decisions"), _read(run_dir / "decisions"))


def test_explore_notebook_runs(first_run: Path, repo_root: Path) -> None:
    out = run_notebook(repo_root / "notebooks" / "explore_run.py", {"RUN_DIR": str(first_run / "current")}, 180)
    assert "shares identifiers with" in out


def test_from_stage_on_the_published_date_writes_a_new_attempt(first_run: Path, synth: Path, repo_root: Path) -> None:
    published = (first_run / "current").resolve()
    decisions_mtime = (published / "decisions").stat().st_mtime_ns
    before = _read(published / "decisions")
    new = run_nightly(_cfg(repo_root), synth / "raw", first_run, RUN_DATE, from_stage="decide")
    assert new != published and new.name.startswith(RUN_DATE.isoformat() + ".")
    assert (published / "decisions").stat().st_mtime_ns == decisions_mtime  # the live run is never touched
    scores_file = next((published / "scores").glob("*.parquet"))
    assert (new / "scores" / scores_file.name).stat().st_ino == scores_file.stat().st_ino  # reused, not copied
    pd.testing.assert_frame_equal(before, _read(new / "decisions"))
    manifest = json.loads((new / "manifest.json").read_text())
    assert all(s["status"] == "committed" for s in manifest["stages"].values())
    assert manifest["stages"]["score"]["reused_from"] == published.name
    assert manifest["stages"]["decide"]["reused_from"] is None
    assert (first_run / "current").resolve() == new.resolve()  # published through the audit


def _copy_out(first_run: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(first_run, out, symlinks=True)
    return out


@pytest.mark.heavy
def test_changed_input_recomputes_everything_and_never_republishes_old_outputs(
    first_run: Path, synth: Path, repo_root: Path, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(synth / "raw", raw)
    out = _copy_out(first_run, tmp_path)
    published = (out / "current").resolve()
    assert run_nightly(_cfg(repo_root), raw, out, RUN_DATE) == published  # same content: nothing to do
    orders = pd.read_parquet(raw / "orders")
    shutil.rmtree(raw / "orders")
    (raw / "orders").mkdir()
    half = orders.iloc[: len(orders) // 2]
    table = pa.Table.from_pandas(half, schema=arrow_schema(table_spec("orders")), preserve_index=False)
    pq.write_table(table, raw / "orders" / "part-0.parquet")
    if (raw / "order_events").exists():  # keep the input consistent: events of the dropped orders go too
        events = pd.read_parquet(raw / "order_events")
        events = events[events["order_id"].isin(set(half["order_id"]))]
        shutil.rmtree(raw / "order_events")
        (raw / "order_events").mkdir()
        ev = pa.Table.from_pandas(events, schema=arrow_schema(table_spec("order_events")), preserve_index=False)
        pq.write_table(ev, raw / "order_events" / "part-0.parquet")
    # half the orders moves every score: the drift gate would (rightly) hold the run; here only recomputing counts
    halved_cfg = load_config(
        repo_root / "conf" / "default.yaml", env={}, overrides={"model.n_estimators": 120, "publish.max_psi": 1000.0}
    )
    new = run_nightly(halved_cfg, raw, out, RUN_DATE)
    assert new != published
    manifest = json.loads((new / "manifest.json").read_text())
    assert not any(s["reused_from"] for s in manifest["stages"].values())  # recomputed from validate on
    assert json.loads((new / "validate" / "counts.json").read_text())["orders"]["input"] == len(half)
    assert json.loads((published / "validate" / "counts.json").read_text())["orders"]["input"] == len(orders)
    assert (out / "current").resolve() == new.resolve()
    assert (
        _read(new / "scores")["run_id"].iloc[0] == manifest["run_id"] != _read(published / "scores")["run_id"].iloc[0]
    )


def test_changed_model_config_recomputes_from_train(
    first_run: Path, synth: Path, repo_root: Path, tmp_path: Path
) -> None:
    out = _copy_out(first_run, tmp_path)
    published = (out / "current").resolve()
    # the default drift gate (publish.max_psi) stays on: a retrain with half the trees on the same data must pass it
    cfg = load_config(repo_root / "conf" / "default.yaml", env={}, overrides={"model.n_estimators": 60})
    with pytest.raises(StaleUpstream, match=r"'score' needs stage 'train'.*model.n_estimators: 120 -> 60"):
        run_nightly(cfg, synth / "raw", out, RUN_DATE, only=["score"])
    old_model = json.loads((published / "model" / "model.json").read_text())["model_version"]
    # no label arrived since the champion's cut-off: with on_small_holdout=keep the champion, fetched from
    # MLflow by its alias, keeps scoring; the challenger is registered and kept beside it
    keep_cfg = load_config(
        repo_root / "conf" / "default.yaml",
        env={},
        overrides={
            "model.n_estimators": 60,
            "model.promotion.on_small_holdout": "keep",
        },
    )
    kept = run_nightly(keep_cfg, synth / "raw", out, RUN_DATE)
    kept_meta = json.loads((kept / "model" / "model.json").read_text())
    assert kept_meta["model_version"] == old_model and not kept_meta["promotion"]["promote"]
    assert "the champion keeps scoring" in kept_meta["promotion"]["reason"]
    challenger = json.loads((kept / "model" / "challenger" / "model.json").read_text())["model_version"]
    assert challenger != old_model and kept_meta["promotion"]["challenger_version"] == challenger
    before, after = _read(published / "scores"), _read(kept / "scores")
    pd.testing.assert_series_equal(before["fraud_risk"], after["fraud_risk"])  # the same model on the same features
    assert set(after["model_version"]) == {old_model}
    assert "champion kept" in (kept / "reports" / "report.html").read_text()
    new = run_nightly(cfg, synth / "raw", out, RUN_DATE)
    stages = json.loads((new / "manifest.json").read_text())["stages"]
    upstream_of_train = list(STAGE_NAMES[: STAGE_NAMES.index("train")])
    assert [n for n, s in stages.items() if s["reused_from"]] == upstream_of_train
    new_model = json.loads((new / "model" / "model.json").read_text())["model_version"]
    assert new_model != old_model
    assert set(_read(new / "scores")["model_version"]) == {new_model}


@pytest.mark.heavy
def test_backfill_date_leaves_later_rows_out_and_does_not_move_current(
    first_run: Path, synth: Path, repo_root: Path, tmp_path: Path
) -> None:
    out = _copy_out(first_run, tmp_path)
    published = (out / "current").resolve()
    cfg = load_config(
        repo_root / "conf" / "default.yaml",
        env={},
        # a backfill is audited against the published run of a later date: volume and drift gates are off here
        overrides={"model.n_estimators": 120, "publish.max_score_row_change": 1.0, "publish.max_psi": 1000.0},
    )
    backfill = date(2026, 9, 1)  # two months back: enough fraud labels before it to train (model.min_*_labels)
    run_dir = run_nightly(cfg, synth / "raw", out, backfill)
    counts = json.loads((run_dir / "validate" / "counts.json").read_text())
    assert counts["orders"]["excluded"] > 0 and counts["orders"]["clean"] > 0
    assert all(c["input"] == c["clean"] + c["quarantined"] + c["excluded"] for c in counts.values())
    # nothing is a future timestamp any more; the only rows held back reference a shop registered after D
    reasons = set(pd.read_parquet(run_dir / "validate" / "quarantine")["reason_code"])
    assert reasons <= {"dangling_fk"}
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["stages"]["validate"]["rows_out"]["excluded_after_run_date"] > 0
    assert not manifest["published"]["published"] and "--publish-older" in manifest["published"]["reason"]
    assert (out / "current").resolve() == published
    ordered = pd.read_parquet(run_dir / "validate" / "clean" / "orders")["ordered_at"]
    assert ordered.max() < pd.Timestamp(backfill, tz="UTC")
    run_nightly(cfg, synth / "raw", out, backfill, publish_older=True)  # nothing recomputed, only published
    assert (out / "current").resolve() == run_dir.resolve()


def test_resume_recovers_a_stage_committed_just_before_a_crash(
    first_run: Path, synth: Path, repo_root: Path, tmp_path: Path
) -> None:
    out = _copy_out(first_run, tmp_path)
    run_dir = (out / "current").resolve()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["stages"]["report"]["status"] = "running"  # renamed into place, manifest never updated
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    assert run_nightly(_cfg(repo_root), synth / "raw", out, RUN_DATE) == run_dir
    assert json.loads((run_dir / "manifest.json").read_text())["stages"]["report"]["status"] == "committed"


def test_empty_table_is_an_audit_failure_naming_it(spark: Any, first_run: Path, tmp_path: Path) -> None:
    from fraudmine.audit import AuditFailed
    from fraudmine.jobs import publish
    from fraudmine.jobs.context import StageContext

    run_dir = tmp_path / "run"
    shutil.copytree((first_run / "current").resolve(), run_dir)
    counts = json.loads((run_dir / "validate" / "counts.json").read_text())
    counts["reviews"].update(input=0, clean=0)
    (run_dir / "validate" / "counts.json").write_text(json.dumps(counts))
    ctx = StageContext(Config(), spark, RUN_DATE, tmp_path, tmp_path, "r", "v", tmp_path, attempt_dir=run_dir)
    staging = tmp_path / "staging"
    staging.mkdir()
    with pytest.raises(AuditFailed, match=r"table 'reviews': 0 clean rows < 1"):
        publish.run(ctx, staging)
    assert "reviews" in (run_dir / "_failed" / "publish" / "audit.json").read_text()


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    return subprocess.run(
        [sys.executable, "-m", "fraudmine.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_evaluate_takes_the_output_folder_and_refuses_other_truth(
    first_run: Path, synth: Path, repo_root: Path, tmp_path: Path
) -> None:
    done = _cli("evaluate", "--truth", str(synth / "truth"), "--run", str(first_run), cwd=repo_root)
    assert done.returncode == 0, done.stderr
    assert "overall_fraud" in done.stdout
    other = tmp_path / "truth"
    shutil.copytree(synth / "truth", other)
    summary = json.loads((other / "summary.json").read_text())
    (other / "summary.json").write_text(json.dumps({**summary, "dataset_id": "synth-other"}))
    refused = _cli("evaluate", "--truth", str(other), "--run", str(first_run), cwd=repo_root)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "synth-other" in refused.stderr and "--force" in refused.stderr
    assert _cli("evaluate", "--truth", str(other), "--run", str(first_run), "--force", cwd=repo_root).returncode == 0


@pytest.mark.heavy
def test_spark_submit_runs_the_same_job_and_its_conf_wins(synth: Path, repo_root: Path, tmp_path: Path) -> None:
    submit = Path(sys.executable).parent / "spark-submit"
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYSPARK_GATEWAY", "MLFLOW_"))}
    env.update(SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    done = subprocess.run(
        [
            str(submit),
            "--master",
            "local[1]",
            "--conf",
            "spark.sql.shuffle.partitions=3",
            str(repo_root / "jobs" / "nightly.py"),
            *_io_args(synth, out),
            "--only",
            "validate",
        ],
        cwd=repo_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((out / "runs" / RUN_DATE.isoformat() / "manifest.json").read_text())
    assert manifest["spark"]["master"] == "local[1]"
    assert manifest["spark"]["shuffle_partitions"] == "3"
    assert manifest["stages"]["validate"]["status"] == "committed"


def test_bad_rows_are_quarantined_with_reasons_and_the_run_continues(
    spark: Any, synth: Path, repo_root: Path, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(synth / "raw", raw)
    products = pd.read_parquet(raw / "products")
    orders = pd.read_parquet(raw / "orders")
    bad_products = products.head(2).copy()
    bad_products["product_id"] = ["p-neg", "p-enum"]
    bad_products.loc[bad_products.index[0], "price"] = -5.0
    bad_products.loc[bad_products.index[1], "currency"] = "XXX"
    bad_orders = orders.head(1).copy()
    bad_orders["order_id"] = "o-dangling"
    bad_orders["product_id"] = "p-missing"
    for name, df in (("products", bad_products), ("orders", bad_orders)):
        table = pa.Table.from_pandas(df, schema=arrow_schema(table_spec(name)), preserve_index=False)
        pq.write_table(table, raw / name / "part-bad.parquet")
    out = tmp_path / "out"
    run_nightly(_cfg(repo_root), raw, out, RUN_DATE, only=["validate"])
    run_dir = out / "runs" / RUN_DATE.isoformat()
    q = pd.read_parquet(run_dir / "validate" / "quarantine")
    got = dict(zip(q["row_key"], q["reason_code"], strict=True))
    assert got == {"p-neg": "out_of_range", "p-enum": "unknown_enum", "o-dangling": "dangling_fk"}
    counts = json.loads((run_dir / "validate" / "counts.json").read_text())
    assert counts["products"] == {
        "input": len(products) + 2,
        "clean": len(products),
        "quarantined": 2,
        "excluded": 0,
    }
    assert counts["orders"]["quarantined"] == 1
    assert not (out / "current").exists()  # validate alone publishes nothing


def test_neo4j_stage_and_analyst_notebooks(first_run: Path, synth: Path, repo_root: Path, tmp_path: Path) -> None:
    """The switchable nightly stage writes a valid bundle; the three analyst notebooks run headless on it."""
    from fraudmine.analyst.reader import iter_rows, open_bundle

    out = _copy_out(first_run, tmp_path)
    cfg = load_config(
        repo_root / "conf" / "default.yaml",
        env={},
        overrides={"model.n_estimators": 120, "neo4j.export_bundle": True},
    )
    # a published run is never modified: the stage lands in a new attempt that reuses every other stage
    run_dir = run_nightly(cfg, synth / "raw", out, RUN_DATE, only=["neo4j"])
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["stages"]["neo4j"]["status"] == "committed"
    bundle = open_bundle(run_dir / "neo4j")
    merchants = next(g for g in bundle.nodes if g.name == "Merchant")
    assert merchants.rows == len(pd.read_parquet(synth / "raw" / "merchants"))
    assert sum(1 for _ in iter_rows(merchants)) == merchants.rows
    assert manifest["stages"]["neo4j"]["rows_out"]["nodes.Merchant"] == merchants.rows
    params = {"RUN_DIR": str(run_dir), "DB_DIR": str(tmp_path / "db"), "FIG_DIR": str(tmp_path)}
    # executed as notebooks (Jupytext → nbclient, a fresh IPython kernel), cell by cell
    outputs = {
        nb: run_notebook(repo_root / "notebooks" / f"{nb}.py", params)
        for nb in ("ring_investigation", "model_report", "cluster_review")
    }
    assert "## ring" in outputs["ring_investigation"] and list(tmp_path.glob("ring_*.png"))
    assert "Brier score" in outputs["model_report"] and (tmp_path / "calibration.png").exists()
    assert "cluster" in outputs["cluster_review"]


@pytest.mark.heavy
def test_standalone_cluster_run_equals_local_mode(
    first_run: Path, synth: Path, repo_root: Path, tmp_path: Path
) -> None:
    """One master and two workers from pyspark's spark-class on loopback; spark-submit --master spark://..."""
    sys.path.insert(0, str(repo_root / "bench"))
    import standalone_cluster as sc

    cfg_file = tmp_path / "cfg.yaml"
    cfg_file.write_text(
        (repo_root / "conf" / "default.yaml").read_text().replace("n_estimators: 300", "n_estimators: 120")
    )
    out = tmp_path / "out"
    with sc.standalone_cluster(tmp_path / "cluster") as cluster:
        assert cluster.alive_workers() == 2
        done = sc.submit_nightly(cluster, [*_io_args(synth, out), "--config", str(cfg_file)], timeout=900)
        procs = list(cluster.procs)
    assert all(p.poll() is not None for p in procs)  # stopped by their own process ids
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = out / "runs" / RUN_DATE.isoformat()
    assert json.loads((run_dir / "manifest.json").read_text())["spark"]["master"] == cluster.master_url
    assert sc.compare_runs(first_run / "runs" / RUN_DATE.isoformat(), run_dir) == []
