"""Benchmark: training wall time and peak memory of each compared model, one fresh process per fit.

Reads a finished nightly run folder (``graph/``, ``features/``) and the generator's ``truth/`` (the
inputs of ``bench/bench_models_synth.py``) and trains what ``fraudmine.models.compare`` trains on split
seed ``--seed``, each job in its own child process (``--child``):

- ``build``: the graph stage's nodes/edges read with pandas, the node features, ``build_hetero``
  (seconds of each step, nodes / edges with reverses, tensor bytes of the ``HeteroData``);
- ``tabular`` / ``graph`` / ``hybrid`` per scored entity type: one ``fit_select`` (LightGBM, the
  ``--grid`` points, early stopping on validation AUPRC) per typology, as ``compare`` fits them;
  ``hybrid`` = the graph features + the GNN score column saved by the first ``--nets`` job;
- ``gnn:<net>``: one fold fit of ``fit_hetero_tasks`` (the out-of-fold bag fits ``--folds`` of
  them): one network, a head per (entity type, typology), full batch over the whole typed graph,
  at most ``--epochs`` epochs (``<net>=N`` in ``--cap`` lowers it for that net; say so beside the
  figure), with each epoch's wall time and memory taken from an optimizer step hook.

Memory: each child reports its RSS after imports, after loading its inputs (the baseline the fit
starts from) and the peak RSS of each fit above that baseline (the kernel's high-water mark,
``VmHWM``, reset through ``/proc/self/clear_refs`` just before the fit); the parent also reads the
child's whole-life peak (``ru_maxrss`` from ``wait4``) and kills a child whose RSS passes
``--mem-cap-gib`` or that runs past ``--timeout`` (recorded, with what it reached)::

    nice -n 19 .venv/bin/python bench/bench_train.py --run OUT/runs/D --truth SYNTH/truth --scale s \\
        --out bench/results/train-s
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

MARK = "@@ "
LGBM_MODELS = ("tabular", "graph", "hybrid")
TYPES = ("merchant", "creator", "product", "buyer", "reporter")


# ---------------------------------------------------------------- memory of this process


def proc_status(pid: int | str = "self") -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` of a process in KiB (empty when it is gone)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    out = {}
    for ln in lines:
        key, _, val = ln.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(val.split()[0])
    return out


def reset_peak() -> int:
    """Reset this process's RSS high-water mark; return the RSS (KiB) it restarts from."""
    Path("/proc/self/clear_refs").write_text("5")
    return proc_status()["VmRSS"]


def mib(kib: float) -> float:
    """KiB → MiB, one decimal."""
    return round(kib / 1024, 1)


def emit(**event: Any) -> None:
    """One progress event to the parent (a marked JSON line on stdout)."""
    sys.stdout.write(MARK + json.dumps(event) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------- child jobs


def _load(run: Path, truth: Path, types: list[str], with_graph: bool) -> tuple[dict[str, Any], Any, dict[str, float]]:
    """EntityInputs per type (with graph rows when ``with_graph``), the graph, and step seconds."""
    import bench_models_synth as bms

    from fraudmine.models.hetero.data import build_hetero, read_graph_stage

    secs: dict[str, float] = {}
    c = time.process_time()
    t = time.perf_counter()
    tables = {e: df for e in types if (df := bms._table(run, e)) is not None}
    members, fraud_m, lq = bms._truth(truth)
    secs["read_features_truth"] = time.perf_counter() - t
    graph = None
    if with_graph:
        t = time.perf_counter()
        nodes, edges = read_graph_stage(run / "graph")
        secs["read_graph"] = time.perf_counter() - t
        t = time.perf_counter()
        feats = bms._node_features(tables)
        secs["node_features"] = time.perf_counter() - t
        t, c = time.perf_counter(), time.process_time()
        graph = build_hetero(nodes, edges, feats, degrees=True)
        secs["build_hetero"] = time.perf_counter() - t
        secs["build_hetero_cpu"] = time.process_time() - c
        del nodes, edges, feats
    inputs = {e: bms._inputs(e, df, members, fraud_m, lq, graph) for e, df in tables.items()}
    return {e: i for e, i in inputs.items() if i.labels}, graph, {k: round(v, 2) for k, v in secs.items()}


def _split(inp: Any, seed: int) -> tuple[Any, list[str]]:
    from fraudmine.models.compare.run import usable_typologies
    from fraudmine.models.compare.splits import strata_of, stratified_split

    split = stratified_split(strata_of(dict(inp.labels)), seed)
    return split, usable_typologies(inp.labels, split)


def child_build(spec: dict[str, Any]) -> None:
    """Time and size the ``HeteroData`` build."""
    base = reset_peak()
    t, c = time.perf_counter(), time.process_time()
    _, graph, secs = _load(Path(spec["run"]), Path(spec["truth"]), spec["types"], with_graph=True)
    data = graph.data
    nbytes = sum(data[t].x.numel() * data[t].x.element_size() for t in data.node_types)
    nbytes += sum(data[e].edge_index.numel() * 8 for e in data.edge_types)
    emit(
        event="done",
        seconds=round(time.perf_counter() - t, 2),
        cpu_seconds=round(time.process_time() - c, 2),
        steps=secs,
        nodes=int(sum(data[t].num_nodes for t in data.node_types)),
        edges_with_reverse=int(sum(data[e].edge_index.shape[1] for e in data.edge_types)),
        node_types=len(data.node_types),
        edge_types=len(data.edge_types),
        tensor_mib=mib(nbytes / 1024),
        rss_after_mib=mib(proc_status()["VmRSS"]),
        peak_above_start_mib=mib(proc_status()["VmHWM"] - base),
    )


def child_lgbm(spec: dict[str, Any]) -> None:
    """One entity type, one LightGBM model: a ``fit_select`` per usable typology."""
    import numpy as np

    from fraudmine.models.nodes.lgbm import GRID, fit_select

    etype, model, seed = spec["entity"], spec["model"], spec["seed"]
    t = time.perf_counter()
    inputs, _, _ = _load(Path(spec["run"]), Path(spec["truth"]), [etype], with_graph=False)
    if etype not in inputs:
        emit(event="done", skipped="no truth typology")
        return
    inp = inputs[etype]
    split, typs = _split(inp, seed)
    gnn = None
    if model == "hybrid":
        path = Path(spec["gnn_scores"]) / f"{etype}.npy"
        if not path.exists():
            raise SystemExit(f"{path}: no GNN scores (the first --nets job writes them); run a gnn job first")
        gnn = np.load(path)
    x = inp.x_tabular if model == "tabular" else inp.x_graph
    grid = tuple(GRID[i] for i in spec["grid"])
    emit(event="loaded", seconds=round(time.perf_counter() - t, 2), rows=inp.n, columns=int(x.shape[1]))
    for j, typ in enumerate(typs):
        y = inp.labels[typ]
        tr, va = split.train[y[split.train] >= 0], split.val[y[split.val] >= 0]
        xx = x if gnn is None else np.hstack([x, gnn[:, j : j + 1]]).astype(np.float32)
        base = reset_peak()
        t, c = time.perf_counter(), time.process_time()
        _, _, params = fit_select(xx, y, tr, va, seed, grid, threads=spec["threads"])
        emit(
            event="fit",
            typology=typ,
            seconds=round(time.perf_counter() - t, 2),
            cpu_seconds=round(time.process_time() - c, 2),
            train_rows=len(tr),
            rss_before_mib=mib(base),
            peak_above_mib=mib(proc_status()["VmHWM"] - base),
            best_iteration=params.get("best_iteration"),
        )
        del xx
    emit(event="done")


def child_gnn(spec: dict[str, Any]) -> None:
    """One out-of-fold fold fit of the multi-task heterogeneous GNN; per-epoch time and memory."""
    import numpy as np
    import torch
    from torch.optim.optimizer import register_optimizer_step_post_hook

    from fraudmine.models.compare.oof import fold_of
    from fraudmine.models.compare.run import _gnn_fit
    from fraudmine.models.hetero.train import HeteroConfig

    seed, folds = spec["seed"], spec["folds"]
    t = time.perf_counter()
    inputs, graph, secs = _load(Path(spec["run"]), Path(spec["truth"]), spec["types"], with_graph=True)
    splits = {e: _split(inp, seed) for e, inp in inputs.items()}
    typs = {e: s[1] for e, s in splits.items() if s[1]}
    fold = {e: fold_of(inputs[e].n, folds, seed) for e in typs}
    train = {e: splits[e][0].train[fold[e][splits[e][0].train] != 0] for e in typs}
    val = {e: splits[e][0].val[fold[e][splits[e][0].val] != 0] for e in typs}
    cfg = HeteroConfig(net=spec["net"], hidden=spec["hidden"], epochs=spec["epochs"], patience=spec["patience"])
    emit(event="loaded", seconds=round(time.perf_counter() - t, 2), steps=secs, tasks=sum(map(len, typs.values())))
    base = reset_peak()
    emit(event="fit_start", rss_before_mib=mib(base))
    t0 = last = time.perf_counter()
    c0 = last_cpu = time.process_time()
    epochs = 0

    def on_step(*_: Any) -> None:
        nonlocal last, last_cpu, epochs
        now, cpu, st = time.perf_counter(), time.process_time(), proc_status()
        epochs += 1
        emit(
            event="epoch", i=epochs, seconds=round(now - last, 2), cpu_seconds=round(cpu - last_cpu, 2),
            rss_mib=mib(st["VmRSS"]), hwm_mib=mib(st["VmHWM"]),
        )  # fmt: skip
        last, last_cpu = now, cpu

    register_optimizer_step_post_hook(on_step)
    out = _gnn_fit(graph, inputs, typs, cfg)(train, val, seed * 100)
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    if spec.get("save_scores"):
        dest = Path(spec["gnn_scores"])
        dest.mkdir(parents=True, exist_ok=True)
        for e, (scores, _) in out.items():
            np.save(dest / f"{e}.npy", scores)
    emit(
        event="done",
        seconds=round(fit_s, 2),
        cpu_seconds=round(fit_cpu, 2),
        epochs=epochs,
        rss_before_mib=mib(base),
        peak_above_mib=mib(proc_status()["VmHWM"] - base),
        torch_threads=torch.get_num_threads(),
    )


def child(spec: dict[str, Any]) -> None:
    """Run one job in this (fresh) process and report it as marked JSON lines."""
    import torch

    torch.set_num_threads(spec["threads"])
    emit(event="imported", rss_mib=mib(proc_status()["VmRSS"]))
    {"build": child_build, "lgbm": child_lgbm, "gnn": child_gnn}[spec["kind"]](spec)


# ---------------------------------------------------------------- parent


def run_job(spec: dict[str, Any], mem_cap_kib: int, timeout: float, log: Path) -> dict[str, Any]:
    """Run one child; collect its events, its peak (``wait4``), and stop it at the memory cap or timeout."""
    events: list[dict[str, Any]] = []
    load_before = Path("/proc/loadavg").read_text().split()[0]
    with log.open("a") as err:
        err.write(f"--- {json.dumps(spec)}\n")
        err.flush()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", json.dumps(spec)], stdout=subprocess.PIPE, stderr=err, text=True
        )

        def reader() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith(MARK):
                    events.append(json.loads(line[len(MARK) :]))
                    sys.stderr.write(f"  {spec['job']}: {line[len(MARK) :]}")

        th = threading.Thread(target=reader, daemon=True)
        th.start()
        t0, seen, stopped = time.monotonic(), 0, None
        deadline, phase = t0 + timeout, "loading"
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if phase == "loading" and any(e.get("event") in ("loaded", "fit_start") for e in events):
                deadline, phase = time.monotonic() + timeout, "fitting"  # the timeout bounds each phase
            seen = max(seen, proc_status(proc.pid).get("VmRSS", 0))
            if stopped is None and seen > mem_cap_kib:
                stopped = f"killed at RSS {mib(seen)} MiB (cap {mib(mem_cap_kib)} MiB) while {phase}"
                proc.kill()
            elif stopped is None and time.monotonic() > deadline:
                stopped = f"killed after {timeout:.0f} s {phase} (timeout)"
                proc.kill()
            time.sleep(0.2)
        proc.returncode = os.waitstatus_to_exitcode(status)
        th.join(timeout=5)
    res: dict[str, Any] = {"job": spec["job"], "wall_seconds": round(time.monotonic() - t0, 1)}
    res["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 1)
    res.update(exit_code=proc.returncode, max_rss_mib=mib(usage.ru_maxrss), stopped=stopped, events=events)
    res.update(load_before=load_before, load_after=Path("/proc/loadavg").read_text().split()[0])
    return res


def jobs(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The job list, in run order (build, GNNs — the first saves the hybrid's column —, LightGBM)."""
    common = {"run": str(args.run), "truth": str(args.truth), "seed": args.seed, "threads": args.threads}
    common |= {"types": args.types, "gnn_scores": str(args.out / "gnn_scores")}
    caps = dict(kv.split("=") for kv in args.cap) if args.cap else {}
    out: list[dict[str, Any]] = []
    if "build" in args.models:
        out.append({**common, "job": "build", "kind": "build"})
    if "gnn" in args.models:
        for i, net in enumerate(args.nets):
            epochs = min(args.epochs, int(caps.get(net, args.epochs)))
            out.append(
                {**common, "job": f"gnn:{net}", "kind": "gnn", "net": net, "epochs": epochs}
                | {"patience": args.patience if epochs == args.epochs else epochs, "hidden": args.hidden}
                | {"folds": args.folds, "save_scores": i == 0, "configured_epochs": args.epochs}
            )
    for model in [m for m in LGBM_MODELS if m in args.models]:
        for e in args.types:
            out.append(
                {**common, "job": f"{model}:{e}", "kind": "lgbm", "model": model, "entity": e} | {"grid": args.grid}
            )
    return out


def main(argv: list[str] | None = None) -> int:
    """Parse arguments; run every job (parent) or one job (``--child``)."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--render", type=Path, help="print the tables of a train.json written before, and exit")
    ap.add_argument("--run", type=Path, help="a run folder <out>/runs/<date> (graph/, features/)")
    ap.add_argument("--truth", type=Path, help="the generator's truth/ folder")
    ap.add_argument("--scale", default="?", help="label of the scale (s, m…) for the tables")
    ap.add_argument("--out", type=Path, help="folder for train.json, train.md, child logs, GNN scores")
    ap.add_argument("--models", default="build,gnn,tabular,graph,hybrid", help="comma list")
    ap.add_argument("--nets", default="sage,hgt", help="GNN architectures (first: the hybrid's column)")
    ap.add_argument("--types", default=",".join(TYPES), help="scored entity types")
    ap.add_argument("--seed", type=int, default=0, help="split seed")
    ap.add_argument("--grid", default="0,2", help="LightGBM grid points (indices of nodes.lgbm.GRID)")
    ap.add_argument("--epochs", type=int, default=40, help="configured GNN epochs (compare's --epochs)")
    ap.add_argument("--patience", type=int, default=10)
    ap.add_argument("--cap", nargs="*", help="NET=EPOCHS: measure at most that many epochs (no early stop)")
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--mem-cap-gib", type=float, default=12.0, help="kill a child above this RSS")
    ap.add_argument(
        "--timeout", type=float, default=1800.0, help="kill a child that loads, or then fits, longer than this"
    )
    args = ap.parse_args(argv)
    if args.child:
        child(json.loads(args.child))
        return 0
    if args.render:
        from bench_train_table import markdown as render

        sys.stdout.write(render(json.loads(args.render.read_text())) + "\n")
        return 0
    if not (args.run and args.truth and args.out):
        ap.error("--run, --truth and --out are required")
    from bench_train_table import markdown

    for name in ("models", "nets", "types"):
        setattr(args, name, [v.strip() for v in getattr(args, name).split(",") if v.strip()])
    args.grid = [int(i) for i in args.grid.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"scale": args.scale, "run": str(args.run), "config": {}}
    result["config"] = {k: v for k, v in vars(args).items() if k not in ("child", "run", "truth", "out")}
    result["config"]["out"] = str(args.out)
    result["started"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["loadavg_before"] = Path("/proc/loadavg").read_text().split()[:3]
    result["jobs"] = []
    for spec in jobs(args):
        sys.stderr.write(f"[bench_train] {spec['job']} …\n")
        result["jobs"].append(run_job(spec, int(args.mem_cap_gib * 2**20), args.timeout, args.out / "children.log"))
        (args.out / "train.json").write_text(json.dumps(result, indent=2))
    result["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    (args.out / "train.json").write_text(json.dumps(result, indent=2))
    md = markdown(result)
    (args.out / "train.md").write_text(md + "\n")
    sys.stdout.write(md + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
