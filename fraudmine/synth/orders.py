"""Orders of one merchant block: background orders, their status events and reviews.

Every merchant's organic orders come from the same Zipf-like draws (:func:`background_orders`);
:mod:`fraudmine.synth.planting` adds the brushing blocks' fake orders and reviews through
:func:`orders_rows` and :func:`reviews_rows`.  Split from :mod:`fraudmine.synth.blocks` (the
block itself, listings and reports).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fraudmine.synth import text as tx
from fraudmine.synth.blocks import LANG_OF, Block, FloatArray
from fraudmine.synth.util import US_PER_DAY, US_PER_HOUR, IntArray, id_array, uniform_between


def orders_rows(blk: Block, prod: IntArray, buyers: IntArray, t: IntArray, status: list[str]) -> IntArray:
    """Emit orders for block-local products ``prod`` and their status events; returns the quantities drawn.

    ``status`` is each order's eventual status; the events say when it got there
    (placed; completed after delivery; refunded some days later; cancelled within a
    day).  ``orders.status`` is the status at ``end_date``: a refund or cancellation
    whose event falls after it is not visible yet.
    """
    qty = np.asarray(blk.rng.geometric(0.75, size=prod.shape[0]), dtype=np.int32)
    oids = id_array("o", blk.counters.take("orders", prod.shape[0]), 10)
    status = _order_events(blk, oids, t, np.asarray(status))
    blk.add(
        "orders",
        {
            "order_id": oids,
            "buyer_id": id_array("b", buyers, 9),
            "product_id": id_array("p", blk.p_gidx[prod], 9),
            "ordered_at": t,
            "quantity": qty,
            "amount": np.round(blk.p_usd[prod] * qty, 2),
            "status": status,
        },
    )
    out: IntArray = qty.astype(np.int64)
    return out


ORDER_STATUS = pa.array(["placed", "completed", "refunded", "cancelled"], type=pa.string())


def _order_events(blk: Block, oids: pa.StringArray, t: IntArray, final: np.ndarray) -> pa.StringArray:
    """Emit the ``order_events`` rows of new orders; returns their status as of ``end_date``.

    Statuses are codes into :data:`ORDER_STATUS` (0 placed, 1 completed, 2 refunded,
    3 cancelled) until they are written.
    """
    rng, end = blk.rng, blk.plan.end_us
    n = t.shape[0]
    done = t + np.floor((1 + rng.random(n) * 6) * US_PER_DAY).astype(np.int64)
    refund = done + np.floor(rng.exponential(8 * US_PER_DAY, n)).astype(np.int64) + US_PER_HOUR
    cancel = t + np.floor(rng.exponential(0.5 * US_PER_DAY, n)).astype(np.int64) + 60_000_000
    idx = np.arange(n)
    is_c, is_r = final == "cancelled", final == "refunded"
    ev_o = [idx, idx[~is_c], idx[is_r], idx[is_c]]
    ev_t = [t, done[~is_c], refund[is_r], cancel[is_c]]
    o = np.concatenate(ev_o)
    at = np.concatenate(ev_t)
    st = np.repeat(np.arange(4, dtype=np.int8), [a.shape[0] for a in ev_o])
    seen = at < end
    o, at, st = o[seen], at[seen], st[seen]
    order = np.lexsort((at, o))
    o, at, st = o[order], at[order], st[order]
    last = np.zeros(n, dtype=np.int8)
    last[o] = st  # ascending time per order: the last write is the latest event
    now = np.where(last == 0, 1, last)  # placed-but-undelivered counts as completed
    oid_o = oids.take(pa.array(o, type=pa.int64()))
    blk.add(
        "order_events",
        {
            "event_id": pc.binary_join_element_wise(
                oid_o, pc.cast(pa.array(_event_seq(o), type=pa.int64()), pa.string()), "e"
            ),
            "order_id": oid_o,
            "status": ORDER_STATUS.take(pa.array(st, type=pa.int8())),
            "event_at": at,
        },
    )
    out: pa.StringArray = ORDER_STATUS.take(pa.array(now, type=pa.int8()))
    return out


def _event_seq(o: IntArray) -> IntArray:
    """0, 1, 2, ... within each run of equal (sorted) order indices."""
    if o.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    start = np.r_[0, np.flatnonzero(np.diff(o)) + 1]
    seq: IntArray = np.arange(o.shape[0]) - np.repeat(start, np.diff(np.r_[start, o.shape[0]]))
    return seq


def reviews_rows(blk: Block, prod: IntArray, buyers: IntArray, t: IntArray, rating: IntArray) -> None:
    """Emit reviews (drops any falling at/after end_date); text is multilingual, often null."""
    keep = t < blk.plan.end_us
    prod, buyers, t, rating = prod[keep], buyers[keep], t[keep], rating[keep]
    lang = LANG_OF[blk.plan.country[blk.p_m[prod]]]
    u = blk.rng.random((prod.shape[0], 2))
    texts = review_texts(lang, rating, u)
    blk.add(
        "reviews",
        {
            "review_id": id_array("r", blk.counters.take("reviews", prod.shape[0]), 10),
            "buyer_id": id_array("b", buyers, 9),
            "product_id": id_array("p", blk.p_gidx[prod], 9),
            "rating": rating.astype(np.int32),
            "text": texts,
            "reviewed_at": t,
        },
    )


def review_texts(lang: npt.NDArray[np.str_], rating: IntArray, u: FloatArray) -> list[str | None]:
    """Review text per row: none when ``u[:, 0] < 0.4``, else a positive (rating ≥ 4) or negative line.

    The line is ``pool[int(u[:, 1] * len(pool))]`` of the row's language; picked per
    (language, polarity) group with array indexing.
    """
    out = np.full(lang.shape[0], None, dtype=object)
    pos = rating >= 4
    for lg in np.unique(lang).tolist():
        for polarity, pools in ((True, tx.REVIEW_POS), (False, tx.REVIEW_NEG)):
            rows = np.flatnonzero((lang == lg) & (pos == polarity) & (u[:, 0] >= 0.4))
            pool = np.asarray(pools[lg], dtype=object)
            out[rows] = pool[(u[rows, 1] * len(pool)).astype(np.int64)]
    texts: list[str | None] = out.tolist()
    return texts


def background_orders(blk: Block) -> None:
    """Zipf-like orders from real buyers, with per-merchant refund rates, plus their reviews."""
    p, rng = blk.plan, blk.rng
    m = np.arange(blk.a, blk.b)
    act = p.activity[m]
    cnt = rng.poisson(40.0 * act)
    om = np.repeat(m, cnt)
    prod = blk.local_product(om)
    lo = np.maximum(blk.p_created[prod], p.start_us)
    t = uniform_between(rng, lo, np.full(lo.shape[0], p.end_us, dtype=np.int64))
    ev = rng.random(om.shape[0]) < p.scenario.background.order_burst_prob
    if ev.any():
        # sales events: a share of each shop's orders falls in a few days after its campaign start
        span = np.maximum(p.end_us - 12 * US_PER_DAY - lo[ev], 1)
        start = lo[ev] + np.floor(((om[ev] * 2_654_435_761) % 1000 / 1000.0) * span).astype(np.int64)
        t[ev] = np.minimum(
            start + np.floor(rng.exponential(2 * US_PER_DAY, int(ev.sum()))).astype(np.int64), p.end_us - 1
        )
    buyers = np.floor(p.scale.buyers * rng.random(om.shape[0]) ** 2).astype(np.int64)
    if p.thin_buyers.shape[0]:
        # fake accounts' fake orders replace part of their own: hand those orders to other buyers
        at = np.minimum(np.searchsorted(p.thin_buyers, buyers), p.thin_buyers.shape[0] - 1)
        drop = (p.thin_buyers[at] == buyers) & (rng.random(om.shape[0]) < p.thin_prob[at])
        buyers[drop] = np.floor(p.scale.buyers * rng.random(int(drop.sum())) ** 2).astype(np.int64)
    _pool_buyers(blk, om, buyers)
    u = rng.random(om.shape[0])
    refund = u < p.refund_rate[om]
    cancel = ~refund & (u < p.refund_rate[om] + p.scenario.background.cancel_rate)
    status = np.where(refund, "refunded", np.where(cancel, "cancelled", "completed"))
    orders_rows(blk, prod, buyers, t, status.tolist())
    rv = ~cancel & (rng.random(om.shape[0]) < p.scenario.background.review_rate * np.where(refund, 1.6, 1.0))
    mean = 4.4 + p.rating_shift[om[rv]] - 1.8 * refund[rv]
    rating = np.clip(np.round(rng.normal(mean, 0.8)), 1, 5).astype(np.int64)
    rt = t[rv] + US_PER_HOUR + np.floor(rng.exponential(3 * US_PER_DAY, int(rv.sum()))).astype(np.int64)
    reviews_rows(blk, prod[rv], buyers[rv], rt, rating)


def _pool_buyers(blk: Block, om: IntArray, buyers: IntArray) -> None:
    """Hand a share of ring shops' orders (``om``: merchant per order, sorted) to their ring's buyer pool.

    ``collusion_ring.buyer_pool_repeat`` true: each pooled order goes to a random pool buyer, so a pool
    buyer places several orders in one shop and the shop's distinct-buyer count falls (a per-shop tell:
    ``orders.buyers`` against ``orders.n``). False: a shop's pooled orders go to distinct pool buyers, one
    order each (at most the pool's size; the rest keep their own buyer), as the buyers they replace would:
    the evidence left is *which* buyers order across the ring's shops, not how many.
    """
    p, rng = blk.plan, blk.rng
    cr = p.scenario.collusion_ring
    ring = p.ring[om]
    pooled = np.flatnonzero((ring >= 0) & (rng.random(om.shape[0]) < cr.buyer_pool_order_share))
    if cr.buyer_pool_repeat:
        for j, g in zip(pooled.tolist(), ring[pooled].tolist(), strict=True):
            pool = p.ring_buyers[g]
            if pool.shape[0]:
                buyers[j] = pool[int(rng.integers(pool.shape[0]))]
        return
    shop = om[pooled]
    starts = np.flatnonzero(np.r_[True, shop[1:] != shop[:-1]]) if pooled.shape[0] else np.zeros(0, np.int64)
    ends = np.r_[starts[1:], pooled.shape[0]]
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        pool = p.ring_buyers[int(ring[pooled[s]])]
        k = min(e - s, pool.shape[0])
        buyers[pooled[s : s + k]] = rng.permutation(pool)[:k]
