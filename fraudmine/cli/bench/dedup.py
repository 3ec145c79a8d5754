"""``fraudmine bench dedup``: entity resolution on two full CSV tables, scored against a gold mapping."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

_HEADLINE = ("f1", "precision", "recall", "pair_completeness", "candidates_per_record", "seconds")


def run(args: argparse.Namespace) -> int:
    """Block, match and measure; one JSON object with ``--json``, else a table."""
    from fraudmine.dedup import embed
    from fraudmine.dedup.benchmark import BenchOptions, run_benchmark

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="bench dedup: %(message)s")
    logging.getLogger("fraudmine.dedup").setLevel(logging.INFO)
    use_embed = not args.no_embeddings
    if use_embed and not embed.available():
        logging.getLogger(__name__).warning("embeddings off: %s", embed.EMBED_EXTRA)
        use_embed = False
    opts = BenchOptions(
        sep=args.sep,
        truth_sep=args.truth_sep,
        encoding=args.encoding,
        left_id=args.left_id,
        right_id=args.right_id,
        text_cols=tuple(args.text_cols or ()),
        train=args.train,
        test=args.test,
        valid=args.valid,
        k=args.k,
        embeddings=use_embed,
        seed=args.seed,
        cache_dir=args.embedding_cache,
    )
    if args.test is not None and args.train is None:
        raise SystemExit("bench dedup: --test needs --train (the matcher it scores is the supervised one)")
    res = run_benchmark(args.left, args.right, args.truth, opts)
    given = res["details"].get("given_test_pairs")
    if args.json:
        extra = {"given_test_pairs": given} if given is not None else {}
        sys.stdout.write(json.dumps({k: res[k] for k in _HEADLINE} | extra) + "\n")
    else:
        for k in _HEADLINE:
            sys.stdout.write(f"{k:<24}{round(res[k], 4)}\n")
        details = res["details"]
        sys.stdout.write(f"{'mode':<24}{details['mode']} (threshold {details['threshold']:.3f})\n")
        base = details["baseline_exact_title"]
        sys.stdout.write(
            f"{'baseline exact title':<24}F1 {base['f1']:.4f} P {base['precision']:.4f} R {base['recall']:.4f}\n"
        )
        if given is not None:
            sys.stdout.write(
                f"{'given test pairs':<24}F1 {given['f1']:.4f} P {given['precision']:.4f} R {given['recall']:.4f} "
                f"({given['pairs']} pairs, {given['positives']} positive)\n"
            )
        for name, g in details["generators"].items():
            sys.stdout.write(
                f"  {name:<22}{g['pairs']} pairs, completeness {g['pair_completeness']:.4f}, {g['seconds']:.1f} s\n"
            )
    return 0


def add_parser(sub: Any) -> None:
    """Register ``bench dedup``."""
    p = sub.add_parser(
        "dedup",
        help="duplicate matching on two CSV tables: blocking completeness, precision / recall / F1 vs gold",
        description="Two full product tables in (not pre-blocked pairs), a gold mapping of matching ids; "
        "separators, encodings and column roles are detected. Unsupervised by default; with --train "
        "(ltable_id,rtable_id,label pairs) a LightGBM matcher, measured on the gold pairs outside the "
        "training pairs. candidates_per_record = candidate pairs / records of the smaller table.",
    )
    p.add_argument("--left", type=Path, required=True, help="left table (CSV with header)")
    p.add_argument("--right", type=Path, required=True, help="right table (CSV with header)")
    p.add_argument("--truth", type=Path, required=True, help="gold pairs: two id columns (left, right; order detected)")
    p.add_argument("--sep", help="separator of both tables (default: detected)")
    p.add_argument("--truth-sep", help="separator of the truth file (default: detected)")
    p.add_argument("--encoding", help="encoding of the tables (default: UTF-8 if it decodes, else cp1252/latin-1)")
    p.add_argument("--left-id", help="id column of the left table (default: detected)")
    p.add_argument("--right-id", help="id column of the right table (default: detected)")
    p.add_argument("--text-cols", nargs="+", help="text columns to match on (default: detected free-text columns)")
    p.add_argument("--train", type=Path, help="labelled pairs ltable_id,rtable_id,label (DeepMatcher style)")
    p.add_argument(
        "--test",
        type=Path,
        help="with --train: also score these labelled pairs (DeepMatcher's test split: a classifier over given pairs) "
        "and report details.given_test_pairs",
    )
    p.add_argument(
        "--valid",
        type=Path,
        help="with --test: labelled pairs whose best-F1 score cut is applied to the test pairs (default cut 0.5)",
    )
    p.add_argument("--k", type=int, default=5, help="neighbours per record per k-NN generator (default 5)")
    p.add_argument("--no-embeddings", action="store_true", help="skip the MiniLM embedding generator and feature")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--embedding-cache",
        type=Path,
        default=Path.home() / ".cache" / "fraudmine" / "embeddings",
        help="folder reusing the embeddings of identical tables between runs",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object: " + ", ".join(_HEADLINE))
    p.set_defaults(func=run)
