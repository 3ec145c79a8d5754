"""Packaging guards: generic top-level names, declared packages, the contract document."""

from __future__ import annotations

import importlib.metadata as md
import tomllib
from pathlib import Path

OUR_TOP_LEVEL = {"fraudmine", "graph", "features", "models", "jobs", "api"}
FORBIDDEN_TOP_LEVEL = {"types", "io", "utils", "test", "datasets", "logging"}


def _top_levels(dist: md.Distribution) -> set[str]:
    text = dist.read_text("top_level.txt")
    if text:
        return {line.strip() for line in text.splitlines() if line.strip()}
    names: set[str] = set()
    for f in dist.files or []:
        parts = Path(str(f)).parts
        if not parts or parts[0].endswith((".dist-info", ".data", ".egg-info")) or parts[0] == "..":
            continue
        first = parts[0]
        if first.endswith(".py"):
            names.add(first[:-3])
        elif len(parts) > 1:
            names.add(first)
    return names


def test_no_other_distribution_provides_our_top_level_packages() -> None:
    clashes = {}
    for dist in md.distributions():
        if (dist.metadata["Name"] or "").lower() == "fraudmine":
            continue
        overlap = _top_levels(dist) & OUR_TOP_LEVEL
        if overlap:
            clashes[dist.metadata["Name"]] = sorted(overlap)
    assert clashes == {}, f"installed distributions shadow our packages: {clashes}"


def test_packages_declared_explicitly(repo_root: Path) -> None:
    pyproject = tomllib.loads((repo_root / "pyproject.toml").read_text())
    declared = set(pyproject["tool"]["setuptools"]["packages"])
    assert declared >= OUR_TOP_LEVEL
    assert not {p.split(".")[0] for p in declared} & FORBIDDEN_TOP_LEVEL
    for pkg in declared:
        assert (repo_root / pkg.replace(".", "/") / "__init__.py").is_file(), pkg


def test_torch_pinned_exactly(repo_root: Path) -> None:
    deps = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "torch==2.13.0" in deps
    assert all("==" in d for d in deps), "every runtime dependency is pinned"


def test_contract_document_matches_code(repo_root: Path) -> None:
    from fraudmine.contracts.markdown import render_contract

    assert (repo_root / "docs" / "data-contract.md").read_text() == render_contract(), (
        "docs/data-contract.md is stale: run `make contract`"
    )


def test_api_does_not_import_spark_or_torch(repo_root: Path) -> None:
    for py in (repo_root / "api").rglob("*.py"):
        text = py.read_text()
        assert "import pyspark" not in text and "from pyspark" not in text, py
        assert "import torch" not in text and "from torch" not in text, py
