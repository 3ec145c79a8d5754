"""Background (honest-looking) rows of one merchant block: merchants, listings, reports (orders: :mod:`.orders`).

Every merchant, fraud or not, gets background activity from the same
distributions (moved only by the plan's per-merchant shifts); the typology
evidence is added on top by :mod:`fraudmine.synth.planting`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from fraudmine.contracts.raw import CATEGORIES, REPORT_REASONS
from fraudmine.synth import text as tx
from fraudmine.synth.entities import BRAND_CAT, BRANDS, PROTECTED_IDX, UNPROTECTED_IDX, Plan
from fraudmine.synth.photos import shared_photos
from fraudmine.synth.util import (
    US_PER_DAY,
    US_PER_HOUR,
    IntArray,
    flip_bits,
    make_ids,
    phash_hex,
    random_u64,
    uniform_between,
)
from fraudmine.synth.writer import to_table

FloatArray = npt.NDArray[np.float64]
LANG_OF = np.array([tx.COUNTRIES[c][0] for c in tx.COUNTRY_CODES])
CURR_OF = np.array([tx.COUNTRIES[c][1] for c in tx.COUNTRY_CODES])
MED = np.array([tx.PRICE[c][0] for c in CATEGORIES])
SIG = np.array([tx.PRICE[c][1] for c in CATEGORIES])
FX = {c: tx.FX_PER_USD[c] for c in tx.FX_PER_USD}


def merchant_ids(idx: npt.ArrayLike) -> list[str]:
    """Merchant ids ``m0000042``."""
    return make_ids("m", idx, 7)


def product_ids(idx: npt.ArrayLike) -> list[str]:
    """Product ids ``p000001234``."""
    return make_ids("p", idx, 9)


def buyer_ids(idx: npt.ArrayLike) -> list[str]:
    """Buyer ids ``b000000042``."""
    return make_ids("b", idx, 9)


def creator_ids(idx: npt.ArrayLike) -> list[str]:
    """Creator ids ``c0000012``."""
    return make_ids("c", idx, 7)


def brand_ids(idx: npt.ArrayLike) -> list[str]:
    """Brand ids ``br001``."""
    return make_ids("br", np.asarray(idx) + 1, 3)


@dataclass
class Counters:
    """Running row counters giving globally unique sequential ids across blocks."""

    orders: int = 0
    reviews: int = 0
    reports: int = 0
    promotions: int = 0
    queue: int = 0

    def take(self, name: str, n: int) -> IntArray:
        """Reserve ``n`` consecutive indices of counter ``name``."""
        start = getattr(self, name)
        setattr(self, name, start + n)
        return np.arange(start, start + n, dtype=np.int64)


@dataclass
class Block:
    """One merchant block ``[a, b)`` and its products; collects Arrow tables per raw table."""

    plan: Plan
    a: int
    b: int
    rng: np.random.Generator
    counters: Counters
    seed: int
    out: dict[str, list[pa.Table]] = field(default_factory=dict)
    truth: list[tuple[str, str, str, str | None, str]] = field(default_factory=list)
    # product arrays (block-local, filled by products())
    p_gidx: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    p_m: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    p_local: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    p_kind: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    p_usd: FloatArray = field(default_factory=lambda: np.zeros(0))
    p_created: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def add(self, name: str, cols: dict[str, Any]) -> None:
        """Append a part of raw table ``name`` (columns as accepted by :func:`to_table`)."""
        self.out.setdefault(name, []).append(to_table(name, cols))

    def lang(self, m: IntArray) -> list[str]:
        """Listing language per merchant index (English for some cross-border listings)."""
        bg = self.plan.scenario.background
        # per-shop habit when set (cross-border shops list mostly in English), else per listing
        prob = self.plan.english_share[m] if bg.english_per_shop else bg.english_listing_prob
        eng = self.rng.random(m.shape[0]) < prob
        out: list[str] = np.where(eng, "en", LANG_OF[self.plan.country[m]]).tolist()
        return out

    def local_product(self, m: IntArray, skew: float = 2.2) -> IntArray:
        """Block-local product row of a Zipf-like pick among merchant ``m``'s products."""
        off = self.plan.prod_off
        tot = off[m + 1] - off[m]
        loc = np.floor(tot * self.rng.random(m.shape[0]) ** skew).astype(np.int64)
        out: IntArray = off[m] + loc - off[self.a]
        return out

    def local_range(self, m: int) -> tuple[int, int]:
        """Block-local product rows ``[lo, hi)`` of merchant ``m``."""
        off = self.plan.prod_off
        return int(off[m] - off[self.a]), int(off[m + 1] - off[self.a])


def merchants_rows(blk: Block) -> None:
    """The merchants table rows of the block."""
    p, rng = blk.plan, blk.rng
    m = np.arange(blk.a, blk.b)
    langs = LANG_OF[p.country[m]].tolist()
    blk.add(
        "merchants",
        {
            "merchant_id": merchant_ids(m),
            "shop_name": [tx.shop_name(rng, lang) for lang in langs],
            "country": [tx.COUNTRY_CODES[c] for c in p.country[m].tolist()],
            "primary_category": [CATEGORIES[c] for c in p.category[m].tolist()],
            "registered_at": p.registered[m],
        },
    )


def product_frame(blk: Block) -> None:
    """Lay out the block's product rows (kind 0 base, 1 authorised brand, 2 duplicate copy)."""
    p = blk.plan
    m = np.arange(blk.a, blk.b)
    tot = p.prod_off[m + 1] - p.prod_off[m]
    blk.p_m = np.repeat(m, tot)
    blk.p_gidx = np.arange(p.prod_off[blk.a], p.prod_off[blk.b], dtype=np.int64)
    blk.p_local = blk.p_gidx - p.prod_off[blk.p_m]
    nb, na = p.n_base[blk.p_m], p.n_auth[blk.p_m]
    blk.p_kind = np.where(blk.p_local < nb, 0, np.where(blk.p_local < nb + na, 1, 2)).astype(np.int64)


def base_listings(blk: Block) -> dict[str, Any]:
    """Titles, prices, hashes and timestamps of base and authorised listings (copies are overwritten)."""
    p, rng = blk.plan, blk.rng
    pm, kind = blk.p_m, blk.p_kind
    n = pm.shape[0]
    cat = np.where(rng.random(n) < 0.75, p.category[pm], rng.integers(len(CATEGORIES), size=n))
    brand = np.full(n, -1, dtype=np.int64)
    auth = kind == 1
    brand[auth] = p.auth_brand[pm[auth]]
    cat[auth] = BRAND_CAT[brand[auth]]
    side = (kind == 0) & (rng.random(n) < 0.08)
    brand[side] = UNPROTECTED_IDX[rng.integers(UNPROTECTED_IDX.shape[0], size=int(side.sum()))]
    cat[side] = BRAND_CAT[brand[side]]
    langs = blk.lang(pm)
    names: list[str | None] = [BRANDS[b][0] if b >= 0 else None for b in brand.tolist()]
    titles, descs = tx.listing_texts(rng, langs, cat.tolist(), names)
    usd = MED[cat] * np.exp(SIG[cat] * rng.standard_normal(n) + p.price_shift[pm])
    phash = random_u64(rng, n)
    bg = p.scenario.background
    claim = np.flatnonzero((kind == 0) & (rng.random(n) < p.claim_share[pm]))
    if claim.shape[0]:
        # honest grey-market / sloppy claims: a protected brand without an authorisation
        b = PROTECTED_IDX[rng.integers(PROTECTED_IDX.shape[0], size=claim.shape[0])]
        brand[claim], cat[claim] = b, BRAND_CAT[b]
        t2, d2 = tx.listing_texts(
            rng, [langs[j] for j in claim.tolist()], cat[claim].tolist(), [BRANDS[x][0] for x in b.tolist()]
        )
        for k, j in enumerate(claim.tolist()):
            titles[j], descs[j] = t2[k], d2[k]
        usd[claim] = MED[cat[claim]] * np.exp(
            SIG[cat[claim]] * rng.standard_normal(claim.shape[0]) + p.price_shift[pm[claim]]
        )
    for j in np.flatnonzero(rng.random(n) < bg.typo_prob).tolist():
        toks = titles[j].split(" ")
        k = int(rng.integers(len(toks)))
        toks[k] = tx.typo(rng, toks[k])
        titles[j] = " ".join(toks)
    spam = np.flatnonzero(rng.random(n) < bg.spam_token_prob)
    for j, tok in zip(spam.tolist(), rng.integers(len(tx.SPAM_TOKENS), size=spam.shape[0]).tolist(), strict=True):
        titles[j] = f"{tx.SPAM_TOKENS[tok]} {titles[j]}" if tok % 2 else f"{titles[j]} {tx.SPAM_TOKENS[tok]}"
    # honest cross-shop photos (supplier stock, brand official images); before variants, which copy them
    shared_photos(blk, kind, cat, brand, phash)
    variant = np.flatnonzero((kind == 0) & (blk.p_local > 0) & (rng.random(n) < bg.variant_rate))
    variant = variant[kind[variant - 1] == 0]
    if variant.shape[0]:
        exact = rng.random(variant.shape[0]) < bg.exact_variant_prob
        phash[variant] = np.where(exact, phash[variant - 1], flip_bits(rng, phash[variant - 1], 3, 1))
        cat[variant] = cat[variant - 1]
        brand[variant] = brand[variant - 1]
        usd[variant] = usd[variant - 1]
        for j, ex in zip(variant.tolist(), exact.tolist(), strict=True):
            lang = langs[j - 1]
            colors = tx.COLORS[lang]
            titles[j] = titles[j - 1] if ex else titles[j - 1] + tx.sep(lang) + colors[int(rng.integers(len(colors)))]
            descs[j] = descs[j - 1]
            langs[j] = lang
    lo = p.registered[pm].copy()
    lo[auth] = np.maximum(lo[auth], p.auth_from[pm[auth]])
    created = uniform_between(rng, lo, np.full(n, p.end_us - US_PER_DAY, dtype=np.int64))
    upload = np.asarray(rng.random(n) < bg.listing_burst_prob)
    if upload.any():
        # catalogue uploads: a few bursts per shop (opening day, seasonal drops)
        kb = rng.integers(3, size=n)
        m_off = (pm * 7919 + kb * 104729) % 1000 / 1000.0
        t_b = lo + np.floor(m_off * np.maximum(p.end_us - 2 * US_PER_DAY - lo, 1)).astype(np.int64)
        t_b = np.where(kb == 0, lo, t_b)
        t_b = t_b + np.floor(rng.exponential(1.5 * US_PER_DAY, n)).astype(np.int64)
        created = np.where(upload, np.minimum(t_b, p.end_us - US_PER_DAY), created)
    return {
        "cat": cat,
        "brand": brand,
        "langs": langs,
        "titles": titles,
        "descs": descs,
        "usd": usd,
        "phash": phash,
        "created": created,
    }


def emit_products(blk: Block, d: dict[str, Any]) -> None:
    """Write the product rows from the listing dict built by :func:`base_listings` and planting."""
    p, rng = blk.plan, blk.rng
    pm = blk.p_m
    cat: IntArray = d["cat"]
    brand: IntArray = d["brand"]
    usd: FloatArray = d["usd"]
    curr = CURR_OF[p.country[pm]]
    fx = np.array([FX[c] for c in curr.tolist()])
    whole = np.isin(curr, list(tx.WHOLE_CURRENCIES))
    local = np.where(whole, np.round(usd * fx), np.round(usd * fx, 2))
    descs: list[str | None] = list(d["descs"])
    no_desc = np.flatnonzero(rng.random(pm.shape[0]) < 0.05).tolist()
    for j in no_desc:
        descs[j] = None
    ph: list[str | None] = list(phash_hex(d["phash"]))
    for j in np.flatnonzero(rng.random(pm.shape[0]) < 0.03).tolist():
        ph[j] = None
    bids: list[str | None] = [None] * pm.shape[0]
    has = np.flatnonzero(brand >= 0)
    for j, b in zip(has.tolist(), brand_ids(brand[has]), strict=True):
        bids[j] = b
    blk.p_usd = usd
    blk.p_created = d["created"]
    blk.add(
        "products",
        {
            "product_id": product_ids(blk.p_gidx),
            "merchant_id": merchant_ids(pm),
            "brand_id": bids,
            "title": [t[:300] for t in d["titles"]],
            "description": descs,
            "price": local,
            "currency": curr.tolist(),
            "category": [CATEGORIES[c] for c in cat.tolist()],
            "image_phash": ph,
            "created_at": blk.p_created,
        },
    )


def reports_rows(
    blk: Block,
    reporters: IntArray,
    ttype: list[str],
    tid: list[str],
    reason: list[str],
    t: IntArray,
    reviewed: npt.NDArray[np.bool_],
    upheld: npt.NDArray[np.bool_],
) -> None:
    """Emit reports; reviews that would land at/after end_date are left unreviewed (null)."""
    rng = blk.rng
    n = reporters.shape[0]
    rt = t + US_PER_HOUR + np.floor(rng.exponential(4 * US_PER_DAY, n)).astype(np.int64)
    reviewed = reviewed & (rt < blk.plan.end_us)
    texts = [tx.REPORT_TEXT[int(i)] if i >= 0 else None for i in np.asarray(rng.integers(-5, 5, size=n)).tolist()]
    blk.add(
        "reports",
        {
            "report_id": make_ids("rp", blk.counters.take("reports", n), 9),
            "reporter_id": buyer_ids(reporters),
            "target_type": ttype,
            "target_id": tid,
            "reason": reason,
            "text": texts,
            "reported_at": t,
            "outcome": [("upheld" if u else "rejected") if r else None for r, u in zip(reviewed, upheld, strict=False)],
            "reviewed_at": (rt, ~reviewed),
        },
    )


def background_reports(blk: Block) -> None:
    """User reports against merchants, their products and random creators."""
    p, rng = blk.plan, blk.rng
    bg = p.scenario.background
    m = np.arange(blk.a, blk.b)
    cnt = rng.poisson(2.0 * p.report_mult[m])
    rm = np.repeat(m, cnt)
    n = rm.shape[0]
    u = rng.random(n)
    ttype = np.where(u < 0.5, "merchant", np.where(u < 0.9, "product", "creator"))
    prod = blk.local_product(rm, 1.0)
    creators = rng.integers(p.n_creators, size=n)
    tid = np.where(
        ttype == "merchant",
        merchant_ids(rm),
        np.where(ttype == "product", product_ids(blk.p_gidx[prod]), creator_ids(creators)),
    )
    reason = rng.choice(np.array(REPORT_REASONS), size=n, p=[0.15, 0.15, 0.25, 0.1, 0.15, 0.05, 0.15])
    lq, fr = p.low_quality[rm], p.fraud[rm]
    reason = np.where(lq & (rng.random(n) < 0.6), "not_as_described", reason)
    cf = p.scenario.counterfeit.counterfeit_report_prob
    reason = np.where(p.counterfeit[rm] & (rng.random(n) < cf), "counterfeit", reason)
    lo = np.maximum(p.registered[rm], p.start_us)
    t = uniform_between(rng, lo, np.full(n, p.end_us - US_PER_HOUR, dtype=np.int64))
    fr_up = p.scenario.tabular_shift.fraud_upheld_prob
    up = np.where(lq, p.scenario.low_quality.upheld_prob, np.where(fr, fr_up, bg.report_upheld_prob))
    up = np.where(ttype == "creator", bg.report_upheld_prob, up)
    reporters = np.floor(p.scale.buyers * rng.random(n) ** bg.reporter_skew).astype(np.int64)
    reviewed = rng.random(n) < bg.report_reviewed_prob
    reports_rows(blk, reporters, ttype.tolist(), tid.tolist(), reason.tolist(), t, reviewed, rng.random(n) < up)
