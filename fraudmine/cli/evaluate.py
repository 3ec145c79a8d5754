"""``fraudmine evaluate``: metrics per typology against the generator's ground truth."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def run(args: argparse.Namespace) -> int:
    """Evaluate a run and print a table or JSON."""
    from fraudmine.evaluate import evaluate, format_table

    result = evaluate(args.truth, args.run, budget=args.budget)
    sys.stdout.write((json.dumps(result, indent=2) if args.json else format_table(result)) + "\n")
    return 0


def add_parser(sub: Any) -> None:
    """Register the subcommand."""
    e = sub.add_parser("evaluate", help="metrics per typology against the generator's ground truth")
    e.add_argument("--truth", type=Path, required=True, help="truth/ folder written by generate")
    e.add_argument("--run", type=Path, required=True, help="a run folder (out/runs/<date> or out/current)")
    e.add_argument("--budget", type=float, default=0.01, help="review budget as a fraction (default 0.01)")
    e.add_argument("--json", action="store_true", help="print JSON instead of a table")
    e.set_defaults(func=run)
