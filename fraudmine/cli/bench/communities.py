"""``fraudmine bench communities``: community detection on any edge list, scored against a truth file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def run(args: argparse.Namespace) -> int:
    """Detect communities and print the scores (JSON with ``--json``)."""
    from fraudmine.graph.community_bench import run_benchmark

    res = run_benchmark(args.edges, args.truth, args.format, args.method, args.seed, args.resolution)
    if args.json:
        sys.stdout.write(json.dumps(res) + "\n")
    else:
        for k, v in res.items():
            sys.stdout.write(f"{k:<18}{v if not isinstance(v, float) else round(v, 4)}\n")
    return 0


def add_parser(sub: Any) -> None:
    """Register ``bench communities``."""
    p = sub.add_parser(
        "communities",
        help="community detection on an edge list, NMI / ARI / F1 against a truth file",
        description="Edge list in (SNAP or CSV), communities out; with --truth, NMI, ARI and average "
        "best-match F1. Truth: one community per line, or node<TAB>community. Overlapping truth: F1 "
        "uses all memberships, NMI/ARI each node's first community (overlap_nodes says how many had more).",
    )
    p.add_argument(
        "--edges", type=Path, required=True, help="edge list: 'u v [w]' lines (snap) or src,dst[,weight] (csv)"
    )
    p.add_argument("--truth", type=Path, help="truth communities (one per line, or node<TAB>community)")
    p.add_argument(
        "--format", choices=["snap", "csv", "auto"], default="auto", help="edge file format (auto: by suffix)"
    )
    p.add_argument("--method", choices=["leiden", "lpa", "cc", "infomap", "auto"], default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resolution", type=float, default=1.0, help="Leiden resolution")
    p.add_argument("--json", action="store_true", help="print one JSON object (nmi, ari, f1, seconds, communities)")
    p.set_defaults(func=run)
