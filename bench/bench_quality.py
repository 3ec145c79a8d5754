"""Benchmark: detection quality per typology, relational features vs a tabular-only ablation.

For each scenario, generates the marketplace once, runs the nightly pipeline
twice (``model.feature_set: all`` and ``tabular``) and evaluates both runs
against the ground truth.  Prints a Markdown table (with command, machine, date)
and writes the raw results to bench/results/quality-<date>.json.

    python bench/bench_quality.py --scale s --scenarios default heavy_camouflage
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench_pipeline import REPO, evaluate_json, machine, measure


def _config(feature_set: str, dst: Path) -> Path:
    """default.yaml with ``model.feature_set`` set (relative paths resolve against the repo, not the copy)."""
    text = (REPO / "conf" / "default.yaml").read_text()
    if "feature_set: all" not in text:
        raise RuntimeError("conf/default.yaml no longer sets 'feature_set: all'; update bench_quality._config")
    dst.write_text(text.replace("feature_set: all", f"feature_set: {feature_set}"))
    return dst


def main() -> int:
    """Run the quality benchmark."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="s", choices=["xs", "s", "m"])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--scenarios", nargs="+", default=["default", "heavy_camouflage"])
    ap.add_argument("--work", type=Path, default=REPO / "bench" / "results" / "work")
    args = ap.parse_args()
    exe = [sys.executable, "-m", "fraudmine.cli"]
    results = []
    for scenario in args.scenarios:
        data = args.work / f"q-{scenario}-{args.scale}"
        subprocess.run(["rm", "-rf", str(data)], check=True)
        scen = REPO / "conf" / "scenarios" / f"{scenario}.yaml"
        measure(
            [
                *exe,
                "generate",
                "--scale",
                args.scale,
                "--seed",
                str(args.seed),
                "--out",
                str(data),
                "--scenario",
                str(scen),
            ]
        )
        for fs in ("all", "tabular"):
            out = data / f"out-{fs}"
            cfg = _config(fs, data / f"config-{fs}.yaml")
            timing = measure(
                [
                    *exe,
                    "nightly",
                    "--input",
                    str(data / "raw"),
                    "--out",
                    str(out),
                    "--date",
                    "2026-11-01",
                    "--config",
                    str(cfg),
                ]
            )
            results.append(
                {
                    "scenario": scenario,
                    "feature_set": fs,
                    "nightly": timing,
                    "metrics": evaluate_json(data, out)["metrics"],
                }
            )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    doc = {
        "date": stamp,
        "machine": machine(),
        "command": " ".join(sys.argv),
        "scale": args.scale,
        "seed": args.seed,
        "results": results,
    }
    (REPO / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (REPO / "bench" / "results" / f"quality-{stamp}.json").write_text(json.dumps(doc, indent=2))
    print(f"machine: {doc['machine']}\ndate: {stamp}\ncommand: python {doc['command']}\n")
    print(
        "| scenario | typology | n_pos | AUROC all | AUROC tabular | AUPRC all | AUPRC tabular | R@1% all | R@1% tabular |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    by = {
        (r["scenario"], r["feature_set"]): {m["typology"]: m for m in r["metrics"] if m["entity_type"] == "merchant"}
        for r in results
    }

    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f}"

    for scenario in args.scenarios:
        full, tab = by[(scenario, "all")], by[(scenario, "tabular")]
        for typ, m in full.items():
            t = tab.get(typ, {})
            print(
                f"| {scenario} | {typ} | {m['n_pos']} | {f(m['auroc'])} | {f(t.get('auroc'))} | "
                f"{f(m['auprc'])} | {f(t.get('auprc'))} | {f(m['recall_at_budget'])} | "
                f"{f(t.get('recall_at_budget'))} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
