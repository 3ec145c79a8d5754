"""Benchmark: the risk lookup API under load from a separate process (wrk), beside its ceilings,
and the serving-snapshot build time and size.

Servers (each its own uvicorn process, uvloop + httptools, one worker, pinned to CPU 0):

- ``bare``: a raw ASGI callable returning a constant (the server's ceiling);
- ``bare-sized``: the same with a body as long as the mean lookup body of the sampled ids and the
  lookup's two headers (an extra row: the ceiling for an answer of a lookup's size; the targets are
  still read against ``bare``);
- ``fastapi-constant``: FastAPI with the API's middleware and key check returning a constant
  (the framework's ceiling: everything except the lookup);
- ``api``: ``fraudmine serve`` over the given output folder's current snapshot (with the raw-ASGI
  fast path for the risk routes, the default);
- ``fastapi-route`` (unless ``--no-fastapi-route``): the same with ``FRAUDMINE_FAST_PATH=false``,
  every request through FastAPI's routing and validation (the before/after of the fast path);
- ``api-preload`` (with ``--preload``): ``fraudmine serve --preload``, every risk body held in memory;
- ``api-workers`` (with ``--workers N``): ``fraudmine serve --workers N``, not pinned (it then
  shares CPU 1 with the load generator, so read it as what N workers give on this 2-core box).

The load generator is ``wrk`` (Debian package ``wrk``), one thread pinned to CPU 1, closed
loop, at each concurrency (connections); single lookups cycle through every scored entity id of the
snapshot in a shuffled order (``--ids N`` caps it; before 2026-12-07 session 23 the cycle was 10,000 ids,
which a per-id cache could have served from memory), batch lookups post bodies of ``--batch-size`` ids.
``--baseline-code DIR`` adds ``api-baseline``: the same ``fraudmine serve`` over the same snapshot but
importing ``fraudmine`` from DIR (e.g. ``git archive`` of the commit before a change), run in the same
session as ``api`` so that before and after share the machine's conditions.  Percentiles
come from wrk's own histogram (microsecond resolution) through a Lua ``done`` hook.

    flock /work/.bench.lock .venv/bin/python bench/bench_api.py --out out/s --build out/s/current out/m/current

Writes bench/results/api-<date>.json and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
KEY = "bench-key"
SERVER_CPU, LOAD_CPU = "0", "1"

DONE_HOOK = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "JSON {\\"requests\\":%d,\\"duration_us\\":%d,\\"p50_us\\":%d,\\"p90_us\\":%d,\\"p99_us\\":%d,"
    .. "\\"p999_us\\":%d,\\"max_us\\":%d,\\"status_errors\\":%d,\\"socket_errors\\":%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max, e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


def _lua_list(items: list[str]) -> str:
    return "{" + ",".join(json.dumps(i) for i in items) + "}"


def single_script(entities: list[tuple[str, str]]) -> str:
    """wrk script: GET one entity per request, cycling through ``entities``."""
    paths = [f"/v1/risk/{et}/{eid}" for et, eid in entities]
    return (
        f"local paths = {_lua_list(paths)}\nlocal i = 0\n"
        f'local headers = {{["X-API-Key"] = "{KEY}"}}\n'
        "request = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i], headers)\nend\n" + DONE_HOOK
    )


def batch_script(entities: list[tuple[str, str]], size: int, n_bodies: int = 20) -> str:
    """wrk script: POST /v1/risk:batch with ``size`` ids, cycling through ``n_bodies`` different bodies."""
    rng = random.Random(7)
    bodies = [
        json.dumps({"entities": [{"entity_type": et, "entity_id": eid} for et, eid in rng.sample(entities, size)]})
        for _ in range(n_bodies)
    ]
    return (
        f"local bodies = {_lua_list(bodies)}\nlocal i = 0\n"
        f'local headers = {{["X-API-Key"] = "{KEY}", ["Content-Type"] = "application/json"}}\n'
        "request = function()\n  i = i % #bodies + 1\n"
        "  return wrk.format('POST', '/v1/risk:batch', headers, bodies[i])\nend\n" + DONE_HOOK
    )


def constant_script(path: str) -> str:
    """wrk script: GET ``path`` with the key header."""
    return (
        f'local headers = {{["X-API-Key"] = "{KEY}"}}\nrequest = function()\n  return wrk.format("GET", "{path}", headers)\nend\n'
        + DONE_HOOK
    )


def start(
    kind: str, port: int, out: Path, workers: int = 1, body_bytes: int = 330, baseline: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start one server process (pinned to the server CPU unless it has several workers); wait until it answers.

    ``api-baseline`` is ``api`` importing ``fraudmine`` from ``baseline`` (``PYTHONPATH``) instead of this checkout."""
    py = sys.executable
    uv = [py, "-m", "uvicorn", "--app-dir", str(REPO / "bench"), "--loop", "uvloop", "--http", "httptools"]
    uv += ["--no-access-log", "--log-level", "warning", "--port", str(port)]
    cmd = {
        "bare": [*uv, "asgi_ceiling:bare"],
        "bare-sized": [*uv, "asgi_ceiling:bare_sized"],
        "fastapi-constant": [*uv, "--factory", "asgi_ceiling:fastapi_constant"],
        "api": [py, "-m", "fraudmine.cli", "serve", "--out", str(out), "--port", str(port)],
        "fastapi-route": [py, "-m", "fraudmine.cli", "serve", "--out", str(out), "--port", str(port)],
        "api-workers": [py, "-m", "fraudmine.cli", "serve", "--out", str(out), "--port", str(port)],
        "api-baseline": [py, "-m", "fraudmine.cli", "serve", "--out", str(out), "--port", str(port)],
        "api-preload": [py, "-m", "fraudmine.cli", "serve", "--out", str(out), "--port", str(port), "--preload"],
    }[kind]
    if kind == "api-workers":
        cmd += ["--workers", str(workers)]
    env = {**os.environ, "FRAUDMINE_API_KEYS": KEY, "FRAUDMINE_FAST_PATH": str(kind != "fastapi-route").lower()}
    env["BENCH_BODY_BYTES"] = str(body_bytes)
    if kind == "api-baseline":
        if baseline is None:
            raise ValueError("api-baseline needs --baseline-code DIR")
        env["PYTHONPATH"] = str(baseline.resolve())
    pin = [] if kind == "api-workers" else ["taskset", "-c", SERVER_CPU]
    proc = subprocess.Popen([*pin, *cmd], env=env, cwd=REPO, stderr=subprocess.PIPE)
    probe = "/v1/risk/merchant/x" if kind in ("bare", "bare-sized", "fastapi-constant") else "/readyz"
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(f"{kind} server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}{probe}", headers={"X-API-Key": KEY}, timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.terminate()
    raise TimeoutError(f"{kind} server did not become ready")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server we started, by its process id."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children so far (from /proc; a multi-worker
    server's workers are its children, and their time is read directly since they are still alive)."""
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _children(pid: int) -> list[int]:
    """Process ids of the children of ``pid`` (recursively)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in task.read_text().split():
            out += [int(child), *_children(int(child))]
    return out


def wrk(port: int, script: Path, connections: int, seconds: float, server_pid: int | None = None) -> dict[str, Any]:
    """One closed-loop wrk run; returns throughput, latency percentiles (ms), error counts and, given the
    server's pid, the server's CPU time per request (less sensitive to a shared machine than wall time)."""
    cmd = [
        "taskset",
        "-c",
        LOAD_CPU,
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
    ]
    cmd += ["-s", str(script), f"http://127.0.0.1:{port}"]
    cpu0 = cpu_seconds(server_pid) if server_pid else 0.0
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(server_pid) - cpu0 if server_pid else float("nan")
    data = json.loads(next(line[5:] for line in out.splitlines() if line.startswith("JSON ")))
    secs = data["duration_us"] / 1e6
    return {
        "rps": round(data["requests"] / secs, 1),
        "p50_ms": data["p50_us"] / 1000,
        "p90_ms": data["p90_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
        "p999_ms": data["p999_us"] / 1000,
        "requests": data["requests"],
        "errors": data["status_errors"] + data["socket_errors"],
        "server_cpu_us_per_request": round(cpu / max(1, data["requests"]) * 1e6, 1),
    }


def sample_entities(out: Path, n: int | None = None) -> list[tuple[str, str]]:
    """Every scored ``(entity_type, entity_id)`` of the current snapshot in a shuffled order (fixed seed), or the
    first ``n`` of that order."""
    con = sqlite3.connect(f"file:{(out / 'serving' / 'current').resolve()}?mode=ro", uri=True)
    rows = [(str(a), str(b)) for a, b in con.execute("SELECT entity_type, entity_id FROM scores")]
    con.close()
    random.Random(42).shuffle(rows)
    return rows[:n]


def mean_body_bytes(out: Path, entities: list[tuple[str, str]]) -> int:
    """Mean length of the single-lookup bodies of ``entities`` (for the size-matched constant)."""
    from fraudmine.api.stores.sqlite import SqliteStore

    store = SqliteStore(out)
    reader = store.current()
    assert reader is not None, f"{out}: no current snapshot"
    sizes = [len(reader.risk_body(et, eid) or b"") for et, eid in entities]
    store.close()
    return round(sum(sizes) / max(1, len(sizes)))


def load_test(
    out: Path,
    concurrency: list[int],
    seconds: float,
    batch_size: int,
    port: int,
    fastapi_route: bool,
    workers: int,
    ids: int | None = None,
    baseline: Path | None = None,
    preload: bool = False,
) -> list[dict[str, Any]]:
    """Run every (target, concurrency) pair; returns one row per pair."""
    entities = sample_entities(out, ids)
    body_bytes = mean_body_bytes(out, entities)
    print(
        f"single lookups cycle through {len(entities)} ids; mean body {body_bytes} bytes (bare-sized's body)",
        flush=True,
    )
    tmp = Path(tempfile.mkdtemp(prefix="bench-api-"))
    scripts = {
        "bare": constant_script("/"),
        "bare-sized": constant_script("/"),
        "fastapi-constant": constant_script("/v1/risk/merchant/m0000001"),
        "api single": single_script(entities),
        f"api batch {batch_size}": batch_script(entities, min(batch_size, len(entities))),
    }
    servers = ["bare", "bare-sized", "fastapi-constant", "api"]
    if fastapi_route:
        servers.append("fastapi-route")
        scripts["fastapi-route single"] = scripts["api single"]
        scripts[f"fastapi-route batch {batch_size}"] = scripts[f"api batch {batch_size}"]
    if preload:
        servers.insert(servers.index("api") + 1, "api-preload")
        scripts["api-preload single"] = scripts["api single"]
        scripts[f"api-preload batch {batch_size}"] = scripts[f"api batch {batch_size}"]
    if baseline is not None:
        servers.insert(servers.index("api"), "api-baseline")
        scripts["api-baseline single"] = scripts["api single"]
        scripts[f"api-baseline batch {batch_size}"] = scripts[f"api batch {batch_size}"]
    if workers > 1:
        servers.append("api-workers")
        scripts[f"api-workers single (x{workers})"] = scripts["api single"]
        scripts[f"api-workers batch {batch_size} (x{workers})"] = scripts[f"api batch {batch_size}"]
    for name, text in scripts.items():
        (tmp / f"{name.replace(' ', '_')}.lua").write_text(text)
    rows = []
    for server in servers:
        proc = start(server, port, out, workers, body_bytes, baseline)
        try:
            targets = [t for t in scripts if t.split(" ")[0] == server]
            for target in targets:
                script = tmp / f"{target.replace(' ', '_')}.lua"
                wrk(port, script, 16, 1.0)  # warm-up
                for c in concurrency:
                    load = Path("/proc/loadavg").read_text().split()[:3]
                    r = wrk(port, script, c, seconds, proc.pid)
                    after = Path("/proc/loadavg").read_text().split()[:3]
                    r.update(target=target, concurrency=c, loadavg_before=" ".join(load), loadavg_after=" ".join(after))
                    if target == "bare-sized":
                        r["body_bytes"] = body_bytes
                    if " batch " in target:
                        r["ids_per_s"] = round(r["rps"] * batch_size, 1)
                    rows.append(r)
                    print(
                        f"{target:<18} c={c:<3} {r['rps']:>9.1f} req/s  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  "
                        f"cpu {r['server_cpu_us_per_request']} us/req  errors {r['errors']}  "
                        f"load {r['loadavg_before']} -> {r['loadavg_after']}",
                        flush=True,
                    )
        finally:
            stop(proc)
    shutil.rmtree(tmp)
    return rows


def in_process(out: Path, rounds: int = 15) -> list[dict[str, Any]]:
    """CPU time per request with the ASGI apps called directly (no socket, no HTTP parsing), min over rounds,
    then through uvicorn's HTTP protocol (:func:`through_uvicorn`).

    Not a load test: it isolates what the app itself costs per request (framework, auth,
    lookup, serialisation), which a shared machine disturbs far less than wall-clock load.
    """
    import asyncio

    sys.path.insert(0, str(REPO / "bench"))
    os.environ.setdefault("FRAUDMINE_API_KEYS", KEY)
    import asgi_ceiling

    from fraudmine.api.app import create_app
    from fraudmine.api.settings import ApiSettings
    from fraudmine.api.stores.sqlite import SqliteStore

    entities = sample_entities(out, 1000)
    api = create_app(ApiSettings(output=out, api_keys=(KEY,)), SqliteStore(out))
    route = create_app(ApiSettings(output=out, api_keys=(KEY,), fast_path=False), SqliteStore(out))
    body = json.dumps({"entities": [{"entity_type": et, "entity_id": eid} for et, eid in entities[:100]]}).encode()
    et, eid = entities[0]
    targets: list[tuple[str, Any, str, str, int]] = [
        ("bare", asgi_ceiling.bare, "GET", "/", 300),
        ("fastapi-constant", asgi_ceiling.fastapi_constant(), "GET", "/v1/risk/merchant/m0000001", 300),
        ("api single", api, "GET", f"/v1/risk/{et}/{eid}", 300),
        ("api batch 100", api, "POST", "/v1/risk:batch", 30),
        ("fastapi-route single", route, "GET", f"/v1/risk/{et}/{eid}", 300),
        ("fastapi-route batch 100", route, "POST", "/v1/risk:batch", 30),
    ]

    def scope(method: str, path: str) -> dict[str, Any]:
        headers = [(b"host", b"bench"), (b"x-api-key", KEY.encode()), (b"content-type", b"application/json")]
        return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2)}  # fmt: skip

    async def run() -> dict[str, float]:
        status: list[int] = []

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        best = {t[0]: float("inf") for t in targets}
        for _ in range(rounds):
            for name, app, method, path, n in targets:
                payload = body if method == "POST" else b""

                async def receive(payload: bytes = payload) -> dict[str, Any]:
                    return {"type": "http.request", "body": payload, "more_body": False}

                t0 = time.process_time()
                for _ in range(n):
                    await app(scope(method, path), receive, send)
                best[name] = min(best[name], (time.process_time() - t0) / n * 1e6)
                assert set(status) == {200}, (name, status[-1])
        return best

    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    best = asyncio.run(run())
    best.update(through_uvicorn(api, entities))
    rows = [{"target": k, "cpu_us_per_request": round(v, 1), "loadavg_before": load} for k, v in best.items()]
    for r in rows:
        print(f"in-process {r['target']:<18} {r['cpu_us_per_request']:>8.1f} us CPU/request", flush=True)
    return rows


def through_uvicorn(api: Any, entities: list[tuple[str, str]]) -> dict[str, float]:
    """CPU per request through uvicorn's HTTP protocol without a socket (``asgi_protocol``): the two ceilings
    and single lookups cycling through ``entities``."""
    import asgi_ceiling
    from asgi_protocol import cpu_per_request, request

    paths = [request(f"/v1/risk/{et}/{eid}", KEY) for et, eid in entities]
    out: dict[str, float] = {}
    for name, app, requests in (
        ("bare (uvicorn protocol)", asgi_ceiling.bare, [request("/", KEY)]),
        ("bare-sized (uvicorn protocol)", asgi_ceiling.bare_sized, [request("/", KEY)]),
        (f"api single, {len(paths)} ids (uvicorn protocol)", api, paths),
    ):
        out[name] = cpu_per_request(app, requests)[0]
    return out


def synthetic_run(root: Path, merchants: int) -> Path:
    """A run folder shaped like today's nightly output at ``merchants`` scored merchants.

    Scores (``SCORES_DDL``) with reasons for the medium+ bands, decisions (``DECISIONS_DDL``)
    for half as many queue items, identity clusters of 5 for 10% of the merchants (per-cluster
    shape), written with pyarrow.  For the build time at a scale no real run exists for yet.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    sys.path.insert(0, str(REPO))
    from fraudmine.contracts.outputs import DECISIONS_DDL, SCORES_DDL
    from tests.serving_runs import ddl_schema

    rng = np.random.default_rng(42)
    run = root / "runs" / "2026-11-01"
    ids = [f"m{i:07d}" for i in range(merchants)]
    risk = rng.beta(0.5, 4, merchants)
    band = np.array(["low", "medium", "high", "critical"])[np.searchsorted([0.2, 0.5, 0.8], risk, side="right")]
    reasons = [[] if b == "low" else ["SHARED_IDENTIFIERS", "IDENTITY_PROFILE", "LISTING_VOLUME"] for b in band]
    as_of = datetime(2026, 11, 1, tzinfo=UTC)
    scores = {
        "entity_type": ["merchant"] * merchants, "entity_id": ids, "fraud_risk": risk,
        "low_quality_risk": rng.random(merchants), "calibrated": [True] * merchants, "risk_band": band,
        "top_reasons": reasons, "model_version": ["m/1"] * merchants, "run_id": ["r"] * merchants,
        "as_of": [as_of] * merchants,
    }  # fmt: skip
    (run / "scores").mkdir(parents=True)
    pq.write_table(pa.table(scores, schema=ddl_schema(SCORES_DDL)), run / "scores" / "part-0.parquet")
    n = merchants // 2
    decisions = {
        "item_id": [f"q{i:08d}" for i in range(n)], "item_type": ["product_listing"] * n,
        "merchant_id": ids[:n], "creator_id": [None] * n, "product_id": [f"p{i:09d}" for i in range(n)],
        "action": ["approve"] * n, "reason_codes": [["NO_RISK_SIGNAL"]] * n,
        "evidence": ['{"risk_band":"low"}'] * n, "policy_version": ["p"] * n, "model_version": ["m/1"] * n,
        "run_id": ["r"] * n,
    }  # fmt: skip
    (run / "decisions").mkdir(parents=True)
    pq.write_table(pa.table(decisions, schema=ddl_schema(DECISIONS_DDL)), run / "decisions" / "part-0.parquet")
    k = merchants // 50
    clusters = {
        "cluster_id": [f"identity-{i:06d}" for i in range(k)], "cluster_type": ["identity"] * k, "size": [5] * k,
        "members": [[f"merchant:{ids[5 * i + j]}" for j in range(5)] for i in range(k)],
        "risk": rng.random(k), "evidence": ['{"shared_identifiers":3}'] * k,
    }  # fmt: skip
    (run / "clusters" / "identity").mkdir(parents=True)
    pq.write_table(pa.table(clusters), run / "clusters" / "identity" / "part-0.parquet")
    (run / "manifest.json").write_text(json.dumps({"run_id": f"synthetic-{merchants}", "run_date": "2026-11-01"}))
    return run


def build_times(runs: list[Path]) -> list[dict[str, Any]]:
    """Time :func:`build_snapshot` on each run folder (into a temporary output root)."""
    from fraudmine.serving import build_snapshot

    rows = []
    for run in runs:
        run = run.resolve()
        with tempfile.TemporaryDirectory(prefix="bench-snap-") as tmp:
            load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
            t0 = time.monotonic()
            snap = build_snapshot(run, Path(tmp))
            secs = time.monotonic() - t0
            after = " ".join(Path("/proc/loadavg").read_text().split()[:3])
            con = sqlite3.connect(f"file:{snap}?mode=ro", uri=True)
            counts = json.loads(con.execute("SELECT value FROM meta WHERE key = 'row_counts'").fetchone()[0])
            con.close()
            scores_mib = sum(p.stat().st_size for p in (run / "scores").rglob("*.parquet")) / 2**20
            rows.append(
                {
                    "run": str(run)
                    if "bench-synth-" not in str(run)
                    else f"synthetic, {run.parent.parent.name} merchants",
                    "seconds": round(secs, 2),
                    "size_mib": round(snap.stat().st_size / 2**20, 1),
                    "scores_parquet_mib": round(scores_mib, 1),
                    "rows": counts,
                    "loadavg_before": load,
                    "loadavg_after": after,
                }
            )
            print(
                f"build {run}: {secs:.2f} s, {rows[-1]['size_mib']} MiB, {counts}, load {load} -> {after}", flush=True
            )
    return rows


def markdown(result: dict[str, Any]) -> str:
    """Markdown tables of a result."""
    lines: list[str] = []
    if result["load"]:
        lines += [
            "| target | concurrency | req/s | ids/s | p50 (ms) | p90 (ms) | p99 (ms) | server CPU (µs/req) | errors | load avg |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in result["load"]:
            lines.append(
                f"| {r['target']} | {r['concurrency']} | {r['rps']:.0f} | {r.get('ids_per_s', r['rps']):.0f} | "
                f"{r['p50_ms']:.2f} | {r['p90_ms']:.2f} | {r['p99_ms']:.2f} | {r['server_cpu_us_per_request']:.0f} | "
                f"{r['errors']} | {r['loadavg_before']} → {r.get('loadavg_after', '?')} |"
            )
        by = {(r["target"], r["concurrency"]): r for r in result["load"]}
        lines += [
            "",
            "| concurrency | api single / bare (req/s) | FastAPI route single / bare (req/s) | api single / fastapi-constant (req/s) | api single / bare, by server CPU per request | api single / bare-sized (req/s) | api-baseline single / bare (req/s; by CPU) | api-preload single / bare (req/s; by CPU) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for c in sorted({r["concurrency"] for r in result["load"]}):
            a, b, f = by.get(("api single", c)), by.get(("bare", c)), by.get(("fastapi-constant", c))
            route, sized = by.get(("fastapi-route single", c)), by.get(("bare-sized", c))
            base = by.get(("api-baseline single", c))
            held = by.get(("api-preload single", c))
            if a and b and f:
                cpu = a["server_cpu_us_per_request"]
                slow = f"{route['rps'] / b['rps']:.0%}" if route else "-"
                same_size = f"{a['rps'] / sized['rps']:.0%}" if sized else "-"
                before = (
                    f"{base['rps'] / b['rps']:.0%}; {b['server_cpu_us_per_request'] / base['server_cpu_us_per_request']:.0%}"
                    if base
                    else "-"
                )
                pre = (
                    f"{held['rps'] / b['rps']:.0%}; {b['server_cpu_us_per_request'] / held['server_cpu_us_per_request']:.0%}"
                    if held
                    else "-"
                )
                lines.append(
                    f"| {c} | {a['rps'] / b['rps']:.0%} | {slow} | {a['rps'] / f['rps']:.0%} | "
                    f"{b['server_cpu_us_per_request'] / cpu:.0%} | {same_size} | {before} | {pre} |"
                )
    if result.get("in_process"):
        lines += ["", "| in process (no HTTP) | CPU µs / request | load avg |", "|---|---|---|"]
        lines += [
            f"| {r['target']} | {r['cpu_us_per_request']:.1f} | {r['loadavg_before']} |" for r in result["in_process"]
        ]
    if result["build"]:
        lines += [
            "",
            "| run | rows (scores / clusters / members / decisions) | build (s) | snapshot (MiB) | scores Parquet (MiB) | load avg |",
            "|---|---|---|---|---|---|",
        ]
        for b in result["build"]:
            n = b["rows"]
            lines.append(
                f"| {b['run']} | {n['scores']} / {n['clusters']} / {n['cluster_members']} / {n['decisions']} | "
                f"{b['seconds']} | {b['size_mib']} | {b['scores_parquet_mib']} | {b['loadavg_before']} → {b['loadavg_after']} |"
            )
    return "\n".join(lines)


def main() -> int:
    """Parse arguments, run, write JSON, print Markdown."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, help="output folder whose serving/current is load-tested")
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    p.add_argument("--seconds", type=float, default=10.0, help="per wrk run (default 10)")
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--port", type=int, default=18765)
    p.add_argument("--no-fastapi-route", action="store_true", help="skip the API without its fast path")
    p.add_argument("--workers", type=int, default=1, help="also load-test `fraudmine serve --workers N` (N > 1)")
    p.add_argument("--preload", action="store_true", help="also load-test `fraudmine serve --preload`")
    p.add_argument("--ids", type=int, default=None, help="single lookups cycle through this many ids (default: all)")
    p.add_argument(
        "--baseline-code", type=Path, default=None, help="also load-test the API importing fraudmine from this folder"
    )
    p.add_argument("--build", type=Path, nargs="*", default=[], help="run folders to time the snapshot build on")
    p.add_argument("--in-process", action="store_true", help="only the in-process CPU cost per request (no wrk)")
    p.add_argument(
        "--synthetic", type=int, nargs="*", default=[], help="also time builds of synthetic runs of N merchants"
    )
    args = p.parse_args()
    if args.out is not None and shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install wrk")
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "load": load_test(
            args.out,
            args.concurrency,
            args.seconds,
            args.batch_size,
            args.port,
            not args.no_fastapi_route,
            args.workers,
            args.ids,
            args.baseline_code,
            args.preload,
        )
        if args.out and not args.in_process
        else [],
        "in_process": in_process(args.out) if args.out and args.in_process else [],
        "build": [],
    }
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        synth = [synthetic_run(Path(tmp) / str(n), n) for n in args.synthetic]
        result["build"] = build_times([*args.build, *synth])
    dest = REPO / "bench" / "results" / f"api-{result['date'].replace(':', '')[:17]}.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(result, indent=2))
    print(markdown(result))
    print(f"\nraw: {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
