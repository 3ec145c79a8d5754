"""``fraudmine serve`` for real (uvicorn in its own process): snapshots published and rolled back
under concurrent load are picked up without a single failed request, and every answer is consistent
with the snapshot it names."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fraudmine.serving import rollback
from tests.serving_runs import free_port, publish, write_run

pytestmark = pytest.mark.slow
KEY = "swap-test-key"


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Poll ``/readyz`` until it answers 200 (fails if the server exits or the timeout passes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"server exited with {proc.returncode}: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{base} not ready after {timeout}s")


@pytest.fixture(params=["false", "true"], ids=["sqlite-read", "preloaded"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``fraudmine serve`` over ``tmp_path``, reading SQLite per lookup or holding every body in memory."""
    publish(tmp_path, write_run(tmp_path, "2026-11-01", "run-1", m1_risk=0.1))
    port = free_port()
    env = {**os.environ, "FRAUDMINE_API_KEYS": KEY, "FRAUDMINE_RELOAD_INTERVAL_S": "0.05"}
    env["FRAUDMINE_PRELOAD"] = request.param
    cmd = [sys.executable, "-m", "fraudmine.cli", "serve", "--out", str(tmp_path), "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, proc)
        yield base, tmp_path
    finally:
        proc.terminate()  # our own process, by its id
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _load(client: httpx.AsyncClient, stop: asyncio.Event, log: list[tuple[int, str, float | None]]) -> None:
    i = 0
    while not stop.is_set():
        i += 1
        if i % 4:
            r = await client.get("/v1/risk/merchant/m0000001")
            fraud = r.json()["risks"]["fraud"] if r.status_code == 200 else None
        else:
            body = {"entities": [{"entity_type": "merchant", "entity_id": "m0000001"}] * 50}
            r = await client.post("/v1/risk:batch", json=body)
            frauds = {x["risk"]["risks"]["fraud"] for x in r.json()["results"]} if r.status_code == 200 else set()
            fraud = frauds.pop() if len(frauds) == 1 else None  # one batch, one snapshot
        log.append((r.status_code, r.json().get("snapshot_id", "") if r.status_code == 200 else r.text, fraud))


def test_swaps_and_rollback_under_concurrent_load_fail_no_request(server: tuple[str, Path]) -> None:
    base, out = server
    expected: dict[str, float] = {}  # snapshot id → fraud risk of m0000001 in it

    def swaps() -> None:
        for day, risk in ((2, 0.2), (3, 0.3), (4, 0.4)):
            time.sleep(0.4)
            snap = publish(out, write_run(out, f"2026-11-0{day}", f"run-{day}", m1_risk=risk))
            expected[snap.stem] = risk
        time.sleep(0.4)
        rollback(out, "2026-11-05T00:00:00+00:00")  # back to run-3
        time.sleep(0.6)

    async def main() -> list[tuple[int, str, float | None]]:
        log: list[tuple[int, str, float | None]] = []
        stop = asyncio.Event()
        limits = httpx.Limits(max_connections=16)
        async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": KEY}, timeout=10, limits=limits) as client:
            clients = [asyncio.create_task(_load(client, stop, log)) for _ in range(16)]
            while len(log) < 32:  # connections are open and answering before the first swap
                await asyncio.sleep(0.01)
            await asyncio.to_thread(swaps)
            stop.set()
            await asyncio.gather(*clients)
        return log

    first = httpx.get(f"{base}/v1/risk/merchant/m0000001", headers={"X-API-Key": KEY}).json()
    expected[first["snapshot_id"]] = 0.1
    log = asyncio.run(main())
    failed = [entry for entry in log if entry[0] != 200]
    assert failed == [], failed[:5]
    assert len(log) > 100, f"only {len(log)} requests"
    seen = [sid for _, sid, _ in log]
    assert set(seen) == set(expected), "every published snapshot was served"
    wrong = [(sid, fraud) for _, sid, fraud in log if expected[sid] != fraud]
    assert wrong == [], "an answer did not come from the snapshot it names"
    run3 = next(sid for sid, risk in expected.items() if risk == 0.3)
    assert seen[-1] == run3, "after the rollback the previous run's snapshot is served"
    metrics = httpx.get(f"{base}/metrics").text
    assert "fraudmine_api_snapshot_swaps_total 4.0" in metrics
