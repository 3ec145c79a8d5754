"""Marketplace context of a duplicate pair: stock photos and shop-pair corroboration.

Two signals a pair's own features cannot see, both about the shops around it (a trust-and-safety
system reads them the way it reads a shared phone number or address — a hub is no evidence, and
abuse is a behaviour that repeats):

* **stock photos** (:func:`stock_photos`) — a photo shown by listings of ``min_shops`` or more
  shops is a supplier's or a brand's picture (its exact image hash recurs across unrelated shops),
  so two listings sharing it are no more likely copies than two listings without photos: the pair
  is scored as text-only (:func:`fraudmine.dedup.features.pair_features`, ``stock``), and a
  text-only pair joins clusters only where the images of the other pairs confirm text agreement
  at its level (:func:`fraudmine.dedup.listings.trusted_pairs`).  Copying is between two shops (a
  source and a copier); a copy is re-encoded, so its hash is near the source's, not equal;
* **shop-pair corroboration** (:func:`corroborated`) — a shop that copies another shop's listings
  copies several of them, while two honest shops selling one generic product ("classic lipstick
  white") collide once.  A cross-shop confident pair joins clusters only when its two shops share
  at least ``min_matches`` confident pairs; pairs within one shop are not affected.  The same
  evidence vouches for a text-only pair (an image missing, or a stock photo) between two such
  shops (:func:`vouched`): once two shops are known to copy each other, a title match between them
  is a copy whether or not its photo can confirm it.

Both are neutral where the context is absent (no shop or no photo column, as in the public
entity-resolution benchmarks, which never call them).  Measured in ``docs/benchmarks.md``
("2026-12-07 session 22 — duplicate precision").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def stock_photos(phash: Sequence[object], merchant: Sequence[object], min_shops: int) -> BoolArray:
    """Per listing: whether its image hash is shown by listings of at least ``min_shops`` distinct shops.

    Args:
        phash: image hash per listing (equal strings are one photo; missing values are never stock).
        merchant: shop per listing.
        min_shops: shops from which a photo is a stock photo (``0`` turns the rule off: nothing is).

    Returns:
        A boolean array in listing order.
    """
    frame = pd.DataFrame({"p": pd.Series(phash, dtype=object), "m": pd.Series(merchant, dtype=object)})
    if min_shops <= 0 or frame.empty:
        return np.zeros(len(frame), dtype=bool)
    shops = frame.dropna().groupby("p")["m"].nunique()
    return np.asarray(frame["p"].map(shops).fillna(0).to_numpy(dtype=np.int64) >= min_shops, dtype=bool)


def shop_pair_support(shop_i: IntArray, shop_j: IntArray, confident: BoolArray) -> IntArray:
    """Per pair: how many confident cross-shop pairs its (unordered) shop pair holds (0 for one shop).

    Args:
        shop_i, shop_j: shop code (non-negative) of each pair's two listings.
        confident: pairs that would form clusters (at or above the threshold, trusted, not variants).
    """
    a = np.minimum(shop_i, shop_j).astype(np.int64)
    b = np.maximum(shop_i, shop_j).astype(np.int64)
    key = a * (int(b.max(initial=0)) + 1) + b
    cross = a != b
    inverse, codes = pd.factorize(key)  # hash-based: numpy 2's np.unique is slow on integer codes (pairs.py)
    counts = np.bincount(inverse[confident & cross], minlength=len(codes))
    return np.where(cross, counts[inverse], 0).astype(np.int64)


def corroborated(shop_i: IntArray, shop_j: IntArray, confident: BoolArray, min_matches: int) -> BoolArray:
    """Pairs kept by shop-pair corroboration: within one shop, or across two shops that share at least
    ``min_matches`` confident pairs (``min_matches`` ≤ 1 keeps every pair)."""
    if min_matches <= 1:
        return np.ones(len(shop_i), dtype=bool)
    return np.asarray((shop_i == shop_j) | (shop_pair_support(shop_i, shop_j, confident) >= min_matches), dtype=bool)


def vouched(shop_i: IntArray, shop_j: IntArray, confident: BoolArray, min_matches: int) -> BoolArray:
    """Cross-shop pairs whose two shops share at least ``min_matches`` confident pairs (none when
    ``min_matches`` ≤ 1: without the corroboration rule no shop pair is known to copy).

    The caller trusts a text-only pair above the threshold that :func:`fraudmine.dedup.listings.trusted_pairs`
    left out when its shop pair is vouched for by the ``confident`` (trusted, image-bearing or confirmed) pairs.
    """
    if min_matches <= 1:
        return np.zeros(len(shop_i), dtype=bool)
    return np.asarray((shop_i != shop_j) & (shop_pair_support(shop_i, shop_j, confident) >= min_matches), dtype=bool)
