"""Global plan of the marketplace: per-merchant and per-creator attributes, brands, hubs.

The plan holds only per-account arrays (a few per merchant), so it fits in
memory at every scale; row-level tables are produced block by block from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from fraudmine.contracts.raw import CATEGORIES
from fraudmine.synth.scales import Scale
from fraudmine.synth.scenario import Scenario
from fraudmine.synth.text import COUNTRY_CODES, COUNTRY_WEIGHTS
from fraudmine.synth.util import US_PER_DAY, IntArray

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# (name, category, protected, aliases)
BRANDS: tuple[tuple[str, str, bool, str | None], ...] = (
    ("Nike", "fashion", True, "NIKE|耐克|ナイキ"),
    ("Adidas", "fashion", True, "adidas|阿迪达斯"),
    ("Gucci", "fashion", True, "GUCCI|古驰"),
    ("Louis Vuitton", "fashion", True, "LV|路易威登"),
    ("Chanel", "beauty", True, "CHANEL|香奈儿"),
    ("Dior", "beauty", True, "Christian Dior|迪奥"),
    ("Apple", "electronics", True, "iPhone|苹果"),
    ("Samsung", "electronics", True, "SAMSUNG|三星"),
    ("Sony", "electronics", True, "SONY|ソニー"),
    ("Rolex", "jewelry", True, "ROLEX|劳力士"),
    ("Pandora", "jewelry", True, None),
    ("Lego", "toys", True, "LEGO|乐高"),
    ("Puma", "sports", True, "PUMA|彪马"),
    ("Under Armour", "sports", True, "UA"),
    ("Estee Lauder", "beauty", True, "Estée Lauder|雅诗兰黛"),
    ("Bosch", "automotive", True, "BOSCH|博世"),
    ("Michelin", "automotive", True, None),
    ("Dyson", "home", True, "戴森"),
    ("Zara", "fashion", False, None),
    ("Uniqlo", "fashion", False, "ユニクロ|优衣库"),
    ("H&M", "fashion", False, "HM"),
    ("Xiaomi", "electronics", False, "MI|小米"),
    ("Anker", "electronics", False, None),
    ("Baseus", "electronics", False, None),
    ("Lenovo", "electronics", False, "联想"),
    ("Maybelline", "beauty", False, None),
    ("Wardah", "beauty", False, None),
    ("Innisfree", "beauty", False, None),
    ("Ikea", "home", False, "IKEA"),
    ("Tupperware", "home", False, None),
    ("Muji", "home", False, "無印良品"),
    ("Hasbro", "toys", False, None),
    ("Mattel", "toys", False, None),
    ("Decathlon", "sports", False, "迪卡侬"),
    ("Yonex", "sports", False, None),
    ("Nestle", "grocery", False, "Nestlé|雀巢"),
    ("Indomie", "grocery", False, None),
    ("Lipton", "grocery", False, None),
    ("Swarovski", "jewelry", False, None),
    ("Penguin", "books", False, "Penguin Books"),
    ("Gramedia", "books", False, None),
    ("Castrol", "automotive", False, None),
    ("Philips", "home", False, "飞利浦"),
    ("Casio", "electronics", False, "カシオ"),
    ("New Balance", "sports", False, "NB"),
    ("Converse", "fashion", False, None),
    ("Nivea", "beauty", False, None),
    ("Hot Wheels", "toys", False, None),
    ("Oxford", "books", False, None),
    ("Garmin", "electronics", False, None),
)
BRAND_CAT = np.array([CATEGORIES.index(b[1]) for b in BRANDS])
PROTECTED = np.array([b[2] for b in BRANDS])
PROTECTED_IDX = np.flatnonzero(PROTECTED)
UNPROTECTED_IDX = np.flatnonzero(~PROTECTED)


@dataclass
class Plan:
    """Every per-account decision; see module docstring.  Arrays are indexed by merchant index."""

    scale: Scale
    scenario: Scenario
    end_us: int
    start_us: int
    country: IntArray
    category: IntArray
    registered: IntArray
    n_base: IntArray
    activity: FloatArray
    price_shift: FloatArray
    refund_rate: FloatArray
    report_mult: FloatArray
    rating_shift: FloatArray
    low_quality: BoolArray
    fraud_start: IntArray
    ring: IntArray
    dup_group: IntArray
    n_dup: IntArray
    counterfeit: BoolArray
    brush: IntArray
    camo: BoolArray
    victim: IntArray
    auth_brand: IntArray
    auth_from: IntArray
    n_auth: IntArray
    prod_off: IntArray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    n_dup_groups: int = 0
    dup_group_ring: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    ring_start: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    ring_creators: list[IntArray] = field(default_factory=list)
    brush_buyer_off: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    brush_buyer_n: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    brush_start: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    rep_off: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    rep_n: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    rep_start: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    n_buyers_total: int = 0
    hub_members: list[tuple[str, str, IntArray, IntArray]] = field(default_factory=list)
    keys: tuple[bytes, bytes] = (b"", b"")
    dup_cat: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    dup_lang: npt.NDArray[np.str_] = field(default_factory=lambda: np.zeros(0, dtype=str))
    claim_share: FloatArray = field(default_factory=lambda: np.zeros(0))
    english_share: FloatArray = field(default_factory=lambda: np.zeros(0))
    ring_buyers: list[IntArray] = field(default_factory=list)
    fake_buyers: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    household: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sock: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    c_country: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    c_followers: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    c_registered: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    c_ring: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    promo_off: IntArray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    promo_creator: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    promo_fake: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    promoted: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    thin_buyers: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    thin_prob: FloatArray = field(default_factory=lambda: np.zeros(0))
    decoy_n: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    hide_ring: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    photo_off: IntArray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    photo_gid: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    photo_n: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    photo_cat: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n_merchants(self) -> int:
        """Number of merchants."""
        return int(self.country.shape[0])

    @property
    def n_creators(self) -> int:
        """Number of creators."""
        return int(self.c_country.shape[0])

    @property
    def fraud(self) -> BoolArray:
        """Merchants with at least one fraud typology."""
        return (self.ring >= 0) | (self.n_dup > 0) | self.counterfeit | (self.brush >= 0)

    def finalise(self) -> None:
        """Compute product offsets once all per-merchant product counts are known."""
        total = self.n_base + self.n_auth + self.n_dup
        self.prod_off = np.concatenate([[0], np.cumsum(total)]).astype(np.int64)


def base_plan(scale: Scale, sc: Scenario, rng: np.random.Generator) -> Plan:
    """Draw honest baseline attributes for every merchant and creator.

    Args:
        scale: dataset scale.
        sc: scenario.
        rng: random generator (consumed deterministically).

    Returns:
        A :class:`Plan` with no typologies assigned yet.
    """
    n = scale.merchants
    end_us = int(sc.timeline.end_date.timestamp() * 1_000_000)
    start_us = end_us - sc.timeline.history_days * US_PER_DAY
    country = rng.choice(len(COUNTRY_CODES), size=n, p=COUNTRY_WEIGHTS).astype(np.int64)
    category = rng.choice(len(CATEGORIES), size=n, p=_cat_weights()).astype(np.int64)
    registered = registration_times(rng, n, sc.tabular_shift.honest_recent_prob, start_us, end_us, sc)
    n_base = np.minimum(1 + np.floor(rng.lognormal(1.75, 1.0, n)), 3000).astype(np.int64)
    activity = rng.lognormal(0.0, 1.0, n) / np.exp(0.5)
    c = scale.creators
    plan = Plan(
        scale=scale,
        scenario=sc,
        end_us=end_us,
        start_us=start_us,
        country=country,
        category=category,
        registered=registered,
        n_base=n_base,
        activity=activity,
        price_shift=rng.normal(0.0, 0.25, n),
        refund_rate=np.clip(rng.normal(sc.background.refund_rate, 0.015, n), 0.0, 1.0),
        report_mult=rng.lognormal(0.0, 0.5, n) / np.exp(0.125),
        rating_shift=rng.normal(0.0, 0.25, n),
        low_quality=np.zeros(n, dtype=bool),
        fraud_start=np.maximum(registered, start_us),
        ring=np.full(n, -1, dtype=np.int64),
        dup_group=np.full(n, -1, dtype=np.int64),
        n_dup=np.zeros(n, dtype=np.int64),
        counterfeit=np.zeros(n, dtype=bool),
        brush=np.full(n, -1, dtype=np.int64),
        camo=np.zeros(n, dtype=bool),
        victim=np.full(n, -1, dtype=np.int64),
        auth_brand=np.full(n, -1, dtype=np.int64),
        auth_from=np.zeros(n, dtype=np.int64),
        n_auth=np.zeros(n, dtype=np.int64),
        c_country=rng.choice(len(COUNTRY_CODES), size=c, p=COUNTRY_WEIGHTS).astype(np.int64),
        c_followers=np.floor(rng.lognormal(7.5, 1.8, c)).astype(np.int64),
        c_registered=registration_times(rng, c, 0.3, start_us, end_us, sc),
        c_ring=np.full(c, -1, dtype=np.int64),
    )
    plan.n_buyers_total = scale.buyers
    plan.sock = np.full(n, -1, dtype=np.int64)
    return plan


def _cat_weights() -> npt.NDArray[np.float64]:
    w = np.array([1.4, 2.0, 1.3, 1.2, 0.8, 0.8, 0.7, 0.6, 0.5, 0.7])
    out: npt.NDArray[np.float64] = w / w.sum()
    return out


def registration_times(
    rng: np.random.Generator, n: int, recent_prob: float, start_us: int, end_us: int, sc: Scenario
) -> IntArray:
    """Account registration instants: inside the window with ``recent_prob``, else older.

    In-window registrations stop 20 days before ``end_date`` so every account has activity.
    """
    recent = rng.random(n) < recent_prob
    oldest = end_us - sc.timeline.max_account_age_days * US_PER_DAY
    old_t = oldest + np.floor(rng.random(n) * max(start_us - oldest, 1)).astype(np.int64)
    new_t = start_us + np.floor(rng.random(n) * (end_us - 20 * US_PER_DAY - start_us)).astype(np.int64)
    return np.where(recent, new_t, old_t).astype(np.int64)


def group_sizes(rng: np.random.Generator, total: int, lo: int, hi: int, alpha: float) -> IntArray:
    """Group sizes from ``P(size) ~ size**-alpha`` on ``lo..hi`` until they cover ``total`` memberships."""
    if total <= 0 or hi < 2:
        return np.zeros(0, dtype=np.int64)
    support = np.arange(max(lo, 2), hi + 1, dtype=np.float64)
    w = support**-alpha
    mean = float((support * w).sum() / w.sum())
    k = max(1, int(np.ceil(total / mean)))
    out: IntArray = rng.choice(support, size=k, p=w / w.sum()).astype(np.int64)
    return out


def assign_hubs(plan: Plan, rng: np.random.Generator) -> None:
    """Benign identifier sharing: households, agencies, co-working Wi-Fi and payment aggregators.

    Each group draws its members among *all* merchants (fraud shops live in the same
    households, agencies and aggregators); every group identifier is used by a random
    share of the members.  Appends ``(identifier type, slot, merchants, creators)`` to
    ``plan.hub_members``; agencies may register their shops in a burst.
    """
    h = plan.scenario.hubs
    n = plan.n_merchants
    for kind, cfg in (
        ("household", h.households),
        ("agency", h.agencies),
        ("cowork", h.coworking),
        ("aggregator", h.aggregators),
    ):
        sizes = group_sizes(rng, round(cfg.merchant_share * n), cfg.size.min, min(cfg.size.max, n), cfg.alpha)
        for g, size in enumerate(sizes.tolist()):
            members = np.sort(rng.choice(n, size=size, replace=False)).astype(np.int64)
            n_c = min(int(rng.binomial(size, cfg.creator_share)), plan.n_creators)
            creators = np.sort(rng.choice(plan.n_creators, size=n_c, replace=False)).astype(np.int64)
            if rng.random() < cfg.co_registration_prob:
                free = members[plan.ring[members] < 0]  # rings keep their own registration burst
                t0 = int(plan.registered[members].min())
                plan.registered[free] = t0 + np.floor(rng.random(free.shape[0]) * 6 * US_PER_DAY).astype(np.int64)
                plan.fraud_start[free] = np.maximum(plan.fraud_start[free], plan.registered[free])
            k = int(rng.integers(cfg.identifiers.min, cfg.identifiers.max + 1))
            for j, t in enumerate(rng.choice(len(cfg.types), size=min(k, len(cfg.types)), replace=False).tolist()):
                use = rng.random(size) < cfg.use_prob
                if use.sum() < 2:
                    use[rng.choice(size, size=2, replace=False)] = True
                plan.hub_members.append((cfg.types[t], f"{kind}{g}-{j}", members[use], creators))
    _camouflage_links(plan, rng)


def _camouflage_links(plan: Plan, rng: np.random.Generator) -> None:
    """Camouflaged fraud shops also join random benign groups (fraud links into honest structure).

    With ``camouflage.links_replace_ring`` only camouflaged ring shops that hide their ring
    identifiers (``hide_ring_prob``, decided here into ``plan.hide_ring``) join, and the benign
    memberships take the place of the ring identifiers: no shop holds more shared identifiers
    than the honest draw gives.  Otherwise every camouflaged fraud shop joins on top.
    """
    cfg = plan.scenario.camouflage
    cam = cfg.hub_links
    plan.hide_ring = np.zeros(plan.n_merchants, dtype=bool)
    if cfg.links_replace_ring:
        ring_camo = np.flatnonzero(plan.camo & (plan.ring >= 0))
        plan.hide_ring[ring_camo] = rng.random(ring_camo.shape[0]) < cfg.hide_ring_prob
        camo = np.flatnonzero(plan.hide_ring)
    else:
        camo = np.flatnonzero(plan.camo & plan.fraud)
    groups = [j for j, g in enumerate(plan.hub_members) if g[2].shape[0] <= 300]
    if not groups or camo.shape[0] == 0:
        return
    cnt = rng.integers(cam.min, cam.max + 1, size=camo.shape[0])
    who = np.repeat(camo, cnt)
    where = np.asarray(groups)[rng.integers(len(groups), size=who.shape[0])]
    for j in np.unique(where).tolist():
        t, slot, mem, cre = plan.hub_members[j]
        plan.hub_members[j] = (t, slot, np.union1d(mem, who[where == j]), cre)
