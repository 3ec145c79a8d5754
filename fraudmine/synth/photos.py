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
  a member's chosen ordinary listings of the group's category get the supplier
  photo re-encoded (a few bits off) under their own title and price; listings
  naming a protected brand show one of the brand's official images with
  ``official_image_prob``.  Photo hashes are seeded per group and
  per brand, so shops in different blocks show the same picture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from fraudmine.synth.entities import PROTECTED, Plan, group_sizes
from fraudmine.synth.util import IntArray, flip_bits

if TYPE_CHECKING:
    from fraudmine.synth.blocks import Block

SUPPLIER_SALT = 7_000_017  # seed-sequence salt of supplier photos (distinct from duplicate templates)
OFFICIAL_SALT = 7_000_019  # seed-sequence salt of brand official images


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
    phash: npt.NDArray[np.uint64],
) -> None:
    """Give the block's listings their supplier stock photos and brand official images (in place).

    Supplier photos go to ordinary listings without a brand (kind 0, ``brand < 0``) of the
    group's category; only the picture changes: each shop keeps its own title, description,
    price and category for the product, so no per-shop aggregate but the photo's moves.
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
        for g, want in zip(p.photo_gid[o0:o1].tolist(), p.photo_n[o0:o1].tolist(), strict=True):
            fit = free[cat[free] == p.photo_cat[g]]  # the shop's listings of that product's category
            take = min(int(want), fit.shape[0])
            if take == 0:
                continue
            chosen = rng.choice(fit, size=take, replace=False)
            rows.extend(chosen.tolist())
            groups.extend([g] * take)
            free = np.setdiff1d(free, chosen)
    if rows:
        g_arr = np.asarray(groups, dtype=np.int64)
        base = np.array([_seeded_hash(blk.seed, SUPPLIER_SALT, int(x)) for x in g_arr.tolist()], dtype=np.uint64)
        phash[np.asarray(rows, dtype=np.int64)] = flip_bits(rng, base, cfg.max_bit_flips)
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
