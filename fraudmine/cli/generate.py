"""``fraudmine generate``: write a synthetic marketplace (raw tables + ground truth)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any


def run(args: argparse.Namespace) -> int:
    """Generate and print the summary."""
    from fraudmine.synth import generate

    if args.days is not None and args.days < 1:
        sys.stderr.write(f"error: --days must be at least 1, got {args.days}\n")
        return 2
    summary = generate(args.scale, args.seed, args.out, args.scenario)
    sys.stdout.write(json.dumps(summary, indent=2, default=str) + "\n")
    sys.stdout.write(f"raw tables: {args.out / 'raw'}\nground truth: {args.out / 'truth'}\n")
    if args.days:
        from fraudmine.synth.scenario import load_scenario
        from fraudmine.synth.slices import SLICES_DIR, write_slices

        t0 = time.perf_counter()
        dates = write_slices(args.out, args.days, load_scenario(args.scenario), args.seed)
        first, last = dates[0].isoformat(), dates[-1].isoformat()
        sys.stdout.write(
            f"time slices ({time.perf_counter() - t0:.1f} s): {args.out / SLICES_DIR}/<date>/raw "
            f"for {first} .. {last}; run one day with\n"
            f"  fraudmine nightly --input {args.out / SLICES_DIR}/{first}/raw --out OUT --date {first}\n"
        )
    return 0


def add_parser(sub: Any) -> None:
    """Register the subcommand."""
    g = sub.add_parser("generate", help="write a synthetic marketplace (raw tables + ground truth)")
    g.add_argument("--scale", choices=["xs", "s", "m", "l"], default="s", help="xs≈1k, s≈10k, m≈100k, l≈1M merchants")
    g.add_argument("--seed", type=int, default=42, help="random seed (same seed → same data)")
    g.add_argument("--out", type=Path, required=True, help="folder; writes raw/ and truth/ under it")
    g.add_argument("--scenario", type=Path, help="scenario YAML (default conf/scenarios/default.yaml)")
    g.add_argument(
        "--days",
        type=int,
        metavar="N",
        help="also write time slices: OUT/days/<D>/raw for the N run dates ending at the scenario's end date "
        "(the warehouse as it was at the start of each day; moderator verdicts arrive on later days)",
    )
    g.set_defaults(func=run)
