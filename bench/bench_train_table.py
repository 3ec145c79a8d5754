"""Markdown tables of ``bench/bench_train.py``'s result (pure: result dict in, text out)."""

from __future__ import annotations

import statistics
from typing import Any

LGBM_MODELS = ("tabular", "graph", "hybrid")


def _events(job: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in job["events"] if e.get("event") == kind]


def _one(job: dict[str, Any], kind: str) -> dict[str, Any]:
    found = _events(job, kind)
    return found[-1] if found else {}


def _status(job: dict[str, Any]) -> str:
    if job.get("stopped"):
        return str(job["stopped"])
    if job["exit_code"] != 0:
        return f"failed (exit {job['exit_code']}; see children.log)"
    return str(_one(job, "done").get("skipped", "ok"))


def _num(v: Any, fmt: str = ".1f") -> str:
    return "–" if v is None else format(v, fmt)


def _median_after_first(values: list[float]) -> float | None:
    """Median of the epochs after the first (which also builds the network), or the only one."""
    if not values:
        return None
    return statistics.median(values[1:]) if len(values) > 1 else values[0]


def process_rows(result: dict[str, Any]) -> list[list[str]]:
    """One row per job: RSS after imports, RSS the fits start from, fit peak above it, process peak."""
    rows = []
    for job in result["jobs"]:
        fits = _events(job, "fit") + _events(job, "done")
        peaks = [e["peak_above_mib"] for e in fits if "peak_above_mib" in e]
        peaks += [e["peak_above_start_mib"] for e in fits if "peak_above_start_mib" in e]
        before = [e["rss_before_mib"] for e in _events(job, "fit") + _events(job, "fit_start")]
        rows.append(
            [
                job["job"],
                _num(_one(job, "imported").get("rss_mib")),
                _num(max(before) if before else None),
                _num(max(peaks) if peaks else None),
                _num(job["max_rss_mib"]),
                _num(job["wall_seconds"]),
                _num(job.get("cpu_seconds")),
                f"{job['load_before']} → {job['load_after']}",
                _status(job),
            ]
        )
    return rows


def lgbm_rows(result: dict[str, Any]) -> list[list[str]]:
    """One row per (entity type, typology): train rows, then fit seconds and peak above baseline per model."""
    fits: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for job in result["jobs"]:
        model, _, entity = job["job"].partition(":")
        if model in LGBM_MODELS:
            for e in _events(job, "fit"):
                fits.setdefault((entity, e["typology"]), {})[model] = e
    rows = []
    for (entity, typ), per in fits.items():
        train = next(iter(per.values()))["train_rows"]
        row = [entity, typ, str(train)]
        for m in LGBM_MODELS:
            e = per.get(m, {})
            row += [_num(e.get("seconds")), _num(e.get("cpu_seconds")), _num(e.get("peak_above_mib"))]
        rows.append(row)
    return rows


def gnn_rows(result: dict[str, Any]) -> list[list[str]]:
    """One row per GNN job: epochs run, fit seconds, seconds per epoch, the bag's estimate, memory."""
    folds = int(result["config"].get("folds", 2))
    rows = []
    for job in result["jobs"]:
        if not job["job"].startswith("gnn:"):
            continue
        epochs = _events(job, "epoch")
        secs = [e["seconds"] for e in epochs]
        per = _median_after_first(secs)
        per_cpu = _median_after_first([e["cpu_seconds"] for e in epochs if "cpu_seconds" in e])
        done = _one(job, "done")
        start = _one(job, "fit_start")
        configured = int(result["config"].get("epochs", 0))
        if done and len(epochs) >= configured:
            bag = f"{folds * done['seconds']:.0f} (measured fit × {folds})"
        elif per is not None:
            bag = f"≈ {folds * configured * per:.0f} (extrapolated: {configured} epochs × {folds} folds)"
        else:
            bag = "–"
        hwm = max((e["hwm_mib"] for e in epochs), default=None)
        peak = done.get("peak_above_mib")
        if peak is None and hwm is not None and start:
            peak = round(hwm - start["rss_before_mib"], 1)
        rows.append(
            [
                job["job"][4:],
                f"{len(epochs)} / {configured}",
                _num(done.get("seconds")),
                _num(secs[0] if secs else None),
                _num(per, ".2f"),
                _num(per_cpu, ".2f"),
                bag,
                _num(start.get("rss_before_mib")),
                _num(peak),
                _num(job["max_rss_mib"]),
                _status(job),
            ]
        )
    return rows


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head), *["| " + " | ".join(r) + " |" for r in rows]]


def markdown(result: dict[str, Any]) -> str:
    """The build, GNN, LightGBM and per-process tables of one scale."""
    lines = [f"### scale {result['scale']}", ""]
    build = next((j for j in result["jobs"] if j["job"] == "build"), None)
    if build is not None:
        d = _one(build, "done")
        steps = ", ".join(f"{k} {v} s" for k, v in d.get("steps", {}).items())
        lines += [
            f"HeteroData build: {_num(d.get('seconds'))} s ({steps}); {d.get('nodes', '–')} nodes, "
            f"{d.get('edges_with_reverse', '–')} edges with reverses, {d.get('node_types', '–')} node / "
            f"{d.get('edge_types', '–')} edge types; tensors {_num(d.get('tensor_mib'))} MiB; peak "
            f"{_num(d.get('peak_above_start_mib'))} MiB above the process after imports, "
            f"{_num(d.get('rss_after_mib'))} MiB held after; status {_status(build)}.",
            "",
        ]
    g = gnn_rows(result)
    if g:
        head = ["net", "epochs run / configured", "fit s", "1st epoch s", "s / epoch (median)", "CPU s / epoch"]
        head += ["bag s (wall)"]
        head += ["RSS before fit MiB", "fit peak above MiB", "process peak MiB", "status"]
        lines += [*_table(head, g), ""]
    rows = lgbm_rows(result)
    if rows:
        head = ["entity", "typology", "train rows"]
        for m in LGBM_MODELS:
            head += [f"{m} s", f"{m} CPU s", f"{m} peak+ MiB"]
        lines += [*_table(head, rows), ""]
    head = ["job", "RSS after imports MiB", "RSS before fit MiB", "fit peak above MiB", "process peak MiB"]
    head += ["wall s", "CPU s", "load 1-min before → after", "status"]
    lines += _table(head, process_rows(result))
    return "\n".join(lines)
