"""The README's quick-start commands are true: the demo path runs end to end (at xs scale)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _first_block(readme: str) -> list[str]:
    block = re.search(r"```(?:bash|sh)?\n(.*?)```", readme, re.S)
    assert block, "README must open with a code block holding the two commands"
    return [line.strip() for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


def test_readme_opens_with_the_two_commands(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text()
    assert readme.index("```") < 600, "the commands come first"
    assert _first_block(readme) == ["make demo", "make test"]


def test_make_demo_runs_end_to_end_at_xs(repo_root: Path, tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    done = subprocess.run(
        ["make", "demo", "SCALE=xs", f"DATA={data}", f"OUT={out}"],
        cwd=repo_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "run report:" in done.stdout and "overall_fraud" in done.stdout
    assert "auto-reject expected precision" in done.stdout  # fraudmine kpis closes the demo
    current = out / "current"
    assert (current / "reports" / "report.html").is_file()
    manifest = json.loads((current / "manifest.json").read_text())
    assert all(s["status"] == "committed" for s in manifest["stages"].values())
