"""Candidate generators (blocking), each measured, and their union.

Generators, all returning canonical pairs (see :mod:`fraudmine.dedup.pairs`):

* :func:`tfidf_knn` — top-k neighbours by TF-IDF cosine on title tokens and their character 3-grams;
* :func:`embedding_knn` — top-k neighbours by sentence-embedding cosine (brute force in chunks;
  exact, and fast enough up to ~10^5 records on 2 cores);
* :func:`minhash_lsh` — banded MinHash LSH on token shingles (Broder 1997; Leskovec, Rajaraman &
  Ullman, *Mining of Massive Datasets*, ch. 3), numpy on the driver; the same keys on Spark
  DataFrames in :mod:`fraudmine.dedup.spark_lsh`;
* :func:`model_keys` — exact model-number keys;
* :func:`phash_buckets` — perceptual-hash pairs within a Hamming radius by multi-index hashing:
  pieces of about log2(n) + 2 bits looked up with a few bits flipped, so every pair within the
  radius is found at any scale, then verified.

Every bucketing generator goes through a :class:`~fraudmine.dedup.pairs.BucketGuard`, which skips
over-populated keys and records what it skipped.
"""

from __future__ import annotations

import itertools
import math
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from fraudmine.dedup.corpus import Corpus
from fraudmine.dedup.normalize import Normalized
from fraudmine.dedup.pairs import BucketGuard, IntArray, canonical, union

Pairs = tuple[IntArray, IntArray]
_PRIME = np.uint64((1 << 61) - 1)


def title_features(tokens: tuple[str, ...]) -> list[str]:
    """TF-IDF analyser: the tokens plus character 3-grams of each (typos and spacing)."""
    out = list(tokens)
    for t in tokens:
        padded = f"#{t}#"
        out.extend(f"~{padded[i : i + 3]}" for i in range(len(padded) - 2))
    return out


def tfidf_matrix(corpus: Corpus) -> sparse.csr_matrix:
    """Row-normalised TF-IDF matrix of the titles (tokens + character 3-grams, sublinear tf)."""
    vec = TfidfVectorizer(analyzer=title_features, sublinear_tf=True, min_df=1, dtype=np.float32)
    return vec.fit_transform([n.tokens for n in corpus.title]).tocsr()


def _queries(corpus: Corpus, k: int) -> list[tuple[IntArray, IntArray, int]]:
    """(query rows, index rows, k) per direction.

    One table: every record against all.  Two sources: the smaller side queries the larger with
    ``k``, and the larger queries back with ``k`` scaled by the size ratio (at least 1), so the
    candidate budget stays about ``2·k`` per record of the smaller side however unequal the sizes.
    """
    n = len(corpus)
    if corpus.side is None:
        rows = np.arange(n, dtype=np.int64)
        return [(rows, rows, k + 1)]
    left = np.flatnonzero(corpus.side == 0).astype(np.int64)
    right = np.flatnonzero(corpus.side == 1).astype(np.int64)
    small, large = (left, right) if len(left) <= len(right) else (right, left)
    back = max(1, round(k * len(small) / max(len(large), 1)))
    return [(small, large, k), (large, small, back)]


def _topk(sim: Callable[[IntArray, IntArray], npt.NDArray[np.float32]], corpus: Corpus, k: int, chunk: int) -> Pairs:
    n = len(corpus)
    out_i: list[IntArray] = []
    out_j: list[IntArray] = []
    for query, index, kq in _queries(corpus, k):
        kk = min(kq, len(index))
        if kk == 0:
            continue
        for s in range(0, len(query), chunk):
            q = query[s : s + chunk]
            scores = sim(q, index)
            top = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
            out_i.append(np.repeat(q, kk))
            out_j.append(index[top].ravel())
    if not out_i:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return canonical(np.concatenate(out_i), np.concatenate(out_j), n, corpus.side)


def tfidf_knn(corpus: Corpus, k: int = 10, matrix: sparse.csr_matrix | None = None, chunk: int = 256) -> Pairs:
    """Each record's ``k`` most similar records of the other side by TF-IDF cosine."""
    x = tfidf_matrix(corpus) if matrix is None else matrix

    def sim(q: IntArray, index: IntArray) -> npt.NDArray[np.float32]:
        return np.asarray((x[q] @ x[index].T).toarray(), dtype=np.float32)

    return _topk(sim, corpus, k, chunk)


def embedding_knn(corpus: Corpus, emb: npt.NDArray[np.float32], k: int = 10, chunk: int = 1024) -> Pairs:
    """Each record's ``k`` nearest records of the other side by embedding cosine (rows L2-normalised)."""

    def sim(q: IntArray, index: IntArray) -> npt.NDArray[np.float32]:
        return np.asarray(emb[q] @ emb[index].T, dtype=np.float32)

    return _topk(sim, corpus, k, chunk)


def shingles(corpus: Corpus) -> list[set[int]]:
    """Shingle hashes per record: title tokens and token bigrams (CRC-32, deterministic)."""
    return shingle_sets(corpus.title)


def shingle_sets(titles: Sequence[Normalized]) -> list[set[int]]:
    """:func:`shingles` of normalised titles."""
    out: list[set[int]] = []
    for norm in titles:
        toks = list(norm.tokens)
        grams = toks + [f"{a} {b}" for a, b in itertools.pairwise(toks)]
        out.append({zlib.crc32(g.encode()) for g in grams} or {0})
    return out


def minhash_signatures(sets: list[set[int]], num_perm: int = 64, seed: int = 7) -> npt.NDArray[np.uint64]:
    """MinHash signatures ``(n, num_perm)`` with universal hashes ``(a·x + b) mod (2^61 - 1)``."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 1 << 30, size=num_perm, dtype=np.uint64)
    b = rng.integers(0, 1 << 30, size=num_perm, dtype=np.uint64)
    sig = np.empty((len(sets), num_perm), dtype=np.uint64)
    for start in range(0, len(sets), 2048):
        block = sets[start : start + 2048]
        lengths = np.array([len(s) for s in block])
        flat = np.fromiter((h for s in block for h in s), dtype=np.uint64, count=int(lengths.sum()))
        hashed = (flat[:, None] * a[None, :] + b[None, :]) % _PRIME
        offsets = np.r_[0, np.cumsum(lengths)[:-1]]
        sig[start : start + len(block)] = np.minimum.reduceat(hashed, offsets, axis=0)
    return sig


def band_keys(sig: npt.NDArray[np.uint64], bands: int) -> npt.NDArray[np.uint64]:
    """One 64-bit key per (record, band): the band's rows mixed by a fixed polynomial hash."""
    n, p = sig.shape
    rows = p // bands
    mult = np.array([(0x9E3779B97F4A7C15 * (r + 1)) & 0xFFFFFFFFFFFFFFFF for r in range(rows)], dtype=np.uint64)
    keys = np.empty((n, bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for band in range(bands):
            part = sig[:, band * rows : (band + 1) * rows]
            keys[:, band] = (part * mult[None, :]).sum(axis=1) + np.uint64(band)
    return keys


def minhash_lsh(corpus: Corpus, guard: BucketGuard, num_perm: int = 64, bands: int = 16, seed: int = 7) -> Pairs:
    """Pairs sharing at least one band of their MinHash signature (hot buckets guarded)."""
    # equal titles have equal signatures: sign each distinct token sequence once (copies repeat titles)
    codes = pd.factorize(pd.Series([t.tokens for t in corpus.title], dtype=object))[0].astype(np.int64)
    first = np.unique(codes, return_index=True)[1]
    sig = minhash_signatures(shingle_sets([corpus.title[int(k)] for k in first]), num_perm, seed)
    keys = band_keys(sig, bands)[codes]
    n = len(corpus)
    members = np.repeat(np.arange(n, dtype=np.int64), bands)
    return guard.pairs("minhash", keys.ravel(), members, n, corpus.side)


def model_keys(corpus: Corpus, guard: BucketGuard, min_len: int = 4) -> Pairs:
    """Pairs sharing a model number (of at least ``min_len`` characters) in their titles."""
    keys: list[str] = []
    members: list[int] = []
    for i, norm in enumerate(corpus.title):
        for m in norm.models:
            if len(m) >= min_len:
                keys.append(m)
                members.append(i)
    return guard.pairs(
        "model", np.array(keys, dtype=object), np.array(members, dtype=np.int64), len(corpus), corpus.side
    )


def hamming(a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    """Bitwise Hamming distance of 64-bit hashes, elementwise."""
    return np.asarray(np.bitwise_count(np.bitwise_xor(a, b)), dtype=np.int64)


def _flip_masks(width: int, t: int) -> npt.NDArray[np.uint64]:
    """Every ``width``-bit mask with at most ``t`` bits set (0 first)."""
    masks = [0]
    for k in range(1, t + 1):
        masks += [sum(1 << b for b in c) for c in itertools.combinations(range(width), k)]
    return np.array(masks, dtype=np.uint64)


def mih_plan(n: int, radius: int, max_pieces: int = 8) -> tuple[int, int]:
    """Number of pieces ``m`` and bit flips ``t`` per piece for multi-index hashing of ``n`` hashes.

    Each image probes ``m · Σ_{k ≤ t} C(64/m, k)`` piece values and meets about ``n / 2^(64/m)``
    unrelated images per probe; the plan minimises probes x (1 + that), so short pieces with few flips
    win on small tables and longer pieces on large ones (scale m: 3 pieces of 21-22 bits, 2 flips).
    """
    best: tuple[float, int, int] | None = None
    for m in range(1, max_pieces + 1):
        bits = 64 // m
        t = -(-(radius + 1) // m) - 1
        if bits > 26 and t > 1:
            continue  # too many probes and no direct-address table
        probes = m * sum(math.comb(bits, k) for k in range(t + 1))
        cost = probes * (1.0 + n / 2.0**bits)
        if best is None or cost < best[0]:
            best = (cost, m, t)
    assert best is not None
    return best[1], best[2]


def phash_buckets(corpus: Corpus, guard: BucketGuard, radius: int = 6, chunk: int = 8192) -> Pairs:
    """Pairs of images within Hamming ``radius``, all of them: multi-index hashing, then verified.

    Multi-index hashing (Norouzi, Punjani & Fleet, *CVPR* 2012): the 64-bit hash is cut into ``m``
    pieces; two hashes within ``radius`` bits differ in at most ``t = ceil((radius + 1) / m) - 1`` bits
    on at least one piece (pigeonhole), so each image looks up its piece values with up to ``t`` bits
    flipped.  ``m`` comes from :func:`mih_plan`; a piece of up to 26 bits is looked up in a
    direct-address table (counts and offsets per value), a longer one by binary search.  Every pair
    within the radius is found whatever ``n``, except through piece values held by more than the
    guard's cap, which are skipped and reported.
    """
    return phash_pairs(corpus.phash, corpus.has_phash, guard, radius, corpus.side, chunk)


def phash_pairs(
    phash: npt.NDArray[np.uint64],
    known: npt.NDArray[np.bool_],
    guard: BucketGuard,
    radius: int = 6,
    side: npt.NDArray[np.int8] | None = None,
    chunk: int = 8192,
) -> Pairs:
    """:func:`phash_buckets` on bare arrays (one 64-bit hash per record and whether it is known): the
    Spark path collects only these two columns (16 bytes a listing) and runs the same search."""
    rows = np.flatnonzero(known).astype(np.int64)
    n = len(phash)
    if len(rows) < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    m, t = mih_plan(len(rows), radius)
    bounds = np.linspace(0, 64, m + 1).astype(int)
    hashes = phash[rows]
    out_i: list[IntArray] = []
    out_j: list[IntArray] = []
    for p in range(m):
        lo, bits = int(bounds[p]), int(bounds[p + 1] - bounds[p])
        full = np.uint64((1 << bits) - 1) if bits < 64 else np.uint64(np.iinfo(np.uint64).max)
        piece = (hashes >> np.uint64(lo)) & full
        order = np.argsort(piece, kind="stable")
        sv, sr = piece[order], rows[order]
        values, counts = np.unique(sv, return_counts=True)
        for k in np.flatnonzero(counts > guard.cap).tolist():
            guard.skip("phash", f"piece{p}:{int(values[k]):x}", int(counts[k]))
        ok = np.repeat(counts <= guard.cap, counts)
        sv, sr = sv[ok], sr[ok]
        lookup = _direct_table(sv, bits) if bits <= 26 else None
        masks = _flip_masks(bits, t)
        for s in range(0, len(rows), chunk):
            probes = (piece[s : s + chunk, None] ^ masks[None, :]).ravel()
            who = np.repeat(rows[s : s + chunk], len(masks))
            if lookup is not None:
                left = lookup[probes.astype(np.int64)]
                hits = lookup[probes.astype(np.int64) + 1] - left
            else:
                left = np.searchsorted(sv, probes, "left")
                hits = np.searchsorted(sv, probes, "right") - left
            has = hits > 0
            if not has.any():
                continue
            cnt = hits[has]
            starts = np.repeat(left[has] - np.r_[0, np.cumsum(cnt)[:-1]], cnt)
            ci, cj = np.repeat(who[has], cnt), sr[starts + np.arange(int(cnt.sum()))]
            close = (ci != cj) & (hamming(phash[ci], phash[cj]) <= radius)
            out_i.append(ci[close])
            out_j.append(cj[close])
    if not out_i:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return canonical(np.concatenate(out_i), np.concatenate(out_j), n, side)


def _direct_table(sorted_values: npt.NDArray[np.uint64], bits: int) -> IntArray:
    """Offsets into ``sorted_values`` per piece value: value ``v`` occupies ``[table[v], table[v + 1])``."""
    counts = np.bincount(sorted_values.astype(np.int64), minlength=1 << bits)
    table = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=table[1:])
    return table


@dataclass
class BlockingResult:
    """The union of candidate pairs with per-generator measurements.

    Attributes:
        i, j: candidate pairs (canonical).
        by_generator: generator name → its own pairs.
        seconds: generator name → wall seconds.
        guard: what the hot-bucket guard skipped.
    """

    i: IntArray
    j: IntArray
    by_generator: dict[str, Pairs] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    guard: BucketGuard = field(default_factory=BucketGuard)


def block(
    corpus: Corpus,
    generators: dict[str, Callable[[Corpus, BucketGuard], Pairs]],
    guard: BucketGuard | None = None,
) -> BlockingResult:
    """Run each generator, time it, and take the union."""
    g = guard or BucketGuard()
    result = BlockingResult(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), guard=g)
    for name, gen in generators.items():
        start = time.perf_counter()
        result.by_generator[name] = gen(corpus, g)
        result.seconds[name] = time.perf_counter() - start
    result.i, result.j = union(list(result.by_generator.values()), len(corpus))
    return result
