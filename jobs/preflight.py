"""Checks of paths and options made before anything starts (no Spark, no lock).

Every failure is a :class:`PreflightError` whose message is one line naming the
path or option and what to do.
"""

from __future__ import annotations

import os
from pathlib import Path

from fraudmine.config import CONF_ROOT, Config
from fraudmine.contracts.raw import RAW_TABLES


class PreflightError(ValueError):
    """A path or option is unusable; nothing was started."""


def check_paths(input_dir: Path, out_dir: Path) -> None:
    """Check the raw input folder and the output root.

    Raises:
        PreflightError: the input is missing, not a folder or lacks a contract table;
            the output root is a file, or cannot be created or written.
    """
    if not input_dir.exists():
        raise PreflightError(f"--input {input_dir}: folder not found")
    if not input_dir.is_dir():
        raise PreflightError(f"--input {input_dir}: is a file, expected a folder with one sub-folder per raw table")
    missing = [t.name for t in RAW_TABLES if not (input_dir / t.name).exists()]
    if missing:
        raise PreflightError(
            f"--input {input_dir}: raw table(s) {missing} not found (expected <input>/<table>/ with .parquet, .csv "
            "or .csv.gz files; see `fraudmine contract`)"
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise PreflightError(f"--out {out_dir}: is a file, expected a folder (it is created if missing)")
    probe = out_dir
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise PreflightError(f"--out {out_dir}: {probe} is a file, so the output folder cannot be created")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise PreflightError(f"--out {out_dir}: {probe} is not writable")
    runs = out_dir / "runs"
    if runs.exists() and not runs.is_dir():
        raise PreflightError(f"--out {out_dir}: {runs} is a file; this is not a fraudmine output folder")


def policy_file(cfg: Config) -> Path:
    """The decision policy file of ``cfg`` (relative paths resolve against the package).

    Raises:
        PreflightError: the file does not exist.
    """
    path = Path(cfg.policy_path)
    if not path.is_absolute():
        path = CONF_ROOT / path
    if not path.is_file():
        raise PreflightError(f"config policy_path {cfg.policy_path}: file not found ({path})")
    return path
