"""Side-by-side Markdown tables of several ``fraudmine evaluate --json`` outputs (one per seed or run).

    python bench/eval_table.py --eval seed1=/tmp/e1.json seed2=/tmp/e2.json seed3=/tmp/e3.json

Prints two tables: detection per typology and entity type (AUROC, AUPRC and recall at the
evaluation's review budget, each beside the one-count baseline ``evaluate`` reports), and
cluster quality per typology (ARI, member precision / recall / F1, block F1) with the trivial
baselines in the same table. Each cell lists the runs' values in the order given; the last
column is their mean. Nothing is computed here that ``evaluate`` did not report.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _fmt(values: list[float | None]) -> str:
    return " / ".join("-" if v is None else f"{v:.3f}" for v in values)


def _mean(values: list[float | None]) -> str:
    xs = [v for v in values if v is not None]
    return f"{sum(xs) / len(xs):.3f}" if xs else "-"


def detection_table(runs: dict[str, dict[str, Any]]) -> list[str]:
    """Rows per (typology, entity type): model and baseline figures of every run."""
    keys: list[tuple[str, str]] = []
    for ev in runs.values():
        for m in ev["metrics"]:
            k = (m["typology"], m["entity_type"])
            if k not in keys:
                keys.append(k)
    names = " / ".join(runs)
    out = [
        f"| typology | entity | positives ({names}) | AUROC | mean | baseline | baseline AUROC | mean |"
        " AUPRC | baseline AUPRC | recall@budget | baseline recall@budget |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for typ, et in keys:
        rows = [
            next((m for m in ev["metrics"] if (m["typology"], m["entity_type"]) == (typ, et)), None)
            for ev in runs.values()
        ]

        def col(name: str, rows: list[dict[str, Any] | None] = rows) -> list[float | None]:
            return [None if r is None or r.get(name) is None else float(r[name]) for r in rows]

        base = next((r["baseline"] for r in rows if r is not None and r.get("baseline")), "-")
        pos = " / ".join("-" if r is None else str(r["n_pos"]) for r in rows)
        out.append(
            f"| {typ} | {et} | {pos} | {_fmt(col('auroc'))} | **{_mean(col('auroc'))}** | {base} | "
            f"{_fmt(col('baseline_auroc'))} | {_mean(col('baseline_auroc'))} | {_fmt(col('auprc'))} | "
            f"{_fmt(col('baseline_auprc'))} | {_fmt(col('recall_at_budget'))} | {_fmt(col('baseline_recall_at_budget'))} |"
        )
    return out


def cluster_table(runs: dict[str, dict[str, Any]]) -> list[str]:
    """Rows per (typology, clusters): ARI, precision, recall, F1 and block F1 of every run."""
    keys: list[tuple[str, str]] = []
    for ev in runs.values():
        for c in ev.get("clusters", []):
            k = (c["typology"], c["clusters"])
            if k not in keys:
                keys.append(k)
    out = [
        "| typology | clusters | ARI | precision | recall | F1 | mean F1 | block F1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for typ, name in keys:
        rows = [
            next((c for c in ev.get("clusters", []) if (c["typology"], c["clusters"]) == (typ, name)), None)
            for ev in runs.values()
        ]

        def col(field: str, rows: list[dict[str, Any] | None] = rows) -> list[float | None]:
            return [None if r is None or r.get(field) is None else float(r[field]) for r in rows]

        out.append(
            f"| {typ} | {name} | {_fmt(col('ari'))} | {_fmt(col('precision'))} | {_fmt(col('recall'))} | "
            f"{_fmt(col('f1'))} | **{_mean(col('f1'))}** | {_fmt(col('block_f1'))} |"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the tables."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval", nargs="+", required=True, metavar="NAME=FILE", help="evaluate --json outputs")
    args = ap.parse_args(argv)
    runs: dict[str, dict[str, Any]] = {}
    for item in args.eval:
        name, sep, path = item.partition("=")
        if not sep:
            ap.error(f"--eval expects NAME=FILE, got {item!r}")
        runs[name] = json.loads(Path(path).read_text())
    sys.stdout.write("\n".join(detection_table(runs)) + "\n\n" + "\n".join(cluster_table(runs)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
