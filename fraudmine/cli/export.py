"""``fraudmine export``: the Neo4j bulk-import bundle of a run, or incremental Bolt upserts into Neo4j.

fraudmine export neo4j --run out/current --out out/neo4j-bundle
NEO4J_URI=bolt://host:7687 NEO4J_PASSWORD_FILE=~/.neo4j-pass fraudmine export bolt --run out/current
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def run_neo4j(args: argparse.Namespace) -> int:
    """Write the bundle with Spark and print its manifest summary."""
    from fraudmine.analyst.export import export_run
    from fraudmine.config import load_config
    from fraudmine.spark import get_spark

    cfg = load_config(args.config)
    rows = args.rows_per_file or cfg.neo4j.rows_per_file
    manifest = export_run(get_spark(cfg.spark), args.run, args.out, rows_per_file=rows, database=cfg.neo4j.database)
    for e in manifest["nodes"]:  # type: ignore[attr-defined]
        sys.stdout.write(f"  nodes         {e['id_space']:<34} {e['rows']:>10}\n")
    for e in manifest["relationships"]:  # type: ignore[attr-defined]
        sys.stdout.write(f"  relationships {e['name']:<34} {e['rows']:>10}\n")
    sys.stdout.write(f"bundle: {args.out}\nimport: NEO4J_HOME=/path/to/neo4j {args.out / 'import.sh'}\n")
    return 0


def run_bolt(args: argparse.Namespace) -> int:
    """Upsert what changed since the last load into Neo4j over Bolt; print the load report as JSON."""
    from fraudmine.analyst.bolt import bolt_load
    from fraudmine.config import load_config

    overrides: dict[str, Any] = {}
    for key, value in (("uri", args.uri), ("database", args.database), ("batch_size", args.batch_size)):
        if value is not None:
            overrides[f"neo4j.{key}"] = value
    cfg = load_config(args.config, overrides=overrides)
    report = bolt_load(cfg, args.run, bundle_dir=args.bundle, state_path=args.state, full=args.full)
    sys.stdout.write(json.dumps(report, indent=2) + "\n")
    return 0


def add_parser(sub: Any) -> None:
    """Register ``export neo4j`` and ``export bolt``."""
    e = sub.add_parser("export", help="Neo4j bulk-import bundle of a run, or incremental Bolt upserts")
    esub = e.add_subparsers(dest="target", required=True, metavar="TARGET")
    n = esub.add_parser("neo4j", help="write the neo4j-admin bulk-import bundle of a run (Spark)")
    n.add_argument("--run", type=Path, required=True, help="run folder (out/runs/<date> or out/current)")
    n.add_argument("--out", type=Path, required=True, help="bundle folder (replaced)")
    n.add_argument("--rows-per-file", type=int, help="rows per CSV part (default neo4j.rows_per_file)")
    n.add_argument("--config", type=Path, help="config YAML (default conf/default.yaml)")
    n.set_defaults(func=run_neo4j)
    b = esub.add_parser("bolt", help="upsert a run into Neo4j over Bolt (only what changed since the last load)")
    b.add_argument("--run", type=Path, required=True, help="run folder")
    b.add_argument("--bundle", type=Path, help="bundle folder (default <run>/neo4j, else exported to the cache)")
    b.add_argument("--uri", help="Bolt URI (default NEO4J_URI / neo4j.uri); the password comes from "
                   "NEO4J_PASSWORD or NEO4J_PASSWORD_FILE, never from the command line")  # fmt: skip
    b.add_argument("--database", help="database (default neo4j.database)")
    b.add_argument("--batch-size", type=int, help="rows per UNWIND batch (default neo4j.batch_size)")
    b.add_argument("--state", type=Path, help="load-state file (default <cache>/fraudmine/neo4j_load_state.sqlite)")
    b.add_argument("--full", action="store_true", help="ignore the load state and resend every row")
    b.add_argument("--config", type=Path, help="config YAML (default conf/default.yaml)")
    b.set_defaults(func=run_bolt)
