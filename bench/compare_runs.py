"""Compare the outputs of two nightly runs table by table: equal or not, and how many rows differ.

For checking that a change to how the pipeline runs (Spark settings, job plumbing,
engines) leaves what it computes unchanged::

    python bench/compare_runs.py OUT_A/runs/2026-11-01 OUT_B/runs/2026-11-01

Every Parquet table of both run folders is read with pyarrow (no Spark), the
``run_id`` column (it carries the code fingerprint, so it differs between code
versions by design) and ``_``-prefixed files are left out, and the rows are compared
as multisets (row order and file layout are not part of a table's content).  Floats
are compared exactly unless ``--rtol`` is given.  Also compares
``validate/counts.json`` and ``decisions/_kpis.json`` (without run ids).  Exit 0 when
everything is equal, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

IGNORED_COLUMNS = {"run_id"}
# Tables compared by default: what a consumer reads (scores, decisions, clusters, ...).
DEFAULT_TABLES = (
    "validate/clean",
    "validate/quarantine",
    "graph",
    "clusters",
    "duplicates",
    "features",
    "scores",
    "decisions",
)


def tables_under(run: Path, rel: str) -> list[str]:
    """Table folders (relative to ``run``) at or directly under ``rel`` that hold Parquet files."""
    root = run / rel
    if not root.exists():
        return []
    if any(p.suffix == ".parquet" for p in root.iterdir() if p.is_file()) or any(
        "=" in p.name for p in root.iterdir() if p.is_dir()
    ):
        return [rel]
    return sorted(f"{rel}/{p.name}" for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def _canon(v: Any, rtol: float) -> Any:
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        return float(f"{v:.{max(1, -math.floor(math.log10(rtol)))}g}") if rtol else v
    if isinstance(v, list):
        return tuple(_canon(x, rtol) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _canon(x, rtol)) for k, x in v.items()))
    return v


def rows_of(path: Path, rtol: float) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and canonical, sorted rows of a Parquet folder (``run_id`` dropped)."""
    table = pq.read_table(path)
    cols = sorted(c for c in table.column_names if c not in IGNORED_COLUMNS)
    data = table.select(cols).to_pylist()
    rows = sorted((tuple(_canon(r[c], rtol) for c in cols) for r in data), key=repr)
    return cols, rows


def compare_table(a: Path, b: Path, rtol: float) -> str | None:
    """``None`` when equal, else a one-line description of the difference."""
    if not b.exists():
        return "missing in B"
    ca, ra = rows_of(a, rtol)
    cb, rb = rows_of(b, rtol)
    if ca != cb:
        return f"columns differ: {sorted(set(ca) ^ set(cb))}"
    if ra == rb:
        return None
    sa, sb = {repr(r) for r in ra}, {repr(r) for r in rb}
    return f"{len(ra)} vs {len(rb)} rows; {len(sa - sb)} rows only in A, {len(sb - sa)} only in B"


def _json(path: Path) -> Any:
    data = json.loads(path.read_text())
    if isinstance(data, dict):
        data.pop("run_id", None)
    return data


def compare_runs(a: Path, b: Path, rtol: float = 0.0, tables: tuple[str, ...] = DEFAULT_TABLES) -> dict[str, str]:
    """Differences between two run folders, by table (empty when every table is equal)."""
    diffs: dict[str, str] = {}
    names = sorted({t for rel in tables for run in (a, b) for t in tables_under(run, rel)})
    for name in names:
        if not (a / name).exists():
            diffs[name] = "missing in A"
            continue
        d = compare_table(a / name, b / name, rtol)
        if d:
            diffs[name] = d
    for rel in ("validate/counts.json", "decisions/_kpis.json"):
        if (a / rel).exists() and _json(a / rel) != (_json(b / rel) if (b / rel).exists() else None):
            diffs[rel] = "differs"
    return diffs


def main() -> int:
    """Compare two run folders and print one line per table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", type=Path, help="a run folder (<out>/runs/<D> or <out>/current)")
    ap.add_argument("b", type=Path, help="the other run folder")
    ap.add_argument("--rtol", type=float, default=0.0, help="round floats to this relative precision (0: exact)")
    args = ap.parse_args()
    a, b = args.a.resolve(), args.b.resolve()
    diffs = compare_runs(a, b, args.rtol)
    names = sorted({t for rel in DEFAULT_TABLES for t in tables_under(a, rel)})
    for name in names:
        print(f"{name}: {diffs.get(name, 'equal')}")
    for rel in ("validate/counts.json", "decisions/_kpis.json"):
        print(f"{rel}: {diffs.get(rel, 'equal')}")
    print("ALL EQUAL" if not diffs else f"{len(diffs)} DIFFERENCES")
    return 0 if not diffs else 1


if __name__ == "__main__":
    raise SystemExit(main())
