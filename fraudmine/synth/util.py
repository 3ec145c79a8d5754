"""Vectorised helpers: id formatting, keyed hashes, perceptual hashes, timestamps."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

US_PER_DAY = 86_400_000_000
US_PER_HOUR = 3_600_000_000

IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]


# largest prime below 10**width: an affine map modulo it is a bijection on [0, prime)
_PRIMES = {7: 9_999_991, 8: 99_999_989, 9: 999_999_937, 10: 9_999_999_967}
_MULT = np.uint64(625_341_585)  # < 2**30, so idx * _MULT fits 64 bits for idx < 2**34
_SHIFT = 1_234_567


def scramble(idx: npt.ArrayLike, width: int) -> IntArray:
    """Map internal indices to id numbers that carry no creation order.

    A fixed affine bijection modulo the largest prime below ``10**width``: the
    same index always gets the same number (determinism, joins across blocks),
    but consecutive indices land far apart, so an id's rank or digits reveal
    neither when the account was created nor which population it was drawn from.
    """
    arr = np.asarray(idx, dtype=np.int64)
    prime = _PRIMES.get(width)
    if prime is None:
        return arr
    if arr.size and int(arr.max()) >= prime:
        raise ValueError(f"index {int(arr.max())} does not fit a {width}-digit id")
    out: IntArray = ((arr.astype(np.uint64) * _MULT + np.uint64(_SHIFT)) % np.uint64(prime)).astype(np.int64)
    return out


def make_ids(prefix: str, idx: npt.ArrayLike, width: int, scrambled: bool = True) -> list[str]:
    """Format integer indices as ids ``<prefix><zero-padded number>``.

    Args:
        prefix: letters in front, e.g. ``"m"``.
        idx: non-negative integers.
        width: zero-padding width.
        scrambled: pass the indices through :func:`scramble` first (default), so
            ids look like production ids (no order, no population ranges).

    Returns:
        A list of id strings.
    """
    arr = scramble(idx, width) if scrambled else np.asarray(idx, dtype=np.int64)
    return [f"{prefix}{i:0{width}d}" for i in arr.tolist()]


def id_array(prefix: str, idx: npt.ArrayLike, width: int, scrambled: bool = True) -> pa.StringArray:
    """:func:`make_ids` as an Arrow string array, formatted in Arrow's kernels (no Python strings).

    For the large id columns (orders, their events, reviews): equal to
    ``pa.array(make_ids(prefix, idx, width, scrambled))`` at a fraction of the cost.
    """
    arr = scramble(idx, width) if scrambled else np.asarray(idx, dtype=np.int64)
    digits = pc.utf8_lpad(pc.cast(pa.array(arr, type=pa.int64()), pa.string()), width=width, padding="0")
    out: pa.StringArray = pc.binary_join_element_wise(prefix, digits, "")
    return out


def hmac_hex(key: bytes, raw_values: Iterable[str]) -> list[str]:
    """Keyed HMAC-SHA256 of each raw identifier value, as 64 lowercase hex chars.

    Equal to ``hmac.new(key, v, sha256).hexdigest()`` (RFC 2104), about twice as fast:
    the inner and outer padded-key states are hashed once and copied per value
    instead of re-deriving them for every value. Raw values never leave this function.
    """
    block = hashlib.sha256().block_size
    k = hashlib.sha256(key).digest() if len(key) > block else key
    k = k.ljust(block, b"\0")
    inner0 = hashlib.sha256(bytes(b ^ 0x36 for b in k))
    outer0 = hashlib.sha256(bytes(b ^ 0x5C for b in k))
    out: list[str] = []
    for v in raw_values:
        inner = inner0.copy()
        inner.update(v.encode())
        outer = outer0.copy()
        outer.update(inner.digest())
        out.append(outer.hexdigest())
    return out


def random_tokens(salt: bytes, slots: Iterable[str]) -> list[str]:
    """Random-looking raw identifier values (32 hex chars) for internal identifier slots.

    Each slot (an internal name such as "the second device of account 42") maps to
    a token drawn by a keyed BLAKE2b under the dataset's secret ``salt``: the same slot
    gets the same token inside one dataset, and nothing in a token says whose it is.
    """
    return [hashlib.blake2b(s.encode(), key=salt, digest_size=16).hexdigest() for s in slots]


KEY_ENV = "FRAUDMINE_SYNTH_IDENTIFIER_KEY"


def dataset_keys(seed: int, env_key: str | None) -> tuple[bytes, bytes]:
    """``(token salt, HMAC key)`` of one dataset: from ``env_key`` when given, else drawn from ``seed``.

    Neither is stored in the repository or written next to the data; a dataset made
    without ``$FRAUDMINE_SYNTH_IDENTIFIER_KEY`` can be reproduced from its seed, but its raw
    identifier values are random tokens, so the hashes say nothing about membership.
    """
    if env_key:
        base = hashlib.sha256(env_key.encode()).digest()
    else:
        base = np.random.default_rng(np.random.SeedSequence([seed, 0x1D_E7])).bytes(32)
    return hashlib.sha256(b"salt" + base).digest()[:32], hashlib.sha256(b"hmac" + base).digest()


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
