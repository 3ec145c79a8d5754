"""``fraudmine rollback``: make the previously published run (and its serving snapshot) current again."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def run(args: argparse.Namespace) -> int:
    """Roll back one publication and say what is current now."""
    from fraudmine.config import load_config
    from fraudmine.jobs.runtime import utc_now_iso
    from fraudmine.serving import rollback

    cfg = load_config(args.config)
    out = args.out or Path(cfg.paths.output)
    if not out.is_dir():
        raise FileNotFoundError(f"--out {out}: no such output folder")
    before, after = rollback(out, utc_now_iso())
    sys.stdout.write(f"rolled back {before.run_dir} ({before.snapshot})\n")
    sys.stdout.write(f"current:    {after.run_dir} ({after.snapshot}), published {after.activated_at}\n")
    if args.champion and after.model_versions:
        from fraudmine.models.registry import make_registry

        registry = make_registry(cfg.model.registry, out)
        for version in after.model_versions:
            registry.promote(version, "champion")
        sys.stdout.write(f"champion:   {', '.join(after.model_versions)}\n")
    return 0


def add_parser(sub: Any) -> None:
    """Register the subcommand."""
    r = sub.add_parser(
        "rollback",
        help="point current (run and serving snapshot) back at the previously published run",
        description="Pops the newest entry of <out>/serving/history.json; running API servers pick the "
        "previous snapshot up within their reload interval.",
    )
    r.add_argument("--out", type=Path, default=None, help="output folder (default: paths.output of the config)")
    r.add_argument("--config", type=Path, default=None, help="config YAML (registry for --champion)")
    r.add_argument(
        "--no-champion",
        dest="champion",
        action="store_false",
        help="leave the model registry's champion alias where it is",
    )
    r.set_defaults(func=run)
