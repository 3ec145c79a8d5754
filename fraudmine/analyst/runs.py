"""Find (or build) the bundle of a run: ``<run>/neo4j`` from the nightly stage, else a cached export."""

from __future__ import annotations

import logging
from pathlib import Path

from fraudmine.analyst.bundle_format import MANIFEST
from fraudmine.analyst.reader import Bundle, open_bundle
from fraudmine.config import SparkConfig

log = logging.getLogger(__name__)


def _run_id(run_dir: Path) -> str:
    import json

    mf = run_dir / "manifest.json"
    return str(json.loads(mf.read_text()).get("run_id", "")) if mf.exists() else ""


def ensure_bundle(run_dir: Path, cache: Path, spark_cfg: SparkConfig, rows_per_file: int = 1_000_000) -> Bundle:
    """The run's bundle: ``<run>/neo4j`` if the nightly stage wrote it, else ``<cache>`` (exported with Spark if stale).

    Args:
        run_dir: a run folder.
        cache: folder for an exported bundle when the run has none.
        spark_cfg: Spark settings used only when an export is needed.
        rows_per_file: rows per CSV part of an export.

    Raises:
        FileNotFoundError: if ``run_dir`` is not a folder.
    """
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run folder not found: {run_dir}")
    own = run_dir / "neo4j"
    if (own / MANIFEST).exists():
        return open_bundle(own)
    if (cache / MANIFEST).exists():
        cached = open_bundle(cache)
        if cached.run_id == _run_id(run_dir):
            return cached
    log.info("run %s has no neo4j bundle: exporting one to %s with Spark", run_dir, cache)
    from fraudmine.analyst.export import export_run
    from fraudmine.spark import get_spark

    export_run(get_spark(spark_cfg), run_dir, cache, rows_per_file=rows_per_file)
    return open_bundle(cache)
