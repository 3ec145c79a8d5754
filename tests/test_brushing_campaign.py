"""Brushing campaigns in time (:mod:`fraudmine.graph.campaign`, :func:`fraudmine.graph.dense.campaign_blocks`):
a shop-wide sales event is not a campaign; a sparse campaign (few accounts ordered two targets) is kept
when its targets' traffic in the campaign window is mostly excess."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from fraudmine.graph.campaign import busiest_window, campaign_buyers, shop_lift
from fraudmine.graph.dense import campaign_blocks
from fraudmine.graph_config import BrushingConfig

T0 = pd.Timestamp(datetime(2026, 5, 1, tzinfo=UTC))
END = T0 + pd.Timedelta(days=180)


def _day(d: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=d)


def _steady(shop: str, product: str, n: int, tag: str) -> list[tuple[str, str, str, pd.Timestamp]]:
    """``n`` one-off buyers of ``product`` spread evenly over the 180 days."""
    return [(f"buyer:{tag}{i}", f"product:{product}", f"merchant:{shop}", _day(180.0 * i / n)) for i in range(n)]


def _burst(
    shop: str, product: str, n: int, tag: str, start: float, days: float
) -> list[tuple[str, str, str, pd.Timestamp]]:
    return [(f"buyer:{tag}{i}", f"product:{product}", f"merchant:{shop}", _day(start + days * i / n)) for i in range(n)]


def _frame(rows: list[tuple[str, str, str, pd.Timestamp]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["buyer", "product", "seller", "first_ts"])


def _cand(touches: pd.DataFrame, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """Candidate edges for ``(buyer, product)`` pairs (columns of :func:`~fraudmine.graph.dense.candidate_edges`)."""
    deg = touches.groupby("product").size()
    sub = touches.set_index(["buyer", "product"]).loc[pairs].reset_index()
    return sub.assign(n_events=1, last_ts=sub["first_ts"], product_degree=sub["product"].map(deg).to_numpy())


def test_shop_lift_is_large_in_a_sales_event_and_one_without() -> None:
    """Three steady listings with 60 buyers each; in days 100-104 every one of them sells 25 more (a
    sales event): the lift of that span is several times; a quiet span's lift is 1; a listing first
    sold shortly before the end (no outside rate) is left out of the reference."""
    rows = [r for p in ("a", "b", "c") for r in _steady("s", p, 60, f"{p}s")]
    rows += [r for p in ("a", "b", "c") for r in _burst("s", p, 25, f"{p}e", 100.0, 4.0)]
    ref = _frame(rows)
    assert shop_lift(ref, _day(100), _day(104), 0.0, END) > 4.0
    assert shop_lift(ref, _day(40), _day(44), 0.0, END) == 1.0
    new = _frame(_burst("s", "new", 30, "n", 170.0, 4.0))  # first sold 10 days before the end
    assert shop_lift(new, _day(170), _day(174), 0.0, END, min_outside_days=7.0) == 1.0
    assert shop_lift(_frame([]), _day(100), _day(104), 0.0, END) == 1.0


def test_campaign_buyers_expect_the_shop_lift() -> None:
    """A listing's 25 buyers in a sales event are excess over its own rate alone, ordinary under the shop's lift."""
    touches = _frame(_steady("s", "a", 60, "as") + _burst("s", "a", 25, "ae", 100.0, 4.0))
    lo, hi = _day(100), _day(104)
    alone = campaign_buyers(touches, ["product:a"], lo, hi, 1.0, 0.75, END)
    assert {f"buyer:ae{i}" for i in range(25)} <= set(alone)
    assert campaign_buyers(touches, ["product:a"], lo, hi, 1.0, 0.75, END, lift=6.0) == []


def test_busiest_window_contains_the_span_and_the_burst() -> None:
    times = pd.Series([_day(50 + d) for d in range(0, 18, 2)] + [_day(10), _day(120)])
    a, b = busiest_window(times, _day(52), _day(54), 21.0)
    assert a <= _day(52) and b >= _day(54) and (b - a) == pd.Timedelta(days=21)
    assert int(((times >= a) & (times <= b)).sum()) == 9


def _shop_with_sparse_campaign() -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Shop ``brush``: two quiet targets (6 honest buyers each over 180 days) and three quiet other listings;
    from day 120, 20 campaign accounts over 21 days, 2 of them ordering both targets, 18 one target each."""
    rows = [r for p in ("t1", "t2", "o1", "o2", "o3") for r in _steady("brush", p, 6, f"h{p}_")]
    rows += [
        ("buyer:f0", "product:t1", "merchant:brush", _day(122)),
        ("buyer:f0", "product:t2", "merchant:brush", _day(124)),
    ]
    rows += [
        ("buyer:f1", "product:t1", "merchant:brush", _day(131)),
        ("buyer:f1", "product:t2", "merchant:brush", _day(133)),
    ]
    rows += [(f"buyer:g{i}", f"product:t{1 + i % 2}", "merchant:brush", _day(120 + 21.0 * i / 18)) for i in range(18)]
    return _frame(rows), [
        ("buyer:f0", "product:t1"),
        ("buyer:f0", "product:t2"),
        ("buyer:f1", "product:t1"),
        ("buyer:f1", "product:t2"),
    ]


def _shop_with_sales_event() -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Shop ``sale``: four steady listings (40 buyers each); a 5-day sales event on day 60 sells 30 more of
    each, and two event buyers bought both p1 and p2 (the co-purchase a sales event makes)."""
    rows = [r for p in ("p1", "p2", "p3", "p4") for r in _steady("sale", p, 40, f"s{p}_")]
    rows += [r for p in ("p1", "p2", "p3", "p4") for r in _burst("sale", p, 30, f"e{p}_", 60.0, 5.0)]
    rows += [
        (f"buyer:x{i}", f"product:p{j}", "merchant:sale", _day(61 + i + 0.5 * j)) for i in range(2) for j in (1, 2)
    ]
    return _frame(rows), [(f"buyer:x{i}", f"product:p{j}") for i in range(2) for j in (1, 2)]


def test_campaign_blocks_keep_a_sparse_campaign_and_drop_a_sales_event() -> None:
    brush, brush_pairs = _shop_with_sparse_campaign()
    sale, sale_pairs = _shop_with_sales_event()
    touches = pd.concat([brush, sale], ignore_index=True)
    cand = pd.concat([_cand(brush, brush_pairs), _cand(sale, sale_pairs)], ignore_index=True)
    cfg = BrushingConfig()
    blocks = campaign_blocks(cand, touches, cfg, END)
    assert len(blocks) == 1
    got = blocks[0]
    assert got.products == ["product:t1", "product:t2"] and got.core == ["buyer:f0", "buyer:f1"]
    fake = {"buyer:f0", "buyer:f1"} | {f"buyer:g{i}" for i in range(18)}
    assert set(got.buyers) >= fake and len(set(got.buyers) - fake) <= 2
    # the rule before: a core needs min_buyers (3) accounts, so the sparse campaign is never found ...
    assert campaign_blocks(cand, touches, cfg.model_copy(update={"min_core_buyers": 3}), END) == []
    # ... and without the shop's lift the sales event's 2 x 2 core pulls in the event's buyers
    loose = campaign_blocks(cand, touches, cfg.model_copy(update={"shop_relative": False}), END)
    assert any("product:p1" in b.products and len(b.buyers) > 20 for b in loose)
