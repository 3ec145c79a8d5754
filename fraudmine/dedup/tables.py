"""Reading arbitrary product CSV tables: encoding, separator and column roles detected.

Used by ``fraudmine bench dedup``, which is run on tables nobody saw in advance, so nothing here
knows a particular file: the encoding is UTF-8 when the bytes decode, else Windows-1252/Latin-1;
the separator is sniffed among ``, | ; TAB``; column roles come from names (``id``, ``title``/
``name``, ``brand``/``manufacturer``, ``model…``, ``price``, ``image``/``phash``) and, failing
names, from the values (the first all-unique column is the id, the shortest free-text column the
title).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


def detect_encoding(path: Path) -> str:
    """``utf-8`` (``utf-8-sig`` with a BOM) when the whole file decodes, else ``cp1252`` or ``latin-1``."""
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        raw.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def detect_sep(path: Path, encoding: str) -> str:
    """The separator among ``, | ; TAB`` that the CSV sniffer picks on the first 64 KiB."""
    with path.open(encoding=encoding, errors="replace") as fh:
        sample = fh.read(65536)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",|;\t").delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        return max(",|;\t", key=header.count)


def read_table(path: Path, sep: str | None = None, encoding: str | None = None) -> pd.DataFrame:
    """Read a CSV with header as strings (empty cells become ``None``).

    Raises:
        FileNotFoundError: naming the path.
        ValueError: the file has fewer than one column or no rows.
    """
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    enc = encoding or detect_encoding(path)
    delim = sep or detect_sep(path, enc)
    text = path.read_text(encoding=enc, errors="replace")
    frame = pd.read_csv(io.StringIO(text), sep=delim, dtype=str, keep_default_na=False, engine="python")
    if frame.shape[0] == 0 or frame.shape[1] < 1:
        raise ValueError(f"{path}: no rows or columns read (separator {delim!r}, encoding {enc})")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.replace({"": None})


_ROLE_NAMES = {
    "title": re.compile(r"^(title|name|product[_ ]?name|item[_ ]?name)$", re.I),
    "brand": re.compile(r"^(brand|manufacturer|maker|vendor)$", re.I),
    "model": re.compile(r"^(model[_ ]?(no|number|num)?|modelno|mpn|sku)$", re.I),
    "price": re.compile(r"^(price|cost|amount)$", re.I),
    "image": re.compile(r"^(image[_ ]?(p?hash)?|phash|image_phash)$", re.I),
    "id": re.compile(r"^(id|.*[_ ]id)$", re.I),
}


@dataclass(frozen=True)
class Roles:
    """Column roles of one table (``None`` when the table has no such column)."""

    id: str
    title: str
    text: tuple[str, ...]
    brand: str | None
    model: str | None
    price: str | None
    image: str | None


def _named(frame: pd.DataFrame, role: str) -> str | None:
    return next((c for c in frame.columns if _ROLE_NAMES[role].match(c)), None)


def detect_roles(
    frame: pd.DataFrame, id_col: str | None = None, text_cols: list[str] | None = None, table: str = "table"
) -> Roles:
    """Column roles of a product table.

    Raises:
        ValueError: a named column is missing, or no id/text column can be found (lists the columns present).
    """
    cols = list(frame.columns)
    if id_col is not None and id_col not in cols:
        raise ValueError(f"{table}: id column {id_col!r} not found; columns present: {cols}")
    if text_cols and not any(c in cols for c in text_cols):
        raise ValueError(f"{table}: none of the text columns {text_cols} found; columns present: {cols}")
    ident = id_col or _named(frame, "id")
    if ident is None:
        ident = next((c for c in cols if frame[c].notna().all() and frame[c].is_unique), None)
    if ident is None:
        raise ValueError(f"{table}: no id column (pass --left-id/--right-id); columns present: {cols}")
    special = {_named(frame, r) for r in ("brand", "model", "price", "image")} | {ident}
    chosen = [c for c in (text_cols or []) if c in cols]
    numeric = {
        c
        for c in cols
        if pd.to_numeric(frame[c].dropna().str.replace(r"[$,\s]", "", regex=True), errors="coerce").notna().mean() > 0.9
    }
    free = chosen or [c for c in cols if c not in special and c not in numeric]
    if not free:
        raise ValueError(f"{table}: no text column (pass --text-cols); columns present: {cols}")
    title = _named(frame, "title") if not chosen else None
    if title is None or title not in free:
        title = min(free, key=lambda c: frame[c].fillna("").str.len().mean() if frame[c].notna().mean() > 0.5 else 1e9)
    return Roles(
        ident,
        title,
        tuple(free),
        _named(frame, "brand"),
        _named(frame, "model"),
        _named(frame, "price"),
        _named(frame, "image"),
    )
