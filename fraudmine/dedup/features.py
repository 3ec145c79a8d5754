"""Pair similarity features for candidate pairs.

One row per candidate pair ``(i, j)``; ``nan`` where a feature is undefined (no
price, no image) so LightGBM can route missing values itself.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from fraudmine.dedup.blocking import hamming
from fraudmine.dedup.corpus import Corpus
from fraudmine.dedup.pairs import IntArray
from fraudmine.dedup.tokensets import TokenSets, brand_agree, jaccard, model_agree, row_dot

FEATURES = (
    "jaccard",
    "strong_jaccard",
    "tfidf_cos",
    "emb_cos",
    "model_agree",
    "price_ratio",
    "brand_agree",
    "image_hamming",
    "len_ratio",
    "unsup_score",
    "rank_left",
    "rank_right",
    "gap_left",
    "gap_right",
)


def model_agreement(corpus: Corpus, a: int, b: int) -> float:
    """1 when a model number of one title occurs in the other record, 0.5 when one contains the other
    (colour or region suffixes), -1 when both titles carry model numbers and none agree, 0 otherwise."""
    ma, mb = corpus.title[a].models, corpus.title[b].models
    if (ma and not set(ma).isdisjoint(corpus.full_tokens[b])) or (mb and not set(mb).isdisjoint(corpus.full_tokens[a])):
        return 1.0
    long_a = [m for m in ma if len(m) >= 4]
    long_b = [m for m in mb if len(m) >= 4]
    for x in long_a:
        for y in long_b:
            if x in y or y in x:
                return 0.5
    return -1.0 if long_a and long_b else 0.0


def _brand_of(corpus: Corpus, r: int) -> str:
    if corpus.brand[r]:
        return corpus.brand[r]
    toks = corpus.title[r].tokens
    return toks[0] if toks else ""


def brand_agreement(corpus: Corpus, a: int, b: int) -> float:
    """1 if the brands agree (or one's brand appears in the other's text), 0 if not, nan if unknown."""
    ba, bb = _brand_of(corpus, a), _brand_of(corpus, b)
    if not ba or not bb:
        return float("nan")
    if ba == bb or ba.split()[0] in corpus.full_tokens[b] or bb.split()[0] in corpus.full_tokens[a]:
        return 1.0
    return 0.0


def pair_features(
    corpus: Corpus,
    i: IntArray,
    j: IntArray,
    tfidf: sparse.csr_matrix,
    emb: npt.NDArray[np.float32] | None = None,
    sets: TokenSets | None = None,
    stock: npt.NDArray[np.bool_] | None = None,
) -> pd.DataFrame:
    """Features of each candidate pair (columns :data:`FEATURES`, one row per pair, in pair order).

    ``stock``: per record, whether its photo is a stock photo (:func:`fraudmine.dedup.marketplace.stock_photos`);
    a pair with one has no image evidence (``image_hamming`` is ``nan``, the pair is scored as text-only).

    ``sets``: the corpus's :class:`~fraudmine.dedup.tokensets.TokenSets` when the caller scores several
    pair sets of one corpus (built here otherwise).  Set features are vectorised there; they equal
    :func:`model_agreement`, :func:`brand_agreement` and the set Jaccard per pair.
    """
    ts = sets if sets is not None else TokenSets.of(corpus)
    lens = np.array([len(n.tokens) for n in corpus.title], dtype=np.float64)
    out = pd.DataFrame(
        {
            "jaccard": jaccard(ts.tokens, i, j),
            "strong_jaccard": jaccard(ts.strong, i, j),
            "tfidf_cos": row_dot(tfidf, i, j),
            "emb_cos": np.einsum("ij,ij->i", emb[i], emb[j]) if emb is not None else np.full(len(i), np.nan),
            "model_agree": model_agree(ts, corpus, i, j),
        }
    )
    pa, pb = corpus.price[i], corpus.price[j]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["price_ratio"] = np.minimum(pa, pb) / np.maximum(pa, pb)
        out["len_ratio"] = np.minimum(lens[i], lens[j]) / np.maximum(np.maximum(lens[i], lens[j]), 1)
    out["brand_agree"] = brand_agree(ts, i, j)
    both = corpus.has_phash[i] & corpus.has_phash[j]
    if stock is not None:  # a supplier's picture shared by many shops says nothing about copying
        both &= ~(stock[i] | stock[j])
    ham = hamming(corpus.phash[i], corpus.phash[j]).astype(np.float64)
    out["image_hamming"] = np.where(both, ham, np.nan)
    return add_context(out, i, j)


def add_context(feats: pd.DataFrame, i: IntArray, j: IntArray) -> pd.DataFrame:
    """The unsupervised score and each pair's standing among its records' candidates (in place).

    ``rank_left``/``rank_right``: rank of the pair's score among all candidate pairs of its first/
    second record (0 = best, ties in pair order); ``gap_*``: that record's best score minus this pair's.
    """
    score = unsupervised_score(feats)
    feats["unsup_score"] = score
    for side, key in (("left", i), ("right", j)):
        rank, best = group_rank(np.asarray(key, dtype=np.int64), score)
        feats[f"rank_{side}"] = rank
        feats[f"gap_{side}"] = best - score
    return feats[list(FEATURES)]


def group_rank(
    key: IntArray, score: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per element: its 0-based rank by descending score within its key (ties in input order), and the
    key's best score — pandas' ``groupby(key).rank(ascending=False, method="first") - 1`` and
    ``transform("max")`` by one stable sort (pandas took 15 s on the 8.5M pairs of scale m)."""
    order = np.lexsort((-score, key))
    k = key[order]
    start = np.r_[True, k[1:] != k[:-1]]
    first = np.flatnonzero(start)
    pos = np.arange(len(k), dtype=np.int64)
    group_first = first[np.cumsum(start) - 1]
    rank = np.empty(len(k), dtype=np.float64)
    rank[order] = pos - group_first
    best = np.empty(len(k), dtype=np.float64)
    best[order] = score[order][group_first]
    return rank, best


PHOTO_CONFIRMS_TEXT = 0.7  # text similarity from which a near-identical photo adds (docs/benchmarks.md, realism5)


def unsupervised_score(feats: pd.DataFrame) -> npt.NDArray[np.float64]:
    """One similarity score in about [0, 1] from the features, no labels needed.

    Text similarity (the mean of TF-IDF and embedding cosine where both exist) moved up by model-number
    agreement and down by a model-number conflict; a near-identical image (Hamming ≤ 4 of 64 bits)
    counts as agreement when the text already half agrees (≥ ``PHOTO_CONFIRMS_TEXT``: a shared photo
    under unrelated titles is a supplier's or a brand's picture, not a copy) and a different one
    against (12-19 bits a little, ≥ 20 bits — about as far as unrelated photos, 32 on average —
    strongly): duplicate-listing spam copies its photos, and equal generic titles ("classic phone
    charger pink") with unrelated photos are different listings.
    """
    text = feats[["tfidf_cos", "emb_cos"]].mean(axis=1, skipna=True).fillna(0.0).to_numpy()
    model = feats["model_agree"].to_numpy()
    bonus = np.where(model >= 1, 0.25, np.where(model > 0, 0.1, np.where(model < 0, -0.2, 0.0)))
    image = feats["image_hamming"].to_numpy()
    # a photo confirms agreeing text, it does not make it: resellers of one supplier's product (and of a
    # brand's official images) show the same picture under unrelated titles
    bonus = bonus + np.where((np.nan_to_num(image, nan=64) <= 4) & (text >= PHOTO_CONFIRMS_TEXT), 0.25, 0.0)
    far = np.nan_to_num(image, nan=0)
    bonus = bonus + np.where(far >= 20, -0.6, np.where(far >= 12, -0.3, 0.0))
    brand = feats["brand_agree"].to_numpy()
    bonus = bonus + np.where(brand == 0, -0.1, 0.0)
    return np.asarray(np.clip(text + bonus, 0.0, 1.5), dtype=np.float64)
