"""Marketplace context of duplicate pairs: stock photos are no evidence, cross-shop matches need corroboration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fraudmine.config import DedupConfig
from fraudmine.dedup.blocking import tfidf_matrix
from fraudmine.dedup.corpus import build_corpus
from fraudmine.dedup.features import pair_features
from fraudmine.dedup.listings import find_duplicates
from fraudmine.dedup.marketplace import corroborated, shop_pair_support, stock_photos, vouched
from tests.test_dedup_spark_listings import WORDS


def test_a_photo_is_stock_from_min_shops_distinct_shops() -> None:
    phash = ["aa", "aa", "aa", "aa", "bb", "bb", None, None, None]
    shops = ["m1", "m1", "m2", "m3", "m1", "m2", "m1", "m2", "m3"]
    assert stock_photos(phash, shops, 3).tolist() == [True] * 4 + [False] * 5  # a shop's own repeats count once
    assert stock_photos(phash, shops, 2).tolist() == [True] * 6 + [False] * 3  # a missing photo is never stock
    assert not stock_photos(phash, shops, 0).any()  # off


def test_shop_pair_support_counts_confident_cross_shop_pairs_of_the_unordered_shop_pair() -> None:
    si = np.array([0, 1, 0, 0, 2, 2], dtype=np.int64)
    sj = np.array([1, 0, 1, 2, 2, 0], dtype=np.int64)
    conf = np.array([True, True, False, True, True, True])
    # shops {0,1}: two confident pairs (0-1 and 1-0 are one shop pair); {0,2}: two; a shop with itself: 0
    assert shop_pair_support(si, sj, conf).tolist() == [2, 2, 2, 2, 0, 2]
    assert corroborated(si, sj, conf, 3).tolist() == [False, False, False, False, True, False]
    assert corroborated(si, sj, conf, 2).all() and corroborated(si, sj, conf, 1).all()
    # vouched: cross-shop pairs of a shop pair with enough confident pairs; never one shop, none when off
    assert vouched(si, sj, conf, 2).tolist() == [True, True, True, True, False, True]
    assert not vouched(si, sj, conf, 3).any() and not vouched(si, sj, conf, 1).any()


def test_a_stock_photo_gives_a_pair_no_image_evidence() -> None:
    titles = ["classic lipstick red", "classic lipstick red matte", "classic lipstick red", "garden hose"]
    corpus = build_corpus(list(range(4)), titles, phashes=["00ff00ff00ff00ff"] * 3 + ["1234567890abcdef"])
    i, j = np.array([0, 0, 3], dtype=np.int64), np.array([1, 2, 2], dtype=np.int64)
    plain = pair_features(corpus, i, j, tfidf_matrix(corpus))
    stock = pair_features(corpus, i, j, tfidf_matrix(corpus), stock=np.array([True, True, True, False]))
    assert plain["image_hamming"].tolist() == [0.0, 0.0, 26.0]
    assert stock["image_hamming"].isna().all()  # nor the conflict of the stock photo with another photo
    # the shared photo no longer adds to agreeing text: the pair is scored on its text alone
    assert (stock["unsup_score"].to_numpy()[:2] < plain["unsup_score"].to_numpy()[:2] - 0.2).all()


def _market(n_shops: int = 30) -> pd.DataFrame:
    """Shop ``c`` copied three listings of shop ``v``; shops ``h1`` / ``h2`` each sell one garden hose (one
    collision of a generic title with a near-identical photo); ``n_shops`` other shops re-post one listing
    of their own each (the matches the threshold mixture learns from)."""
    rng = np.random.default_rng(5)
    own = ["ultra slim phone case shockproof black", "wooden chess board set walnut", "ceramic coffee mug 350ml white"]
    mine = [" ".join(rng.choice(WORDS, size=5, replace=False).tolist()) for _ in range(n_shops)]
    titles = own + [t + " sale" for t in own] + ["garden hose green flexible", "garden hose green flexible sale"]
    titles += [t for m in mine for t in (m, m + " sale")]
    photos = [int(x) for x in rng.integers(0, 1 << 63, size=4 + n_shops)]
    hashes = photos[:3] + [p ^ 1 for p in photos[:3]] + [photos[3], photos[3] ^ 1]
    hashes += [p ^ b for p in photos[4:] for b in (0, 1)]
    shops = ["v"] * 3 + ["c"] * 3 + ["h1", "h2"] + [f"o{k}" for k in range(n_shops) for _ in range(2)]
    return _shop_listings(titles, shops, list(hashes), digits=2)


def _shop_listings(titles: list[str], shops: list[str], hashes: list[int | None], digits: int) -> pd.DataFrame:
    """Listings ``p00…`` (ids of ``digits`` digits) without descriptions or brands, one hour apart."""
    n = len(titles)
    return pd.DataFrame(
        {
            "product_id": [f"p{k:0{digits}d}" for k in range(n)],
            "merchant_id": shops,
            "title": titles,
            "description": [None] * n,
            "price": [10.0 + k for k in range(n)],
            "brand_name": [None] * n,
            "image_phash": [None if h is None else f"{h:016x}" for h in hashes],
            "created_at": pd.to_datetime("2026-10-01", utc=True) + pd.to_timedelta(np.arange(n), unit="h"),
        }
    )


def test_a_cross_shop_match_needs_other_matches_between_the_same_two_shops() -> None:
    listings = _market()
    got = find_duplicates(listings, DedupConfig(minhash_bands=32))
    clusters = got.members.groupby("cluster_id")["product_id"].apply(set).tolist()
    # the copier's three listings match three of the source shop: corroborated, kept
    assert {"p00", "p03"} in clusters and {"p01", "p04"} in clusters and {"p02", "p05"} in clusters
    assert len(clusters) == 33 and {"p06", "p07"} not in clusters  # and each shop's own re-post
    assert got.report["uncorroborated_cross_shop_pairs"] == 1  # the hose shops' one collision
    off = find_duplicates(listings, DedupConfig(minhash_bands=32, min_shop_pair_matches=1))
    assert {"p06", "p07"} in off.members.groupby("cluster_id")["product_id"].apply(set).tolist()


def copying_shops() -> pd.DataFrame:
    """Shop ``c`` copied four listings of shop ``v``, the fourth without a photo; 25 pairs of honest shops
    share one generic title each under unrelated photos, so a cross-shop title match is not confirmed by
    the images and a text-only one is untrusted — except between ``v`` and ``c``, whose three photo-backed
    copies show them copying; 30 shops re-post one listing each."""
    rng = np.random.default_rng(11)
    own = ["ultra slim phone case shockproof black", "wooden chess board set walnut",
           "ceramic coffee mug 350ml white", "stainless steel water bottle 750ml"]  # fmt: skip
    generic = [" ".join(rng.choice(WORDS, size=4, replace=False).tolist()) for _ in range(25)]
    mine = [" ".join(rng.choice(WORDS, size=5, replace=False).tolist()) for _ in range(30)]
    titles = own + [t + " sale" for t in own] + [t for g in generic for t in (g, g)]
    titles += [t for m in mine for t in (m, m + " sale")]
    photos = [int(x) for x in rng.integers(0, 1 << 63, size=4 + 50 + 30)]
    hashes: list[int | None] = [*photos[:4], *(p ^ 1 for p in photos[:3]), None, *photos[4:54]]
    hashes += [p ^ b for p in photos[54:] for b in (0, 1)]
    shops = ["v"] * 4 + ["c"] * 4 + [f"g{k}{s}" for k in range(25) for s in "ab"]
    shops += [f"o{k}" for k in range(30) for _ in range(2)]
    return _shop_listings(titles, shops, hashes, digits=3)


def test_two_shops_that_copy_each_other_vouch_for_their_text_only_match() -> None:
    got = find_duplicates(copying_shops(), DedupConfig(minhash_bands=32))
    clusters = got.members.groupby("cluster_id")["product_id"].apply(set).tolist()
    assert {"p000", "p004"} in clusters and {"p002", "p006"} in clusters  # the photo-backed copies
    assert got.report["text_only_pairs_untrusted"] >= 1 and got.report["text_only_pairs_vouched"] == 1
    assert {"p003", "p007"} in clusters  # the copy without a photo, vouched for by its two shops
    assert not any(f"p{8 + 2 * k:03d}" in c for c in clusters for k in range(25))  # honest generic titles


@pytest.mark.spark
def test_the_spark_path_vouches_for_the_same_text_only_matches(spark: Any, tmp_path: Path) -> None:
    from tests.test_dedup_spark_listings import _spark_result

    listings, cfg = copying_shops(), DedupConfig(minhash_bands=32)
    local = find_duplicates(listings, cfg)
    got = _spark_result(spark, listings, cfg, tmp_path / "work")
    for key in ("text_only_pairs_untrusted", "text_only_pairs_vouched", "uncorroborated_cross_shop_pairs",
                "confident_edges", "clusters"):  # fmt: skip
        assert got.report[key] == local.report[key], key
    assert local.report["text_only_pairs_vouched"] == 1
    cols = ["cluster_id", "product_id", "merchant_id", "is_canonical"]
    pd.testing.assert_frame_equal(got.members.toPandas()[cols], local.members[cols], check_dtype=False)
    pd.testing.assert_frame_equal(got.edges.toPandas(), local.edges, check_dtype=False, atol=1e-6)
