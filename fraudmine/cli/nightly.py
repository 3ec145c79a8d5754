"""``fraudmine nightly``: run (or resume) the nightly pipeline for a date."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from fraudmine.jobs.args import add_arguments


def run(args: argparse.Namespace) -> int:
    """Run the pipeline and print where its outputs are."""
    from fraudmine.jobs.nightly import main_from_args

    run_dir = main_from_args(args)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    sys.stdout.write(f"run {manifest['run_id']} committed: {run_dir}\n")
    for name, rec in manifest["stages"].items():
        sys.stdout.write(f"  {name:<9} {rec['status']:<10} {rec.get('duration_s') or 0:>7.1f}s\n")
    sys.stdout.write(f"scores:     {run_dir / 'scores'}\ndecisions:  {run_dir / 'decisions'}\n")
    sys.stdout.write(f"run report: {run_dir / 'reports' / 'report.html'}\n")
    return 0


def add_parser(sub: Any) -> None:
    """Register the subcommand (options shared with ``spark-submit jobs/nightly.py``)."""
    n = sub.add_parser("nightly", help="run (or resume) the nightly pipeline for a date")
    add_arguments(n)
    n.set_defaults(func=run)
