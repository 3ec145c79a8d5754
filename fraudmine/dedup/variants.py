"""Variation families: a shop's listings of one product in another colour or size are not duplicates.

A shop that sells a jacket in red and in blue often lists each colour separately: the two
listings share the shop, the price and the description, and their titles differ in one word
(``"denim jacket pink"`` / ``"denim jacket pink red"``), or, in scripts written without
spaces, in one short run of characters (``"…黑仪色"`` / ``"…黑仪色黑色"``). Text and image
similarity put such pairs at the top of the score range, yet they are the catalogue working
as intended, not duplicate spam. Duplicate spam differs from its source in what a copier
changes (rewording, word order, filler tokens, another price, another shop); a listing
re-posted word for word stays a duplicate (its titles are equal).

:func:`variant_pairs` marks candidate pairs that look like a variation family so the
duplicate stage keeps them out of its match edges and reports how many it set aside. The rule
is structural (no colour lexicon): same shop, equal price, equal description (a description missing
on either side is unknown, not a difference: shops leave it empty on some of a family's listings), and
titles that differ in exactly one place by at most ``max_chars`` characters containing no space.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from fraudmine.dedup.normalize import NOSPACE_RUN

IntArray = npt.NDArray[np.int64]


def one_word_edit(a: str, b: str, max_chars: int = 12, max_run: int = 6) -> bool:
    """Whether ``b`` is ``a`` with one word inserted, removed or replaced.

    Titles are compared word by word after case folding (equal titles are **not** an edit: a
    word-for-word re-post is a duplicate). Outside their common leading and trailing words,
    one side holds at most one word and the other at most one, each of at most ``max_chars``
    characters. Scripts written without spaces make the whole phrase one "word": there the
    two words must differ by one run of at most ``max_run`` characters (``"…黑仪色"`` /
    ``"…黑仪色黑色"``).
    """
    ta, tb = a.casefold().split(), b.casefold().split()
    if ta == tb:
        return False
    p, s = _common_ends(ta, tb)
    ra, rb = ta[p : len(ta) - s], tb[p : len(tb) - s]
    if len(ra) > 1 or len(rb) > 1:
        return False
    x, y = (ra[0] if ra else ""), (rb[0] if rb else "")
    if NOSPACE_RUN.search(x) or NOSPACE_RUN.search(y):
        # an unspaced phrase is many words: only a short run inside it may differ
        p, s = _common_ends(x, y)
        return len(x) - p - s <= max_run and len(y) - p - s <= max_run
    return len(x) <= max_chars and len(y) <= max_chars


def _common_ends(x: Sequence[str], y: Sequence[str]) -> tuple[int, int]:
    """Lengths of the common prefix and of the common suffix after it (words or characters)."""
    p = 0
    n = min(len(x), len(y))
    while p < n and x[p] == y[p]:
        p += 1
    s = 0
    while s < n - p and x[len(x) - 1 - s] == y[len(y) - 1 - s]:
        s += 1
    return p, s


def variant_pairs(
    i: IntArray,
    j: IntArray,
    merchant: npt.ArrayLike,
    price: npt.ArrayLike,
    description: npt.ArrayLike,
    title: npt.ArrayLike,
    max_chars: int = 12,
) -> npt.NDArray[np.bool_]:
    """Per candidate pair ``(i[k], j[k])``: is it a variation family (see the module docstring)?

    Args:
        i, j: row positions of the pair's listings.
        merchant, price, description, title: per listing; a missing merchant or price never
            matches (a pair without them is judged as usual); a missing description is compatible
            with any (shop, price and the one-word title edit decide).
        max_chars: longest differing run of a title.

    Returns:
        A boolean mask over the pairs.
    """
    out = np.zeros(i.shape[0], dtype=bool)
    if i.shape[0] == 0:
        return out
    m = pd.Series(np.asarray(merchant, dtype=object))
    d = pd.Series(np.asarray(description, dtype=object))
    m_code = pd.factorize(m, use_na_sentinel=True)[0]
    d_code = pd.factorize(d, use_na_sentinel=True)[0]
    pr = np.asarray(price, dtype=np.float64)
    same = (
        (m_code[i] == m_code[j])
        & (m_code[i] >= 0)
        & ((d_code[i] == d_code[j]) | (d_code[i] < 0) | (d_code[j] < 0))
        & np.isfinite(pr[i])
        & (pr[i] == pr[j])
    )
    t = np.asarray(title, dtype=object)
    for k in np.flatnonzero(same).tolist():
        ti, tj = t[i[k]], t[j[k]]
        out[k] = isinstance(ti, str) and isinstance(tj, str) and one_word_edit(ti, tj, max_chars)
    return out
