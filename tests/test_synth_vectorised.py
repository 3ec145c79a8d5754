"""The generator's vectorised string builders equal their row-by-row definitions.

Vectorising must not change a dataset: the same seed gives the same tables as the
per-row code did (each reference below is that per-row code).
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pytest

from fraudmine.contracts.raw import CATEGORIES
from fraudmine.synth import text as tx
from fraudmine.synth.entities import BRANDS
from fraudmine.synth.orders import review_texts
from fraudmine.synth.util import hmac_hex, id_array, make_ids


def _listing_texts_rows(
    rng: np.random.Generator, langs: list[str], cats: list[int], brands: list[str | None]
) -> tuple[list[str], list[str]]:
    n = len(langs)
    u = rng.random((n, 5))
    years = rng.integers(2019, 2027, size=n).tolist()
    titles, descs = [], []
    for i in range(n):
        lang, c, b = langs[i], cats[i], brands[i]
        nouns = tx.NOUNS[lang][c]
        noun = nouns[int(u[i, 0] * len(nouns))]
        adj = tx.ADJS[lang][int(u[i, 1] * len(tx.ADJS[lang]))]
        color = tx.COLORS[lang][int(u[i, 2] * len(tx.COLORS[lang]))]
        parts = [adj, noun, color]
        if u[i, 3] < 0.3:
            parts.append(str(years[i]))
        if b:
            parts.insert(0, b)
        titles.append(tx.sep(lang).join(parts))
        tm = tx.DESCS[lang]
        descs.append(tm[int(u[i, 4] * len(tm))].format(n=noun, a=adj))
    return titles, descs


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_listing_texts_equal_the_row_by_row_definition(seed: int) -> None:
    r = np.random.default_rng(100 + seed)
    n = 3_000
    langs_all = list(tx.ADJS)
    langs = [langs_all[i] for i in r.integers(len(langs_all), size=n)]
    cats = r.integers(len(CATEGORIES), size=n).tolist()
    pick = r.integers(len(BRANDS) * 3, size=n).tolist()
    brands: list[str | None] = [BRANDS[i][0] if i < len(BRANDS) else (None if i % 2 else "") for i in pick]
    got = tx.listing_texts(np.random.default_rng(seed), langs, cats, brands)
    assert got == _listing_texts_rows(np.random.default_rng(seed), langs, cats, brands)
    assert tx.listing_texts(np.random.default_rng(seed), [], [], []) == ([], [])


def test_review_texts_equal_the_row_by_row_definition() -> None:
    r = np.random.default_rng(7)
    n = 5_000
    lang = np.array(list(tx.REVIEW_POS))[r.integers(len(tx.REVIEW_POS), size=n)]
    rating = r.integers(1, 6, size=n)
    u = r.random((n, 2))
    want = []
    for j, rt in enumerate(rating.tolist()):
        pool = tx.REVIEW_POS[lang[j]] if rt >= 4 else tx.REVIEW_NEG[lang[j]]
        want.append(None if u[j, 0] < 0.4 else pool[int(u[j, 1] * len(pool))])
    assert review_texts(lang, rating, u) == want
    assert any(w is None for w in want) and any(w is not None for w in want)


@pytest.mark.parametrize("key", [b"k" * 32, b"", b"x" * 64, b"long-key" * 20])
def test_hmac_hex_is_rfc2104_hmac_sha256(key: bytes) -> None:
    values = ["", "a", "device-token-0", "ü" * 100]
    assert hmac_hex(key, values) == [hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in values]


@pytest.mark.parametrize(("prefix", "width", "scrambled"), [("o", 10, True), ("p", 9, True), ("br", 3, False)])
def test_id_array_equals_make_ids(prefix: str, width: int, scrambled: bool) -> None:
    idx = np.r_[0, 1, 2, 37 * np.arange(1, 500), 999]
    assert id_array(prefix, idx, width, scrambled).to_pylist() == make_ids(prefix, idx, width, scrambled)
    assert id_array(prefix, np.zeros(0, dtype=np.int64), width, scrambled).to_pylist() == []
