"""The vectorised set features equal the per-pair reference functions, and the sort-based unique
equals numpy's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fraudmine.dedup.corpus import Corpus, build_corpus
from fraudmine.dedup.features import brand_agreement, group_rank, model_agreement
from fraudmine.dedup.pairs import BucketGuard, canonical, sorted_unique
from fraudmine.dedup.tokensets import TokenSets, brand_agree, jaccard, model_agree

_WORDS = ["serum", "vintage", "pink", "charger", "usb", "case", "lamp", "x", "二手", "手机", "acme", "zen"]
_MODELS = ["kdl40", "kdl40v4100", "sm-g991", "a1b2", "12345", "xr7", "kdl40v"]
_BRANDS = ["Acme", "Zen Labs", "", None, "Pink"]


def _corpus(seed: int, n: int = 120) -> Corpus:
    rng = np.random.default_rng(seed)
    titles: list[str | None] = []
    descs: list[str | None] = []
    for _ in range(n):
        words = list(rng.choice(_WORDS, size=int(rng.integers(0, 5))))
        words += list(rng.choice(_MODELS, size=int(rng.integers(0, 3))))
        rng.shuffle(words)
        titles.append(" ".join(words) if words or rng.random() < 0.5 else None)
        descs.append(" ".join(rng.choice(_WORDS + _MODELS, size=3)) if rng.random() < 0.5 else None)
    brands = [_BRANDS[int(k)] for k in rng.integers(0, len(_BRANDS), size=n)]
    return build_corpus(list(range(n)), titles, descs, brands=brands)


def _ref_jaccard(x: set[str], y: set[str]) -> float:
    return float("nan") if not x and not y else len(x & y) / len(x | y)


@pytest.mark.parametrize("seed", range(5))
def test_vectorised_set_features_equal_the_per_pair_reference(seed: int) -> None:
    corpus = _corpus(seed)
    n = len(corpus)
    i, j = np.triu_indices(n, k=1)
    i, j = i.astype(np.int64), j.astype(np.int64)
    ts = TokenSets.of(corpus)
    pairs = list(zip(i.tolist(), j.tolist(), strict=True))
    want = {
        "model": [model_agreement(corpus, a, b) for a, b in pairs],
        "brand": [brand_agreement(corpus, a, b) for a, b in pairs],
        "jaccard": [_ref_jaccard(set(corpus.title[a].tokens), set(corpus.title[b].tokens)) for a, b in pairs],
        "strong": [_ref_jaccard(set(corpus.title[a].strong), set(corpus.title[b].strong)) for a, b in pairs],
    }
    got = {
        "model": model_agree(ts, corpus, i, j),
        "brand": brand_agree(ts, i, j),
        "jaccard": jaccard(ts.tokens, i, j),
        "strong": jaccard(ts.strong, i, j),
    }
    for name, ref in want.items():
        np.testing.assert_allclose(got[name], np.array(ref), equal_nan=True, err_msg=name)
    # every branch of the reference is exercised, so the comparison means something
    assert set(np.unique(want["model"])) == {-1.0, 0.0, 0.5, 1.0}
    assert {0.0, 1.0} <= set(np.asarray(want["brand"])[~np.isnan(want["brand"])].tolist())


def test_sorted_unique_and_canonical_equal_numpy() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 1_000, size=5_000)
    np.testing.assert_array_equal(sorted_unique(x), np.unique(x))
    assert len(sorted_unique(np.zeros(0, dtype=np.int64))) == 0
    i, j = rng.integers(0, 50, size=400), rng.integers(0, 50, size=400)
    ci, cj = canonical(i, j, 50)
    ref = sorted({(min(a, b), max(a, b)) for a, b in zip(i.tolist(), j.tolist(), strict=True) if a != b})
    assert list(zip(ci.tolist(), cj.tolist(), strict=True)) == ref


@pytest.mark.parametrize("seed", range(3))
def test_bucket_guard_pairs_equal_brute_force_and_report_hot_buckets(seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 60, size=500)
    members = rng.integers(0, 300, size=500).astype(np.int64)
    guard = BucketGuard(cap=12)
    i, j = guard.pairs("g", keys, members, 300)
    by_key: dict[int, list[int]] = {}
    for k, m in zip(keys.tolist(), members.tolist(), strict=True):
        by_key.setdefault(k, []).append(m)
    want: set[tuple[int, int]] = set()
    hot = 0
    for ms in by_key.values():
        if len(ms) > 12:
            hot += 1
            continue
        want |= {(min(a, b), max(a, b)) for x, a in enumerate(ms) for b in ms[x + 1 :] if a != b}
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == want and len(i) == len(want)
    assert guard.skipped_buckets == hot > 0


def test_group_rank_equals_pandas_rank_first_and_max() -> None:
    rng = np.random.default_rng(3)
    key = rng.integers(0, 40, size=2_000).astype(np.int64)
    score = rng.integers(0, 6, size=2_000).astype(np.float64) / 5  # many ties: "first" order matters
    rank, best = group_rank(key, score)
    s = pd.Series(score)
    np.testing.assert_array_equal(rank, s.groupby(key).rank(ascending=False, method="first").to_numpy() - 1)
    np.testing.assert_array_equal(best, s.groupby(key).transform("max").to_numpy())


def test_set_features_of_records_without_any_token() -> None:
    corpus = build_corpus([1, 2], [None, None], [None, None], brands=["Acme", "Zen"])
    i, j = np.array([0], dtype=np.int64), np.array([1], dtype=np.int64)
    ts = TokenSets.of(corpus)
    assert brand_agree(ts, i, j).tolist() == [0.0] == [brand_agreement(corpus, 0, 1)]
    assert model_agree(ts, corpus, i, j).tolist() == [0.0] == [model_agreement(corpus, 0, 1)]
