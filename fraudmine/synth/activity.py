"""Identities, promotions and moderation-queue rows; the creators and brands chunks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fraudmine.synth import text as tx
from fraudmine.synth.blocks import Block, buyer_ids, creator_ids, merchant_ids, product_ids
from fraudmine.synth.entities import BRANDS, Plan, group_sizes
from fraudmine.synth.util import (
    US_PER_DAY,
    US_PER_HOUR,
    IntArray,
    hmac_hex,
    make_ids,
    random_tokens,
    uniform_between,
)
from fraudmine.synth.writer import to_table

OWN: tuple[tuple[str, float], ...] = (
    ("device", 0.95),
    ("payment", 0.85),
    ("bank_account", 0.55),
    ("address", 0.6),
    ("phone", 0.75),
)
OWN += (("ip", 0.6),)
POOL: tuple[tuple[str, int], ...] = (
    ("device", 0),
    ("device", 1),
    ("payment", 0),
    ("payment", 1),
    ("bank_account", 0),
)
POOL += (("address", 0), ("phone", 0), ("ip", 0), ("ip", 1))


class IdentityRows:
    """Accumulates identity observations (raw values are hashed on emit and never written)."""

    def __init__(self) -> None:
        """Start empty."""
        self.etype: list[str] = []
        self.eid: list[str] = []
        self.itype: list[str] = []
        self.raw: list[str] = []
        self.lo: list[int] = []

    def add(self, etype: str, eid: str, itype: str, raw: str, lo: int) -> None:
        """One observation of identifier ``raw`` (type ``itype``) by an entity, seen after ``lo``."""
        self.etype.append(etype)
        self.eid.append(eid)
        self.itype.append(itype)
        self.raw.append(raw)
        self.lo.append(lo)

    def columns(self, plan: Plan, rng: np.random.Generator) -> dict[str, Any]:
        """The identities columns, with first_seen/last_seen strictly before end_date."""
        # an account observed twice with one identifier (its own device and a fake-buyer pool row,
        # two groups) is one observation: keep the first, as the contract's key requires
        cols = pd.DataFrame({"e": self.etype, "i": self.eid, "t": self.itype, "r": self.raw})
        keep = np.flatnonzero(~cols.duplicated(keep="first").to_numpy())
        self.etype = cols["e"].to_numpy()[keep].tolist()
        self.eid = cols["i"].to_numpy()[keep].tolist()
        self.itype = cols["t"].to_numpy()[keep].tolist()
        self.raw = cols["r"].to_numpy()[keep].tolist()
        lo = np.asarray(self.lo, dtype=np.int64)[keep]
        n = lo.shape[0]
        first = np.minimum(
            lo + np.floor(rng.exponential(2 * US_PER_DAY, n)).astype(np.int64), plan.end_us - 2 * US_PER_HOUR
        )
        last = uniform_between(rng, first, np.full(n, plan.end_us, dtype=np.int64))
        return {
            "entity_type": self.etype,
            "entity_id": self.eid,
            "identifier_type": self.itype,
            "identifier_hash": hmac_hex(plan.keys[1], random_tokens(plan.keys[0], self.raw)),
            "first_seen": first,
            "last_seen": last,
        }


def _pool(rng: np.random.Generator, g: int, k: int, prob: float) -> list[tuple[str, str]]:
    """A random subset (each with ``prob``, at least ``k``) of ring ``g``'s identifier pool, shuffled."""
    share = rng.random(len(POOL)) < prob
    if share.sum() < k:
        share[rng.choice(len(POOL), size=k, replace=False)] = True
    picked = [(POOL[j][0], f"ring{g}-{POOL[j][0]}-{POOL[j][1]}") for j in np.flatnonzero(share).tolist()]
    return [picked[i] for i in rng.permutation(len(picked)).tolist()]


def _own_draw(rng: np.random.Generator, key: str) -> list[tuple[str, str]]:
    """The account's own identifiers, drawn exactly as for an honest merchant (shuffled)."""
    own = [(t, f"{key}-{t}-0") for t, prob in OWN if rng.random() < prob]
    if rng.random() < 0.3:
        own.append(("device", f"{key}-device-1"))
    return [own[i] for i in rng.permutation(len(own)).tolist()]


def _budgeted(
    rng: np.random.Generator, own: list[tuple[str, str]], must: list[tuple[str, str]], extra: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Fit shared identifiers into the account's identifier budget.

    Every merchant's number of identifiers comes from the same distribution (the
    size of its honest-style own draw, at least 1), whether or not it is fraud:
    shared identifiers *replace* own ones instead of being added on top, so the
    count of identifiers alone does not reveal a ring member or a camouflaged shop.
    ``must`` (the ring's minimum shared identifiers) is always kept; ``extra`` shared
    identifiers fill the budget while leaving at least one own identifier.
    """
    budget = max(len(own), 1)
    room = max(budget - 1 - len(must), 0)
    shared = must + extra[:room]
    return shared + own[: max(budget - len(shared), 0)]


def identity_rows(blk: Block) -> None:
    """Merchant identities of the block, plus those of its fake buyers, reporters and real buyers.

    Raw values are internal slot names; :class:`IdentityRows` turns them into random
    tokens and keyed hashes, so nothing written says which slot (or ring) a value was.
    """
    p, rng = blk.plan, blk.rng
    cr = p.scenario.collusion_ring
    ids = IdentityRows()
    in_hub: dict[int, list[tuple[str, str]]] = {}
    for t, slot, mem, _ in p.hub_members:
        for m in mem[(mem >= blk.a) & (mem < blk.b)].tolist():
            in_hub.setdefault(m, []).append((t, slot))
    dev = (p.scenario.brushing.shared_devices.min, p.scenario.brushing.shared_devices.max)
    bshare = p.scenario.brushing.device_share_prob
    old_b = p.start_us if p.scenario.brushing.existing_accounts else None
    old_r = p.start_us if p.scenario.malicious_reporting.existing_accounts else None
    for m, eid in zip(range(blk.a, blk.b), merchant_ids(np.arange(blk.a, blk.b)), strict=True):
        reg = int(p.registered[m])
        ring = int(p.ring[m])
        own = _own_draw(rng, f"m{m}")
        must: list[tuple[str, str]] = []
        extra: list[tuple[str, str]] = []
        if p.scenario.camouflage.links_replace_ring:  # hiding was decided with the camouflage links
            hide = 1.0 if p.hide_ring[m] else cr.share_nothing_prob
        else:
            hide = cr.share_nothing_prob + (p.scenario.camouflage.hide_ring_prob if p.camo[m] else 0.0)
        if ring >= 0 and rng.random() >= hide:
            pool = _pool(rng, ring, cr.min_shared, cr.share_prob)
            must, extra = pool[: cr.min_shared], pool[cr.min_shared :]
        s = int(p.sock[m])
        if s >= 0:
            t = ("device", "payment", "phone")[s % 3]
            must.append((t, f"op{s}-{t}"))
        hub_ids = in_hub.get(m, [])
        hub_ids = [hub_ids[i] for i in rng.permutation(len(hub_ids)).tolist()]
        # benign memberships and ring identifiers share the honest identifier budget
        for t, raw in _budgeted(rng, own, must, hub_ids + extra):
            ids.add("merchant", eid, t, raw, reg)
        if p.brush[m] >= 0:
            g = int(p.brush[m])
            buyers = p.fake_buyers[p.brush_buyer_off[g] : p.brush_buyer_off[g] + p.brush_buyer_n[g]]
            _shared_buyers(ids, rng, buyers, f"brush{g}", int(p.brush_start[g]), dev, bshare, old_b, p)
        if p.victim[m] >= 0:
            g = int(p.victim[m])
            buyers = p.fake_buyers[p.rep_off[g] : p.rep_off[g] + p.rep_n[g]]
            _shared_buyers(ids, rng, buyers, f"mrep{g}", int(p.rep_start[g]), (1, 3), bshare, old_r, p)
    _real_buyer_identities(blk, ids)
    blk.add("identities", ids.columns(p, rng))


def _real_buyer_identities(blk: Block, ids: IdentityRows) -> None:
    """Real buyers of the block's buyer range: own devices/IPs, and families or cafés sharing one."""
    p, rng = blk.plan, blk.rng
    h = p.scenario.hubs
    bpm = p.scale.buyers_per_merchant
    lo, hi = blk.a * bpm, min(blk.b * bpm, p.scale.buyers)
    real = np.arange(lo, hi)
    real = real[rng.random(real.shape[0]) < h.buyer_identity_share]
    for b, eid in zip(real.tolist(), buyer_ids(real), strict=True):
        ids.add("buyer", eid, "device", f"b{b}-device-0", p.start_us)
        if rng.random() < 0.5:
            ids.add("buyer", eid, "ip", f"b{b}-ip-0", p.start_us)
    cfg = h.buyer_devices
    sizes = group_sizes(rng, round(cfg.merchant_share * (hi - lo)), cfg.size.min, min(cfg.size.max, hi - lo), cfg.alpha)
    for g, size in enumerate(sizes.tolist()):
        members = rng.choice(np.arange(lo, hi), size=size, replace=False)
        t = cfg.types[int(rng.integers(len(cfg.types)))]
        for eid in buyer_ids(members):
            ids.add("buyer", eid, t, f"bshare{blk.a}-{g}-{t}", p.start_us)


def _shared_buyers(
    ids: IdentityRows,
    rng: np.random.Generator,
    buyers: IntArray,
    key: str,
    t0: int,
    dev: tuple[int, int],
    share: float,
    start: int | None,
    plan: Plan,
) -> None:
    """Fake accounts sharing devices: each with probability ``share``, in a pool of the scenario's kind.

    ``brushing.pool_sizes`` ``fixed``: a pool of ``dev`` devices (and an IP pool);
    ``like_households``: the sharers form groups whose sizes follow the honest buyers'
    device-sharing law (``hubs.buyer_devices``), one device or IP per group, as a family or
    an internet café does.
    """
    # existing accounts were seen long before; new ones just before the block
    lo = start if start is not None else t0 - 5 * US_PER_DAY
    if plan.scenario.brushing.pool_sizes == "like_households":
        cfg = plan.scenario.hubs.buyer_devices
        sharers = buyers[rng.random(buyers.shape[0]) < share]
        sizes = group_sizes(rng, sharers.shape[0], cfg.size.min, min(cfg.size.max, sharers.shape[0]), cfg.alpha)
        at = 0
        for g, size in enumerate(sizes.tolist()):
            grp = sharers[at : at + size]
            at += size
            if grp.shape[0] < 2:
                break
            t = cfg.types[int(rng.integers(len(cfg.types)))]
            for eid in buyer_ids(grp):
                ids.add("buyer", eid, t, f"{key}-{t}-{g}", lo)
        if start is None:  # new accounts get their own device / IP as honest buyers do
            h = plan.scenario.hubs
            for b, eid in zip(buyers.tolist(), buyer_ids(buyers), strict=True):
                if rng.random() < h.buyer_identity_share:
                    ids.add("buyer", eid, "device", f"b{b}-device-0", lo)
                    if rng.random() < 0.5:
                        ids.add("buyer", eid, "ip", f"b{b}-ip-0", lo)
        return
    ndev = int(rng.integers(dev[0], dev[1] + 1))
    for b, eid in zip(buyers.tolist(), buyer_ids(buyers), strict=True):
        if rng.random() < share:
            ids.add("buyer", eid, "device", f"{key}-device-{int(rng.integers(ndev))}", lo)
        if rng.random() < 0.7 * share / max(share, 0.7):  # IP pool used about as often as the device pool
            ids.add("buyer", eid, "ip", f"{key}-ip-{int(rng.integers(2))}", lo)
        if start is None and rng.random() < 0.3:  # an existing account's own device comes with its block
            ids.add("buyer", eid, "device", f"b{b}-device-0", lo)


def promotions_rows(blk: Block) -> None:
    """The block's promotion slots (:mod:`fraudmine.synth.promotions`); collusive ones get the scenario's engagement."""
    p, rng = blk.plan, blk.rng
    cc = p.scenario.creator_collusion
    lo_s, hi_s = int(p.promo_off[blk.a]), int(p.promo_off[blk.b])
    m = np.repeat(np.arange(blk.a, blk.b), np.diff(p.promo_off[blk.a : blk.b + 1]))
    prod = blk.local_product(m, 1.5)
    creators = p.promo_creator[lo_s:hi_s]
    fake = p.promo_fake[lo_s:hi_s]
    n = prod.shape[0]
    lo = np.maximum(np.maximum(blk.p_created[prod], p.start_us), p.c_registered[creators])
    t = uniform_between(rng, lo, np.full(n, p.end_us, dtype=np.int64))
    views = p.c_followers[creators] * rng.lognormal(-1.0, 1.0, n)
    views = np.where(fake, views * cc.view_multiplier + cc.view_offset, views)
    like_rate = np.where(fake, rng.beta(cc.like_rate[0], cc.like_rate[1], n), rng.beta(2, 60, n))
    gmv = views * 0.002 * rng.lognormal(0, 0.7, n) * blk.p_usd[prod] * np.where(fake, cc.gmv_multiplier, 1.0)
    blk.add(
        "promotions",
        {
            "promotion_id": make_ids("pr", blk.counters.take("promotions", n), 9),
            "creator_id": creator_ids(creators),
            "product_id": product_ids(blk.p_gidx[prod]),
            "channel": np.where(rng.random(n) < 0.3, "live", "video").tolist(),
            "started_at": t,
            "views": np.floor(views).astype(np.int64),
            "likes": np.floor(views * like_rate).astype(np.int64),
            "gmv": np.round(gmv, 2),
        },
    )


def queue_rows(blk: Block) -> None:
    """Moderation queue: listings, videos and live sessions submitted in the last two weeks."""
    p, rng = blk.plan, blk.rng
    mm = np.arange(blk.a, blk.b)
    m = np.repeat(mm, rng.poisson(0.5 * np.where(p.fraud[mm], p.scenario.tabular_shift.fraud_queue_multiplier, 1.0)))
    n = m.shape[0]
    prod = blk.local_product(m, 1.0)
    u = rng.random(n)
    itype = np.where(u < 0.6, "product_listing", np.where(u < 0.85, "video", "live_session"))
    creators = rng.integers(p.n_creators, size=n)
    has_c = itype != "product_listing"
    has_p = itype != "live_session"
    lo = np.maximum(blk.p_created[prod], p.end_us - 14 * US_PER_DAY)
    t = uniform_between(rng, lo, np.full(n, p.end_us, dtype=np.int64))
    cids = creator_ids(creators)
    pids = product_ids(blk.p_gidx[prod])
    blk.add(
        "moderation_queue",
        {
            "item_id": make_ids("q", blk.counters.take("queue", n), 8),
            "item_type": itype.tolist(),
            "merchant_id": merchant_ids(m),
            "creator_id": [c if h else None for c, h in zip(cids, has_c, strict=True)],
            "product_id": [x if h else None for x, h in zip(pids, has_p, strict=True)],
            "submitted_at": t,
        },
    )


def creators_chunk(plan: Plan, rng: np.random.Generator) -> dict[str, Any]:
    """Creators table rows and their identity rows (colluders share ring identifiers)."""
    n = plan.n_creators
    ids = IdentityRows()
    hub_of: dict[int, list[tuple[str, str]]] = {}
    for t, slot, _, cmem in plan.hub_members:
        for c in cmem.tolist():
            hub_of.setdefault(c, []).append((t, slot))
    cids = creator_ids(np.arange(n))
    for c, eid in enumerate(cids):
        reg = int(plan.c_registered[c])
        g = int(plan.c_ring[c])
        cr = plan.scenario.collusion_ring
        share = g >= 0 and rng.random() >= cr.share_nothing_prob
        pool = _pool(rng, g, cr.min_shared, cr.share_prob) if share else []
        hubs = hub_of.get(c, [])
        # same identifier budget rule as merchants: shared identifiers replace own ones
        k = cr.min_shared
        for t, raw in _budgeted(rng, _own_draw(rng, f"c{c}"), pool[:k], hubs + pool[k:]):
            ids.add("creator", eid, t, raw, reg)
    creators = {
        "creator_id": cids,
        "handle": [tx.handle(rng) for _ in range(n)],
        "country": [tx.COUNTRY_CODES[c] for c in plan.c_country.tolist()],
        "follower_count": plan.c_followers,
        "registered_at": plan.c_registered,
    }
    return {
        "creators": to_table("creators", creators),
        "identities": to_table("identities", ids.columns(plan, rng)),
    }


def brands_chunk(plan: Plan, rng: np.random.Generator) -> dict[str, Any]:
    """Brand library and authorisations (current ones open-ended, some with an expired predecessor)."""
    brands = {
        "brand_id": make_ids("br", np.arange(1, len(BRANDS) + 1), 3),
        "name": [b[0] for b in BRANDS],
        "aliases": [b[3] for b in BRANDS],
        "protected": np.array([b[2] for b in BRANDS]),
    }
    m = np.flatnonzero(plan.auth_brand >= 0)
    b = plan.auth_brand[m]
    frm = plan.auth_from[m]
    old = rng.random(m.shape[0]) < plan.scenario.background.lapsed_authorisation_prob
    old_from = frm - np.floor((90 + rng.random(m.shape[0]) * 200) * US_PER_DAY).astype(np.int64)
    bb: IntArray = np.concatenate([b, b[old]])
    mm: IntArray = np.concatenate([m, m[old]])
    vf: IntArray = np.concatenate([frm, old_from[old]])
    vt = np.concatenate([np.zeros(m.shape[0], dtype=np.int64), frm[old] - US_PER_DAY])
    auth = {
        "brand_id": make_ids("br", bb + 1, 3),
        "merchant_id": merchant_ids(mm),
        "valid_from": vf,
        "valid_to": (vt, np.arange(vt.shape[0]) < m.shape[0]),
    }
    return {
        "brands": to_table("brands", brands),
        "brand_authorizations": to_table("brand_authorizations", auth),
    }
