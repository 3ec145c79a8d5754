"""Shared fixtures.

One SparkSession for the whole test session (``local[2]``, 2 shuffle partitions,
UI off, a checkpoint dir per pytest worker), created lazily by the first test
that asks for it and stopped at the end.  Spark start-up costs seconds here, so
never start a session per test.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Modules holding a ``slow`` test first, the rest in their order: ``make test`` hands whole modules to its
    pytest-xdist workers in collection order (``--dist loadfile``), so the long pipeline and subprocess modules
    start at once instead of ending the run on one worker while the other idles."""
    slow = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow)


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A shared local SparkSession (stopped after the last test)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from fraudmine.config import SparkConfig
    from fraudmine.spark import get_spark

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    checkpoint = tmp_path_factory.mktemp(f"checkpoints-{worker}")
    session = get_spark(
        SparkConfig(master="local[2]", shuffle_partitions=2, driver_memory="2g"),
        checkpoint_dir=checkpoint,
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def xs_default(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """xs data of the default scenario, seed 2 (generated once per session; read-only for tests)."""
    from fraudmine.synth import generate

    out = tmp_path_factory.mktemp("synth_xs_default")
    generate("xs", 2, out, REPO_ROOT / "conf" / "scenarios" / "default.yaml")
    return out
