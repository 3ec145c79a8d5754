"""The ``fraudmine`` command line.

Subcommands::

    fraudmine generate --scale s --seed 42 --out data/synth
    fraudmine nightly  --input data/synth/raw --out out --date 2026-11-01
    fraudmine evaluate --truth data/synth/truth --run out/current [--json]
    fraudmine contract            # print the raw input contract as Markdown

This module is the top layer: it imports the pipeline (``jobs``) lazily so that
``fraudmine --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def _generate(args: argparse.Namespace) -> int:
    from fraudmine.synth import generate

    summary = generate(args.scale, args.seed, args.out, args.scenario)
    sys.stdout.write(json.dumps(summary, indent=2, default=str) + "\n")
    sys.stdout.write(f"raw tables: {args.out / 'raw'}\nground truth: {args.out / 'truth'}\n")
    return 0


def _nightly(args: argparse.Namespace) -> int:
    from jobs.nightly import main_from_args

    run_dir = main_from_args(args)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    sys.stdout.write(f"run {manifest['run_id']} committed: {run_dir}\n")
    for name, rec in manifest["stages"].items():
        sys.stdout.write(f"  {name:<9} {rec['status']:<10} {rec.get('duration_s') or 0:>7.1f}s\n")
    sys.stdout.write(f"scores:     {run_dir / 'scores'}\ndecisions:  {run_dir / 'decisions'}\n")
    sys.stdout.write(f"run report: {run_dir / 'reports' / 'report.html'}\n")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from fraudmine.evaluate import evaluate, format_table

    result = evaluate(args.truth, args.run, budget=args.budget)
    sys.stdout.write((json.dumps(result, indent=2) if args.json else format_table(result)) + "\n")
    return 0


def _contract(args: argparse.Namespace) -> int:
    from fraudmine.contracts.markdown import render_contract

    sys.stdout.write(render_contract())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with all subcommands."""
    from jobs.names import STAGE_NAMES

    parser = argparse.ArgumentParser(prog="fraudmine", description="Graph-based merchant and creator fraud mining.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write a synthetic marketplace (raw tables + ground truth)")
    g.add_argument("--scale", choices=["xs", "s", "m", "l"], default="s", help="xs≈1k, s≈10k, m≈100k, l≈1M merchants")
    g.add_argument("--seed", type=int, default=42, help="random seed (same seed → same data)")
    g.add_argument("--out", type=Path, required=True, help="folder; writes raw/ and truth/ under it")
    g.add_argument("--scenario", type=Path, help="scenario YAML (default conf/scenarios/default.yaml)")
    g.set_defaults(func=_generate)

    n = sub.add_parser("nightly", help="run (or resume) the nightly pipeline for a date")
    n.add_argument("--input", type=Path, help="raw input folder (default: config paths.input)")
    n.add_argument("--out", type=Path, help="output root (default: config paths.output)")
    n.add_argument("--date", required=True, help="run date D, YYYY-MM-DD; only data before D is used")
    n.add_argument("--config", type=Path, help="config YAML (default conf/default.yaml)")
    n.add_argument("--only", nargs="+", choices=STAGE_NAMES, help="run only these stages")
    n.add_argument("--from-stage", choices=STAGE_NAMES, help="recompute this stage and all later ones")
    n.set_defaults(func=_nightly)

    e = sub.add_parser("evaluate", help="metrics per typology against the generator's ground truth")
    e.add_argument("--truth", type=Path, required=True, help="truth/ folder written by generate")
    e.add_argument("--run", type=Path, required=True, help="a run folder (out/runs/<date> or out/current)")
    e.add_argument("--budget", type=float, default=0.01, help="review budget as a fraction (default 0.01)")
    e.add_argument("--json", action="store_true", help="print JSON instead of a table")
    e.set_defaults(func=_evaluate)

    c = sub.add_parser("contract", help="print the raw input contract as Markdown")
    c.set_defaults(func=_contract)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fraudmine`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "nightly":
        from datetime import date

        try:
            args.date = date.fromisoformat(args.date)
        except ValueError:
            build_parser().error(f"--date must be YYYY-MM-DD, got {args.date!r}")
    try:
        code: int = args.func(args)
    except Exception as exc:
        if args.verbose:
            raise
        sys.stderr.write(f"fraudmine {args.command}: {type(exc).__name__}: {exc}\n")
        return 1
    return code


if __name__ == "__main__":
    raise SystemExit(main())
