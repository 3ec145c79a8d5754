"""Dedup throughput on a generated marketplace: the library path of the `duplicates` stage, the
embedding throughput, peak memory, and a single-machine reference (datasketch MinHash LSH) on the
same listings and shingles.

Reads `<data>/raw/{products,brands,merchants,brand_authorizations}` (any data folder written by
`fraudmine generate`), runs `find_duplicates` + `brand_violations` as the stage does (listings
created before --date), scores the clusters and typo-squat flags against `<data>/truth` with the
same function `fraudmine evaluate` uses, and times datasketch's `MinHashLSH` (same permutations and
bands) building and querying the same shingle sets.  Prints one JSON object; run under
`flock /work/.bench.lock`.

    python bench/bench_dedup_stage.py --data /tmp/synth-s --date 2026-11-01 [--embed-sample 2000]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from fraudmine.config import DedupConfig
from fraudmine.dedup.blocking import shingles
from fraudmine.dedup.corpus import build_corpus
from fraudmine.dedup.evaluation import evaluate_duplicates
from fraudmine.dedup.listings import find_duplicates
from fraudmine.dedup.violations import brand_violations


def _load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--date", default="2026-11-01")
    ap.add_argument("--embed-sample", type=int, default=2000, help="texts for the embedding throughput (0: skip)")
    ap.add_argument("--no-datasketch", action="store_true")
    args = ap.parse_args()
    out: dict[str, object] = {"load_before": _load()}
    raw = args.data / "raw"

    def read(t: str) -> pd.DataFrame:
        return pq.read_table(raw / t).to_pandas()

    as_of = pd.Timestamp(args.date, tz="UTC")
    products, brands = read("products"), read("brands")
    products = products[pd.to_datetime(products["created_at"], utc=True) < as_of]
    listings = products.merge(
        brands[["brand_id", "name"]].rename(columns={"name": "brand_name"}), on="brand_id", how="left"
    )
    t0 = time.perf_counter()
    res = find_duplicates(listings, DedupConfig())
    t_dup = time.perf_counter() - t0
    viol = brand_violations(listings, read("merchants"), brands, read("brand_authorizations"), as_of)
    t_all = time.perf_counter() - t0
    out.update(
        listings=len(listings),
        dedup_seconds=round(t_dup, 1),
        dedup_and_brands_seconds=round(t_all, 1),
        listings_per_second=round(len(listings) / t_all, 1),
        report={k: v for k, v in res.report.items() if k != "guard"},
        guard_skipped_buckets=res.report["guard"]["skipped_buckets"],
        violations=len(viol),
    )
    if (args.data / "truth" / "entities.parquet").exists():
        with tempfile.TemporaryDirectory() as tmp:
            run = Path(tmp)
            for name, frame in (("members", res.members), ("brand_violations", viol)):
                (run / "duplicates" / name).mkdir(parents=True)
                pq.write_table(
                    pa.Table.from_pandas(
                        frame.astype({"created_at": "datetime64[us, UTC]"}) if "created_at" in frame else frame
                    ),
                    run / "duplicates" / name / "part-0.parquet",
                )
            (run / "validate" / "clean" / "products").mkdir(parents=True)
            pq.write_table(
                pa.Table.from_pandas(listings[["product_id", "title"]]),
                run / "validate" / "clean" / "products" / "part-0.parquet",
            )
            out["quality"] = evaluate_duplicates(args.data / "truth", run)
    if not args.no_datasketch:
        from datasketch import MinHash, MinHashLSH

        corpus = build_corpus(listings["product_id"].tolist(), listings["title"].tolist())
        sets = shingles(corpus)
        t1 = time.perf_counter()
        lsh = MinHashLSH(num_perm=64, params=(16, 4))
        hashes = []
        for k, s in enumerate(sets):
            m = MinHash(num_perm=64, seed=7)
            m.update_batch([h.to_bytes(4, "little") for h in s])
            hashes.append(m)
            lsh.insert(str(k), m)
        pairs = sum(len(lsh.query(m)) - 1 for m in hashes) // 2
        out["datasketch_minhash_lsh"] = {"seconds": round(time.perf_counter() - t1, 1), "pairs_unguarded": pairs}
        out["ours_minhash_lsh_seconds"] = res.report["generators"]["minhash_lsh"]["seconds"]  # type: ignore[index]
    if args.embed_sample:
        from fraudmine.dedup import embed

        texts = listings["title"].head(args.embed_sample).tolist()
        embed.encode(texts[:16])  # load the model first
        t2 = time.perf_counter()
        embed.encode(texts)
        out["embedding_texts_per_second"] = round(len(texts) / (time.perf_counter() - t2), 1)
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["load_after"] = _load()
    print(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
