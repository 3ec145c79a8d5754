"""Token sets of a corpus as sparse incidence matrices: set features of millions of pairs without a
Python loop per pair.

:func:`fraudmine.dedup.features.pair_features` needs, per candidate pair, token and strong-token
Jaccard, "does this model number / brand word occur in the other record" and model-number
containment.  Per pair in Python these cost about 10 µs each (≈ 5 min for the 8M candidate pairs of
scale m); here every record's sets are rows of binary CSR matrices over one vocabulary (the record's
full token set: title and description), intersections are sparse row products and membership is a
binary search over the sorted ``record * vocabulary + token`` codes.  The per-pair reference
functions stay in :mod:`fraudmine.dedup.features`; a test checks both agree on random corpora.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from fraudmine.dedup.corpus import Corpus
from fraudmine.dedup.pairs import IntArray

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
_CHUNK = 200_000


def incidence(sets: Sequence[Collection[str]], vocab: pd.Index) -> sparse.csr_matrix:
    """Binary ``records x vocab`` matrix of the sets (repeated tokens count once; unknown tokens dropped)."""
    lens = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    codes = np.asarray(vocab.get_indexer([t for s in sets for t in s]), dtype=np.int64)
    rows = np.repeat(np.arange(len(sets), dtype=np.int64), lens)
    ok = codes >= 0
    m = sparse.csr_matrix(
        (np.ones(int(ok.sum()), dtype=np.float32), (rows[ok], codes[ok])), shape=(len(sets), len(vocab))
    )
    m.sum_duplicates()
    m.data[:] = 1.0
    m.sort_indices()
    return m


def row_dot(x: sparse.csr_matrix, i: IntArray, j: IntArray) -> FloatArray:
    """``x[i] · x[j]`` per pair (rows of a sparse matrix), in chunks."""
    out = np.empty(len(i), dtype=np.float64)
    for s in range(0, len(i), _CHUNK):
        a, b = x[i[s : s + _CHUNK]], x[j[s : s + _CHUNK]]
        out[s : s + _CHUNK] = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    return out


def _gather(m: sparse.csr_matrix, rows: IntArray) -> tuple[IntArray, IntArray]:
    """Column codes of the given rows, flattened, with the position in ``rows`` each came from."""
    counts = np.diff(m.indptr)[rows].astype(np.int64)
    owner = np.repeat(np.arange(len(rows), dtype=np.int64), counts)
    first = np.repeat(m.indptr[rows].astype(np.int64) - (np.cumsum(counts) - counts), counts)
    return owner, np.asarray(m.indices, dtype=np.int64)[first + np.arange(int(counts.sum()), dtype=np.int64)]


@dataclass(frozen=True)
class TokenSets:
    """Every record's token sets over one vocabulary.

    Attributes:
        vocab: token → column (the union of all records' full token sets).
        tokens, strong, models: binary incidence of title tokens, strong tokens and model numbers.
        full_keys: sorted ``record * len(vocab) + token`` codes of every record's full token set (title and
            description: what "occurs in the other record" searches).
        long_model: whether a record has a model number of at least 4 characters.
        brand: code of the record's brand (its brand field, else its first title token); -1 when none.
        brand_word: vocabulary column of the brand's first word (-1 when none or not a token anywhere).
    """

    vocab: pd.Index
    tokens: sparse.csr_matrix
    strong: sparse.csr_matrix
    models: sparse.csr_matrix
    full_keys: IntArray
    long_model: BoolArray
    brand: IntArray
    brand_word: IntArray

    @classmethod
    def of(cls, corpus: Corpus) -> TokenSets:
        """Build the matrices of a corpus (one pass over its tokens)."""
        vocab = pd.Index(pd.unique(pd.Series([t for s in corpus.full_tokens for t in s], dtype=object)))
        title = corpus.title
        brand_of = [b if b else (n.tokens[0] if n.tokens else "") for b, n in zip(corpus.brand, title, strict=True)]
        codes, _ = pd.factorize(pd.Series(brand_of, dtype=object))
        brand = np.where(np.array([bool(b) for b in brand_of]), codes, -1).astype(np.int64)
        words = [b.split()[0] if b else "" for b in brand_of]
        word = np.asarray(vocab.get_indexer(words), dtype=np.int64)
        word[brand < 0] = -1
        full = incidence(corpus.full_tokens, vocab)
        keys = np.repeat(np.arange(full.shape[0], dtype=np.int64), np.diff(full.indptr)) * np.int64(len(vocab))
        return cls(
            vocab=vocab,
            tokens=incidence([n.tokens for n in title], vocab),
            strong=incidence([n.strong for n in title], vocab),
            models=incidence([n.models for n in title], vocab),
            full_keys=keys + np.asarray(full.indices, dtype=np.int64),
            long_model=np.array([any(len(m) >= 4 for m in n.models) for n in title], dtype=bool),
            brand=brand,
            brand_word=word,
        )

    def contains(self, rows: IntArray, cols: IntArray) -> BoolArray:
        """Whether token ``cols[k]`` is in the full token set of record ``rows[k]`` (``cols < 0``: false)."""
        keys = self.full_keys
        if len(keys) == 0:  # no record has a token: nothing occurs anywhere
            return np.zeros(len(rows), dtype=bool)
        query = np.asarray(rows, dtype=np.int64) * np.int64(len(self.vocab)) + np.maximum(cols, 0)
        pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
        return np.asarray((cols >= 0) & (keys[pos] == query), dtype=bool)


def jaccard(m: sparse.csr_matrix, i: IntArray, j: IntArray) -> FloatArray:
    """Jaccard of the sets in rows ``i`` and ``j`` (``nan`` when both are empty)."""
    size = np.diff(m.indptr).astype(np.float64)
    inter = row_dot(m, i, j)
    union = size[i] + size[j] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.maximum(union, 1), np.nan)


def brand_agree(ts: TokenSets, i: IntArray, j: IntArray) -> FloatArray:
    """Vectorised :func:`fraudmine.dedup.features.brand_agreement`."""
    known = (ts.brand[i] >= 0) & (ts.brand[j] >= 0)
    same = (ts.brand[i] == ts.brand[j]) | ts.contains(j, ts.brand_word[i]) | ts.contains(i, ts.brand_word[j])
    return np.where(known, np.where(same, 1.0, 0.0), np.nan)


def _any_model_in_other(ts: TokenSets, a: IntArray, b: IntArray) -> BoolArray:
    owner, codes = _gather(ts.models, a)
    hit = ts.contains(b[owner], codes)
    return np.bincount(owner, weights=hit.astype(np.float64), minlength=len(a)) > 0


def model_agree(ts: TokenSets, corpus: Corpus, i: IntArray, j: IntArray) -> FloatArray:
    """Vectorised :func:`fraudmine.dedup.features.model_agreement`.

    Exact occurrence is vectorised; the containment test ("KDL40" inside "KDL40V4100") runs in Python
    on the few pairs where both titles carry long model numbers and none occurs in the other record.
    """
    out = np.zeros(len(i), dtype=np.float64)
    for s in range(0, len(i), _CHUNK):
        a, b = i[s : s + _CHUNK], j[s : s + _CHUNK]
        exact = _any_model_in_other(ts, a, b) | _any_model_in_other(ts, b, a)
        both_long = ts.long_model[a] & ts.long_model[b]
        part = np.where(exact, 1.0, np.where(both_long, -1.0, 0.0))
        for k in np.flatnonzero(~exact & both_long).tolist():
            long_a = [m for m in corpus.title[int(a[k])].models if len(m) >= 4]
            long_b = [m for m in corpus.title[int(b[k])].models if len(m) >= 4]
            if any(x in y or y in x for x in long_a for y in long_b):
                part[k] = 0.5
        out[s : s + _CHUNK] = part
    return out
