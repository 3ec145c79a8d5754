"""Banded MinHash LSH on Spark DataFrames: the scale-out path of :func:`.blocking.minhash_lsh`.

Signatures and band keys are computed per partition with the same numpy functions as the local
path (``mapInPandas``), so both paths produce the same keys; buckets are Spark groups on
``(band, key)``.  Buckets with more than ``cap`` members are skipped and returned as a report
(the hot-bucket guard); the others are expanded into pairs by a self-join.  Measured against
Spark ML's ``MinHashLSH.approxSimilarityJoin`` this avoids its per-pair distance join (see
``ENVIRONMENT.md``: 88 s vs 8 s single-process on 20k texts).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraudmine.dedup.blocking import band_keys, minhash_signatures, shingles
from fraudmine.dedup.corpus import build_corpus


def band_key_rows(
    records: DataFrame, id_col: str, text_col: str, num_perm: int = 64, bands: int = 16, seed: int = 7
) -> DataFrame:
    """``[rid, band, key]``: one row per record and band (``rid`` = ``id_col`` as long)."""

    def keys(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            if pdf.empty:
                continue
            corpus = build_corpus(pdf[id_col].tolist(), pdf[text_col].tolist())
            k = band_keys(minhash_signatures(shingles(corpus), num_perm, seed), bands)
            yield pd.DataFrame(
                {
                    "rid": np.repeat(pdf[id_col].to_numpy(dtype=np.int64), bands),
                    "band": np.tile(np.arange(bands, dtype=np.int32), len(pdf)),
                    "key": k.ravel().view(np.int64),
                }
            )

    return records.select(id_col, text_col).mapInPandas(keys, "rid long, band int, key long")


def spark_minhash_pairs(
    records: DataFrame,
    id_col: str,
    text_col: str,
    num_perm: int = 64,
    bands: int = 16,
    seed: int = 7,
    cap: int = 50,
) -> tuple[DataFrame, DataFrame]:
    """Candidate pairs ``[i, j]`` (``i < j``, distinct) and skipped hot buckets ``[band, key, size]``.

    Args:
        records: one row per record, ``id_col`` an integer id, ``text_col`` its title.
        num_perm, bands, seed: MinHash parameters (as the local path).
        cap: buckets with more members are skipped and reported.
    """
    rows = band_key_rows(records, id_col, text_col, num_perm, bands, seed)
    return bucket_pairs(rows, ["band", "key"], cap)


def bucket_pairs(rows: DataFrame, keys: list[str], cap: int) -> tuple[DataFrame, DataFrame]:
    """All pairs ``[i, j]`` (``i < j``, distinct) of ``rid`` sharing the ``keys`` columns, and the skipped
    hot buckets ``[*keys, size]`` (more than ``cap`` entries: :class:`~fraudmine.dedup.pairs.BucketGuard`
    on a DataFrame; a bucket's size counts its entries, repeats included, as the local guard does).

    One aggregation per bucket (its size and its members), then each kept bucket's pairs are listed in
    Spark SQL from its sorted distinct members: one shuffle of ``rows``, where a count, a join back and a
    self-join took three."""
    buckets = rows.groupBy(*keys).agg(F.count(F.lit(1)).alias("size"), F.collect_list("rid").alias("members"))
    skipped = buckets.where(F.col("size") > cap).select(*keys, "size")
    kept = buckets.where((F.col("size") >= 2) & (F.col("size") <= cap)).select(
        F.array_sort(F.array_distinct("members")).alias("m")
    )
    last = F.size("m") - 1
    pairs = F.flatten(
        F.transform(
            F.sequence(F.lit(0), last - 1),
            lambda x: F.transform(
                F.sequence(x + 1, last), lambda y: F.struct(F.col("m")[x].alias("i"), F.col("m")[y].alias("j"))
            ),
        )
    )
    out = kept.where(F.size("m") >= 2).select(F.explode(pairs).alias("p")).select("p.i", "p.j").distinct()
    return out, skipped
