"""Plan-level planting of each fraud typology (who is involved, when, with whom).

One function per typology; each consumes merchants from a shared
:class:`Picker` so that typologies of solo actors do not overlap by accident,
while rings deliberately also post duplicates and counterfeits.  Row-level
evidence (listings, orders, reports) is emitted block by block in
:mod:`fraudmine.synth.planting`.
"""

from __future__ import annotations

import numpy as np

from fraudmine.contracts.raw import CATEGORIES
from fraudmine.synth.entities import BRAND_CAT, PROTECTED_IDX, Plan, registration_times
from fraudmine.synth.text import COUNTRIES, COUNTRY_CODES, LANGS
from fraudmine.synth.util import US_PER_DAY, IntArray


class Picker:
    """Hands out distinct random merchant indices."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        """Shuffle ``range(n)`` once; :meth:`take` pops from the front."""
        self._order = rng.permutation(n).astype(np.int64)
        self._pos = 0

    def take(self, k: int) -> IntArray:
        """Return up to ``k`` merchant indices not handed out before."""
        out = self._order[self._pos : self._pos + k]
        self._pos += out.shape[0]
        return out


def _fraud_registration(plan: Plan, rng: np.random.Generator, idx: IntArray) -> None:
    """Re-draw registration (and fraud start) of fraud merchants with the fraud recency."""
    sc = plan.scenario
    reg = registration_times(rng, idx.shape[0], sc.tabular_shift.fraud_recent_prob, plan.start_us, plan.end_us, sc)
    plan.registered[idx] = reg
    lo = np.maximum(reg, plan.start_us)
    span = np.maximum(plan.end_us - 45 * US_PER_DAY - lo, US_PER_DAY)
    plan.fraud_start[idx] = lo + np.floor(rng.random(idx.shape[0]) * span * 0.5).astype(np.int64)


def assign_collusion_rings(plan: Plan, rng: np.random.Generator, picker: Picker) -> None:
    """Group merchants into rings registered in bursts; some rings post duplicates/counterfeits."""
    cfg = plan.scenario.collusion_ring
    target = round(cfg.merchant_rate * plan.n_merchants)
    starts: list[int] = []
    dup_ring: list[int] = []
    done = 0
    while done < target:
        size = min(int(rng.integers(cfg.size.min, cfg.size.max + 1)), max(target - done, cfg.size.min))
        members = picker.take(size)
        if members.shape[0] < 2:
            break
        g = len(starts)
        plan.ring[members] = g
        recent = rng.random() < plan.scenario.tabular_shift.fraud_recent_prob
        oldest = plan.end_us - plan.scenario.timeline.max_account_age_days * US_PER_DAY
        lo, hi = (plan.start_us, plan.end_us - 40 * US_PER_DAY) if recent else (oldest, plan.start_us)
        t0 = int(lo + rng.random() * (hi - lo))
        burst = np.floor(rng.random(members.shape[0]) * (cfg.burst_days + 1) * US_PER_DAY).astype(np.int64)
        plan.registered[members] = t0 + burst
        fs = max(t0, plan.start_us) + int(rng.random() * 30 * US_PER_DAY)
        plan.fraud_start[members] = fs + burst
        starts.append(fs)
        same = members[rng.random(members.shape[0]) < cfg.same_country_prob]
        plan.country[same] = plan.country[members[0]]
        plan.category[same] = plan.category[members[0]]
        k = int(rng.integers(cfg.buyer_pool.min, cfg.buyer_pool.max + 1))
        plan.ring_buyers.append(rng.choice(plan.scale.buyers, size=k, replace=False).astype(np.int64))
        if rng.random() < cfg.duplicate_prob:
            gid = plan.n_dup_groups + len(dup_ring)
            dup_ring.append(g)
            plan.dup_group[members] = gid
            dc = plan.scenario.duplicate_listing.ring_copies
            plan.n_dup[members] = rng.integers(dc.min, dc.max + 1, size=members.shape[0])
        if rng.random() < cfg.counterfeit_prob:
            plan.counterfeit[members] = True
        done += members.shape[0]
    plan.ring_start = np.array(starts, dtype=np.int64)
    plan.n_dup_groups += len(dup_ring)
    plan.dup_group_ring = np.concatenate([plan.dup_group_ring, np.array(dup_ring, dtype=np.int64)])


def assign_duplicate_listing(plan: Plan, rng: np.random.Generator, picker: Picker) -> None:
    """Solo spammers: each posts one template many times with small perturbations."""
    cfg = plan.scenario.duplicate_listing
    idx = picker.take(round(cfg.merchant_rate * plan.n_merchants))
    _fraud_registration(plan, rng, idx)
    plan.dup_group[idx] = plan.n_dup_groups + np.arange(idx.shape[0])
    plan.n_dup[idx] = rng.integers(cfg.copies.min, cfg.copies.max + 1, size=idx.shape[0])
    plan.n_dup_groups += idx.shape[0]
    plan.dup_group_ring = np.concatenate([plan.dup_group_ring, np.full(idx.shape[0], -1, dtype=np.int64)])


def assign_counterfeit(plan: Plan, rng: np.random.Generator, picker: Picker) -> None:
    """Solo counterfeiters (listing share and typo-squats are drawn per listing later)."""
    idx = picker.take(round(plan.scenario.counterfeit.merchant_rate * plan.n_merchants))
    _fraud_registration(plan, rng, idx)
    plan.counterfeit[idx] = True


def _fake_accounts(plan: Plan, rng: np.random.Generator, n: IntArray, existing: bool, skew: float = 0.0) -> IntArray:
    """Offsets into ``plan.fake_buyers`` of ``n`` accounts per block: new accounts, or existing buyers.

    Existing buyers are drawn uniformly (``skew`` 0), or as honest activity picks buyers
    (``floor(buyers * u**skew)``, distinct), so a fake account is as active as the honest ones.
    """
    total = int(n.sum())
    if existing and skew > 0:
        # drawn as honest buyers act (buyer = floor(n * u**skew)): heavy and light accounts alike
        draw = np.floor(plan.scale.buyers * rng.random(4 * total + 16) ** skew).astype(np.int64)
        uniq, first = np.unique(draw, return_index=True)
        new = uniq[np.argsort(first)][:total]
    elif existing:
        new = rng.choice(plan.scale.buyers, size=min(total, plan.scale.buyers), replace=False).astype(np.int64)
    else:
        new = plan.n_buyers_total + np.arange(total, dtype=np.int64)
        plan.n_buyers_total += total
    off: IntArray = plan.fake_buyers.shape[0] + np.concatenate([[0], np.cumsum(n)[:-1]]).astype(np.int64)
    plan.fake_buyers = np.concatenate([plan.fake_buyers, new]).astype(np.int64)
    return off


def assign_brushing(plan: Plan, rng: np.random.Generator, picker: Picker) -> None:
    """Brushing merchants, each with its own block of fake buyers (ids after real buyers)."""
    cfg = plan.scenario.brushing
    idx = picker.take(round(cfg.merchant_rate * plan.n_merchants))
    _fraud_registration(plan, rng, idx)
    k = idx.shape[0]
    plan.brush[idx] = np.arange(k)
    n: IntArray = np.asarray(rng.integers(cfg.buyers.min, cfg.buyers.max + 1, size=k), dtype=np.int64)
    plan.brush_buyer_n = n
    plan.brush_buyer_off = _fake_accounts(plan, rng, n, cfg.existing_accounts, cfg.account_skew)
    lo = np.maximum(plan.fraud_start[idx], plan.registered[idx])
    span = np.maximum(plan.end_us - (cfg.window_days + 2) * US_PER_DAY - lo, US_PER_DAY)
    plan.brush_start = lo + np.floor(rng.random(k) * span).astype(np.int64)


def assign_creator_collusion(plan: Plan, rng: np.random.Generator) -> None:
    """Attach colluding creators to some rings; they share ring identifiers and promote ring products."""
    cfg = plan.scenario.creator_collusion
    if cfg.active_creators:  # colluders are drawn as promotions are: active creators more often
        w = (np.arange(plan.n_creators) + 1.0) ** (1.0 / plan.scenario.background.creator_skew - 1.0)
        free = rng.choice(plan.n_creators, size=plan.n_creators, replace=False, p=w / w.sum())
    else:
        free = rng.permutation(plan.n_creators)
    pos = 0
    plan.ring_creators = []
    for g in range(plan.ring_start.shape[0]):
        chosen = np.zeros(0, dtype=np.int64)
        if rng.random() < cfg.ring_prob:
            k = int(rng.integers(cfg.creators_per_ring.min, cfg.creators_per_ring.max + 1))
            chosen = np.sort(free[pos : pos + k]).astype(np.int64)
            pos += chosen.shape[0]
            plan.c_ring[chosen] = g
        plan.ring_creators.append(chosen)


def assign_low_quality(plan: Plan, rng: np.random.Generator, picker: Picker) -> None:
    """Low-quality sellers: more refunds, lower ratings, more upheld complaints."""
    cfg = plan.scenario.low_quality
    idx = picker.take(round(cfg.merchant_rate * plan.n_merchants))
    plan.low_quality[idx] = True
    plan.refund_rate[idx] = np.clip(rng.normal(cfg.refund_rate, 0.05, idx.shape[0]), 0.02, 0.9)
    plan.rating_shift[idx] += cfg.rating_shift * rng.uniform(0.5, 1.5, idx.shape[0])
    plan.report_mult[idx] *= cfg.report_multiplier


def assign_malicious_reporting(plan: Plan, rng: np.random.Generator, picker: Picker) -> None:
    """Reporter rings (new buyer accounts) each targeting one honest competitor merchant."""
    cfg = plan.scenario.malicious_reporting
    k = max(1, round(cfg.rings_per_1k_merchants * plan.n_merchants / 1000))
    victims = picker.take(k)
    k = victims.shape[0]
    plan.victim[victims] = np.arange(k)
    n: IntArray = np.asarray(rng.integers(cfg.reporters.min, cfg.reporters.max + 1, size=k), dtype=np.int64)
    plan.rep_n = n
    plan.rep_off = _fake_accounts(plan, rng, n, cfg.existing_accounts, cfg.account_skew)
    lo = np.maximum(plan.registered[victims], plan.start_us)
    span = np.maximum(plan.end_us - (cfg.window_days + 30) * US_PER_DAY - lo, US_PER_DAY)
    plan.rep_start = lo + np.floor(rng.random(k) * span).astype(np.int64)


def assign_sock_puppets(plan: Plan, rng: np.random.Generator, rate: float) -> None:
    """Pair up a share of solo fraud merchants: one operator behind two shops sharing an identifier."""
    solo = np.flatnonzero(plan.fraud & (plan.ring < 0))
    chosen = solo[rng.random(solo.shape[0]) < rate]
    k = chosen.shape[0] // 2
    plan.sock[chosen[: 2 * k]] = np.repeat(np.arange(k), 2)


def assign_camouflage_and_shift(plan: Plan, rng: np.random.Generator) -> None:
    """Mark camouflaged fraud merchants and apply the scenario's tabular shift to fraud merchants."""
    ts = plan.scenario.tabular_shift
    fraud = np.flatnonzero(plan.fraud)
    plan.camo[fraud] = rng.random(fraud.shape[0]) < plan.scenario.camouflage.rate
    plan.price_shift[fraud] += ts.fraud_price_log_shift
    # Camouflaged accounts keep honest-level order volume and refunds: camouflage must
    # make them look *like* honest shops, not different from both populations.
    shifted = fraud[~plan.camo[fraud]]
    plan.activity[shifted] *= np.exp(ts.fraud_activity_log_shift)
    plan.refund_rate[shifted] = np.clip(rng.normal(ts.fraud_refund_rate, 0.03, shifted.shape[0]), 0.0, 1.0)
    plan.report_mult[fraud] *= ts.fraud_report_multiplier
    brush = plan.brush >= 0
    plan.activity[brush] *= ts.brushing_activity_factor
    dup = plan.n_dup > 0
    if plan.scenario.duplicate_listing.copies_replace >= 1.0:
        # copies take the place of listings the shop would have had: a small shop posts few copies
        plan.n_dup[dup] = np.minimum(plan.n_dup[dup], np.maximum(2, plan.n_base[dup] - 1))
    keep = np.floor(plan.n_dup[dup] * (1.0 - plan.scenario.duplicate_listing.copies_replace)).astype(np.int64)
    plan.n_base[dup] = np.maximum(1, plan.n_base[dup] - plan.n_dup[dup] + keep)


def assign_authorisations(plan: Plan, rng: np.random.Generator, picker: Picker) -> None:
    """Authorised resellers of protected brands; camouflaged fraud merchants also get one."""
    cfg = plan.scenario.camouflage
    per_brand = max(1, plan.n_merchants // 600)
    resellers = picker.take(per_brand * PROTECTED_IDX.shape[0])
    plan.auth_brand[resellers] = np.resize(PROTECTED_IDX, resellers.shape[0])
    plan.category[resellers] = BRAND_CAT[plan.auth_brand[resellers]]
    plan.n_auth[resellers] = rng.integers(2, 7, size=resellers.shape[0])
    camo = np.flatnonzero(plan.camo) if cfg.authorised_brand else np.zeros(0, dtype=np.int64)
    plan.auth_brand[camo] = PROTECTED_IDX[rng.integers(PROTECTED_IDX.shape[0], size=camo.shape[0])]
    plan.n_auth[camo] = rng.integers(cfg.authorised_products.min, cfg.authorised_products.max + 1, size=camo.shape[0])
    # authorised listings replace ordinary ones, so catalogue size does not give camouflage away
    plan.n_base[camo] = np.maximum(1, plan.n_base[camo] - plan.n_auth[camo])
    has = np.flatnonzero(plan.auth_brand >= 0)
    lo = plan.registered[has]
    span = np.maximum(plan.end_us - 30 * US_PER_DAY - lo, US_PER_DAY)
    plan.auth_from[has] = lo + np.floor(rng.random(has.shape[0]) * span * 0.5).astype(np.int64)


def assign_templates(plan: Plan, rng: np.random.Generator) -> None:
    """Category and language of each duplicate group's template.

    With ``own_category_prob`` the template follows its (first) shop's primary
    category and listing language, as a real spammer copies its own catalogue;
    otherwise a random category and language (an easy tell, kept for ``easy``).
    """
    cfg = plan.scenario.duplicate_listing
    g = plan.n_dup_groups
    first = np.full(g, -1, dtype=np.int64)
    has = np.flatnonzero(plan.dup_group >= 0)
    first[plan.dup_group[has][::-1]] = has[::-1]
    own = (rng.random(g) < cfg.own_category_prob) & (first >= 0)
    plan.dup_cat = np.where(own, plan.category[np.maximum(first, 0)], rng.integers(len(CATEGORIES), size=g))
    lang = LANG_OF[plan.country[np.maximum(first, 0)]]
    bg = plan.scenario.background
    eng = rng.random(g) < (plan.english_share[np.maximum(first, 0)] if bg.english_per_shop else bg.english_listing_prob)
    rand = np.array(LANGS)[rng.integers(len(LANGS), size=g)]
    plan.dup_lang = np.where(own, np.where(eng, "en", lang), rand)


def plan_order_thinning(plan: Plan, rng: np.random.Generator) -> None:
    """Fake accounts' fake orders replace part of their own (``camouflage.decoys_replace``).

    An existing account used for brushing or a report ring places its block's orders
    (brushing density x target products, decoys) *instead of* part of its organic
    orders: each of its background orders is handed to another buyer with probability
    ``expected extra / expected organic`` (capped at 1).  Decoys fill only the room its
    organic volume leaves (``min(drawn, organic - brushing)``, rounded at random), so its
    total order count follows the honest buyers' law.  Sets ``plan.decoy_n`` (per entry of
    ``plan.fake_buyers``), ``plan.thin_buyers`` (sorted) and ``plan.thin_prob``.
    """
    sc = plan.scenario
    nf = plan.fake_buyers.shape[0]
    dec = sc.camouflage.buyer_decoy_orders
    plan.decoy_n = np.asarray(rng.integers(dec.min, dec.max + 1, size=nf), dtype=np.int64)
    if not sc.camouflage.decoys_replace or nf == 0:
        return
    br = sc.brushing
    n_buy = plan.scale.buyers
    brush = np.zeros(nf)
    has_decoy = np.zeros(nf, dtype=bool)
    per_brush = br.density * (br.products.min + br.products.max) / 2.0
    camo = np.zeros(plan.brush_buyer_n.shape[0], dtype=bool)
    brushers = np.flatnonzero(plan.brush >= 0)
    camo[plan.brush[brushers]] = plan.camo[brushers]
    for g in range(plan.brush_buyer_n.shape[0]):
        o, k = int(plan.brush_buyer_off[g]), int(plan.brush_buyer_n[g])
        brush[o : o + k] += per_brush
        has_decoy[o : o + k] |= bool(camo[g])
    if sc.malicious_reporting.decoy_orders:
        for g in range(plan.rep_n.shape[0]):
            o, k = int(plan.rep_off[g]), int(plan.rep_n[g])
            has_decoy[o : o + k] = True
    b = plan.fake_buyers
    real = b < n_buy  # new accounts (ids after the real range) have no organic orders to thin
    total = 40.0 * float(plan.activity.sum())  # background orders: Poisson(40 x activity) per shop
    organic = total * (np.sqrt((b + 1.0) / n_buy) - np.sqrt(b / n_buy))  # buyer = floor(n * u**2)
    room = np.floor(np.maximum(organic - brush, 0.0) + rng.random(nf)).astype(np.int64)
    plan.decoy_n = np.where(has_decoy, np.where(real, np.minimum(plan.decoy_n, room), plan.decoy_n), 0)
    extra = brush + plan.decoy_n
    prob = np.where(real, np.minimum(extra / np.maximum(organic, 1e-9), 1.0), 0.0)
    uniq, inv = np.unique(b, return_inverse=True)
    acc = np.zeros(uniq.shape[0])
    np.add.at(acc, inv, prob)
    plan.thin_buyers, plan.thin_prob = uniq.astype(np.int64), np.minimum(acc, 1.0)


LANG_OF = np.array([COUNTRIES[c][0] for c in COUNTRY_CODES])


def plant_all(plan: Plan, rng: np.random.Generator) -> None:
    """Run every plan-level typology assignment in a fixed order, then finalise offsets."""
    from fraudmine.synth.entities import assign_hubs
    from fraudmine.synth.photos import assign_photo_groups
    from fraudmine.synth.promotions import assign_promotions

    picker = Picker(rng, plan.n_merchants)
    assign_collusion_rings(plan, rng, picker)
    assign_duplicate_listing(plan, rng, picker)
    assign_counterfeit(plan, rng, picker)
    assign_brushing(plan, rng, picker)
    assign_creator_collusion(plan, rng)
    assign_low_quality(plan, rng, picker)
    assign_malicious_reporting(plan, rng, picker)
    assign_sock_puppets(plan, rng, plan.scenario.collusion_ring.solo_pair_rate)
    assign_camouflage_and_shift(plan, rng)
    assign_authorisations(plan, rng, picker)
    bg = plan.scenario.background
    cross = rng.random(plan.n_merchants) < bg.english_listing_prob
    plan.english_share = np.where(cross, rng.uniform(0.5, 1.0, plan.n_merchants), 0.05)
    assign_templates(plan, rng)
    claim = plan.scenario.background
    who = (~plan.counterfeit) & (rng.random(plan.n_merchants) < claim.unauthorised_claim_rate)
    lo, hi = claim.unauthorised_claim_share
    plan.claim_share = np.where(who, rng.uniform(lo, hi, plan.n_merchants), 0.0)
    assign_hubs(plan, rng)
    assign_photo_groups(plan, rng)
    assign_promotions(plan, rng)
    plan_order_thinning(plan, rng)
    plan.finalise()
