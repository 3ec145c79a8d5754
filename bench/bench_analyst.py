"""Benchmark: Neo4j bundle export, FalkorDB load and playbook latency, beside a pandas + networkx baseline.

For each ``--run LABEL=DIR``: wall time and peak memory of ``fraudmine export neo4j`` (a subprocess,
measured like bench_pipeline) and the bundle's size and row count.  For ``--query-run LABEL`` also:
the load of the bundle into a fresh in-memory embedded FalkorDB, and the latency (p50/p95 over
``--samples`` parameter draws) of every playbook query; beside them the notebook-style baseline
(pandas reads the graph Parquet, networkx builds the hub-free account-identifier graph, ego graph
for the ring and ``shortest_path`` on the full hub-free graph).  Records the load average before
and after (the machine is shared).

    flock /work/.bench.lock .venv/bin/python bench/bench_analyst.py \\
        --run s=out/s/current --run m=out/m/current --query-run s --out-dir /tmp/bench-analyst
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import REPO, measure

from fraudmine.analyst import playbook
from fraudmine.analyst.local import LocalGraph
from fraudmine.analyst.reader import open_bundle


def _loadavg() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def _size_mib(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1)


def bench_export(label: str, run: Path, out: Path) -> dict[str, Any]:
    """Time ``fraudmine export neo4j`` on ``run``; size and rows of the bundle."""
    bundle = out / f"bundle-{label}"
    cmd = [sys.executable, "-m", "fraudmine.cli", "export", "neo4j", "--run", str(run), "--out", str(bundle)]
    res = measure(cmd)
    b = open_bundle(bundle)
    return {
        "scale": label,
        **res,
        "bundle_mib": _size_mib(bundle),
        "nodes": sum(g.rows for g in b.nodes),
        "relationships": sum(g.rows for g in b.relationships),
        "files": sum(len(g.files) for g in (*b.nodes, *b.relationships)),
        "graph_parquet_mib": _size_mib(run / "graph"),
    }


def _draws(run: Path, n: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(seed)
    scores = pd.read_parquet(run / "scores")
    merchants = scores[scores["entity_type"] == "merchant"].sort_values("fraud_risk", ascending=False)
    risky = list(merchants["entity_id"].head(n // 2))
    anyone = rng.sample(list(merchants["entity_id"]), n - len(risky))
    ms = risky + anyone
    edges = pd.read_parquet(run / "graph" / "edges", filters=[("edge_type", "=", "product__claims_brand__brand")])
    brands = list(edges["dst"].str.split(":", n=1).str[1].value_counts().index[:n])
    reported = pd.read_parquet(run / "graph" / "edges", filters=[("edge_type", "=", "buyer__reported__merchant")])
    targets = list(reported["dst"].str.split(":", n=1).str[1].value_counts().index[:n])
    pairs = [
        {"source": f"merchant:{a}", "target": f"merchant:{b}"} for a, b in zip(ms, rng.sample(ms, len(ms)), strict=True)
    ]
    return {
        "ring": [{"merchant": m} for m in ms],
        "counterfeit": [{"brand": b} for b in brands],
        "reporters": [{"merchant": m} for m in targets],
        "shortest_path": pairs,
        "clusters": [{}] * n,
    }


def _pct(xs: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(float(np.percentile(xs, 50)) * 1000, 2),
        "p95_ms": round(float(np.percentile(xs, 95)) * 1000, 2),
    }


def bench_queries(run: Path, bundle_dir: Path, samples: int, seed: int) -> dict[str, Any]:
    """FalkorDB load and playbook latency; the networkx baseline on the same run."""
    draws = _draws(run, samples, seed)
    t0 = time.monotonic()
    graph = LocalGraph(open_bundle(bundle_dir), None, batch_size=5000).open()
    load_s = time.monotonic() - t0
    out: dict[str, Any] = {"falkordb_load_s": round(load_s, 1), "queries": {}}
    try:
        assert graph.sink is not None
        out["falkordb_nodes"], out["falkordb_relationships"] = graph.sink.count()
        for name, params_list in draws.items():
            times, rows = [], 0
            for params in params_list:
                t = time.monotonic()
                _c, r = graph.run(name, **params)
                times.append(time.monotonic() - t)
                rows += len(r)
            out["queries"][name] = {**_pct(times), "n": len(times), "mean_rows": round(rows / len(times), 1)}
    finally:
        graph.close()
    out["baseline"] = bench_networkx(run, draws)
    return out


def bench_networkx(run: Path, draws: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The notebook-style baseline: pandas + networkx on the hub-free account-identifier graph."""
    import networkx as nx

    t0 = time.monotonic()
    nodes = pd.read_parquet(run / "graph" / "nodes", filters=[("node_type", "=", "identifier")])
    hubs = set(nodes.loc[nodes["is_hub"].astype(bool), "node_id"])
    keys = ["merchant__uses__identifier", "creator__uses__identifier", "buyer__uses__identifier"]
    uses = pd.read_parquet(run / "graph" / "edges", filters=[("edge_type", "in", keys)])
    uses = uses[~uses["dst"].isin(hubs)]
    g = nx.from_pandas_edgelist(uses, "src", "dst")
    full_keys = [et.key for et in playbook.PATH_EDGE_TYPES]
    everything = pd.read_parquet(run / "graph" / "edges", filters=[("edge_type", "in", full_keys)])
    everything = everything[~everything["dst"].isin(hubs) & ~everything["src"].isin(hubs)]
    h = nx.from_pandas_edgelist(everything, "src", "dst")
    load_s = time.monotonic() - t0
    ring_t, path_t = [], []
    for p in draws["ring"]:
        seed = f"merchant:{p['merchant']}"
        t = time.monotonic()
        if seed in g:
            nx.ego_graph(g, seed, radius=6)
        ring_t.append(time.monotonic() - t)
    for p in draws["shortest_path"]:
        t = time.monotonic()
        with contextlib.suppress(nx.NetworkXNoPath, nx.NodeNotFound):
            nx.shortest_path(h, p["source"], p["target"])
        path_t.append(time.monotonic() - t)
    return {"load_s": round(load_s, 1), "ring": _pct(ring_t), "shortest_path": _pct(path_t)}


def main() -> int:
    """Run the benchmark and print Markdown tables."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", action="append", required=True, help="LABEL=RUN_DIR (repeatable)")
    ap.add_argument("--query-run", help="label of the run whose bundle is loaded into FalkorDB and queried")
    ap.add_argument("--samples", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out-dir", type=Path, required=True)
    args = ap.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    result: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "commit": commit,
                              "machine": f"{platform.node()} {platform.processor()}", "loadavg_before": _loadavg()}  # fmt: skip
    runs = dict(r.split("=", 1) for r in args.run)
    result["export"] = [bench_export(label, Path(d), args.out_dir) for label, d in runs.items()]
    if args.query_run:
        result["queries"] = bench_queries(
            Path(runs[args.query_run]), args.out_dir / f"bundle-{args.query_run}", args.samples, args.seed
        )
    result["loadavg_after"] = _loadavg()
    results = REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"analyst-{result['date'][:10]}.json").write_text(json.dumps(result, indent=2))
    print(
        f"date {result['date']}, commit {commit}, load average before {result['loadavg_before']} after {result['loadavg_after']}"
    )
    print(
        "\n| scale | nodes | relationships | files | export wall (s) | peak RSS (MiB) | bundle (MiB) | graph Parquet (MiB) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for e in result["export"]:
        print(
            f"| {e['scale']} | {e['nodes']:,} | {e['relationships']:,} | {e['files']} | {e['wall_s']} | {e['peak_rss_mib']} | {e['bundle_mib']} | {e['graph_parquet_mib']} |"
        )
    if "queries" in result:
        q = result["queries"]
        print(f"\nFalkorDB load: {q['falkordb_load_s']} s ({q['falkordb_nodes']:,} nodes, {q['falkordb_relationships']:,} relationships); "
              f"networkx baseline load: {q['baseline']['load_s']} s")  # fmt: skip
        print(
            "\n| query | FalkorDB p50 (ms) | FalkorDB p95 (ms) | n | mean rows | networkx p50 (ms) | networkx p95 (ms) |"
        )
        print("|---|---|---|---|---|---|---|")
        for name, v in q["queries"].items():
            b = q["baseline"].get(name, {})
            print(
                f"| {name} | {v['p50_ms']} | {v['p95_ms']} | {v['n']} | {v['mean_rows']} | {b.get('p50_ms', '–')} | {b.get('p95_ms', '–')} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
