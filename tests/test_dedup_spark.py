"""Spark banded MinHash equals the local numpy path (same signatures, same guard)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from fraudmine.dedup.blocking import minhash_lsh
from fraudmine.dedup.corpus import build_corpus
from fraudmine.dedup.pairs import BucketGuard
from fraudmine.dedup.spark_lsh import spark_minhash_pairs


@pytest.mark.spark
def test_spark_minhash_pairs_equal_the_local_path(spark: Any) -> None:
    rng = np.random.default_rng(1)
    words = ["red", "blue", "lamp", "chair", "case", "phone", "s21", "slim", "black", "mug", "oak", "desk"]
    titles = [" ".join(rng.choice(words, size=5)) for _ in range(60)] + ["same same title here"] * 8
    local_guard = BucketGuard(cap=6)
    li, lj = minhash_lsh(build_corpus(list(range(len(titles))), titles), local_guard, 64, 16, 7)
    df = spark.createDataFrame([(k, t) for k, t in enumerate(titles)], "id long, title string").repartition(3)
    pairs, skipped = spark_minhash_pairs(df, "id", "title", 64, 16, 7, cap=6)
    got = {(r.i, r.j) for r in pairs.collect()}
    assert got == set(zip(li.tolist(), lj.tolist(), strict=True))
    assert skipped.count() == local_guard.skipped_buckets > 0
