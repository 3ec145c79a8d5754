"""Incremental Bolt load of a run into Neo4j, configured from the config and the environment."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fraudmine.analyst.reader import open_bundle
from fraudmine.analyst.runs import ensure_bundle
from fraudmine.analyst.sinks import Neo4jSink
from fraudmine.analyst.upsert import LoadState, load_bundle
from fraudmine.config import Config

log = logging.getLogger(__name__)


class Neo4jNotConfigured(ValueError):
    """No URI or no password for the Bolt writer."""


def cache_root(env: dict[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/fraudmine`` (default ``~/.cache/fraudmine``)."""
    environ = os.environ if env is None else env
    return Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fraudmine"


def target_name(uri: str, database: str) -> str:
    """The load-state key of a Neo4j database: the URI without any credentials, plus the database."""
    parts = urlsplit(uri)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return f"{urlunsplit((parts.scheme, netloc, '', '', ''))}/{database}"


def bolt_load(
    cfg: Config, run_dir: Path, bundle_dir: Path | None = None, state_path: Path | None = None, full: bool = False
) -> dict[str, Any]:
    """Load ``run_dir`` into the Neo4j database of ``cfg.neo4j``, sending only what changed.

    Args:
        cfg: resolved config (``neo4j.uri``, ``user``, password from ``NEO4J_PASSWORD`` or a file).
        run_dir: the run.
        bundle_dir: a bundle to load (default: the run's own, else an export cached per run).
        state_path: the load-state file (default ``<cache>/neo4j_load_state.sqlite``).
        full: resend every row.

    Returns:
        A JSON-able report: target, run id, written / unchanged / deleted per group, seconds.

    Raises:
        Neo4jNotConfigured: naming the missing setting and how to give it.
    """
    n = cfg.neo4j
    if not n.uri:
        raise Neo4jNotConfigured("neo4j.uri is not set: set NEO4J_URI (e.g. bolt://localhost:7687) or neo4j.uri")
    password = n.resolved_password()
    if password is None:
        raise Neo4jNotConfigured("no Neo4j password: set NEO4J_PASSWORD or NEO4J_PASSWORD_FILE (neo4j.password_file)")
    if bundle_dir is not None:
        bundle = open_bundle(bundle_dir)
    else:
        cache = cache_root() / "bundles" / run_dir.resolve().name
        bundle = ensure_bundle(run_dir, cache, cfg.spark, n.rows_per_file)
    target = target_name(n.uri, n.database)
    state = LoadState(state_path or cache_root() / "neo4j_load_state.sqlite")
    sink = Neo4jSink(n.uri, n.user, password, n.database, n.max_retry_time_s)
    try:
        report = load_bundle(bundle, sink, state, target, n.batch_size, full)
    finally:
        sink.close()
        state.close()
    return {
        "target": target,
        "run_id": bundle.run_id,
        "written": report.written,
        "unchanged": report.unchanged,
        "deleted": report.deleted,
        "seconds": report.seconds,
        "groups": {k: vars(v) for k, v in report.groups.items()},
    }
