"""CPU per request through uvicorn's own HTTP protocol, without a socket (for bench/bench_api.py).

Raw request bytes are fed to uvicorn's ``HttpToolsProtocol`` (the httptools parser,
the ASGI scope, the per-request task, ``ProxyHeadersMiddleware``, uvicorn's
``send`` with its header checks and the keep-alive timer) on a uvloop loop, and
the response is written into a transport that only counts bytes.  What is left
out is the kernel's socket work and uvloop's I/O callbacks, the same for every
app.  Process CPU time per request, minimum over rounds: a load-robust proxy for
a server's CPU per request, unlike the wall-clock throughput of a load test on a
shared machine.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import uvloop
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState


class _CountingTransport(asyncio.Transport):
    """A transport that accepts every write and counts it."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.bytes = 0
        self.head = b""

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self.head:
            self.head = bytes(data[:12])
        self.writes += 1
        self.bytes += len(data)

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass


def request(path: str, key: str) -> bytes:
    """The bytes of a keep-alive ``GET path`` with an ``X-API-Key`` header, as wrk sends it."""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nX-API-Key: {key}\r\n\r\n".encode()


async def _drive(app: Any, requests: list[bytes], n: int, rounds: int) -> tuple[float, float]:
    loop = asyncio.get_running_loop()
    config = Config(app=app, loop="uvloop", http="httptools", access_log=False, log_level="warning")
    config.load()
    state = ServerState()
    state.default_headers = [(b"date", b"Mon, 07 Dec 2026 08:00:00 GMT"), *config.encoded_headers]
    protocol = HttpToolsProtocol(config, state, {}, loop)
    transport = _CountingTransport()
    protocol.connection_made(transport)
    best, k = float("inf"), 0
    for _ in range(rounds):
        t0 = time.process_time()
        for _ in range(n):
            protocol.data_received(requests[k % len(requests)])
            k += 1
            while not protocol.cycle.response_complete:
                await asyncio.sleep(0)
        best = min(best, (time.process_time() - t0) / n * 1e6)
    assert transport.head == b"HTTP/1.1 200", transport.head
    protocol.connection_lost(None)
    return best, transport.bytes / max(1, k)


def cpu_per_request(app: Any, requests: list[bytes], n: int = 2000, rounds: int = 15) -> tuple[float, float]:
    """Minimum CPU µs per request over ``rounds`` of ``n`` requests (cycling through ``requests``),
    and the mean response bytes per request."""
    return uvloop.run(_drive(app, requests, n, rounds))
