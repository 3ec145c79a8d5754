"""``fraudmine generate``: write a synthetic marketplace (raw tables + ground truth)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def run(args: argparse.Namespace) -> int:
    """Generate and print the summary."""
    from fraudmine.synth import generate

    summary = generate(args.scale, args.seed, args.out, args.scenario)
    sys.stdout.write(json.dumps(summary, indent=2, default=str) + "\n")
    sys.stdout.write(f"raw tables: {args.out / 'raw'}\nground truth: {args.out / 'truth'}\n")
    return 0


def add_parser(sub: Any) -> None:
    """Register the subcommand."""
    g = sub.add_parser("generate", help="write a synthetic marketplace (raw tables + ground truth)")
    g.add_argument("--scale", choices=["xs", "s", "m", "l"], default="s", help="xs≈1k, s≈10k, m≈100k, l≈1M merchants")
    g.add_argument("--seed", type=int, default=42, help="random seed (same seed → same data)")
    g.add_argument("--out", type=Path, required=True, help="folder; writes raw/ and truth/ under it")
    g.add_argument("--scenario", type=Path, help="scenario YAML (default conf/scenarios/default.yaml)")
    g.set_defaults(func=run)
