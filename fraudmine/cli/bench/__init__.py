"""``fraudmine bench <name>``: generic benchmarks on any input of the stated format.

One module per benchmark in this package, each with ``add_parser(subparsers)``;
add one by listing its module in :data:`BENCHMARKS`.  The project's own timing
scripts live in ``bench/`` at the top level; these commands are the reusable
measurement harnesses they (and users) call.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from fraudmine.cli.bench import communities, dedup, nodes, realism

BENCHMARKS: tuple[ModuleType, ...] = (communities, dedup, nodes, realism)


def add_parser(sub: Any) -> None:
    """Register ``bench`` and its benchmarks."""
    b = sub.add_parser("bench", help="generic benchmarks (communities, dedup, nodes, realism)")
    bsub = b.add_subparsers(dest="bench", required=True, metavar="BENCHMARK")
    for module in BENCHMARKS:
        module.add_parser(bsub)
