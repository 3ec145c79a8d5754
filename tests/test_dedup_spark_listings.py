"""The Spark path of the duplicates stage equals the local path on a small synthetic listing table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fraudmine.config import DedupConfig

WORDS = [
    "slim",
    "phone",
    "case",
    "galaxy",
    "shockproof",
    "black",
    "garden",
    "hose",
    "green",
    "wooden",
    "chess",
    "board",
    "ceramic",
    "coffee",
    "mug",
    "yoga",
    "mat",
    "purple",
    "lamp",
    "desk",
    "oak",
    "chair",
    "kettle",
    "steel",
    "bottle",
    "jacket",
    "denim",
    "leather",
    "wallet",
    "travel",
    "bag",
    "usb",
    "cable",
    "fast",
    "charger",
]


def synthetic_listings(n_products: int = 70, seed: int = 3) -> pd.DataFrame:
    """Products listed 1-5 times (reworded, re-encoded images, other shops), variants, generic titles, no images."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for _ in range(n_products):
        title = " ".join(rng.choice(WORDS, size=int(rng.integers(3, 7)), replace=False).tolist())
        if rng.random() < 0.4:
            title += f" X{int(rng.integers(100, 999))}B"  # a model number
        phash = int(rng.integers(0, 1 << 63))
        price = float(np.round(rng.uniform(5, 200), 2))
        shop = f"m{int(rng.integers(0, 25))}"
        for c in range(int(rng.integers(1, 6))):
            words = title.split()
            if c and rng.random() < 0.5:
                words[int(rng.integers(0, len(words)))] = str(rng.choice(WORDS))
            if c and rng.random() < 0.3:
                rng.shuffle(words)
            flipped = phash ^ (1 << int(rng.integers(0, 64))) if rng.random() < 0.5 else phash
            img = None if rng.random() < 0.2 else f"{flipped:016x}"
            if rng.random() < 0.15:
                img = f"{int(rng.integers(0, 1 << 63)):016x}"  # own photo: a look-alike, not a copy
            rows.append(
                {
                    "merchant_id": shop if rng.random() < 0.3 else f"m{int(rng.integers(0, 25))}",
                    "title": " ".join(words),
                    "description": f"{title} description" if rng.random() < 0.5 else None,
                    "price": price * float(rng.choice([1.0, 0.9, 1.1])),
                    "brand_name": None,
                    "image_phash": img,
                }
            )
        if rng.random() < 0.2:  # a colour variant of the same shop: not a duplicate
            rows.append(rows[-1] | {"title": rows[-1]["title"] + " red"})
    stock = f"{int(rng.integers(0, 1 << 63)):016x}"  # a supplier's photo under one generic title in six shops
    rows += [
        {"merchant_id": f"s{k}", "title": f"fast usb charger cable {WORDS[k]}", "description": None,
         "price": 10.0 + k, "brand_name": None, "image_phash": stock}
        for k in range(6)
    ]  # fmt: skip
    rows += [dict(rows[k]) for k in range(0, 12)]  # word-for-word re-posts
    frame = pd.DataFrame(rows)
    frame.insert(0, "product_id", [f"p{k:04d}" for k in rng.permutation(len(frame))])
    frame["created_at"] = pd.Timestamp("2026-09-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 60 * 86400, size=len(frame)), unit="s"
    )
    return frame


def _spark_result(spark: Any, listings: pd.DataFrame, cfg: DedupConfig, work: Path) -> Any:
    from fraudmine.dedup.spark_listings import find_duplicates_spark
    from fraudmine.graph.algorithms.engine import LocalEngine

    df = spark.createDataFrame(listings).repartition(3)
    return find_duplicates_spark(df, cfg, lambda e: LocalEngine().connected_components(e).frame, work)


@pytest.mark.spark
def test_spark_path_gives_the_local_clusters(spark: Any, tmp_path: Path) -> None:
    from fraudmine.dedup.listings import find_duplicates

    listings = synthetic_listings()
    cfg = DedupConfig(bucket_cap=6, threshold_sample=1000)
    local = find_duplicates(listings, cfg)
    got = _spark_result(spark, listings, cfg, tmp_path / "work")
    rep, lrep = got.report, local.report
    assert rep["candidate_pairs"] == lrep["candidate_pairs"]
    for gen in ("minhash_lsh", "model_keys", "phash"):
        assert rep["generators"][gen]["pairs"] == lrep["generators"][gen]["pairs"], gen
    assert rep["guard"]["skipped_buckets"] == lrep["guard"]["skipped_buckets"] > 0
    assert rep["guard"]["skipped_pairs"] == lrep["guard"]["skipped_pairs"]
    # TF-IDF rows are rebuilt per batch with the corpus-wide idf: cosines equal up to float32 rounding
    assert rep["threshold"] == pytest.approx(lrep["threshold"], abs=1e-6)
    assert rep["image_conflict_bits"] == pytest.approx(lrep["image_conflict_bits"], abs=1e-6)
    keys = ("text_only_pairs_untrusted", "variant_pairs", "confident_edges", "refused_edges", "split_components",
            "stock_photo_listings", "uncorroborated_cross_shop_pairs", "text_only_pairs_vouched")  # fmt: skip
    for key in keys:
        assert rep[key] == lrep[key], key
    assert lrep["clusters"] >= 10 and lrep["refused_edges"] + lrep["variant_pairs"] > 0
    assert lrep["stock_photo_listings"] >= 6 and lrep["uncorroborated_cross_shop_pairs"] > 0
    members = got.members.toPandas()
    cols = ["cluster_id", "product_id", "merchant_id", "is_canonical"]
    pd.testing.assert_frame_equal(members[cols], local.members[cols], check_dtype=False)
    clusters = got.clusters.toPandas()
    pd.testing.assert_frame_equal(clusters, local.clusters, check_dtype=False, atol=1e-6)
    edges = got.edges.toPandas()
    pd.testing.assert_frame_equal(edges, local.edges, check_dtype=False, atol=1e-6)


def test_duplicates_stage_picks_the_path_by_listing_count() -> None:
    from fraudmine.jobs.duplicates import choose_path

    cfg = DedupConfig(local_max_listings=100)
    assert choose_path(cfg, 100) == "local" and choose_path(cfg, 101) == "spark"
    assert choose_path(DedupConfig(engine="local", local_max_listings=1), 10**9) == "local"
    assert choose_path(DedupConfig(engine="spark"), 10) == "spark"
