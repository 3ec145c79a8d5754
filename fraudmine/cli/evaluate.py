"""``fraudmine evaluate``: metrics per typology against the generator's ground truth."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def run(args: argparse.Namespace) -> int:
    """Evaluate a run and print a table or JSON."""
    from fraudmine.evaluate import evaluate, format_table, resolve_run

    run_dir = resolve_run(args.run)
    result = evaluate(args.truth, run_dir, budget=args.budget, force=args.force)
    sys.stdout.write((json.dumps(result, indent=2) if args.json else format_table(result)) + "\n")
    return 0


def add_parser(sub: Any) -> None:
    """Register the subcommand."""
    e = sub.add_parser("evaluate", help="metrics per typology against the generator's ground truth")
    e.add_argument("--truth", type=Path, required=True, help="truth/ folder written by generate")
    e.add_argument("--run", type=Path, required=True, help="an output folder (its current run is used) or a run folder")
    e.add_argument("--budget", type=float, default=0.01, help="review budget as a fraction (default 0.01)")
    e.add_argument("--json", action="store_true", help="print JSON instead of a table")
    e.add_argument("--force", action="store_true", help="evaluate even if the truth is of another dataset")
    e.set_defaults(func=run)
