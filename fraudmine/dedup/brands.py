"""The brand library: normalised brand keys, de-duplication, authorisation as of a date, brand
mentions in titles (exact, typo-squat, homoglyph) and counterfeit-risk flags with evidence.

Brand keys: folded text (NFKC, case, accents; see :mod:`.normalize`) with look-alike letters
mapped to Latin (a Unicode-confusables subset: Cyrillic, Greek, full-width; after Unicode TR #39
"skeleton"), legal and shop suffixes removed (Inc, LLC, Ltd, GmbH, Official, Store, ...), and
spaces and punctuation dropped: "NIKE, Inc.", "Nike Official Store" and "N I K E" share ``nike``.

Mentions: each title window of one to three tokens is skeletonised and compared with the brand
keys: equal → ``exact`` (``homoglyph`` when the raw text needed a look-alike mapping to match; letters
of other scripts run into the brand, as CJK titles write it, are dropped and no look-alike);
a visual imitation (``Nlke``, ``N1ke``, ``rn`` for ``m``), an adjacent swap or a doubled letter, or
for keys of five or more characters any single edit (Damerau-Levenshtein) → ``typo_squat``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from fraudmine.dedup.normalize import fold

# Look-alike letters → Latin (Cyrillic, Greek; digits used as letters are handled by the typo rule).
_CONFUSABLES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
        "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
        "ɡ": "g", "ո": "n", "ս": "u", "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k",
        "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ⅰ": "i", "ı": "i",
    }
)  # fmt: skip
_SUFFIXES = (
    "incorporated|inc|llc|ltd|limited|corp|corporation|co|company|gmbh|ag|sa|sas|srl|spa|plc|bv|nv|oy|ab|kk|"
    "official|officialstore|store|shop|flagship|flagshipstore|brand|group|international|intl"
)
_SUFFIX_RE = re.compile(rf"(?:[\s,.&-]+(?:{_SUFFIXES})\.?)+$")
_WORD = re.compile(r"[^\s,;:!?()\[\]{}\"'/|+]+")
_NOT_SKELETON = re.compile(r"[^0-9a-z|!$@]+")  # what a skeleton keeps: Latin letters, digits, look-alike signs


def skeleton(text: str | None) -> str:
    """Folded text with look-alike letters mapped to Latin."""
    return fold(text).translate(_CONFUSABLES)


def brand_key(name: str | None) -> str:
    """Normalised brand key (see the module docstring); ``""`` for an empty name."""
    s = skeleton(name)
    prev = None
    while prev != s:
        prev, s = s, _SUFFIX_RE.sub("", s).strip()
    return re.sub(r"[^0-9a-z\u0080-\uffff]+", "", s)


def dedupe_brands(brands: pd.DataFrame) -> pd.DataFrame:
    """Map each brand row to a canonical brand id by key (protected rows first, then smallest id).

    Args:
        brands: ``brand_id, name, aliases, protected`` (aliases ``|``-separated, may be null).

    Returns:
        ``brand_id, brand_key, canonical_brand_id, protected`` (protected if any row of the key is).
    """
    df = brands[["brand_id", "name", "protected"]].copy()
    df["brand_key"] = df["name"].map(brand_key)
    df = df.sort_values(["brand_key", "protected", "brand_id"], ascending=[True, False, True])
    df["canonical_brand_id"] = df.groupby("brand_key")["brand_id"].transform("first")
    df["protected"] = df.groupby("brand_key")["protected"].transform("max").astype(bool)
    return df[["brand_id", "brand_key", "canonical_brand_id", "protected"]].reset_index(drop=True)


def brand_keys(brands: pd.DataFrame) -> dict[str, str]:
    """Every name and alias key → canonical brand id (keys shorter than 3 characters are dropped)."""
    canon = dedupe_brands(brands).set_index("brand_id")["canonical_brand_id"]
    out: dict[str, str] = {}
    for row in brands.itertuples(index=False):
        names = [row.name, *(str(getattr(row, "aliases", "") or "").split("|"))]
        for n in names:
            key = brand_key(n)
            if len(key) >= 3:
                out.setdefault(key, str(canon[row.brand_id]))
    return out


def utc(value: object) -> pd.Timestamp:
    """A timestamp in UTC (naive values are taken as UTC, as Spark's UTC session writes them)."""
    ts = pd.Timestamp(value)  # type: ignore[arg-type]
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def utc_series(values: pd.Series) -> pd.Series:
    """A datetime column in UTC (naive values taken as UTC)."""
    s = pd.to_datetime(values)
    return s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")


def authorised_as_of(auth: pd.DataFrame, run_date: pd.Timestamp) -> set[tuple[str, str]]:
    """``(brand_id, merchant_id)`` pairs authorised at ``run_date`` (``valid_from <= D < valid_to``)."""
    day = utc(run_date)
    start = utc_series(auth["valid_from"])
    end = utc_series(auth["valid_to"])
    live = (start <= day) & (end.isna() | (end > day))
    return set(zip(auth.loc[live, "brand_id"].astype(str), auth.loc[live, "merchant_id"].astype(str), strict=True))


def _within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance ≤ 1 (one substitution, insertion, deletion or adjacent swap)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [k for k in range(la) if a[k] != b[k]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long_ = (a, b) if la < lb else (b, a)
    k = 0
    while k < len(short) and short[k] == long_[k]:
        k += 1
    return short[k:] == long_[k + 1 :]


_VISUAL = str.maketrans(
    {"l": "i", "1": "i", "|": "i", "!": "i", "0": "o", "5": "s", "3": "e", "4": "a", "8": "b", "$": "s", "@": "a"}
)


def _visual(text: str) -> str:
    return text.replace("rn", "m").replace("vv", "w").translate(_VISUAL)


def is_squat(token: str, key: str, min_edit_len: int = 5) -> bool:
    """Whether ``token`` imitates ``key``: same visual skeleton (l/1/i, 0/o, rn/m ...), an adjacent swap
    or a doubled letter; for keys of ``min_edit_len`` or more characters, any single edit — always with
    the first letter kept (visually)."""
    if token == key or len(key) < 3:
        return False
    if _visual(token) == _visual(key):
        return True
    if _visual(token[0]) != _visual(key[0]):
        return False  # squats keep the first letter recognisable; "phone" is not a squat of "iphone"
    if len(key) >= min_edit_len:
        return _within_one_edit(token, key)
    if len(token) == len(key) + 1:
        return any(token[k] == token[k + 1] and token[:k] + token[k + 1 :] == key for k in range(len(token) - 1))
    if len(token) == len(key) and len(key) >= 4:
        diff = [k for k in range(len(key)) if token[k] != key[k]]
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and token[diff[0]] == key[diff[1]]
            and token[diff[1]] == key[diff[0]]
        )
    return False


@dataclass(frozen=True)
class Mention:
    """A brand mention in a title: canonical brand id, kind (exact / homoglyph / typo_squat) and the text seen."""

    brand_id: str
    kind: str
    seen: str


class BrandMatcher:
    """Finds brand mentions in titles against a key → brand id table (see :func:`brand_keys`).

    Args:
        keys: brand key → canonical brand id.
        min_typo_len: shortest key matched within one edit (short keys would match common words).
    """

    def __init__(self, keys: dict[str, str], min_typo_len: int = 5) -> None:
        self.keys = keys
        self.min_typo_len = min_typo_len
        self._by_len: dict[int, list[str]] = {}
        for k in keys:
            if len(k) >= 4:
                self._by_len.setdefault(len(k), []).append(k)
        # word n-grams repeat across titles: each skeleton is compared with the keys once
        self._squats: dict[str, tuple[str, ...]] = {}

    def squatted_keys(self, skel: str) -> tuple[str, ...]:
        """The keys ``skel`` imitates (:func:`is_squat`), memoised per skeleton (bounded)."""
        hit = self._squats.get(skel)
        if hit is None:
            if len(self._squats) >= 1_000_000:
                self._squats.clear()
            hit = tuple(
                key
                for length in (len(skel) - 1, len(skel), len(skel) + 1)
                for key in self._by_len.get(length, ())
                if is_squat(skel, key, self.min_typo_len)
            )
            self._squats[skel] = hit
        return hit

    def mentions(self, title: str | None) -> list[Mention]:
        """All brand mentions of a title, strongest first per brand (exact < homoglyph < typo)."""
        raw_words = _WORD.findall(fold(title))
        found: dict[str, Mention] = {}
        for n in (3, 2, 1):
            for s in range(0, max(len(raw_words) - n + 1, 0)):
                raw = "".join(raw_words[s : s + n])
                skel = re.sub(_NOT_SKELETON, "", raw.translate(_CONFUSABLES))
                if len(skel) < 3:
                    continue
                if skel.isalnum() and skel in self.keys:
                    # homoglyph only when a look-alike letter made the match: a brand written in Latin
                    # and run into a word of another script ("Rolex经典…", "Pumaポータブル…") is exact
                    kind = "exact" if re.sub(_NOT_SKELETON, "", raw) == skel else "homoglyph"
                    self._add(found, Mention(self.keys[skel], kind, " ".join(raw_words[s : s + n])))
                    continue
                for key in self.squatted_keys(skel):
                    self._add(found, Mention(self.keys[key], "typo_squat", " ".join(raw_words[s : s + n])))
        return list(found.values())

    @staticmethod
    def _add(found: dict[str, Mention], m: Mention) -> None:
        rank = {"exact": 0, "homoglyph": 1, "typo_squat": 2}
        old = found.get(m.brand_id)
        if old is None or rank[m.kind] < rank[old.kind]:
            found[m.brand_id] = m


def mention_table(titles: Iterable[tuple[str, str | None]], matcher: BrandMatcher) -> pd.DataFrame:
    """``product_id, brand_id, kind, seen`` for every mention in ``(product_id, title)`` rows."""
    seen: dict[str | None, list[Mention]] = {}  # copies and templates repeat titles: match each once
    rows = [
        (pid, m.brand_id, m.kind, m.seen)
        for pid, t in titles
        for m in (seen[t] if t in seen else seen.setdefault(t, matcher.mentions(t)))
    ]
    return pd.DataFrame(rows, columns=["product_id", "brand_id", "kind", "seen"])
