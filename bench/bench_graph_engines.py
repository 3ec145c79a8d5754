"""Graph engine performance: time and peak memory per algorithm and engine, networkx and igraph beside.

Graphs come from a nightly run's typed graph (`<run>/graph/edges`): `identity` (every
`uses_identifier` edge) and `orders` (buyer → product).  Every (graph, algorithm, engine) runs in
its own subprocess so its peak memory (whole process tree: Python + Spark JVM) is its own; the
reported seconds exclude interpreter and Spark start-up and include the collect for `local`.
Engines: `local` (collect + igraph through the engine interface), `spark` (DataFrame engine),
`igraph` (igraph directly on a pandas frame: the local engine without Spark), `networkx`.
Also: DataFrame components rounds against log2(n), and identity linking with each engine.

    flock /work/.bench.lock python bench/bench_graph_engines.py --run out/s/runs/2026-11-01 --label s
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
from bench_pipeline import _tree_rss  # noqa: E402

GRAPHS = {
    "identity": [
        "merchant__uses__identifier",
        "creator__uses__identifier",
        "buyer__uses__identifier",
    ],
    "orders": ["buyer__ordered__product"],
}
ALGOS = ("cc", "lpa", "leiden", "pagerank", "identity")


def _pandas_edges(run: Path, graph: str) -> Any:
    import pyarrow.parquet as pq

    return pq.read_table(
        run / "graph" / "edges", columns=["src", "dst", "edge_type"], filters=[("edge_type", "in", GRAPHS[graph])]
    ).to_pandas()[["src", "dst"]]


def one(run: Path, graph: str, algo: str, engine: str) -> dict[str, Any]:
    """Run one measurement in this process; returns seconds (+ iterations where known)."""
    out: dict[str, Any] = {}
    if engine in ("networkx", "igraph"):
        pdf = _pandas_edges(run, graph)
        t0 = time.perf_counter()
        if engine == "networkx":
            import networkx as nx

            g = nx.from_pandas_edgelist(pdf, "src", "dst")
            {
                "cc": lambda: list(nx.connected_components(g)),
                "pagerank": lambda: nx.pagerank(g),
                "lpa": lambda: list(nx.community.label_propagation_communities(g)),
                "leiden": lambda: nx.community.louvain_communities(g, seed=0),
            }[algo]()
        else:
            from fraudmine.graph.algorithms import local

            lg = local.from_pandas(pdf)
            {
                "cc": local.connected_components,
                "pagerank": local.pagerank,
                "lpa": local.label_propagation,
                "leiden": local.leiden,
            }[algo](lg)
        out["seconds"] = time.perf_counter() - t0
        out["n_edges"] = len(pdf)
        return out
    from fraudmine.config import SparkConfig
    from fraudmine.graph.algorithms.engine import LocalEngine, SparkEngine
    from fraudmine.spark import get_spark

    spark = get_spark(
        SparkConfig(master="local[2]", shuffle_partitions=4, driver_memory="4g"),
        checkpoint_dir=f"/tmp/graphcore/ckpt-{os.getpid()}",
    )
    eng = LocalEngine() if engine == "local" else SparkEngine()
    if algo == "identity":
        from fraudmine.graph.identity import identity_clusters
        from fraudmine.graph_config import IdentityConfig

        ic = IdentityConfig()
        edges = spark.read.parquet(str(run / "graph" / "edges")).localCheckpoint(eager=True)
        nodes = spark.read.parquet(str(run / "graph" / "nodes")).localCheckpoint(eager=True)
        t0 = time.perf_counter()
        c, _, _ = identity_clusters(
            edges, nodes, eng, ic.account_types, ic.hub_max_degree, ic.type_weights, ic.min_link_weight
        )
        out["clusters"] = c.count()
        out["seconds"] = time.perf_counter() - t0
        return out
    e = (
        spark.read.parquet(str(run / "graph" / "edges"))
        .where(__import__("pyspark.sql.functions", fromlist=["col"]).col("edge_type").isin(GRAPHS[graph]))
        .select("src", "dst")
        .localCheckpoint(eager=True)
    )
    out["n_edges"] = e.count()
    t0 = time.perf_counter()
    if algo == "cc":
        res = eng.connected_components(e)
    elif algo == "pagerank":
        res = eng.pagerank(e)
    else:
        res = eng.communities(e, method="lpa" if algo == "lpa" else "leiden")
    res.frame.count()
    out["seconds"] = time.perf_counter() - t0
    out["iterations"] = res.iterations
    if algo == "cc":
        out["n_nodes"] = res.frame.count()
        out["log2_n"] = math.log2(max(out["n_nodes"], 2))
    if algo == "pagerank" and engine == "spark":
        out.update(_pagerank_error(res.frame, _pandas_edges(run, graph)))
    return out


def _pagerank_error(frame: Any, pdf: Any) -> dict[str, Any]:
    """The Spark scores against igraph's exact PRPACK solution on the same graph (not timed).

    L1 and max absolute difference, and how many of igraph's top 1,000 nodes are in the Spark top 1,000.
    """
    import numpy as np

    from fraudmine.graph.algorithms import local

    lg = local.from_pandas(pdf)
    ref = dict(zip(lg.names.tolist(), local.pagerank(lg).tolist(), strict=True))
    got = frame.toPandas().set_index("node")["score"]
    names = list(ref)
    diff = np.abs(got.reindex(names).to_numpy() - np.array([ref[k] for k in names]))
    top_ref = set(sorted(ref, key=ref.__getitem__, reverse=True)[:1000])
    top_got = set(got.sort_values(ascending=False).index[:1000])
    return {
        "pagerank_l1_vs_igraph": float(diff.sum()),
        "pagerank_max_vs_igraph": float(diff.max()),
        "pagerank_top1000_overlap": len(top_ref & top_got) / 1000,
    }


def measure(args: list[str], timeout: float) -> dict[str, Any]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--one", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    peak, t0 = 0, time.monotonic()
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        if time.monotonic() - t0 > timeout:
            proc.kill()
            return {"status": "timeout", "timeout_s": timeout}
        time.sleep(0.2)
    stdout = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        return {"status": f"failed rc={proc.returncode}"}
    return {"status": "ok", **json.loads(stdout.strip().splitlines()[-1]), "peak_rss_mib": round(peak / 2**20)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--run", type=Path)
    ap.add_argument("--label", default="s")
    ap.add_argument("--graphs", nargs="+", default=list(GRAPHS))
    ap.add_argument("--algos", nargs="+", default=list(ALGOS))
    ap.add_argument("--engines", nargs="+", default=["local", "spark", "igraph", "networkx"])
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--one", nargs=4, metavar=("RUN", "GRAPH", "ALGO", "ENGINE"))
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(Path(a.one[0]), a.one[1], a.one[2], a.one[3])))
        return
    rows = []
    for graph in a.graphs:
        for algo in a.algos:
            for engine in a.engines:
                if algo == "identity" and (graph != "identity" or engine not in ("local", "spark")):
                    continue
                if algo == "leiden" and engine == "spark":
                    continue
                r = {
                    "scale": a.label,
                    "graph": graph,
                    "algo": algo,
                    "engine": engine,
                    "loadavg": Path("/proc/loadavg").read_text().split()[:3],
                    **measure([str(a.run), graph, algo, engine], a.timeout),
                }
                rows.append(r)
                print(json.dumps(r), flush=True)
    print(f"\n{datetime.now(UTC):%Y-%m-%d} scale {a.label}\n")
    print(
        "| graph | algorithm | engine | edges | seconds | iterations | peak RSS MiB | load avg |\n|---|---|---|---|---|---|---|---|"
    )
    for r in rows:
        print(
            f"| {r['graph']} | {r['algo']} | {r['engine']} | {r.get('n_edges', '-')} | "
            f"{r['seconds']:.2f} | {r.get('iterations', '-')} | {r.get('peak_rss_mib', '-')} | {' '.join(r['loadavg'])} |"
            if r["status"] == "ok"
            else f"| {r['graph']} | {r['algo']} | {r['engine']} | - | {r['status']} | - | - | {' '.join(r['loadavg'])} |"
        )
    res = REPO / "bench" / "results"
    res.mkdir(parents=True, exist_ok=True)
    (res / f"graph-engines-{a.label}-{datetime.now(UTC):%Y%m%d}.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
