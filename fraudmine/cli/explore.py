"""``fraudmine explore``: load a run into an embedded FalkorDB and answer playbook questions.

fraudmine explore --run out/current                       # load (cached) and list the queries
fraudmine explore --run out/current ring --merchant m0000042
fraudmine explore --run out/current shortest_path --source merchant:m1 --target creator:c7
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fraudmine.analyst.playbook import QUERIES


def run(args: argparse.Namespace) -> int:
    """Open the local graph (loading what changed), run the query if one is named, print a table."""
    from fraudmine.analyst.local import LocalGraph, default_cache_dir
    from fraudmine.analyst.runs import ensure_bundle
    from fraudmine.analyst.table import format_rows
    from fraudmine.config import load_config

    cfg = load_config(args.config)
    db_dir = args.db_dir or default_cache_dir(args.run)
    if args.bundle:
        from fraudmine.analyst.reader import open_bundle

        bundle = open_bundle(args.bundle)
    else:
        bundle = ensure_bundle(args.run, db_dir / "bundle", cfg.spark)
    with LocalGraph(bundle, db_dir) as graph:
        if args.query is None:
            nodes, rels = graph.sink.count() if graph.sink else (0, 0)
            sys.stdout.write(f"local graph of run {bundle.run_id}: {nodes} nodes, {rels} relationships ({db_dir})\n")
            if graph.load_report is not None:
                r = graph.load_report
                sys.stdout.write(
                    f"loaded: {r.written} written, {r.unchanged} unchanged, {r.deleted} deleted in {r.seconds}s\n"
                )
            sys.stdout.write("queries:\n")
            for q in QUERIES.values():
                flags = " ".join(f"--{p.name}" for p in q.params)
                sys.stdout.write(f"  {q.name:<14} {flags:<28} {q.description}\n")
            return 0
        params = {p.name: getattr(args, p.name) for p in QUERIES[args.query].params}
        cols, rows = graph.run(args.query, **{k: v for k, v in params.items() if v is not None})
    sys.stdout.write(format_rows(cols, rows, args.format))
    return 0


def add_parser(sub: Any) -> None:
    """Register ``explore`` with one sub-command per playbook query."""
    e = sub.add_parser("explore", help="load a run into an embedded FalkorDB and run playbook queries")
    e.add_argument("--run", type=Path, required=True, help="run folder (out/runs/<date> or out/current)")
    e.add_argument("--bundle", type=Path, help="bundle folder (default <run>/neo4j, else exported into --db-dir)")
    e.add_argument("--db-dir", type=Path, help="local graph folder (default ~/.cache/fraudmine/explore/<run>-<hash>)")
    e.add_argument("--format", choices=["table", "json", "csv"], default="table", help="output format")
    e.add_argument("--config", type=Path, help="config YAML (Spark settings for an export)")
    qsub = e.add_subparsers(dest="query", metavar="QUERY")
    for q in QUERIES.values():
        qp = qsub.add_parser(q.name, help=q.description)
        for p in q.params:
            required = p.default is None and not p.optional
            qp.add_argument(f"--{p.name}", type=p.type, required=required, help=p.help)
    e.set_defaults(func=run)
