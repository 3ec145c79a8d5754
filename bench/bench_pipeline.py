"""Benchmark: wall time and peak memory of `fraudmine generate` and `fraudmine nightly` per scale.

Each command runs as a subprocess; peak memory is the highest total RSS of the
subprocess tree (Python driver + Spark JVM + Python workers), sampled every
0.2 s from /proc.  Prints a Markdown table (with command, machine and date) and
writes the raw numbers to bench/results/pipeline-<date>.json.

    python bench/bench_pipeline.py --scales xs s
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d.name))
    return kids


def _tree_rss(pid: int) -> int:
    kids, total, todo = _children(), 0, [pid]
    while todo:
        p = todo.pop()
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE
        todo.extend(kids.get(p, []))
    return total


def loadavg() -> str:
    """The 1/5/15-minute load averages (the machine is shared: recorded beside every timing)."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def measure(cmd: list[str]) -> dict[str, Any]:
    """Run ``cmd``; return wall seconds, peak tree RSS in MiB and the load before/after. Raises on failure."""
    load_before = loadavg()
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.2)
    wall = time.monotonic() - t0
    err = proc.stderr.read() if proc.stderr else ""
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err[-2000:]}")
    return {"wall_s": round(wall, 1), "peak_rss_mib": round(peak / 2**20), "load": f"{load_before} -> {loadavg()}"}


def evaluate_json(data: Path, out: Path) -> dict[str, Any]:
    """``fraudmine evaluate --json`` of the published run in ``out`` against ``data/truth``."""
    ev = subprocess.run(
        [
            sys.executable,
            "-m",
            "fraudmine.cli",
            "evaluate",
            "--truth",
            str(data / "truth"),
            "--run",
            str(out / "current"),
            "--json",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(ev.stdout)
    return result


def machine() -> str:
    """One line describing this machine."""
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    mem = int(Path("/proc/meminfo").read_text().split()[1]) // 2**20
    return f"{os.cpu_count()} cores ({cpu}), {mem} GiB RAM, Python {platform.python_version()}"


def main() -> int:
    """Run the benchmark for the requested scales."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", nargs="+", default=["xs", "s"], choices=["xs", "s", "m", "l"])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--work", type=Path, default=REPO / "bench" / "results" / "work")
    ap.add_argument("--config", type=Path, help="config YAML passed to `fraudmine nightly` (e.g. more driver memory)")
    args = ap.parse_args()
    exe = [sys.executable, "-m", "fraudmine.cli"]
    rows: list[dict[str, Any]] = []
    cfg_args = ["--config", str(args.config.resolve())] if args.config else []
    for scale in args.scales:
        data, out = args.work / f"data-{scale}", args.work / f"out-{scale}"
        subprocess.run(["rm", "-rf", str(data), str(out)], check=True)
        row: dict[str, Any] = {"scale": scale, "config": str(args.config) if args.config else "conf/default.yaml"}
        try:
            row["generate"] = measure(
                [*exe, "generate", "--scale", scale, "--seed", str(args.seed), "--out", str(data)]
            )
            row["nightly"] = measure(
                [*exe, "nightly", "--input", str(data / "raw"), "--out", str(out), "--date", "2026-11-01", *cfg_args]
            )
            row["evaluate"] = evaluate_json(data, out)
        except RuntimeError as exc:  # record the failure and keep the other scales' figures
            row["error"] = str(exc)[-1500:]
        runs = sorted((out / "runs").glob("*/manifest.json")) if (out / "runs").exists() else []
        if runs:
            manifest = json.loads(runs[-1].read_text())
            row["stages"] = {k: (v["status"], v["duration_s"]) for k, v in manifest["stages"].items()}
            row["resources"] = manifest.get("spark", {}).get("resources")
        summary = data / "truth" / "summary.json"
        if summary.exists():
            row["input_rows"] = sum(json.loads(summary.read_text())["tables"].values())
        rows.append(row)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    result = {"date": stamp, "machine": machine(), "command": " ".join(sys.argv), "rows": rows}
    res_dir = REPO / "bench" / "results"
    res_dir.mkdir(parents=True, exist_ok=True)
    (res_dir / f"pipeline-{stamp}.json").write_text(json.dumps(result, indent=2))
    print(f"machine: {result['machine']}\ndate: {stamp}\ncommand: python {result['command']}\n")
    print(
        "| scale | generate wall (s) | generate peak RSS (MiB) | nightly wall (s) | nightly peak RSS (MiB) | status |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        g, n = r.get("generate", {}), r.get("nightly", {})
        status = "ok" if "error" not in r else "FAILED: " + r["error"].strip().splitlines()[-1][:120]
        print(
            f"| {r['scale']} | {g.get('wall_s', '-')} | {g.get('peak_rss_mib', '-')} | "
            f"{n.get('wall_s', '-')} | {n.get('peak_rss_mib', '-')} | {status} |"
        )
    print("\ngrowth exponents of the nightly wall time (log t2/t1 / log rows2/rows1):")
    timed = [r for r in rows if "nightly" in r and r.get("input_rows")]
    for a, b in itertools.pairwise(timed):
        k = math.log(b["nightly"]["wall_s"] / a["nightly"]["wall_s"]) / math.log(b["input_rows"] / a["input_rows"])
        print(f"- {a['scale']} -> {b['scale']}: {k:.2f}")
    print("\nresources and load:")
    for r in rows:
        print(f"- {r['scale']}: {r.get('resources')}; load {r.get('nightly', {}).get('load')}")
    print("\nstage durations (s):")
    for r in rows:
        stages = r.get("stages", {})
        print(f"- {r['scale']}: " + ", ".join(f"{k} {d} ({st})" for k, (st, d) in stages.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
