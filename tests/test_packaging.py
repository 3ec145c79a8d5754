"""Packaging guards: one import root, declared packages, the built wheel, the contract document."""

from __future__ import annotations

import importlib.metadata as md
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

OUR_TOP_LEVEL = {"fraudmine"}
SUBPACKAGE_HOMES = ("graph", "features", "models", "jobs", "api")
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


def test_packages_declared_under_one_root(repo_root: Path) -> None:
    pyproject = tomllib.loads((repo_root / "pyproject.toml").read_text())
    declared = set(pyproject["tool"]["setuptools"]["packages"])
    assert {p.split(".")[0] for p in declared} == OUR_TOP_LEVEL
    assert {f"fraudmine.{home}" for home in SUBPACKAGE_HOMES} <= declared
    for pkg in declared:
        assert (repo_root / pkg.replace(".", "/") / "__init__.py").is_file(), pkg
    on_disk = {
        ".".join(init.parent.relative_to(repo_root).parts) for init in (repo_root / "fraudmine").rglob("__init__.py")
    } | {
        f"fraudmine.{home}.{'.'.join(sub.parent.relative_to(repo_root / home).parts)}".rstrip(".")
        for home in SUBPACKAGE_HOMES
        for sub in (repo_root / home).rglob("__init__.py")
    }
    missing = sorted(on_disk - declared)
    assert missing == [], (
        f"packages on disk but not in pyproject [tool.setuptools] packages (the wheel drops them): {missing}"
    )
    for home in SUBPACKAGE_HOMES:  # the top-level folders stay the homes of their subpackages
        link = repo_root / "fraudmine" / home
        assert link.is_symlink() and link.resolve() == (repo_root / home).resolve(), link


@pytest.mark.slow
def test_built_wheel_has_one_top_level_name_and_works(repo_root: Path, tmp_path: Path) -> None:
    """Build the wheel, check its top-level names, install it apart from the checkout and load the defaults."""
    had_build = (repo_root / "build").exists()
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), "."],
        cwd=repo_root,
        check=True,
        capture_output=True,
    )
    if not had_build:  # setuptools builds in-tree; leave the checkout as we found it
        shutil.rmtree(repo_root / "build", ignore_errors=True)
    (wheel,) = tmp_path.glob("fraudmine-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if ".dist-info/" not in n}
    assert top == OUR_TOP_LEVEL, top
    assert "fraudmine/graph/build.py" in names and "fraudmine/conf/default.yaml" in names
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    probe = (
        "import fraudmine, fraudmine.jobs.stages, fraudmine.config as c; "
        f"assert fraudmine.__file__.startswith({str(target)!r}), fraudmine.__file__; "
        "cfg = c.load_config(env={}); print(cfg.spark.shuffle_partitions)"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_torch_pinned_exactly(repo_root: Path) -> None:
    deps = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "torch==2.13.0" in deps
    assert all("==" in d for d in deps), "every runtime dependency is pinned"


def test_contract_document_matches_code(repo_root: Path) -> None:
    from fraudmine.contracts.markdown import render_contract

    assert (repo_root / "docs" / "data-contract.md").read_text() == render_contract(), (
        "docs/data-contract.md is stale: run `make contract`"
    )


def test_no_module_imports_a_subpackage_by_its_bare_name(repo_root: Path) -> None:
    """The lint rule (ruff TID251) is configured for every home folder."""
    banned = tomllib.loads((repo_root / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]["flake8-tidy-imports"]
    assert set(banned["banned-api"]) == set(SUBPACKAGE_HOMES)


def test_api_imports_neither_spark_nor_torch() -> None:
    """Importing every API module (app, stores, CLI entry) loads no pyspark, torch or pipeline package.

    import-linter checks the source; this checks what actually lands in ``sys.modules``.
    """
    probe = (
        "import sys, fraudmine.api, fraudmine.api.app, fraudmine.api.main, fraudmine.api.stores.redis; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'pyspark', 'torch', 'torch_geometric'} "
        "or m.startswith(('fraudmine.jobs', 'fraudmine.models', 'fraudmine.features', 'fraudmine.graph', "
        "'fraudmine.validation', 'fraudmine.spark', 'fraudmine.serving'))); "
        "assert 'fraudmine.api.app' in sys.modules and not bad, bad"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_snapshot_builder_needs_no_spark_or_torch() -> None:
    """The serving-snapshot builder runs on an API host: importing it loads neither pyspark nor torch."""
    probe = (
        "import sys, fraudmine.serving; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'pyspark', 'torch', 'torch_geometric'}); "
        "assert not bad, bad"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
