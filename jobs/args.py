"""The ``nightly`` command-line options, shared by ``fraudmine nightly`` and ``spark-submit jobs/nightly.py``.

Import-light (no Spark): the CLI builds its parser from here without starting the pipeline.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from fraudmine.jobs.names import STAGE_NAMES


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be YYYY-MM-DD, got {text!r}") from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the nightly options to ``p``."""
    p.add_argument("--input", type=Path, help="raw input folder (default: config paths.input)")
    p.add_argument("--out", type=Path, help="output root (default: config paths.output)")
    p.add_argument("--date", required=True, type=_iso_date, help="run date D (YYYY-MM-DD); only data before D is used")
    p.add_argument("--config", type=Path, help="config YAML (default: conf/default.yaml)")
    p.add_argument("--only", nargs="+", choices=STAGE_NAMES, help="run only these stages")
    p.add_argument("--from-stage", choices=STAGE_NAMES, help="recompute this stage and all later ones")
    p.add_argument("--force", action="store_true", help="publish even if audit gates fail (recorded in the manifest)")
