"""The local analyst graph: a run's bundle loaded into an embedded FalkorDB, and the playbook run on it.

``LocalGraph`` starts the embedded server on a data folder (``graph.rdb`` plus the
load state), loads the bundle incrementally with the same upsert code as the Bolt
writer (a second start on the same run loads nothing: the graph comes back from
``graph.rdb``), and answers playbook queries.  Without a data folder the graph
lives in memory for the life of the object.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from types import TracebackType
from typing import Any

from fraudmine.analyst import playbook
from fraudmine.analyst.falkor import FalkorServer
from fraudmine.analyst.reader import Bundle
from fraudmine.analyst.sinks import FalkorSink
from fraudmine.analyst.upsert import LoadReport, LoadState, load_bundle

log = logging.getLogger(__name__)

GRAPH = "fraudmine"
STATE = "load_state.sqlite"


def default_cache_dir(run_dir: Path, env: dict[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/fraudmine/explore/<run name>-<hash of the resolved run path>``."""
    environ = os.environ if env is None else env
    base = Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fraudmine" / "explore"
    resolved = run_dir.resolve()
    return base / f"{resolved.name}-{hashlib.sha256(str(resolved).encode()).hexdigest()[:10]}"


class LocalGraph:
    """A bundle in an embedded FalkorDB (context manager).

    Args:
        bundle: the opened bundle to serve.
        data_dir: folder for ``graph.rdb`` and the load state (None: in memory only).
        batch_size: rows per upsert batch.
    """

    def __init__(self, bundle: Bundle, data_dir: Path | None = None, batch_size: int = 2000) -> None:
        self.bundle = bundle
        self.data_dir = data_dir
        self.batch_size = batch_size
        self.server = FalkorServer(data_dir)
        self.sink: FalkorSink | None = None
        self.load_report: LoadReport | None = None
        self._state: LoadState | None = None

    def open(self) -> LocalGraph:
        """Start the server and load what changed since the last load into this data folder."""
        self.server.start()
        try:
            self.sink = FalkorSink(self.server.host, self.server.port, GRAPH)
            state_path = (self.data_dir / STATE) if self.data_dir else None
            if state_path is None:
                import tempfile

                self._tmp = tempfile.TemporaryDirectory(prefix="fraudmine-explore-")
                state_path = Path(self._tmp.name) / STATE
            self._state = LoadState(state_path)
            target = f"falkordb:{GRAPH}"
            if self.data_dir and self._state.last_run(target) == self.bundle.run_id and self.sink.count()[0] > 0:
                log.info("local graph already holds run %s", self.bundle.run_id)
            else:
                self.load_report = load_bundle(self.bundle, self.sink, self._state, target, self.batch_size)
                if self.data_dir:
                    self.server.save()
        except BaseException:
            self.close()
            raise
        return self

    def run(self, name: str, **params: Any) -> tuple[list[str], list[list[Any]]]:
        """Run playbook query ``name`` with ``params``; return columns and rows.

        Raises:
            KeyError: for an unknown query name (listing the known ones).
            ValueError: for missing or mistyped parameters.
        """
        if self.sink is None:
            raise RuntimeError("LocalGraph.run: open() it first")
        return playbook.run_query(self.sink, name, params)

    def close(self) -> None:
        """Close the client and stop the server (by its pid)."""
        if self.sink is not None:
            self.sink.close()
            self.sink = None
        if self._state is not None:
            self._state.close()
            self._state = None
        self.server.stop()
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            tmp.cleanup()

    def __enter__(self) -> LocalGraph:
        return self.open()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
