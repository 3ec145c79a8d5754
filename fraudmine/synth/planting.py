"""Row-level evidence of the planted typologies inside one merchant block.

* duplicate listings: templates seeded per group, so ring members in different
  blocks post copies of the same template;
* counterfeit: protected-brand claims by unauthorised sellers and typo-squats;
* brushing: dense fake-buyer x product order/review blocks;
* malicious reporting: reporter rings against an honest competitor;
* creator collusion is planned in :mod:`fraudmine.synth.promotions` (swapped promotion slots).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fraudmine.synth import text as tx
from fraudmine.synth.blocks import (
    LANG_OF,
    MED,
    SIG,
    Block,
    buyer_ids,
    merchant_ids,
    product_ids,
    reports_rows,
)
from fraudmine.synth.entities import BRAND_CAT, BRANDS, PROTECTED_IDX
from fraudmine.synth.orders import orders_rows, reviews_rows
from fraudmine.synth.util import US_PER_DAY, US_PER_HOUR, IntArray, flip_bits, uniform_between


def group_name(kind: str, g: int) -> str:
    """Truth group id, e.g. ``ring-0003``."""
    return f"{kind}-{g:04d}"


def _template(blk: Block, gid: int) -> tuple[str, int, str, str, int, float]:
    """(lang, category, title, description, phash, usd) of duplicate group ``gid`` (seeded per group)."""
    g = np.random.default_rng([blk.seed, 7_000_003, gid])
    lang = str(blk.plan.dup_lang[gid])
    cat = int(blk.plan.dup_cat[gid])
    title, desc = tx.listing_text(g, lang, cat)
    phash = int(g.integers(0, np.iinfo(np.uint64).max, dtype=np.uint64, endpoint=True))
    shift = blk.plan.scenario.duplicate_listing.price_log_shift
    usd = float(MED[cat] * np.exp(SIG[cat] * g.standard_normal() + shift))
    return lang, cat, title, desc, phash, usd


def duplicate_listings(blk: Block, d: dict[str, Any]) -> None:
    """Overwrite kind-2 rows with perturbed copies of their group's template."""
    p, rng = blk.plan, blk.rng
    rows = np.flatnonzero(blk.p_kind == 2)
    if rows.shape[0] == 0:
        return
    titles: list[str] = d["titles"]
    descs: list[str] = d["descs"]
    cat: IntArray = d["cat"]
    brand: IntArray = d["brand"]
    usd: np.ndarray = d["usd"]
    phash: np.ndarray = d["phash"]
    created: IntArray = d["created"]
    gids = p.dup_group[blk.p_m[rows]]
    dl = p.scenario.duplicate_listing
    half = max(dl.max_bit_flips // 2, 0)
    cache: dict[int, tuple[str, int, str, str, int, float]] = {}
    for j, gid in zip(rows.tolist(), gids.tolist(), strict=True):
        if gid not in cache:
            cache[gid] = _template(blk, gid)
        lang, c, title, desc, ph, price = cache[gid]
        keep = rng.random() < dl.exact_title_prob
        if dl.edits == "like_variants":
            titles[j] = title if keep else _variant_edit(blk, title, lang)
            descs[j] = desc
        else:
            titles[j] = title if keep else tx.perturb(rng, title, lang, dl.spam_tokens)
            descs[j] = tx.perturb(rng, desc, lang, dl.spam_tokens) if rng.random() < 0.5 else desc
        cat[j], brand[j], phash[j] = c, -1, ph
        if dl.copy_price == "like_honest":
            usd[j] = MED[c] * np.exp(SIG[c] * rng.standard_normal() + p.price_shift[blk.p_m[j]])
        else:
            usd[j] = price * rng.uniform(0.9, 1.1)
        ring = int(p.ring[blk.p_m[j]])
        group = group_name("ring", ring) if ring >= 0 else group_name("dup", gid)
        blk.truth.append(("product", product_ids([blk.p_gidx[j]])[0], "duplicate_listing", group, "listing"))
    phash[rows] = flip_bits(rng, phash[rows], max(half, dl.min_bit_flips), min(dl.min_bit_flips, half))
    if p.scenario.tabular_shift.planted_listing_times == "after_fraud_start":
        fs = p.fraud_start[blk.p_m[rows]]
        created[rows] = uniform_between(rng, fs, np.minimum(fs + 20 * US_PER_DAY, p.end_us - US_PER_DAY))
    # else: the copies keep the creation times base_listings drew for these rows, as honest listings


def _variant_edit(blk: Block, title: str, lang: str) -> str:
    """A copy's title edited as honest titles are: colour/size word, word order, typo and promo-token rates."""
    rng, bg = blk.rng, blk.plan.scenario.background
    s = tx.sep(lang)
    tokens = title.split(" ") if s else [title]
    if len(tokens) > 2 and rng.random() < 0.5:
        i = int(rng.integers(len(tokens) - 1))
        tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
    out = " ".join(tokens)
    if rng.random() < 0.7:
        colors = tx.COLORS[lang]
        out = out + tx.sep(lang) + colors[int(rng.integers(len(colors)))]
    if rng.random() < bg.typo_prob:
        toks = out.split(" ")
        k = int(rng.integers(len(toks)))
        toks[k] = tx.typo(rng, toks[k])
        out = " ".join(toks)
    if rng.random() < bg.spam_token_prob:
        tok = int(rng.integers(len(tx.SPAM_TOKENS)))
        out = f"{tx.SPAM_TOKENS[tok]} {out}" if tok % 2 else f"{out} {tx.SPAM_TOKENS[tok]}"
    return out


def relistings(blk: Block, d: dict[str, Any]) -> None:
    """Truth for honest re-listings: a shop's listings with the same title and the same photo.

    The background's exact variants (``background.exact_variant_prob``) re-use a listing's title,
    description, price and image hash word for word.  Nothing on the two listing pages tells them
    apart, so they are duplicates by content and go into the ``duplicate_listing`` truth as groups
    ``relist-<n>`` with role ``relisting`` — not fraud (``fraudmine.contracts.typologies``
    lists the role among the non-member roles, so scores and moderator verdicts treat these
    listings as honest).  Variants that name another colour are not content-identical and stay out.
    Draws no random numbers (the raw tables do not change).
    """
    rows = np.flatnonzero(blk.p_kind != 2)
    titles = np.asarray(d["titles"], dtype=object)
    phash: np.ndarray = d["phash"]
    key = pd.DataFrame({"m": blk.p_m[rows], "t": titles[rows], "h": phash[rows], "j": rows})
    grp = key.groupby(["m", "t", "h"], sort=False)["j"]
    key["head"] = grp.transform("min")  # the group's first listing (rows ascend)
    key = key.loc[grp.transform("size").to_numpy() >= 2].sort_values(["head", "j"], kind="stable")
    pids = product_ids(blk.p_gidx[key["j"].to_numpy()])
    groups = [group_name("relist", int(g)) for g in blk.p_gidx[key["head"].to_numpy()].tolist()]
    blk.truth.extend(("product", pid, "duplicate_listing", g, "relisting") for pid, g in zip(pids, groups, strict=True))


def counterfeit_listings(blk: Block, d: dict[str, Any]) -> None:
    """Turn a share of a counterfeiter's base listings into protected-brand claims or typo-squats."""
    p, rng = blk.plan, blk.rng
    cfg = p.scenario.counterfeit
    pm = blk.p_m
    share = rng.uniform(cfg.listing_share[0], cfg.listing_share[1], size=blk.b - blk.a)[pm - blk.a]
    rows = np.flatnonzero((blk.p_kind == 0) & p.counterfeit[pm] & (rng.random(pm.shape[0]) < share))
    if rows.shape[0] == 0:
        return
    titles: list[str] = d["titles"]
    langs: list[str] = d["langs"]
    descs: list[str] = d["descs"]
    cat: IntArray = d["cat"]
    brand: IntArray = d["brand"]
    usd: np.ndarray = d["usd"]
    created: IntArray = d["created"]
    chosen = PROTECTED_IDX[rng.integers(PROTECTED_IDX.shape[0], size=rows.shape[0])]
    squat = rng.random(rows.shape[0]) < cfg.typo_squat_share
    for j, b, sq in zip(rows.tolist(), chosen.tolist(), squat.tolist(), strict=True):
        name = BRANDS[b][0]
        shown = tx.typo_squat(rng, name) if sq else name
        cat[j] = BRAND_CAT[b]
        title, desc = tx.listing_text(rng, langs[j], int(cat[j]), shown)
        titles[j] = title + (" original 1:1" if rng.random() < cfg.original_suffix_prob else "")
        descs[j] = desc
        brand[j] = -1 if sq else b
        usd[j] = MED[cat[j]] * np.exp(SIG[cat[j]] * rng.standard_normal()) * cfg.price_factor
        ring = int(p.ring[pm[j]])
        blk.truth.append(
            (
                "product",
                product_ids([blk.p_gidx[j]])[0],
                "counterfeit",
                group_name("ring", ring) if ring >= 0 else None,
                "typo_squat" if sq else "brand_claim",
            )
        )
    if p.scenario.tabular_shift.planted_listing_times == "after_fraud_start":
        fs = p.fraud_start[pm[rows]]
        created[rows] = uniform_between(rng, fs, np.full(rows.shape[0], p.end_us - US_PER_DAY, dtype=np.int64))


def brushing(blk: Block) -> None:
    """Fake buyers x target products: short-window orders and 5-star reviews (plus decoy orders)."""
    p, rng = blk.plan, blk.rng
    cfg = p.scenario.brushing
    n_prod = blk.p_m.shape[0]
    for mi in np.flatnonzero(p.brush[blk.a : blk.b] >= 0).tolist():
        m = blk.a + mi
        g = int(p.brush[m])
        lo, hi = blk.local_range(m)
        k = min(int(rng.integers(cfg.products.min, cfg.products.max + 1)), hi - lo)
        targets = lo + rng.choice(hi - lo, size=k, replace=False)
        buyers = p.fake_buyers[p.brush_buyer_off[g] : p.brush_buyer_off[g] + p.brush_buyer_n[g]]
        bb, pp = np.meshgrid(buyers, targets, indexing="ij")
        keep = rng.random(bb.shape) < cfg.density
        bb, pp = bb[keep], pp[keep]
        t0 = max(int(p.brush_start[g]), int(blk.p_created[targets].max()) + US_PER_HOUR)
        t0 = min(t0, p.end_us - (cfg.window_days + 1) * US_PER_DAY)
        t = t0 + np.floor(rng.random(bb.shape[0]) * cfg.window_days * US_PER_DAY).astype(np.int64)
        t = np.maximum(t, blk.p_created[pp] + 1)
        orders_rows(blk, pp, bb, t, _status(blk, m, bb.shape[0], cfg.honest_status))
        rv = rng.random(bb.shape[0]) < cfg.review_prob
        rating = np.where(rng.random(int(rv.sum())) < cfg.five_star_prob, 5, 4).astype(np.int64)
        rt = t[rv] + US_PER_HOUR + np.floor(rng.random(int(rv.sum())) * 2 * US_PER_DAY).astype(np.int64)
        reviews_rows(blk, pp[rv], bb[rv], rt, rating)
        if p.camo[m]:
            _decoy_orders(blk, buyers, n_prod, int(p.brush_buyer_off[g]))
        grp = group_name("brush", g)
        # the truth lists the buyers and targets the block actually used (a fake account that placed no
        # order on a target left no brushing trace: no method can find it, and it is not brushing)
        for b in buyer_ids(np.unique(bb)):
            blk.truth.append(("buyer", b, "brushing", grp, "fake_buyer"))
        for pid in product_ids(blk.p_gidx[np.unique(pp)]):
            blk.truth.append(("product", pid, "brushing", grp, "target"))


def _decoy_orders(blk: Block, buyers: IntArray, n_prod: int, off: int) -> None:
    """Camouflage: each fake account also orders a few products of the block.

    With ``camouflage.decoys_replace`` the products are drawn as honest orders draw
    them (shop by its order volume, then its popular listings) and the account's own
    organic orders were thinned to make room (:func:`fraudmine.synth.typologies.plan_order_thinning`);
    otherwise any product of the block, uniformly, on top of the account's orders.  ``off`` is
    the accounts' offset into ``plan.fake_buyers`` (their decoy counts are planned there).
    """
    p = blk.plan
    bb = np.repeat(buyers, p.decoy_n[off : off + buyers.shape[0]])
    if p.scenario.camouflage.decoys_replace:
        w = p.activity[blk.a : blk.b]
        m = blk.a + np.searchsorted(np.cumsum(w), blk.rng.random(bb.shape[0]) * w.sum())
        pp = blk.local_product(np.minimum(m, blk.b - 1))
    else:
        pp = blk.rng.integers(n_prod, size=bb.shape[0])
    lo = np.maximum(blk.p_created[pp], blk.plan.start_us)
    t = uniform_between(blk.rng, lo, np.full(bb.shape[0], blk.plan.end_us, dtype=np.int64))
    status = _status(blk, -1, bb.shape[0], True)
    orders_rows(blk, pp, bb, t, status)
    if p.scenario.camouflage.decoys_replace:
        _decoy_reviews(blk, pp, bb, t, np.asarray(status))


def _decoy_reviews(blk: Block, pp: IntArray, bb: IntArray, t: IntArray, status: np.ndarray) -> None:
    """Reviews of decoy orders, drawn as background orders' reviews are (rate, rating, delay)."""
    p, rng = blk.plan, blk.rng
    refund = status == "refunded"
    rate = p.scenario.background.review_rate * np.where(refund, 1.6, 1.0)
    rv = (status != "cancelled") & (rng.random(pp.shape[0]) < rate)
    mean = 4.4 + p.rating_shift[blk.p_m[pp[rv]]] - 1.8 * refund[rv]
    rating = np.clip(np.round(rng.normal(mean, 0.8)), 1, 5).astype(np.int64)
    rt = t[rv] + US_PER_HOUR + np.floor(rng.exponential(3 * US_PER_DAY, int(rv.sum()))).astype(np.int64)
    reviews_rows(blk, pp[rv], bb[rv], rt, rating)


def _status(blk: Block, m: int, n: int, honest: bool) -> list[str]:
    """Order statuses: all completed, or refunded / cancelled at the honest background rates."""
    if not honest:
        return ["completed"] * n
    bg = blk.plan.scenario.background
    u = blk.rng.random(n)
    out: list[str] = np.where(
        u < bg.refund_rate, "refunded", np.where(u < bg.refund_rate + bg.cancel_rate, "cancelled", "completed")
    ).tolist()
    return out


def malicious_reporting(blk: Block) -> None:
    """Reporter rings mass-reporting a victim merchant and its products; mostly rejected."""
    p, rng = blk.plan, blk.rng
    cfg = p.scenario.malicious_reporting
    for mi in np.flatnonzero(p.victim[blk.a : blk.b] >= 0).tolist():
        m = blk.a + mi
        g = int(p.victim[m])
        reporters = p.fake_buyers[p.rep_off[g] : p.rep_off[g] + p.rep_n[g]]
        cnt = rng.integers(cfg.reports_per_reporter.min, cfg.reports_per_reporter.max + 1, reporters.shape[0])
        rr = np.repeat(reporters, cnt)
        n = rr.shape[0]
        lo, hi = blk.local_range(m)
        on_product = rng.random(n) < 0.4
        prod = lo + rng.integers(hi - lo, size=n)
        tid = np.where(on_product, product_ids(blk.p_gidx[prod]), merchant_ids(np.full(n, m)))
        ttype = np.where(on_product, "product", "merchant")
        reason = rng.choice(np.array(["counterfeit", "fraud", "not_as_described", "prohibited_item"]), n)
        t0 = int(p.rep_start[g])
        t = t0 + np.floor(rng.random(n) * cfg.window_days * US_PER_DAY).astype(np.int64)
        t = np.where(on_product, np.maximum(t, blk.p_created[prod] + 1), t)
        reviewed = rng.random(n) < cfg.reviewed_prob
        upheld = rng.random(n) >= cfg.rejected_prob
        reports_rows(blk, rr, ttype.tolist(), tid.tolist(), reason.tolist(), t, reviewed, upheld)
        if cfg.decoy_orders:
            _decoy_orders(blk, reporters, blk.p_m.shape[0], int(p.rep_off[g]))
        grp = group_name("mrep", g)
        for b in buyer_ids(reporters):
            blk.truth.append(("buyer", b, "malicious_reporting", grp, "reporter"))
        blk.truth.append(("merchant", merchant_ids([m])[0], "malicious_reporting", grp, "victim"))


__all__ = ["LANG_OF", "brushing", "counterfeit_listings", "duplicate_listings", "relistings"]
