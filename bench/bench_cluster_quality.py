"""Cluster quality on the synthetic marketplace, each detector beside the trivial baseline.

For every seed: `fraudmine generate --scale S --seed N` (skipped when the folder exists),
`fraudmine nightly --only validate graph duplicates clusters` (the duplicates stage feeds the collusion
graph's near-duplicate channel), then `fraudmine.cluster_eval.evaluate_clusters` (what `fraudmine
evaluate` prints under "clusters").
Baseline, computed from the same run's typed graph: connected components of accounts sharing any
identifier held by at most `--baseline-max-degree` accounts (sellers for rings, buyers for brushing and
reporter rings), components of two or more accounts.

    flock /work/.bench.lock python bench/bench_cluster_quality.py --scale s --seeds 1 2 42
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from fraudmine.cluster_eval import evaluate_clusters

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", default="s")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 42])
    ap.add_argument("--stages", nargs="+", default=["validate", "graph", "duplicates", "clusters"])
    ap.add_argument("--scenario", type=Path)
    ap.add_argument("--config", type=Path, help="nightly config YAML (default: conf/default.yaml)")
    ap.add_argument("--date", default="2026-11-01")
    ap.add_argument("--work", type=Path, default=Path("/tmp/graphcore/quality"))
    args = ap.parse_args()
    all_rows = []
    for seed in args.seeds:
        data, out = args.work / f"data-{args.scale}-{seed}", args.work / f"out-{args.scale}-{seed}"
        gen = [str(BIN / "fraudmine"), "generate", "--scale", args.scale, "--seed", str(seed), "--out", str(data)]
        if args.scenario:
            gen += ["--scenario", str(args.scenario)]
        if not (data / "raw").exists():
            subprocess.run(gen, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
        subprocess.run(
            [
                str(BIN / "fraudmine"),
                "nightly",
                "--input",
                str(data / "raw"),
                "--out",
                str(out),
                "--date",
                args.date,
                "--only",
                *args.stages,
                *(["--config", str(args.config)] if args.config else []),
            ],
            check=True,
            cwd=REPO,
        )
        run = out / "runs" / args.date
        rows = evaluate_clusters(data / "truth", run)  # detectors + the trivial baseline
        manifest = json.loads((run / "manifest.json").read_text())
        secs = {k: v.get("duration_s") for k, v in manifest["stages"].items()}
        for r in rows:
            all_rows.append({"seed": seed, **r, "stage_seconds": secs})
            print(json.dumps({"seed": seed, **r}), flush=True)
        print(
            json.dumps({"seed": seed, "stage_seconds": secs, "loadavg": Path("/proc/loadavg").read_text().split()[:3]})
        )
    print(f"\n{datetime.now(UTC):%Y-%m-%d}, scale {args.scale}, seeds {args.seeds}\n")
    print(
        "| seed | typology | clusters | n | ARI | precision | recall | F1 | block F1 |\n|---|---|---|---|---|---|---|---|---|"
    )
    f = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    for r in all_rows:
        print(
            f"| {r['seed']} | {r['typology']} | {r['clusters']} | {r['n_clusters']} | {f(r['ari'])} | {f(r['precision'])} "
            f"| {f(r['recall'])} | {f(r['f1'])} | {f(r['block_f1'])} |"
        )
    res = REPO / "bench" / "results"
    res.mkdir(parents=True, exist_ok=True)
    (res / f"cluster-quality-{args.scale}-{datetime.now(UTC):%Y%m%d}.json").write_text(json.dumps(all_rows, indent=1))


if __name__ == "__main__":
    main()
