"""``fraudmine nightly``: run (or resume) the nightly pipeline for a date."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from fraudmine.jobs.args import add_arguments


def summary_lines(run_dir: Path, out_dir: Path) -> list[str]:
    """The closing lines: the stage table, then where the report, decisions and ``current`` are.

    Only outputs that exist are named.
    """
    manifest = json.loads((run_dir / "manifest.json").read_text())
    lines = [f"run {manifest['run_id']} ({run_dir})"]
    for name, rec in manifest["stages"].items():
        note = f"  reused from {rec['reused_from']}" if rec.get("reused_from") else ""
        lines.append(f"  {name:<9} {rec['status']:<10} {rec.get('duration_s') or 0:>7.1f}s{note}")
    for label, rel in (("scores", "scores"), ("decisions", "decisions"), ("run report", "reports/report.html")):
        if (run_dir / rel).exists():
            lines.append(f"{label + ':':<12}{run_dir / rel}")
    current = out_dir / "current"
    published = manifest.get("published") or {}
    if current.exists():
        lines.append(f"{'current:':<12}{current} -> {current.resolve().name}")
    if published.get("reason"):
        lines.append(f"not published: {published['reason']}")
    return lines


def run(args: argparse.Namespace) -> int:
    """Check paths and config (no Spark yet), run the pipeline, print where its outputs are."""
    from fraudmine.config import load_config
    from fraudmine.jobs.preflight import check_paths

    cfg = load_config(args.config)  # a bad key or non-YAML config fails here, in one line
    check_paths((args.input or Path(cfg.paths.input)).resolve(), (args.out or Path(cfg.paths.output)).resolve())
    from fraudmine.jobs.nightly import main_from_args

    run_dir = main_from_args(args)
    sys.stdout.write("\n".join(summary_lines(run_dir, run_dir.parent.parent)) + "\n")
    return 0


def add_parser(sub: Any) -> None:
    """Register the subcommand (options shared with ``spark-submit jobs/nightly.py``)."""
    n = sub.add_parser("nightly", help="run (or resume) the nightly pipeline for a date")
    add_arguments(n)
    n.set_defaults(func=run)
