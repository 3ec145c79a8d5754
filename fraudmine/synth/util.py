"""Vectorised helpers: id formatting, keyed hashes, perceptual hashes, timestamps."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

US_PER_DAY = 86_400_000_000
US_PER_HOUR = 3_600_000_000

IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]


def make_ids(prefix: str, idx: npt.ArrayLike, width: int) -> list[str]:
    """Format integer indices as ids ``<prefix><zero-padded index>``.

    Args:
        prefix: letters in front, e.g. ``"m"``.
        idx: non-negative integers.
        width: zero-padding width.

    Returns:
        A list of id strings.
    """
    arr = np.asarray(idx, dtype=np.int64)
    return [f"{prefix}{i:0{width}d}" for i in arr.tolist()]


def hmac_hex(key: str, raw_values: Iterable[str]) -> list[str]:
    """Keyed HMAC-SHA256 of each raw identifier value, as 64 lowercase hex chars.

    Raw values never leave this function.
    """
    k = key.encode()
    return [hmac.new(k, v.encode(), hashlib.sha256).hexdigest() for v in raw_values]


def random_u64(rng: np.random.Generator, n: int) -> npt.NDArray[np.uint64]:
    """``n`` uniformly random 64-bit values (perceptual-hash bases)."""
    return rng.integers(0, np.iinfo(np.uint64).max, size=n, dtype=np.uint64, endpoint=True)


def flip_bits(
    rng: np.random.Generator, base: npt.NDArray[np.uint64], max_flips: int, min_flips: int = 0
) -> npt.NDArray[np.uint64]:
    """Flip between ``min_flips`` and ``max_flips`` distinct random bits of each value."""
    out = base.copy()
    n = base.shape[0]
    if n == 0 or max_flips <= 0:
        return out
    k = rng.integers(min_flips, max_flips + 1, size=n)
    # distinct bit positions per row: argsort of random keys, take the first k
    pos = np.argsort(rng.random((n, 64)), axis=1)[:, :max_flips].astype(np.uint64)
    kk = np.asarray(k, dtype=np.int64)
    use = np.arange(max_flips)[None, :] < kk[:, None]
    masks = np.where(use, np.left_shift(np.uint64(1), pos), np.uint64(0))
    flip = np.bitwise_or.reduce(masks, axis=1)
    return np.bitwise_xor(out, flip)


def phash_hex(values: npt.NDArray[np.uint64]) -> list[str]:
    """Render 64-bit perceptual hashes as 16 lowercase hex characters."""
    if values.shape[0] == 0:
        return []
    h = values.astype(">u8").tobytes().hex()
    return [h[i : i + 16] for i in range(0, len(h), 16)]


def hamming64(a: int, b: int) -> int:
    """Hamming distance of two 64-bit integers."""
    return (a ^ b).bit_count()


def uniform_between(rng: np.random.Generator, lo: IntArray, hi: IntArray) -> IntArray:
    """Uniform integer timestamps in ``[lo, hi)`` (``hi`` must exceed ``lo``)."""
    span = np.maximum(hi - lo, 1)
    out: IntArray = lo + np.floor(rng.random(lo.shape[0]) * span).astype(np.int64)
    return out


def bounded_counts(rng: np.random.Generator, lo: int, hi: int, n: int) -> IntArray:
    """``n`` integers uniform in the inclusive range ``[lo, hi]``."""
    return rng.integers(lo, hi + 1, size=n).astype(np.int64)
