"""The ``fraudmine`` command line.

Subcommands (``fraudmine <command> --help`` for each)::

    fraudmine generate --scale s --seed 42 --out data/synth
    fraudmine nightly  --input data/synth/raw --out out --date 2026-11-01
    fraudmine evaluate --truth data/synth/truth --run out/current [--json]
    fraudmine kpis     --run out [--json]   # decision KPIs of the published run
    fraudmine export neo4j --run out/current --out out/neo4j   # neo4j-admin bulk-import bundle
    fraudmine export bolt  --run out/current                   # incremental upserts over Bolt
    fraudmine explore --run out/current ring --merchant m0000042  # local FalkorDB + playbook
    fraudmine contract            # print the raw input contract as Markdown
    fraudmine bench <name> ...    # generic benchmarks (see ``fraudmine bench --help``)

One module per command in this package, each with ``add_parser(subparsers)``; the
command's work is imported inside its handler so ``fraudmine --help`` stays fast.
This package is the top layer: nothing below imports it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from types import ModuleType

from fraudmine.cli import bench, contract, evaluate, explore, export, generate, kpis, nightly

# Order of the subcommands in ``--help``; add a command by adding its module here.
COMMANDS: tuple[ModuleType, ...] = (generate, nightly, evaluate, kpis, export, explore, contract, bench)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with all subcommands."""
    parser = argparse.ArgumentParser(prog="fraudmine", description="Graph-based merchant and creator fraud mining.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level and show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fraudmine`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        code: int = args.func(args)
    except Exception as exc:
        if args.verbose:
            raise
        sys.stderr.write(f"fraudmine {args.command}: {type(exc).__name__}: {exc}\n")
        return 1
    return code
