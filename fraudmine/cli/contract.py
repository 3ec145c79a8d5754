"""``fraudmine contract``: print the raw input contract as Markdown."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def run(args: argparse.Namespace) -> int:
    """Print the contract."""
    from fraudmine.contracts.markdown import render_contract

    sys.stdout.write(render_contract())
    return 0


def add_parser(sub: Any) -> None:
    """Register the subcommand."""
    c = sub.add_parser("contract", help="print the raw input contract as Markdown")
    c.set_defaults(func=run)
