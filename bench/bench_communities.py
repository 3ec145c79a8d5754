"""Community-detection quality: networkit LFR graphs and email-Eu-core, through `fraudmine bench communities`.

For each LFR graph (networkit's generator: networkx's overshoots the mixing parameter) the edges and
the planted communities are written to files and scored with the same function the CLI runs
(`fraudmine.graph.community_bench.run_benchmark`), for Leiden (ours), igraph Infomap (reference),
label propagation and connected components (trivial baseline).  Prints Markdown tables and writes
bench/results/communities-<date>.json.

    python bench/bench_communities.py --sizes 1000 5000 --mus 0.1 0.2 0.3 0.4 0.5 0.6 0.7 \
        --email /work/shared/data/community/email_eu_core
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import networkit as nk

from fraudmine.graph.community_bench import run_benchmark

REPO = Path(__file__).resolve().parent.parent
METHODS = ("leiden", "infomap", "lpa", "cc")


def lfr(n: int, mu: float, seed: int, out: Path) -> tuple[Path, Path]:
    """LFR benchmark graph (avg degree 20, max 50, degree exponent -2, community sizes 20-100, exponent -1)."""
    nk.setSeed(seed, False)
    gen = nk.generators.LFRGenerator(n)
    gen.generatePowerlawDegreeSequence(20, 50, -2)
    gen.generatePowerlawCommunitySizeSequence(20, 100, -1)
    gen.setMu(mu)
    gen.run()
    g, part = gen.getGraph(), gen.getPartition()
    edges, truth = out / f"lfr-{n}-{mu}.txt", out / f"lfr-{n}-{mu}-truth.txt"
    edges.write_text("".join(f"{u}\t{v}\n" for u, v in g.iterEdges()))
    truth.write_text("".join(f"{v}\t{part.subsetOf(v)}\n" for v in range(g.numberOfNodes())))
    return edges, truth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--mus", type=float, nargs="+", default=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--email", type=Path, help="folder with email-Eu-core.txt and email-Eu-core-department-labels.txt")
    args = ap.parse_args()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            for mu in args.mus:
                e, t = lfr(n, mu, args.seed, Path(tmp))
                for m in METHODS:
                    r = run_benchmark(e, t, "snap", m, seed=args.seed)  # type: ignore[arg-type]
                    results.append({"graph": f"LFR N={n}", "mu": mu, **r})
                    print(f"LFR N={n} mu={mu} {m}: nmi={r['nmi']:.3f} ({r['seconds']:.2f}s)", flush=True)
    if args.email:
        e = args.email / "email-Eu-core.txt"
        t = args.email / "email-Eu-core-department-labels.txt"
        for m in METHODS:
            r = run_benchmark(e, t, "snap", m, seed=args.seed)  # type: ignore[arg-type]
            results.append({"graph": "email-Eu-core", "mu": None, **r})
    print(f"\n{datetime.now(UTC):%Y-%m-%d}, {platform.node()}, seed {args.seed}\n")
    for n in args.sizes:
        print(f"| LFR N={n}: μ | " + " | ".join(f"{m} NMI" for m in METHODS) + " |")
        print("|---" * (len(METHODS) + 1) + "|")
        for mu in args.mus:
            row = {r["method"]: r for r in results if r["graph"] == f"LFR N={n}" and r["mu"] == mu}
            print(f"| {mu} | " + " | ".join(f"{row[m]['nmi']:.3f}" for m in METHODS) + " |")
        print()
    if args.email:
        print("| email-Eu-core | NMI | ARI | F1 | communities | seconds |\n|---|---|---|---|---|---|")
        for r in results:
            if r["graph"] == "email-Eu-core":
                print(
                    f"| {r['method']} | {r['nmi']:.3f} | {r['ari']:.3f} | {r['f1']:.3f} | {r['communities']} | {r['seconds']:.2f} |"
                )
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"communities-{datetime.now(UTC):%Y%m%d}.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
