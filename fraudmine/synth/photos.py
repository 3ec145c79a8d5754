"""Honest near-identical photos across shops: supplier stock photos and brand official images.

Real marketplaces show the same picture in many unrelated shops: resellers and
dropshippers of one supplier's product use the supplier's photo, authorised
resellers use the brand's official images, popular products are listed by many
shops.  Without this, every cross-shop near-duplicate photo of the generator
belonged to a collusion ring (``docs/benchmarks.md``, issue 7), so a photo alone
identified the rings.  Scenario section ``photo_sharing``; these shops are not
fraud and nothing here goes into ``truth/``.

* :func:`assign_photo_groups` (plan level): supplier groups, each one product of
  one category, members drawn among *all* shops of that category (fraud shops
  resell supplier goods too); group sizes heavy-tailed.
* :func:`shared_photos` (block level, called by
  :func:`fraudmine.synth.blocks.base_listings` before colour variants are drawn):
  a member's chosen ordinary listings get the supplier photo re-encoded (a few
  bits off), the category's title words in the shop's language and its own
  price; listings naming a protected brand show one of the brand's official
  images with ``official_image_prob``.  Photo hashes are seeded per group and
  per brand, so shops in different blocks show the same picture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from fraudmine.contracts.raw import CATEGORIES
from fraudmine.synth import text as tx
from fraudmine.synth.entities import PROTECTED, Plan, group_sizes
from fraudmine.synth.util import IntArray, flip_bits

if TYPE_CHECKING:
    from fraudmine.synth.blocks import Block

SUPPLIER_SALT = 7_000_017  # seed-sequence salt of supplier photos (distinct from duplicate templates)
OFFICIAL_SALT = 7_000_019  # seed-sequence salt of brand official images
MED = np.array([tx.PRICE[c][0] for c in CATEGORIES])  # category price law, as blocks.MED / blocks.SIG
SIG = np.array([tx.PRICE[c][1] for c in CATEGORIES])


def assign_photo_groups(plan: Plan, rng: np.random.Generator) -> None:
    """Supplier stock-photo groups: ``plan.photo_cat`` per group, memberships in CSR form.

    Sets ``plan.photo_off`` (``n + 1`` offsets into ``plan.photo_gid``, memberships grouped by
    merchant) and ``plan.photo_n`` (listings per membership).  Draws nothing when
    ``photo_sharing.supplier_share`` is 0.
    """
    cfg = plan.scenario.photo_sharing
    n = plan.n_merchants
    sizes = group_sizes(
        rng, round(cfg.supplier_share * n), cfg.supplier_size.min, min(cfg.supplier_size.max, n), cfg.supplier_alpha
    )
    by_cat = [np.flatnonzero(plan.category == c) for c in range(int(plan.category.max(initial=0)) + 1)]
    weight = np.array([m.shape[0] for m in by_cat], dtype=np.float64)
    who: list[IntArray] = []
    gid: list[IntArray] = []
    cats: IntArray = np.zeros(sizes.shape[0], dtype=np.int64)
    if sizes.shape[0] and weight.sum() > 0:
        cats = np.asarray(rng.choice(weight.shape[0], size=sizes.shape[0], p=weight / weight.sum()), dtype=np.int64)
    for g, (size, c) in enumerate(zip(sizes.tolist(), cats.tolist(), strict=True)):
        pool = by_cat[c]
        k = min(size, pool.shape[0])
        if k < 2:
            continue
        who.append(rng.choice(pool, size=k, replace=False).astype(np.int64))
        gid.append(np.full(k, g, dtype=np.int64))
    m = np.concatenate(who) if who else np.zeros(0, dtype=np.int64)
    g_all = np.concatenate(gid) if gid else np.zeros(0, dtype=np.int64)
    order = np.lexsort((g_all, m))
    plan.photo_cat = cats
    plan.photo_gid = g_all[order]
    plan.photo_off = np.concatenate([[0], np.cumsum(np.bincount(m, minlength=n))]).astype(np.int64)
    lo, hi = cfg.supplier_listings.min, cfg.supplier_listings.max
    plan.photo_n = np.asarray(rng.integers(max(lo, 1), max(hi, 1) + 1, size=plan.photo_gid.shape[0]), dtype=np.int64)


def _seeded_hash(seed: int, salt: int, *key: int) -> int:
    """One 64-bit photo hash seeded by ``(seed, salt, *key)``: the same in every block."""
    g = np.random.default_rng([seed, salt, *key])
    return int(g.integers(0, np.iinfo(np.uint64).max, dtype=np.uint64, endpoint=True))


def shared_photos(
    blk: Block,
    kind: IntArray,
    cat: IntArray,
    brand: IntArray,
    langs: list[str],
    titles: list[str],
    descs: list[str],
    usd: npt.NDArray[np.float64],
    phash: npt.NDArray[np.uint64],
) -> None:
    """Give the block's listings their supplier stock photos and brand official images (in place).

    Supplier photos go to ordinary listings without a brand (kind 0, ``brand < 0``); the listing
    is re-titled in its shop's language for the group's category and re-priced as any listing
    of that category in that shop (its own words and price: only the picture is shared).
    """
    p, rng = blk.plan, blk.rng
    cfg = p.scenario.photo_sharing
    rows: list[int] = []
    groups: list[int] = []
    for m in range(blk.a, blk.b):
        o0, o1 = int(p.photo_off[m]), int(p.photo_off[m + 1])
        if o1 == o0:
            continue
        lo, hi = blk.local_range(m)
        free = lo + np.flatnonzero((kind[lo:hi] == 0) & (brand[lo:hi] < 0))
        want = p.photo_n[o0:o1]
        take = min(int(want.sum()), free.shape[0])
        if take == 0:
            continue
        chosen = rng.choice(free, size=take, replace=False)
        rows.extend(chosen.tolist())
        groups.extend(np.repeat(p.photo_gid[o0:o1], want)[:take].tolist())
    if rows:
        r = np.asarray(rows, dtype=np.int64)
        g = np.asarray(groups, dtype=np.int64)
        c = p.photo_cat[g]
        cat[r] = c
        t2, d2 = tx.listing_texts(rng, [langs[j] for j in rows], c.tolist(), [None] * r.shape[0])
        for k, j in enumerate(rows):
            titles[j], descs[j] = t2[k], d2[k]
        usd[r] = MED[c] * np.exp(SIG[c] * rng.standard_normal(r.shape[0]) + p.price_shift[blk.p_m[r]])
        base = np.array([_seeded_hash(blk.seed, SUPPLIER_SALT, int(x)) for x in g.tolist()], dtype=np.uint64)
        phash[r] = flip_bits(rng, base, cfg.max_bit_flips)
    if cfg.official_image_prob <= 0:
        return
    named = np.flatnonzero(brand >= 0)
    named = named[PROTECTED[brand[named]]]
    named = named[rng.random(named.shape[0]) < cfg.official_image_prob]
    if named.shape[0] == 0:
        return
    pick = rng.integers(cfg.official_images, size=named.shape[0])
    table = {
        (b, k): _seeded_hash(blk.seed, OFFICIAL_SALT, b, k)
        for b in np.unique(brand[named]).tolist()
        for k in range(cfg.official_images)
    }
    base = np.array([table[(b, k)] for b, k in zip(brand[named].tolist(), pick.tolist(), strict=True)], dtype=np.uint64)
    phash[named] = flip_bits(rng, base, cfg.max_bit_flips)


__all__ = ["assign_photo_groups", "shared_photos"]
