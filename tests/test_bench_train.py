"""``bench/bench_train.py``'s result tables (pure) and its job list, on a hand-made result."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import bench_train
import bench_train_table as tt


def _job(name: str, events: list[dict[str, Any]], stopped: str | None = None, code: int = 0) -> dict[str, Any]:
    return {
        "job": name,
        "events": [{"event": "imported", "rss_mib": 200.0}, *events],
        "stopped": stopped,
        "exit_code": code,
        "max_rss_mib": 900.0,
        "wall_seconds": 12.0,
        "load_before": "1.0",
        "load_after": "1.5",
    }


def _fit(typ: str, seconds: float, peak: float) -> dict[str, Any]:
    return {"event": "fit", "typology": typ, "seconds": seconds, "train_rows": 40, "rss_before_mib": 500.0} | {
        "peak_above_mib": peak,
        "cpu_seconds": seconds / 2,
    }


def _epochs(*secs: float) -> list[dict[str, Any]]:
    return [
        {"event": "epoch", "i": i, "seconds": s, "rss_mib": 800.0, "hwm_mib": 900.0 + i} for i, s in enumerate(secs)
    ]


RESULT: dict[str, Any] = {
    "scale": "t",
    "config": {"folds": 2, "epochs": 40},
    "jobs": [
        _job("build", [{"event": "done", "seconds": 3.0, "steps": {"build_hetero": 1.0}, "nodes": 10}]),
        _job("gnn:sage", [{"event": "fit_start", "rss_before_mib": 700.0}, *_epochs(5.0, 2.0, 4.0)]),
        _job(
            "gnn:hgt",
            [{"event": "fit_start", "rss_before_mib": 700.0}, *_epochs(9.0)],
            stopped="killed at RSS 13000.0 MiB (cap 12288.0 MiB)",
        ),
        _job("tabular:merchant", [_fit("ring", 1.0, 3.0), _fit("lq", 2.0, 0.0), {"event": "done"}]),
        _job("graph:merchant", [_fit("ring", 1.5, 4.0), {"event": "done"}], code=1),
    ],
}


def test_gnn_rows_extrapolate_capped_runs_and_keep_the_kill_reason() -> None:
    rows = tt.gnn_rows(RESULT)
    assert [r[0] for r in rows] == ["sage", "hgt"]
    sage, hgt = rows
    assert sage[1] == "3 / 40"
    assert sage[4] == "3.00"  # median of the epochs after the first (2.0, 4.0)
    assert sage[5] == "–"  # no CPU seconds in these events
    assert sage[6] == "≈ 240 (extrapolated: 40 epochs × 2 folds)"
    assert sage[8] == "202.0"  # no done event: peak from the last high-water mark above the fit's start
    assert hgt[-1].startswith("killed at RSS")


def test_lgbm_rows_one_row_per_entity_typology_with_every_model_column() -> None:
    rows = tt.lgbm_rows(RESULT)
    assert [r[:3] for r in rows] == [["merchant", "ring", "40"], ["merchant", "lq", "40"]]
    assert rows[0][3:] == ["1.0", "0.5", "3.0", "1.5", "0.8", "4.0", "–", "–", "–"]
    assert rows[1][6:9] == ["–", "–", "–"]


def test_markdown_tables_are_rectangular_and_statuses_are_read() -> None:
    md = tt.markdown(RESULT)
    tables: list[list[str]] = [[]]
    for line in md.splitlines():
        if line.startswith("|"):
            tables[-1].append(line)
        elif tables[-1]:
            tables.append([])
    tables = [t for t in tables if t]
    assert len(tables) == 3
    for t in tables:
        assert len({line.count("|") for line in t}) == 1, t
    proc = {r[0]: r for r in tt.process_rows(RESULT)}
    assert proc["graph:merchant"][-1].startswith("failed (exit 1")
    assert proc["tabular:merchant"][3] == "3.0" and proc["tabular:merchant"][2] == "500.0"


def test_job_list_orders_build_gnn_then_lgbm_and_caps_epochs(tmp_path: Path) -> None:
    args = bench_train.argparse.Namespace(
        run=tmp_path, truth=tmp_path, out=tmp_path, seed=0, threads=1, types=["merchant", "buyer"],
        models=["hybrid", "gnn", "tabular", "build"], nets=["sage", "hgt"], cap=["hgt=2"], epochs=40, patience=10,
        hidden=32, folds=2, grid=[0, 2],
    )  # fmt: skip
    jobs = bench_train.jobs(args)
    assert [j["job"] for j in jobs] == [
        "build", "gnn:sage", "gnn:hgt", "tabular:merchant", "tabular:buyer", "hybrid:merchant", "hybrid:buyer",
    ]  # fmt: skip
    sage, hgt = jobs[1], jobs[2]
    args.models = ["gnn"]
    assert [j["job"] for j in bench_train.jobs(args)] == ["gnn:sage", "gnn:hgt"]  # build only when asked
    assert (sage["epochs"], sage["patience"], sage["save_scores"]) == (40, 10, True)
    assert (hgt["epochs"], hgt["patience"], hgt["save_scores"]) == (2, 2, False)  # capped: no early stop
