"""Multilingual listing-text normalisation.

Steps, in order: Unicode NFKC (full-width letters and digits, ligatures and
compatibility forms become their plain equivalents), case folding, accent
stripping (NFD then drop combining marks), then tokenisation that keeps what
identifies a product:

* **model numbers** (a run of letters and digits with at least one of each and
  at least three characters, hyphens and slashes inside removed: ``KDL-40V4100``
  gives ``kdl40v4100``; long pure digit runs such as ``1163641`` count too) are
  *strong tokens*;
* **units and sizes** (``200 W``, ``2.5in``, ``32GB``) become one token with
  the number and the unit joined (``200w``), also strong;
* scripts written without spaces (CJK, Thai) are split into overlapping
  character bigrams, since a whole run of them is one "word" to a splitter.

Everything here is pure Python on strings: it runs on the driver, inside a
pandas UDF, or in a test alike.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Scripts written without spaces between words: CJK ideographs, Hiragana,
# Katakana, Hangul syllables, Thai, Lao, Khmer, Myanmar.
_NOSPACE = (
    "\u0e00-\u0e7f"  # Thai
    "\u0e80-\u0eff"  # Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    "\uac00-\ud7af"  # Hangul
)
NOSPACE_RUN = re.compile(f"[{_NOSPACE}]+")
_UNITS = (
    "mm|cm|m|km|in|inch|inches|ft|oz|lb|lbs|g|kg|mg|ml|l|gb|tb|mb|kb|ghz|mhz|hz|w|kw|v|mah|ah|mp|"
    "rpm|db|btu|pcs|pc|pack|ct|x"
)
_UNIT = re.compile(rf"(?<![\w.])(\d+(?:[.,]\d+)?)\s*({_UNITS})(?![a-z0-9])")
_WORD = re.compile(rf"[{_NOSPACE}]+|[a-z0-9\u0080-\uffff]+(?:[-/.][a-z0-9\u0080-\uffff]+)*")
_HAS_ALPHA = re.compile(r"[a-z]")
_HAS_DIGIT = re.compile(r"\d")
_UNIT_TOKEN = re.compile(rf"^\d+(?:\.\d+)?(?:{_UNITS})$")


def fold(text: str | None) -> str:
    """NFKC, case-fold and strip accents; ``None`` becomes ``""``."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def is_model_number(token: str) -> bool:
    """A model-number-like token: letters and digits mixed (≥ 3 chars) or ≥ 5 digits, not a unit."""
    if _UNIT_TOKEN.match(token):
        return False
    if len(token) >= 3 and _HAS_ALPHA.search(token) and _HAS_DIGIT.search(token):
        return True
    return token.isdigit() and len(token) >= 5


@dataclass(frozen=True)
class Normalized:
    """One normalised text.

    Attributes:
        text: folded text (NFKC, case-folded, accents stripped).
        tokens: word tokens (CJK/Thai as character bigrams), in order, separators inside kept out.
        strong: model numbers and unit tokens (a subset of ``tokens``, deduplicated, sorted).
        models: the model numbers alone (sorted).
    """

    text: str
    tokens: tuple[str, ...]
    strong: tuple[str, ...]
    models: tuple[str, ...]


def normalize(text: str | None) -> Normalized:
    """Normalise one listing text into tokens and strong tokens (see the module docstring)."""
    folded = fold(text)
    units = {f"{num.replace(',', '.')}{unit}" for num, unit in _UNIT.findall(folded)}
    body = _UNIT.sub(lambda m: f" {m.group(1).replace(',', '.')}{m.group(2)} ", folded)
    tokens: list[str] = []
    models: set[str] = set()
    for match in _WORD.finditer(body):
        word = match.group(0)
        if NOSPACE_RUN.fullmatch(word):
            tokens.extend(_bigrams(word))
            continue
        joined = re.sub(r"[-/]", "", word)
        if joined.count(".") and not _UNIT_TOKEN.match(joined):
            joined = joined.replace(".", "")
        if is_model_number(joined):
            models.add(joined)
        tokens.append(joined)
        if _UNIT_TOKEN.match(joined):
            continue
        parts = re.split(r"[-/.]", word)
        if len(parts) > 1:
            tokens.extend(p for p in parts if p and p != joined)
            for p in parts:
                if is_model_number(p):
                    models.add(p)
    strong = sorted(models | (units & set(tokens)))
    return Normalized(folded, tuple(tokens), tuple(strong), tuple(sorted(models)))


def title_key(text: str | None) -> str:
    """Exact-match key of a title: folded alphanumerics only (the trivial baseline's key)."""
    return re.sub(r"[^0-9a-z\u0080-\uffff]+", "", fold(text))
