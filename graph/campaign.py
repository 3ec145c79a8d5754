"""Campaign evidence of a brushing block: the buyers its time span adds, and whether the shop as a whole was busy.

A FRAUDAR core (:mod:`fraudmine.graph.dense`) is the block's densest buyer x product part; brushing
is a *campaign* on some of a shop's listings, so the block is completed and checked in time:

* :func:`campaign_buyers` attaches the buyers who touched a block product inside the block's span
  when that product's traffic in the span is mostly excess over its own rate outside it;
* :func:`shop_lift` is the rate of the shop's *other* listings inside the span over their rate
  outside it.  A sales event lifts every listing of a shop at once; a brushing campaign lifts its
  targets and leaves the rest of the shop at its usual rate.  The excess test expects
  ``lift`` times the product's own rate, so the buyers of a shop-wide event are ordinary traffic;
* :func:`confirm_core` keeps a small core (fewer than ``min_buyers`` co-purchasing buyers: sparse
  brushing, where each fake account orders one or two targets) only when its span attaches enough
  excess buyers beyond it: the time burst, not the co-purchase density, is the evidence.

No label is read: the inputs are buyer-product touches and their times.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fraudmine.graph import schemas as S


def shop_lift(
    reference: pd.DataFrame,
    lo: pd.Timestamp,
    hi: pd.Timestamp,
    slack_days: float,
    as_of: pd.Timestamp,
    prior: float = 2.0,
    min_outside_days: float = 0.0,
) -> float:
    """Traffic of a shop's other listings inside ``[lo, hi]`` (± ``slack_days``) over what their rates outside expect.

    Each reference listing ``q`` expects ``n_out(q) · span / (life(q) - span)`` buyers in the span (its
    life: first touch to ``as_of``), as :func:`campaign_buyers` does for the block's own products; a
    listing observed for less than ``min_outside_days`` outside the span (a new listing) has no rate
    and is left out.

    Args:
        reference: ``[buyer, product, first_ts]`` touches of the shop's listings outside the block.
        lo, hi: the block's time span.
        slack_days: widening of the span on both sides (as :func:`campaign_buyers`).
        as_of: end of the observed period.
        prior: pseudo-buyers added to the observed and the expected span buyers, so that a few orders
            of a quiet shop do not make a lift (a shrinkage towards 1).
        min_outside_days: observed days outside the span a reference listing needs.

    Returns:
        ``max(1, (n_in + prior) / (expected + prior))``; 1 without any reference listing.
    """
    if reference.empty:
        return 1.0
    slack = pd.Timedelta(days=slack_days)
    a, b = lo - slack, hi + slack
    span_days = max((b - a).total_seconds() / 86400.0, 1e-9)
    t = pd.to_datetime(reference[S.FIRST_TS], utc=True)
    per = pd.DataFrame(
        {"q": reference["product"].to_numpy(), "t": t.to_numpy(), "inside": ((t >= a) & (t <= b)).to_numpy()}
    )
    g = per.groupby("q").agg(first=("t", "min"), n=("t", "size"), n_in=("inside", "sum"))
    life = (as_of - pd.to_datetime(g["first"], utc=True)).dt.total_seconds() / 86400.0
    g = g[(life - span_days >= min_outside_days).to_numpy()]
    life = life[g.index]
    if g.empty:
        return 1.0
    expected = float(((g["n"] - g["n_in"]) * span_days / np.maximum(life - span_days, span_days)).sum())
    return max(1.0, (float(g["n_in"].sum()) + prior) / (expected + prior))


def busiest_window(
    times: pd.Series, a: pd.Timestamp, b: pd.Timestamp, length_days: float
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The window ``[s, s + length_days]`` containing ``[a, b]`` with the most ``times`` in it (earliest on ties).

    Args:
        times: touch times (UTC timestamps).
        a, b: the span the window must contain (``b - a`` at most ``length_days``).
        length_days: the window's length.
    """
    length = pd.Timedelta(days=length_days)
    first, last = b - length, a  # window starts that keep [a, b] inside
    ts = np.sort(times.to_numpy(dtype="datetime64[ns]"))
    starts = np.unique(np.concatenate([[np.datetime64(first.tz_convert(None), "ns")], ts]))
    starts = starts[
        (starts >= np.datetime64(first.tz_convert(None), "ns")) & (starts <= np.datetime64(last.tz_convert(None), "ns"))
    ]
    if starts.size == 0:
        return a, b
    counts = np.searchsorted(ts, starts + np.timedelta64(length), "right") - np.searchsorted(ts, starts, "left")
    s0 = pd.Timestamp(starts[int(np.argmax(counts))]).tz_localize("UTC")
    return s0, s0 + length


def confirm_core(core: list[str], joined: list[str], min_buyers: int, min_campaign_buyers: int) -> bool:
    """A block is kept when its core has ``min_buyers`` buyers, or when its campaign adds
    ``min_campaign_buyers`` buyers beyond the core (a sparse campaign: few accounts ordered two targets)."""
    return len(core) >= min_buyers or len(set(joined) - set(core)) >= min_campaign_buyers


def campaign_buyers(
    touches: pd.DataFrame,
    products: list[str],
    lo: pd.Timestamp,
    hi: pd.Timestamp,
    slack_days: float,
    min_excess: float = 0.0,
    as_of: pd.Timestamp | None = None,
    core: list[str] | None = None,
    min_outside_days: float = 0.0,
    new_max_ratio: float | None = None,
    lift: float = 1.0,
    reach_days: float = 0.0,
) -> list[str]:
    """Buyers who ordered or reviewed one of ``products`` between ``lo`` and ``hi`` (± ``slack_days``),
    on the products whose traffic in that span is mostly excess.

    For each product, ``n_in`` buyers touched it in the span and ``n_out`` outside it, over the
    product's observed life (first touch to ``as_of``, default the last touch of ``touches``); the
    buyers expected in the span at the outside rate are ``n_out · span / max(life - span, span)``.
    A product's buyers in the span join when ``1 - expected / n_in ≥ min_excess``: at 0.75, at most a
    quarter of them are explained by the product's ordinary traffic (``min_excess ≤ 0`` is the old
    rule, every buyer in the span).

    A product observed for less than ``min_outside_days`` outside the span has no outside rate to
    compare with (a new listing, a popular new shop whose whole traffic falls in the span): its
    buyers in the span join only when they are at most ``new_max_ratio`` times its buyers among
    ``core`` (the block's peeled buyers), i.e. when the span's traffic is mostly the block itself;
    ``new_max_ratio`` ``None`` keeps the old rule (the excess test on whatever outside time there is).

    ``lift`` multiplies the expected buyers: the shop's own traffic lift in the span (:func:`shop_lift`),
    so a shop-wide sales event, which lifts every listing of the shop, is not taken for a campaign.

    ``reach_days`` longer than the span: each product's span is instead its busiest window of
    ``reach_days`` that contains the block's span.  A sparse core (two accounts that each ordered two
    targets) spans a few days of a campaign that lasts weeks; the targets' own burst says how far it reaches.

    Args:
        touches: ``[buyer, product, first_ts]`` buyer-product edges (all of them, not only candidates).
        min_excess: share of the span's buyers that must be unexplained by the product's outside rate.
        as_of: end of the observed period.
        core: the block's core buyers (for products without an outside rate).
        min_outside_days: observed days outside the span needed for the excess test.
        new_max_ratio: span buyers per core buyer allowed on a product without an outside rate.
        lift: factor on the expected buyers (1: the product's own outside rate alone).
        reach_days: length of a product's campaign window (0, or at most the span: the span itself).
    """
    slack = pd.Timedelta(days=slack_days)
    a, b = lo - slack, hi + slack
    t = pd.to_datetime(touches[S.FIRST_TS], utc=True)
    end = as_of if as_of is not None else (t.max() if len(t) else b)
    span_days = max((b - a).total_seconds() / 86400.0, 1e-9)
    reach = reach_days > span_days
    if reach:
        span_days = reach_days
    core_set = set(core or ())
    out: set[str] = set()
    for p in products:
        on = (touches["product"] == p).to_numpy()
        if not on.any():
            continue
        tp = t[on]
        wa, wb = busiest_window(tp, a, b, reach_days) if reach else (a, b)
        inside = ((tp >= wa) & (tp <= wb)).to_numpy()
        n_in = int(inside.sum())
        if n_in == 0:
            continue
        life = (end - tp.min()).total_seconds() / 86400.0
        if new_max_ratio is not None and life - span_days < min_outside_days:
            n_core = len(core_set.intersection(touches.loc[on, "buyer"].astype(str)))
            if n_in <= new_max_ratio * max(n_core, 1):
                out.update(touches.loc[on, "buyer"].to_numpy()[inside].astype(str).tolist())
            continue
        expected = lift * (on.sum() - n_in) * span_days / max(life - span_days, span_days)
        if 1.0 - expected / n_in >= min_excess:
            out.update(touches.loc[on, "buyer"].to_numpy()[inside].astype(str).tolist())
    return sorted(out)
