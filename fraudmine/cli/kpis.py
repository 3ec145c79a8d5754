"""``fraudmine kpis``: the decision KPIs of a run (automation, expected precision, queue load)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def run(args: argparse.Namespace) -> int:
    """Print the KPIs of ``<run>/decisions/_kpis.json`` as text or JSON."""
    run_dir = Path(args.run)
    if (run_dir / "current").exists() and not (run_dir / "decisions").exists():
        run_dir = run_dir / "current"  # an output folder: use its published run
    path = run_dir / "decisions" / "_kpis.json"
    if not path.exists():
        raise FileNotFoundError(f"no decision KPIs at {path} (run the nightly pipeline through the decide stage)")
    kpis = json.loads(path.read_text())
    if args.json:
        sys.stdout.write(json.dumps(kpis, indent=2) + "\n")
        return 0
    from fraudmine.decisions.summary import format_kpis

    report = run_dir / "reports" / "report.html"
    sys.stdout.write(format_kpis(kpis, str(report) if report.exists() else None) + "\n")
    return 0


def add_parser(sub: Any) -> None:
    """Register the subcommand."""
    k = sub.add_parser("kpis", help="decision KPIs of a run: automation, expected precision, queue vs capacity")
    k.add_argument("--run", type=Path, required=True, help="a run folder (out/runs/<date>) or an output folder")
    k.add_argument("--json", action="store_true", help="print the KPI JSON")
    k.set_defaults(func=run)
