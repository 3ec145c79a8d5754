"""``fraudmine bench realism``: can trivial methods find the fraud planted in a generated folder?"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def run(args: argparse.Namespace) -> int:
    """Compute the realism figures and print them (one JSON object with ``--json``)."""
    from fraudmine.synth.realism import run_realism

    res = run_realism(args.data, args.seed)
    if args.json:
        sys.stdout.write(json.dumps(res) + "\n")
        return 0
    for typ, v in res["max_single_auroc"].items():
        sys.stdout.write(f"max_single_auroc  {typ:<20} {v['auroc']:.3f}  {v['aggregate']}\n")
    sys.stdout.write(f"tabular_lgbm_auroc {res['tabular_lgbm_auroc']:.3f}\n")
    sys.stdout.write(f"trivial_graph_auroc (max over cuts and scores) {res['trivial_graph_auroc']['max']:.3f}\n")
    for key in ("cc_ari", "louvain_ari", "homophily"):
        sys.stdout.write(f"{key:<18} " + "  ".join(f"{k}={v:.3f}" for k, v in res[key].items()) + "\n")
    sys.stdout.write(f"reference_ari      {res['reference_ari']:.3f}\n")
    return 0


def add_parser(sub: Any) -> None:
    """Register ``bench realism``."""
    p = sub.add_parser(
        "realism",
        help="realism of a generated marketplace: single-aggregate, LightGBM and trivial graph AUROCs, ARIs",
        description="Reads DIR/raw and DIR/truth (from `fraudmine generate`). Per typology the best single "
        "per-account raw aggregate AUROC; a 5-fold LightGBM on merchant aggregates; shared-identifier count / "
        "component-size AUROCs, connected-components and Louvain ARI of rings at identifier degree cuts "
        "2, 5, 20, 100, the same on near-identical listing images (keys image:<cut>) and on identifiers and "
        "images together (combined:<cut>); fraud edge homophily per identifier type and for images; ARI of a "
        "reference multi-evidence clustering.",
    )
    p.add_argument("--data", type=Path, required=True, help="generated folder holding raw/ and truth/")
    p.add_argument("--seed", type=int, default=0, help="seed of the LightGBM folds and Louvain")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)
