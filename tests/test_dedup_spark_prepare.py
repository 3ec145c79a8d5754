"""The Spark path's one normalisation pass: prepared rows rebuild the local path's corpus, and the Spark SQL
title features equal the Python analyser's."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from fraudmine.dedup.blocking import band_keys, minhash_signatures, shingles, title_features
from fraudmine.dedup.corpus import build_corpus
from fraudmine.dedup.spark_listings import corpus_of, prepare_batch

TEXTS = [
    ("Sony KDL-40V4100 40in LCD TV", "Full HD, model KDL40 series, 200 W"),
    ("sony kdl40v4100 tv", "Full HD, model KDL40 series, 200 W"),
    ("Ｎｉｋｅ Air Max 90 — Café edition", None),
    ("Adidas Ultraboost 22", ""),
    ("索尼电视机 黑色 40寸", "高清 液晶 电视"),
    ("จอทีวี ซัมซุง 55 นิ้ว", None),
    ("USB-C cable 2m fast charge 65W", "Braided USB-C to USB-C cable, 2m, 65W PD"),
    ("", None),
    ("plain mug", "plain mug description"),
    ("plain mug", "plain mug description"),
]


def _listings() -> pd.DataFrame:
    n = len(TEXTS)
    return pd.DataFrame(
        {
            "rid": np.arange(n, dtype=np.int64),
            "merchant_id": [f"m{k % 3}" for k in range(n)],
            "title": [t for t, _ in TEXTS],
            "description": [d for _, d in TEXTS],
            "price": [19.99, 19.99, None, 120.0, 300.0, 450.0, 9.5, None, 4.0, 4.0],
            "brand_name": ["Sony", None, "NIKE Inc", None, None, "Samsung", None, None, None, None],
            "image_phash": ["ffee00112233aabb", None, "not-hex", "0000000000000001"]
            + [None] * 4
            + ["8000000000000000"] * 2,
        }
    )


def test_prepared_rows_rebuild_the_corpus_without_normalising_again() -> None:
    listings = _listings()
    ref = build_corpus(
        listings["rid"].tolist(),
        listings["title"].tolist(),
        listings["description"].tolist(),
        listings["price"].tolist(),
        listings["brand_name"].tolist(),
        listings["image_phash"].tolist(),
    )
    prepared = prepare_batch(listings, 64, 16, 7)
    # what a pair batch reads back: Arrow arrays arrive as numpy arrays
    for col in ("tokens", "strong", "models", "extra"):
        prepared[col] = [np.array(v, dtype=object) for v in prepared[col]]
    got = corpus_of(prepared)
    assert [n.tokens for n in got.title] == [n.tokens for n in ref.title]
    assert [n.strong for n in got.title] == [n.strong for n in ref.title]
    assert [n.models for n in got.title] == [n.models for n in ref.title]
    assert got.full_tokens == ref.full_tokens
    assert any(len(e) for e in prepared["extra"])  # descriptions add tokens the titles lack
    np.testing.assert_array_equal(got.price, ref.price)
    assert got.brand == ref.brand
    np.testing.assert_array_equal(got.phash, ref.phash)
    np.testing.assert_array_equal(got.has_phash, ref.has_phash)
    keys = band_keys(minhash_signatures(shingles(ref), 64, 7), 16).view(np.int64)
    np.testing.assert_array_equal(np.stack(prepared["bands"].tolist()), keys)
    # the description hash: equal texts equal keys, a missing text -1, an empty one a key of its own
    desc = prepared["desc_key"].to_numpy()
    assert desc[0] == desc[1] and desc[8] == desc[9] and desc[0] != desc[8]
    assert desc[2] == desc[5] == desc[7] == -1 and desc[3] >= 0


@pytest.mark.spark
def test_title_features_in_spark_sql_equal_the_python_analyser(spark: Any) -> None:
    from pyspark.sql import functions as F

    from fraudmine.dedup.spark_listings import title_feature_column

    prepared = prepare_batch(_listings(), 64, 16, 7)
    tokens = [list(t) for t in prepared["tokens"]] + [["a"], ["𝔘nicode", "ab"]]
    df = spark.createDataFrame([(k, t) for k, t in enumerate(tokens)], "rid long, tokens array<string>")
    got = {r.rid: set(r.f) for r in df.select("rid", title_feature_column(F.col("tokens")).alias("f")).collect()}
    assert got == {k: set(title_features(tuple(t))) for k, t in enumerate(tokens)}
