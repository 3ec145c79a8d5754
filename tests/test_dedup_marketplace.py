"""Marketplace context of duplicate pairs: stock photos are no evidence, cross-shop matches need corroboration."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fraudmine.config import DedupConfig
from fraudmine.dedup.blocking import tfidf_matrix
from fraudmine.dedup.corpus import build_corpus
from fraudmine.dedup.features import pair_features
from fraudmine.dedup.listings import find_duplicates
from fraudmine.dedup.marketplace import corroborated, shop_pair_support, stock_photos
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
    n = len(titles)
    return pd.DataFrame(
        {
            "product_id": [f"p{k:02d}" for k in range(n)],
            "merchant_id": shops,
            "title": titles,
            "description": [None] * n,
            "price": [10.0 + k for k in range(n)],
            "brand_name": [None] * n,
            "image_phash": [f"{h:016x}" for h in hashes],
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
