"""The ``fraudmine`` command line.

Subcommands (``fraudmine <command> --help`` for each)::

    fraudmine generate --scale s --seed 42 --out data/synth
    fraudmine nightly  --input data/synth/raw --out out --date 2026-11-01
    fraudmine evaluate --truth data/synth/truth --run out [--json]
    fraudmine kpis     --run out [--json]   # decision KPIs of the published run
    fraudmine export neo4j --run out/current --out out/neo4j   # neo4j-admin bulk-import bundle
    fraudmine export bolt  --run out/current                   # incremental upserts over Bolt
    fraudmine explore --run out/current ring --merchant m0000042  # local FalkorDB + playbook
    fraudmine contract            # print the raw input contract as Markdown
    fraudmine serve    --out out [--host H] [--port P]   # risk lookup API
    fraudmine rollback --out out  # previous published run and snapshot become current
    fraudmine bench <name> ...    # generic benchmarks (see ``fraudmine bench --help``)

One module per command in this package, each with ``add_parser(subparsers)``; the
command's work is imported inside its handler so ``fraudmine --help`` stays fast.
This package is the top layer: nothing below imports it.

Errors: a failing command prints one line (``fraudmine <command>: <error>``) and
exits 1; usage errors print one line and exit 2; ``-v/--verbose`` shows library
logs and the full traceback.
"""

from __future__ import annotations

import argparse
import sys
from types import ModuleType
from typing import NoReturn

from fraudmine.cli import bench, contract, evaluate, explore, export, generate, kpis, nightly, rollback, serve

# Order of the subcommands in ``--help``; add a command by adding its module here.
COMMANDS: tuple[ModuleType, ...] = (
    generate,
    nightly,
    evaluate,
    kpis,
    serve,
    rollback,
    export,
    explore,
    contract,
    bench,
)


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        """Print ``<prog>: error: <message>`` and exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with all subcommands."""
    parser = OneLineParser(prog="fraudmine", description="Graph-based merchant and creator fraud mining.")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show library logs (Spark, MLflow) and full tracebacks"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fraudmine`` console script."""
    from fraudmine.jobs.console import setup_logging, short_error

    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        sys.stderr.write(f"fraudmine {args.command}: interrupted\n")
        return 130
    except Exception as exc:
        if args.verbose:
            raise
        sys.stderr.write(f"fraudmine {args.command}: {short_error(exc)}\n")
        return 1
    return code
