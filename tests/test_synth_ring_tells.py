"""Ring shops' buyer and creator counts come from the honest draws (issue 7 item 4).

Two per-shop tells the realism benchmark's LightGBM leaned on (docs/benchmarks.md, session 22):
a ring's buyer pool placed 30% of a member's orders through 3-8 accounts (few distinct buyers
for the orders: AUROC 0.88 of ``buyers / orders`` for ring shops at s seed 1), and colluders,
drawn among all creators, replaced creators of larger reach on ring shops (``promo.cdeg_max``
0.63).  The default scenario now hands a shop's pooled orders to distinct pool buyers and lets a
colluder replace only a creator of its own reach.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import cast

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from fraudmine.synth.entities import Plan
from fraudmine.synth.promotions import assign_promotions
from fraudmine.synth.scenario import load_scenario

REPO = Path(__file__).resolve().parent.parent
DEFAULT = REPO / "conf" / "scenarios" / "default.yaml"


def _plan(reach_match: float) -> Plan:
    """A plan with only what :func:`assign_promotions` reads: 40 rings of 8 shops, 4 colluders each."""
    sc = load_scenario(DEFAULT)
    cc = sc.creator_collusion.model_copy(update={"reach_match": reach_match})
    sc = sc.model_copy(update={"creator_collusion": cc})
    n, nc, rings, size = 6000, 1800, 40, 8
    rng = np.random.default_rng(11)
    ring = np.full(n, -1, dtype=np.int64)
    ring[: rings * size] = np.repeat(np.arange(rings), size)
    c_ring = np.full(nc, -1, dtype=np.int64)
    chosen = rng.permutation(nc)[: rings * 4].reshape(rings, 4)  # drawn among all creators, as the default
    for g, cs in enumerate(chosen):
        c_ring[cs] = g
    ns = SimpleNamespace(
        n_merchants=n, n_creators=nc, scenario=sc, ring=ring, c_ring=c_ring, ring_creators=[np.sort(c) for c in chosen]
    )
    return cast(Plan, ns)


def _ring_and_honest_reach(reach_match: float) -> tuple[float, float, int, np.ndarray]:
    """(mean log reach of ring shops' creators, same for non-ring shops, swapped slots, reach)."""
    plan = _plan(reach_match)
    assign_promotions(plan, np.random.default_rng(5))
    reach = np.bincount(plan.promo_creator, minlength=plan.n_creators)
    slot_m = np.repeat(np.arange(plan.n_merchants), np.diff(plan.promo_off))
    log_reach = np.log(reach[plan.promo_creator])
    ring_shops = np.flatnonzero(plan.ring >= 0)
    honest = np.flatnonzero(plan.ring < 0)
    return (
        float(log_reach[np.isin(slot_m, ring_shops)].mean()),
        float(log_reach[np.isin(slot_m, honest)].mean()),
        int(plan.promo_fake.sum()),
        reach,
    )


def test_colluders_replace_creators_of_their_own_reach() -> None:
    ring_r, honest_r, swapped, reach = _ring_and_honest_reach(2.0)
    any_r, any_honest, any_swapped, any_reach = _ring_and_honest_reach(0.0)
    # swaps keep every creator's promotion count: the same draw gives the same counts either way
    assert np.array_equal(reach, any_reach)
    assert swapped > 100 and any_swapped > swapped  # collusion still happens, on fewer (matching) slots
    # any slot: ring shops get creators of smaller reach than honest shops (the tell) ...
    assert any_honest - any_r > 0.3, (any_honest, any_r)
    # ... matched: their creators' reach is the honest one's
    assert abs(honest_r - ring_r) < 0.15, (honest_r, ring_r)


def test_ring_shops_buyers_per_order_like_honest_shops(xs_default: Path) -> None:
    raw, truth = xs_default / "raw", xs_default / "truth"
    owner = pd.read_parquet(raw / "products", columns=["product_id", "merchant_id"]).set_index("product_id")
    o = pd.read_parquet(raw / "orders", columns=["product_id", "buyer_id"])
    o["m"] = o["product_id"].map(owner["merchant_id"])
    per = o.groupby("m").agg(n=("buyer_id", "size"), buyers=("buyer_id", "nunique"))
    per = per[per["n"] >= 5]
    ent = pd.read_parquet(truth / "entities.parquet")
    tm = pd.read_parquet(truth / "merchants.parquet")
    ring = set(ent.loc[(ent["typology"] == "collusion_ring") & (ent["role"] == "shop"), "entity_id"])
    honest = set(tm.loc[~tm["is_fraud"], "merchant_id"])
    per = per[per.index.isin(ring | honest)]
    y = per.index.isin(ring)
    assert y.sum() >= 20  # xs seed 2 (conftest) plants enough ring shops with orders to measure
    auc = roc_auc_score(y, -(per["buyers"] / per["n"]).to_numpy())
    # pool buyers placing many orders each: 0.8-0.9 (buyer_pool_repeat: true); one order each: ~0.5
    assert auc < 0.68, auc
