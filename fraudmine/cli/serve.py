"""``fraudmine serve``: the risk lookup API over an output folder's current serving snapshot."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any


def example(out: Path, host: str, port: int) -> int:
    """Print how to start the API on ``out`` and a ``curl`` for its riskiest merchant."""
    from fraudmine.serving import current_snapshot
    from fraudmine.serving.examples import riskiest

    snap = current_snapshot(out)
    if snap is None:
        raise FileNotFoundError(f"{out}/serving/current: no published snapshot (run the nightly pipeline first)")
    top = riskiest(snap)
    base = f"http://{host}:{port}"
    cmd = sys.argv[0] if Path(sys.argv[0]).name == "fraudmine" else "fraudmine"
    lines = [
        f"risk lookup API over {out} (snapshot {snap.stem}):",
        f"  start:  FRAUDMINE_API_KEYS=demo-key {cmd} serve --out {out} --port {port}",
        f"  docs:   {base}/docs",
    ]
    if top is not None:
        lines.append(f"  riskiest merchant: {top.entity_id} (fraud risk {top.fraud_risk:.3f}, band {top.band})")
        lines.append(f"  try:    curl -s -H 'X-API-Key: demo-key' {base}/v1/risk/merchant/{top.entity_id}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def run(args: argparse.Namespace) -> int:
    """Check the settings, then serve until interrupted (or print the example with ``--example``)."""
    from fraudmine.api.main import serve
    from fraudmine.api.settings import ApiSettings
    from fraudmine.contracts.serving import CURRENT, SERVING_DIR

    overrides: dict[str, Any] = {}
    if args.out is not None:
        overrides["output"] = args.out
    if args.api_key_file is not None:
        overrides["api_key_file"] = args.api_key_file
    if args.store is not None:
        overrides["store"] = args.store
    if args.redis_url is not None:
        overrides["redis_url"] = args.redis_url
    if args.preload:
        overrides["preload"] = True
    from pydantic import ValidationError

    try:
        settings = ApiSettings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"FRAUDMINE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"invalid API settings: {problems}") from None
    if not settings.output.is_dir():
        raise FileNotFoundError(f"--out {settings.output}: no such output folder")
    if args.example:
        return example(settings.output, args.host, args.port)
    if not (settings.output / SERVING_DIR / CURRENT).exists():
        sys.stderr.write(
            f"warning: {settings.output / SERVING_DIR / CURRENT} does not exist yet: /readyz answers 503 "
            "until the nightly publish step writes a snapshot\n"
        )
    sys.stderr.write(f"serving {settings.output} on http://{args.host}:{args.port} (docs at /docs)\n")
    serve(settings, args.host, args.port, workers=args.workers, log_level=args.log_level)
    return 0


def add_parser(sub: Any) -> None:
    """Register the subcommand."""
    s = sub.add_parser(
        "serve",
        help="serve the risk lookup API over <out>/serving/current",
        description="Keys: FRAUDMINE_API_KEYS=k1,k2 or --api-key-file (X-API-Key header). "
        "A newly published snapshot is picked up while serving.",
    )
    s.add_argument("--out", type=Path, default=None, help="output folder (default FRAUDMINE_OUTPUT or ./out)")
    s.add_argument("--host", default=os.environ.get("FRAUDMINE_HOST", "127.0.0.1"), help="bind address")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    s.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    s.add_argument("--api-key-file", type=Path, default=None, help="file with one API key per line")
    s.add_argument("--store", choices=("sqlite", "redis"), default=None, help="back end (default sqlite)")
    s.add_argument("--redis-url", default=None, help="Redis URL for --store redis")
    s.add_argument(
        "--preload",
        action="store_true",
        help="SQLite store: hold every entity's risk body in memory (FRAUDMINE_PRELOAD; ~1 GiB at m scale)",
    )
    s.add_argument("--example", action="store_true", help="print how to start the API and a curl example, then exit")
    s.add_argument("--log-level", default="warning", choices=("critical", "error", "warning", "info", "debug"))
    s.set_defaults(func=run)
