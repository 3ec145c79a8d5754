"""One run at a time per output folder.

The lock is ``<out>/.fraudmine.lock``: an ``flock`` held for the whole run plus
a JSON body naming the holder (process id, host, run date, start time).  The
kernel drops an ``flock`` when its process dies, ``kill -9`` included, so a lock
left by a killed run is free again: the next run takes it over and logs whose
lock it was.  A live holder makes a second run fail at once with a message
naming that holder.  ``flock`` works across hosts on NFSv4 (Linux maps it to
POSIX locks there); on object stores there is no lock and runs must be
serialised by the scheduler.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import socket
from pathlib import Path
from types import TracebackType
from typing import Any

from fraudmine.jobs.runtime import utc_now_iso

LOCK_FILE = ".fraudmine.lock"
log = logging.getLogger(__name__)


class RunLocked(RuntimeError):
    """Another run holds the output folder's lock."""


def _describe(holder: dict[str, Any]) -> str:
    return (
        f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}, "
        f"run date {holder.get('run_date', '?')}, started {holder.get('started_at', '?')}"
    )


class OutputLock:
    """Context manager holding ``<out>/.fraudmine.lock`` for one run.

    Args:
        out_dir: the output root (created if missing).
        run_date: recorded in the lock body for the message other runs print.

    Raises:
        RunLocked: on enter, if a live process holds the lock.
    """

    def __init__(self, out_dir: Path, run_date: str) -> None:
        self.path = out_dir / LOCK_FILE
        self.run_date = run_date
        self._fd: int | None = None
        self.taken_over: dict[str, Any] | None = None

    def _read(self, fd: int) -> dict[str, Any]:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, 65536)
        try:
            body = json.loads(raw.decode() or "{}")
        except (ValueError, UnicodeDecodeError):
            return {}
        return body if isinstance(body, dict) else {}

    def __enter__(self) -> OutputLock:
        """Take the lock or raise :class:`RunLocked`."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = self._read(fd)
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise RunLocked(
                    f"another fraudmine run is using {self.path.parent} ({_describe(holder)}); "
                    "wait for it to finish or stop that process (one run at a time per output folder)"
                ) from None
            raise
        previous = self._read(fd)
        if previous.get("pid"):
            # The kernel released the flock, so its holder is gone (exited or killed).
            self.taken_over = previous
            log.warning("taking over the lock left by a run that is no longer alive (%s)", _describe(previous))
        body = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "run_date": self.run_date,
            "started_at": utc_now_iso(),
        }
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(body).encode())
        os.fsync(fd)
        self._fd = fd
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Clear the body (a clean exit leaves nothing to take over) and release the lock."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None
