"""Interleaved single-lookup rounds at one concurrency: bare constant, API before, API, API preloaded.

On a shared machine the load changes between the runs of ``bench_api.py`` (one server after the other,
minutes apart), which moves the ratios by ±15 points.  Here the four servers run side by side (each
pinned to the server CPU, idle while another is under load), and the wrk runs rotate between them round by
round (order reversed every other round); medians over the rounds are compared.

    .venv/bin/python bench/api_rounds.py --out <out> --baseline-code <tree> --rounds 8 --seconds 5 --concurrency 16

Prints one line per run and the medians; ``--json`` writes every run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_api as B  # the bench folder is not a package

SERVERS = ("bare", "api-baseline", "api", "api-preload")


def main() -> int:
    """Parse arguments, run the rounds, print medians."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="output folder whose serving/current is served")
    p.add_argument("--baseline-code", type=Path, required=True, help="code tree of the API before the change")
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--port", type=int, default=18811, help="first of four ports")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="api-rounds-"))
    (tmp / "single.lua").write_text(B.single_script(B.sample_entities(args.out)))
    (tmp / "bare.lua").write_text(B.constant_script("/"))
    ports = {kind: args.port + i for i, kind in enumerate(SERVERS)}
    procs = {kind: B.start(kind, port, args.out, baseline=args.baseline_code) for kind, port in ports.items()}
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in SERVERS}
    try:
        for kind, port in ports.items():
            B.wrk(port, tmp / ("bare.lua" if kind == "bare" else "single.lua"), 16, 1.0)  # warm-up
        for r in range(args.rounds):
            for kind in SERVERS if r % 2 == 0 else reversed(SERVERS):
                load = Path("/proc/loadavg").read_text().split()[0]
                script = tmp / ("bare.lua" if kind == "bare" else "single.lua")
                run = B.wrk(ports[kind], script, args.concurrency, args.seconds, procs[kind].pid)
                run["loadavg"] = load
                runs[kind].append(run)
                print(r, kind, run["rps"], run["server_cpu_us_per_request"], run["p99_ms"], run["errors"], load)
    finally:
        for proc in procs.values():
            B.stop(proc)
    med = {
        kind: {k: statistics.median(x[k] for x in xs) for k in ("rps", "server_cpu_us_per_request", "p99_ms")}
        for kind, xs in runs.items()
    }
    bare = med["bare"]
    for kind, m in med.items():
        print(
            f"{kind:<13} {m['rps']:>8.0f} req/s ({m['rps'] / bare['rps']:.0%} of bare)  "
            f"{m['server_cpu_us_per_request']:>5.1f} µs CPU/req (bare's is {bare['server_cpu_us_per_request'] / m['server_cpu_us_per_request']:.0%} of it)  "
            f"p99 {m['p99_ms']:.2f} ms  errors {sum(x['errors'] for x in runs[kind])}"
        )
    if args.json is not None:
        args.json.write_text(
            json.dumps({"args": vars(args) | {"out": str(args.out)}, "runs": runs, "medians": med}, default=str)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
