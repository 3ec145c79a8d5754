"""Plan-level promotions: who promotes whose shop, with collusion as a *swap* of promotion slots.

Every merchant draws its number of promotions (Poisson) and every promotion its
creator (Zipf-like, ``background.creator_skew``) from one honest process.  Colluding
creators then promote ring shops *instead of* part of their own draw: a colluder's
promotion of an outside shop ``X`` and a ring shop's promotion by an honest creator
``Y`` trade creators (the colluder now promotes the ring shop, ``Y`` promotes ``X``).
Every creator keeps its number of promotions and every shop the number it receives,
so neither count tells a colluder or a ring shop apart; the evidence left is *who*
promotes *whom* (several ring shops promoted by the same few creators) and the
scenario's engagement shifts of the swapped promotions.

Colluders are drawn among all creators (most have few promotions), while a shop's
slots are drawn per promotion (most go to creators with many).  Swapping any slot
would hand ring shops creators of smaller reach than their honest draw (the
``promo.cdeg_*`` aggregates of the realism benchmark); with
``creator_collusion.reach_match`` ``r > 0`` a colluder only takes the place of a
creator whose promotion count is within a factor ``r`` of its own, so both shops
keep creators of the reach they drew.
"""

from __future__ import annotations

import numpy as np

from fraudmine.synth.entities import Plan
from fraudmine.synth.util import IntArray


def assign_promotions(plan: Plan, rng: np.random.Generator) -> None:
    """Draw every promotion slot (merchant, creator) and swap colluders onto their ring's shops.

    Sets ``plan.promo_off`` (slots of merchant ``m`` are ``promo_off[m]:promo_off[m+1]``),
    ``plan.promo_creator`` and ``plan.promo_fake`` (the swapped, collusive slots), marks
    ``plan.promoted`` (ring shops that received a collusive promotion) and drops from
    ``plan.c_ring`` / ``plan.ring_creators`` the colluders that had no slot to swap (a
    creator that promoted nothing for the ring left no trace of collusion).
    """
    n = plan.n_merchants
    cnt = rng.poisson(2.0, n)
    off: IntArray = np.concatenate([[0], np.cumsum(cnt)]).astype(np.int64)
    creator: IntArray = np.floor(plan.n_creators * rng.random(int(off[-1])) ** plan.scenario.background.creator_skew)
    creator = creator.astype(np.int64)
    fake = np.zeros(creator.shape[0], dtype=bool)
    plan.promoted = np.zeros(n, dtype=bool)
    colluders = np.flatnonzero(plan.c_ring >= 0)
    if colluders.shape[0]:
        _swap(plan, rng, off, creator, fake, colluders)
    plan.promo_off, plan.promo_creator, plan.promo_fake = off, creator, fake


def _swap(
    plan: Plan, rng: np.random.Generator, off: IntArray, creator: IntArray, fake: np.ndarray, colluders: IntArray
) -> None:
    """Give each colluder's own slots (outside its ring) to its ring's shops, slot for slot."""
    ppm = plan.scenario.creator_collusion.promotions_per_member
    slot_m = np.repeat(np.arange(plan.n_merchants), np.diff(off))
    idx = np.flatnonzero(np.isin(creator, colluders))
    idx = idx[rng.permutation(idx.shape[0])]
    own: dict[int, list[int]] = {int(c): [] for c in colluders.tolist()}
    for i, c in zip(idx.tolist(), creator[idx].tolist(), strict=True):
        if plan.ring[slot_m[i]] != plan.c_ring[c]:
            own[c].append(i)
    reach = np.bincount(creator, minlength=plan.n_creators).astype(float)  # promotions per creator, before swaps
    ratio = plan.scenario.creator_collusion.reach_match
    order = np.argsort(plan.ring, kind="stable")
    starts = np.searchsorted(plan.ring[order], np.arange(len(plan.ring_creators) + 1))
    used = np.zeros(plan.n_creators, dtype=bool)
    for g, cs in enumerate(plan.ring_creators):
        members = order[starts[g] : starts[g + 1]]
        for c in cs.tolist():
            mine = own[c]
            for m in rng.permutation(members).tolist():
                k = int(rng.integers(ppm.min, ppm.max + 1))
                # the shop's slots still held by honest creators (never another colluder's own slot)
                free = [t for t in range(int(off[m]), int(off[m + 1])) if not fake[t] and plan.c_ring[creator[t]] < 0]
                if ratio > 0:  # only a slot held by a creator of the colluder's reach (module docstring)
                    free = [
                        t for t in free if max(reach[creator[t]], reach[c]) <= ratio * min(reach[creator[t]], reach[c])
                    ]
                for t in rng.permutation(free)[:k].tolist():
                    if not mine:
                        break
                    s = mine.pop()
                    creator[s], creator[t] = creator[t], c
                    fake[t] = True
                    used[c] = True
                    plan.promoted[m] = True
    idle = colluders[~used[colluders]]
    plan.c_ring[idle] = -1
    plan.ring_creators = [cs[used[cs]] for cs in plan.ring_creators]
