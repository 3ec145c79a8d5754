"""Entity-resolution quality on the public product benchmarks, through `fraudmine bench dedup`.

Runs the CLI's function (`fraudmine.dedup.benchmark.run_benchmark`) unsupervised and supervised
(DeepMatcher training pairs) on each data set folder given, with and without embeddings, and
prints one Markdown row per run with the trivial baseline (exact normalised-title match) beside
it; writes bench/results/dedup-<date>.json.  Run heavy: `flock /work/.bench.lock python bench/bench_dedup.py ...`

    python bench/bench_dedup.py \
        --set abt_buy:/work/shared/data/er/abt_buy/Abt.csv,Buy.csv,abt_buy_perfectMapping.csv,deepmatcher/train.csv \
        --set walmart_amazon:/work/shared/data/er/walmart_amazon/jedai_D8/walmart.csv,amazon.csv,gt.csv,../deepmatcher/train.csv
"""

from __future__ import annotations

import argparse
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fraudmine.dedup.benchmark import BenchOptions, run_benchmark

REPO = Path(__file__).resolve().parent.parent


def _load() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[0] if Path("/proc/loadavg").exists() else "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--set",
        action="append",
        required=True,
        help="name:LEFT,RIGHT,TRUTH[,TRAIN] (RIGHT.. relative to LEFT's folder)",
    )
    ap.add_argument("--no-embeddings", action="store_true")
    ap.add_argument("--k", type=int, default=5)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    rows: list[dict[str, Any]] = []
    cache = Path.home() / ".cache" / "fraudmine" / "embeddings"
    for spec in args.set:
        name, files = spec.split(":", 1)
        parts = files.split(",")
        left = Path(parts[0])
        right, truth = left.parent / parts[1], left.parent / parts[2]
        train = (left.parent / parts[3]).resolve() if len(parts) > 3 else None
        for mode, tr in (("unsupervised", None), ("supervised", train)):
            if mode == "supervised" and tr is None:
                continue
            before = _load()
            opts = BenchOptions(train=tr, k=args.k, embeddings=not args.no_embeddings, cache_dir=cache)
            res = run_benchmark(left, right, truth, opts)
            row = {
                "set": name,
                "mode": mode,
                "embeddings": not args.no_embeddings,
                "load_before": before,
                "load_after": _load(),
            }
            row.update({k: v for k, v in res.items() if k != "details"})
            row["baseline_f1"] = res["details"]["baseline_exact_title"]["f1"]
            row["all_gold"] = res["details"]["all_gold"]
            row["threshold"] = res["details"]["threshold"]
            row["generators"] = res["details"]["generators"]
            rows.append(row)
            print(
                f"| {name} | {mode} | {row['embeddings']} | {row['f1'] * 100:.1f} | {row['precision'] * 100:.1f} | "
                f"{row['recall'] * 100:.1f} | {row['baseline_f1'] * 100:.1f} | {row['pair_completeness']:.4f} | "
                f"{row['candidates_per_record']:.1f} | {row['seconds']:.0f} | {before} → {row['load_after']} |",
                flush=True,
            )
    out = REPO / "bench" / "results" / f"dedup-{datetime.now(UTC):%Y%m%dT%H%M}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1, default=str))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
