"""``fraudmine bench nodes``: node classification on any labelled-graph bundle (``.npz``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def run(args: argparse.Namespace) -> int:
    """Run the node benchmark and print the table (one JSON object with ``--json``)."""
    from fraudmine.models.nodes.bench import MODELS, run_benchmark
    from fraudmine.models.nodes.data import load_npz

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(models) - set(MODELS))
    if unknown or not models:
        raise ValueError(f"--models: unknown {unknown or 'empty list'}; choose from {','.join(MODELS)}")
    res = run_benchmark(load_npz(args.npz), args.protocol, models, args.seeds, threads=args.threads)
    if args.json:
        sys.stdout.write(json.dumps(res) + "\n")
        return 0
    sys.stdout.write(f"{'model':<15}{'AUROC':>16}{'AUPRC':>16}{'Rec@K':>16}{'seconds':>10}\n")
    for model, r in res.items():
        cells = "".join(f"{r[k]['mean']:>9.2f} ± {r[k]['std']:<4.2f}" for k in ("auroc", "auprc", "rec_at_k"))
        sys.stdout.write(f"{model:<15}{cells}{r['seconds']:>10.1f}\n")
    return 0


def add_parser(sub: Any) -> None:
    """Register ``bench nodes``."""
    p = sub.add_parser(
        "nodes",
        help="node classification on a labelled graph (.npz): AUROC / AUPRC / Rec@K per model",
        description="Bundle keys: node_features (n×f), node_labels (1, 0, -1 = unlabelled), edges (m×2) or "
        "edge_index (2×m), or edges__<relation> / edge_index__<relation> for several relations; optional "
        "train_masks / val_masks / test_masks (k×n). Models are selected on validation AUPRC; test metrics "
        "are in percent, mean ± std over the splits.",
    )
    p.add_argument("--npz", type=Path, required=True, help="node bundle (.npz)")
    p.add_argument(
        "--protocol",
        choices=["given-splits", "gadbench-fully", "gadbench-semi"],
        default="given-splits",
        help="given-splits: the bundle's masks; gadbench-fully: stratified 40/20/40; "
        "gadbench-semi: 20+80 train, 20+80 validation",
    )
    p.add_argument(
        "--models",
        default="lgbm,gnn,hybrid",
        help="comma-separated: lgbm, gnn, hybrid, features-only (LightGBM on the raw features, no graph)",
    )
    p.add_argument(
        "--seeds", type=int, help="random splits to draw (default 10); with given-splits, the first N given splits"
    )
    p.add_argument(
        "--json", action="store_true", help="print one JSON object: per model auroc, auprc, rec_at_k, seconds"
    )
    p.add_argument(
        "--threads", type=int, default=1, help="LightGBM / torch threads (default 1: see docs/benchmarks.md)"
    )
    p.set_defaults(func=run)
