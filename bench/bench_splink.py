"""The peer: Splink (Spark backend) on the same public product tables as `fraudmine bench dedup`.

Tables are read with the same loader as the benchmark (`fraudmine.dedup.benchmark.load_pair_of_tables`,
so encodings, separators and column roles are detected identically) and the gold pairs with the same
reader. Splink is configured the way its documentation recommends for a probabilistic link:
`link_only`, comparisons with graded levels (Jaro-Winkler on the normalised title, token-array
intersection sizes, exact model number, exact first title token as the brand), blocking rules that
keep candidate pairs small, λ from deterministic rules, u from random sampling, m by EM on two
blocking rules, then `predict(threshold_match_probability=0.5)`. Reported both as predicted and
after a one-to-one assignment (the same `unique_mapping` our matcher uses), so the comparison of
the scoring is fair. Splink's Spark similarity UDF jar ships in its wheel.

    flock /work/.bench.lock .venv/bin/python bench/bench_splink.py --backend spark \
        --set abt_buy:/work/shared/data/er/abt_buy/Abt.csv,Buy.csv,abt_buy_perfectMapping.csv \
        --set walmart_amazon:/work/shared/data/er/walmart_amazon/jedai_D8/walmart.csv,amazon.csv,gt.csv
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fraudmine.dedup.benchmark import BenchOptions, load_pair_of_tables, read_gold
from fraudmine.dedup.cluster import unique_mapping
from fraudmine.dedup.metrics import as_pairs, pair_completeness, prf

REPO = Path(__file__).resolve().parent.parent


def _frame(corpus: Any, rows: range) -> pd.DataFrame:
    out = []
    for r in rows:
        toks = list(corpus.title[r].tokens)
        models = [m for m in corpus.title[r].models if len(m) >= 4]
        out.append(
            {
                "unique_id": int(r),
                "name_norm": " ".join(toks),
                "tokens": sorted(set(toks)),
                "model": models[0] if models else None,
                "first_token": toks[0] if toks else None,
                "last_token": toks[-1] if toks else None,
            }
        )
    return pd.DataFrame(out)


def run_one(left: Path, right: Path, truth: Path, backend: str, spark: Any) -> dict[str, Any]:
    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on

    t0 = time.perf_counter()
    corpus, n_left, _, _ = load_pair_of_tables(left, right, BenchOptions(embeddings=False))
    gold = read_gold(truth, corpus, n_left, None)
    a, b = _frame(corpus, range(n_left)), _frame(corpus, range(n_left, len(corpus)))
    if backend == "spark":
        from splink.backends.spark import SparkAPI

        db_api = SparkAPI(spark_session=spark)
        tables = [db_api.register(spark.createDataFrame(a)), db_api.register(spark.createDataFrame(b))]
    else:
        from splink import DuckDBAPI

        db_api = DuckDBAPI()
        tables = [db_api.register(a), db_api.register(b)]
    rules = [
        block_on("model"),
        block_on("last_token"),
        block_on("first_token", "last_token"),
        block_on("substr(name_norm, 1, 8)"),
    ]
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("name_norm", [0.95, 0.88, 0.75]),
            cl.ArrayIntersectAtSizes("tokens", [5, 3, 2, 1]),
            cl.ExactMatch("model"),
            cl.ExactMatch("first_token"),
        ],
        blocking_rules_to_generate_predictions=rules,
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(tables, settings)
    linker.training.estimate_probability_two_random_records_match([block_on("model")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("model"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_token"))
    pred = linker.inference.predict(threshold_match_probability=0.0).as_pandas_dataframe()
    i = pred["unique_id_l"].astype(np.int64).to_numpy()
    j = pred["unique_id_r"].astype(np.int64).to_numpy()
    p = pred["match_probability"].to_numpy(dtype=np.float64)
    cand = as_pairs(i, j)
    keep = p >= 0.5
    res = {
        "pairs": len(cand),
        "pair_completeness": pair_completeness(cand, gold),
        "candidates_per_record": len(cand) / min(n_left, len(corpus) - n_left),
        "predict_0.5": prf(as_pairs(i[keep], j[keep]), gold),
        "one_to_one_0.5": prf(as_pairs(i[unique_mapping(i, j, p, 0.5)], j[unique_mapping(i, j, p, 0.5)]), gold),
        "seconds": time.perf_counter() - t0,
    }
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--set", action="append", required=True, help="name:LEFT,RIGHT,TRUTH (RIGHT, TRUTH relative to LEFT)"
    )
    ap.add_argument("--backend", choices=["spark", "duckdb"], default="spark")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    spark = None
    if args.backend == "spark":
        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location

        spark = (
            SparkSession.builder.master("local[2]")
            .config("spark.jars", similarity_jar_location())
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.ui.enabled", "false")
            .getOrCreate()
        )
        spark.sparkContext.setCheckpointDir("/tmp/splink_checkpoints")
    rows = []
    for spec in args.set:
        name, files = spec.split(":", 1)
        parts = files.split(",")
        left = Path(parts[0])
        load = Path("/proc/loadavg").read_text().split()[0]
        res = run_one(left, left.parent / parts[1], left.parent / parts[2], args.backend, spark)
        res.update(
            {
                "set": name,
                "backend": args.backend,
                "load_before": load,
                "load_after": Path("/proc/loadavg").read_text().split()[0],
            }
        )
        rows.append(res)
        print(json.dumps(res), flush=True)
    if spark is not None:
        spark.stop()
    out = REPO / "bench" / "results" / f"splink-{args.backend}-{time.strftime('%Y%m%dT%H%M')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
