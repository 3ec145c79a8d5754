"""Cluster detectors on hand-built cases: FRAUDAR, reporter bursts, identity linking, collusion channels,
out-of-fold label counts, the as-of view and the stats table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from fraudmine.graph.algorithms.fraudar import column_weights, greedy_peel, peel_blocks
from fraudmine.graph.reporters import bursts

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def _bipartite_with_block(seed: int, camouflage: bool) -> tuple[np.ndarray, np.ndarray, int, int, set[int], set[int]]:
    """300 buyers x 200 products of sparse background plus a 30 x 6 block at fill 0.7."""
    rng = np.random.default_rng(seed)
    nb, npr = 300, 200
    bg_r = rng.integers(0, nb, 900)
    # products 0-9 are popular: 40% of honest orders go to them
    bg_c = np.where(rng.random(900) < 0.4, rng.integers(0, 10, 900), rng.integers(0, npr, 900))
    block_r = np.arange(270, 300)
    block_c = np.arange(194, 200)
    rr, cc = np.meshgrid(block_r, block_c, indexing="ij")
    keep = rng.random(rr.shape) < 0.7
    rows = [bg_r, rr[keep]]
    cols = [bg_c, cc[keep]]
    if camouflage:  # every fake buyer also orders 3 popular honest products
        rows.append(np.repeat(block_r, 3))
        cols.append(rng.integers(0, 10, block_r.size * 3))
    r, c = np.concatenate(rows), np.concatenate(cols)
    pairs = np.unique(np.column_stack([r, c]), axis=0)
    return pairs[:, 0], pairs[:, 1], nb, npr, set(block_r.tolist()), set(block_c.tolist())


@pytest.mark.parametrize("seed", range(20))
def test_fraudar_recovers_planted_block_under_camouflage(seed: int) -> None:
    r, c, nb, npr, br, bc = _bipartite_with_block(seed, camouflage=seed % 2 == 0)
    deg = np.bincount(c, minlength=npr)
    blk = greedy_peel(r, c, column_weights(deg[c]), nb, npr)
    found_r, found_c = set(blk.rows.tolist()), set(blk.cols.tolist())
    # the peel returns the block's dense core: only fake buyers, most of them, all its products and,
    # besides the popular products the fake buyers also ordered, at most one stray product
    assert len(found_r - br) <= 1 and len(found_r & br) >= 0.5 * len(br)
    assert bc <= found_c and len(found_c - bc - set(range(10))) <= 1


def test_find_blocks_expands_the_core_to_the_whole_block() -> None:
    from fraudmine.graph.dense import find_blocks

    r, c, _, npr, br, bc = _bipartite_with_block(3, camouflage=True)
    deg = np.bincount(c, minlength=npr)
    cand = pd.DataFrame({"buyer": [f"buyer:{i:03d}" for i in r], "product": [f"product:{j:03d}" for j in c]})
    cand["product_degree"] = deg[c]
    blocks = find_blocks(
        cand, min_buyers=5, min_products=2, min_fill=0.3, max_blocks_per_component=3, column_weight_c=5
    )
    buyers, products, _ = blocks[0]
    assert {f"product:{j:03d}" for j in bc} <= set(products)
    got = {int(b.split(":")[1]) for b in buyers}
    assert len(got & br) >= 0.9 * len(br) and len(got - br) <= 0.1 * len(br)


@pytest.mark.parametrize("seed", range(3))
def test_find_blocks_peels_the_same_edge_sequence_whatever_the_row_order(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The peel's float sums (and so its near-tie decisions) follow edge order: at scale m two row
    orders of the same candidates gave 776 and 775 blocks, so rows are put in content order first."""
    from fraudmine.graph import dense

    r, c, _, npr, _, _ = _bipartite_with_block(seed, camouflage=True)
    deg = np.bincount(c, minlength=npr)
    cand = pd.DataFrame({"buyer": [f"buyer:{i:03d}" for i in r], "product": [f"product:{j:03d}" for j in c]})
    cand["product_degree"] = deg[c]
    seen: list[tuple[list[int], list[int], list[float]]] = []
    real = dense.peel_blocks

    def spy(rows, cols, weights, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append((rows.tolist(), cols.tolist(), weights.tolist()))
        return real(rows, cols, weights, *args, **kwargs)

    monkeypatch.setattr(dense, "peel_blocks", spy)
    kw = {"min_buyers": 3, "min_products": 2, "min_fill": 0.2, "max_blocks_per_component": 5, "column_weight_c": 5}
    want = dense.find_blocks(cand, **kw)  # type: ignore[arg-type]
    first = list(seen)
    seen.clear()
    got = dense.find_blocks(cand.sample(frac=1.0, random_state=seed).reset_index(drop=True), **kw)  # type: ignore[arg-type]
    assert first and seen == first
    assert [(b, p) for b, p, _ in got] == [(b, p) for b, p, _ in want]


def test_find_blocks_keeps_each_shop_s_block_apart() -> None:
    """Two shops' small blocks chained by buyers who co-purchased in both: one component when buyers
    are nodes, so the peel returns one two-shop block; with a ``seller`` column each shop is its own."""
    from fraudmine.graph.dense import find_blocks

    rows = []
    for shop in ("a", "b"):
        for i in range(4):
            for j in range(2):
                rows.append((f"buyer:{shop}{i}", f"product:{shop}{j}", f"merchant:{shop}"))
    # two buyers bought both products of both shops: the bridge
    for b in ("buyer:x0", "buyer:x1"):
        for shop in ("a", "b"):
            rows += [(b, f"product:{shop}{j}", f"merchant:{shop}") for j in range(2)]
    cand = pd.DataFrame(rows, columns=["buyer", "product", "seller"])
    cand["product_degree"] = 6
    kw = {"min_buyers": 3, "min_products": 2, "min_fill": 0.3, "max_blocks_per_component": 3, "column_weight_c": 5}
    per_shop = find_blocks(cand, **kw)  # type: ignore[arg-type]
    assert sorted(tuple(p) for _, p, _ in per_shop) == [("product:a0", "product:a1"), ("product:b0", "product:b1")]
    for buyers, products, _ in per_shop:
        shop = products[0].split(":")[1][0]
        assert set(buyers) == {f"buyer:{shop}{i}" for i in range(4)} | {"buyer:x0", "buyer:x1"}
    chained = find_blocks(cand.drop(columns=["seller"]), **kw)  # type: ignore[arg-type]
    assert len(chained) == 1 and len(chained[0][1]) == 4


def test_campaign_buyers_skip_products_whose_campaign_traffic_is_ordinary() -> None:
    """A quiet listing whose buyers pile up in the campaign: its campaign buyers join.  A popular
    listing selling as many in any fortnight: its campaign buyers are its ordinary customers."""
    from fraudmine.graph.dense import campaign_buyers

    lo, hi = pd.Timestamp(T0) + pd.Timedelta(days=100), pd.Timestamp(T0) + pd.Timedelta(days=114)
    rows = [(f"buyer:q{i}", "product:quiet", lo + pd.Timedelta(days=i)) for i in range(10)]
    rows += [("buyer:q_old", "product:quiet", lo - pd.Timedelta(days=90))]
    rows += [(f"buyer:p{i}", "product:popular", pd.Timestamp(T0) + pd.Timedelta(days=i)) for i in range(200)]
    touches = pd.DataFrame(rows, columns=["buyer", "product", "first_ts"])
    end = pd.Timestamp(T0) + pd.Timedelta(days=200)
    got = set(campaign_buyers(touches, ["product:quiet", "product:popular"], lo, hi, 1.0, 0.75, end))
    assert got == {f"buyer:q{i}" for i in range(10)}
    every = set(campaign_buyers(touches, ["product:quiet", "product:popular"], lo, hi, 1.0, 0.0, end))
    assert every >= got and "buyer:p105" in every and "buyer:q_old" not in every


def test_campaign_buyers_popular_new_listing_does_not_join_a_star_does() -> None:
    """Two listings first sold inside the block's span (no outside rate): a popular new listing with 40
    buyers in the span, 2 of them the block's core, adds none; a new listing whose 6 span buyers are
    3 core buyers and 3 one-off buyers (a star around the core) adds all of them."""
    from fraudmine.graph.dense import campaign_buyers

    lo, hi = pd.Timestamp(T0) + pd.Timedelta(days=100), pd.Timestamp(T0) + pd.Timedelta(days=118)
    end = hi + pd.Timedelta(days=3)
    rows = [(f"buyer:h{i}", "product:popular_new", lo + pd.Timedelta(hours=10 * i)) for i in range(40)]
    rows += [(f"buyer:c{i}", "product:popular_new", lo + pd.Timedelta(days=1)) for i in range(2)]
    rows += [(f"buyer:c{i}", "product:star", lo + pd.Timedelta(days=2 * i)) for i in range(3)]
    rows += [(f"buyer:s{i}", "product:star", lo + pd.Timedelta(days=2 * i + 1)) for i in range(3)]
    touches = pd.DataFrame(rows, columns=["buyer", "product", "first_ts"])
    core = [f"buyer:c{i}" for i in range(3)]
    both = ["product:popular_new", "product:star"]
    got = set(campaign_buyers(touches, both, lo, hi, 1.0, 0.75, end, core, 7.0, 3.0))
    assert got == set(core) | {f"buyer:s{i}" for i in range(3)}
    old = set(campaign_buyers(touches, both, lo, hi, 1.0, 0.75, end, core, 7.0, None))
    assert "buyer:h7" in old  # the rule before: no outside traffic, so every span buyer counted as excess


def test_peel_blocks_stops_at_first_rejected_block() -> None:
    r, c, nb, npr, br, _ = _bipartite_with_block(0, camouflage=False)
    deg = np.bincount(c, minlength=npr)
    blocks = peel_blocks(r, c, column_weights(deg[c]), nb, npr, 5, lambda b: b.density >= 1.0)
    assert len(blocks) == 1 and len(set(blocks[0].rows.tolist()) & br) >= 15
    assert len(peel_blocks(r, c, column_weights(deg[c]), nb, npr, 5, lambda b: b.density >= 0.0)) == 5


def test_reporter_burst_found_and_spread_reports_ignored() -> None:
    ring = [(f"r{i:02d}", "merchant:victim", T0 + timedelta(hours=7 * i)) for i in range(8)]
    honest = [(f"h{i:02d}", "merchant:busy", T0 + timedelta(days=9 * i)) for i in range(20)]
    frame = pd.DataFrame(ring + honest, columns=["reporter", "target", "ts"])
    b = bursts(frame, window_days=7, min_reporters=4, burst_share=0.5, max_p_value=1e-4)
    assert b["target"].tolist() == ["merchant:victim"]
    assert b["reporters"].iloc[0] == sorted(r for r, _, _ in ring)


def test_reporter_ring_in_two_waves_found_whole() -> None:
    """A ring of 12 reporting one victim in two waves a month apart (6 + 6) among 7 honest reports spread
    over four months: counting the second wave as background, the first wave alone is not improbable
    enough (the rule before finds nothing); peeled as a later wave, both waves are bursts.  A busy target
    with spread reports still has none."""
    ring = [(f"r{i:02d}", "merchant:victim", T0 + timedelta(hours=20 * i)) for i in range(6)]
    ring += [(f"r{i:02d}", "merchant:victim", T0 + timedelta(days=30, hours=20 * (i - 6))) for i in range(6, 12)]
    days = (-50, -28, -12, 15, 45, 55, 62)
    honest = [(f"v{i:02d}", "merchant:victim", T0 + timedelta(days=d)) for i, d in enumerate(days)]
    busy = [(f"h{i:02d}", "merchant:busy", T0 + timedelta(days=9 * i)) for i in range(20)]
    frame = pd.DataFrame(ring + honest + busy, columns=["reporter", "target", "ts"])
    old = bursts(frame, window_days=7, min_reporters=4, burst_share=0.3, max_p_value=1e-4)
    assert old.empty
    b = bursts(frame, window_days=7, min_reporters=4, burst_share=0.3, max_p_value=1e-4, min_secondary_reporters=2)
    assert b["target"].tolist() == ["merchant:victim", "merchant:victim"]
    assert sorted(r for rs in b["reporters"] for r in rs) == sorted(r for r, _, _ in ring)


def test_reporter_waves_count_as_background_until_improbable() -> None:
    """4 reports in two days, then three pairs of reports a month apart: the pairs are peeled as waves but
    are not improbable themselves, so they stay in the background, against which the first window is not
    a burst (removing them from the background made it one, with precision below 0.9 on real seeds)."""
    first = [(f"a{i}", "merchant:t", T0 + timedelta(hours=12 * i)) for i in range(4)]
    pairs = [(f"p{d}{j}", "merchant:t", T0 + timedelta(days=d, hours=3 * j)) for d in (30, 60, 90) for j in range(2)]
    frame = pd.DataFrame(first + pairs, columns=["reporter", "target", "ts"])
    assert bursts(frame, 7, 4, 0.3, 1e-4, min_secondary_reporters=2).empty
    alone = pd.DataFrame(first, columns=["reporter", "target", "ts"])
    since = {"merchant:t": np.datetime64(T0.replace(tzinfo=None) - timedelta(days=90), "s")}
    until = np.datetime64(T0.replace(tzinfo=None) + timedelta(days=95), "s")
    assert len(bursts(alone, 7, 4, 0.3, 1e-4, 2, since, until)) == 1


def test_reporter_burst_background_over_the_observed_period() -> None:
    """A victim reported only by a ring of 5 within 5 days: over the span of its own reports there is no
    quiet time and no burst; over its observed period (registered 120 days before the run) there is.  A
    target registered the week before the run, reported by 5 in 5 days, is no burst either way."""
    ring = [(f"r{i}", "merchant:victim", T0 + timedelta(days=i)) for i in range(5)]
    new = [(f"n{i}", "merchant:new", T0 + timedelta(days=i)) for i in range(5)]
    frame = pd.DataFrame(ring + new, columns=["reporter", "target", "ts"])
    until = np.datetime64(T0.replace(tzinfo=None) + timedelta(days=6), "s")
    since = {
        "merchant:victim": np.datetime64(T0.replace(tzinfo=None) - timedelta(days=114), "s"),
        "merchant:new": np.datetime64(T0.replace(tzinfo=None), "s"),
    }
    assert bursts(frame, 7, 4, 0.5, 1e-4).empty
    b = bursts(frame, 7, 4, 0.5, 1e-4, None, since, until)
    assert b["target"].tolist() == ["merchant:victim"]
    assert bursts(frame, 7, 4, 0.5, 1e-4, None, since, until, scan_correction=True)["target"].tolist() == [
        "merchant:victim"
    ]


def _edges_frame(spark, rows):  # type: ignore[no-untyped-def]
    from fraudmine.graph import schemas as S

    return spark.createDataFrame(rows, S.EDGES_SCHEMA)


def _uses(acct: str, ident: str, ts: datetime) -> tuple[str, str, str, float, int, datetime, datetime]:
    return (acct, f"identifier:{ident}", f"{acct.split(':')[0]}__uses__identifier", 1.0, 1, ts, ts)


@pytest.mark.spark
def test_identity_linking_prunes_hubs_and_weighs_types(spark) -> None:  # type: ignore[no-untyped-def]
    from fraudmine.graph.algorithms.engine import LocalEngine
    from fraudmine.graph.identity import identity_clusters

    rows = [
        _uses("merchant:a", "device:d1", T0),
        _uses("merchant:b", "device:d1", T0 + timedelta(days=1)),
        _uses("creator:c", "phone:p1", T0),
        _uses("merchant:b", "phone:p1", T0),
        _uses("merchant:x", "ip:i1", T0),  # one shared IP: 0.3 < 0.5, no link
        _uses("merchant:y", "ip:i1", T0),
    ]
    rows += [_uses(f"merchant:h{i}", "address:warehouse", T0) for i in range(5)]  # hub (degree 5 > 4)
    rows.append(_uses("merchant:a", "address:warehouse", T0))
    edges = _edges_frame(spark, rows)
    nodes = spark.createDataFrame(
        [
            ("merchant:a", "merchant", "a", T0, None, None),
            ("merchant:b", "merchant", "b", T0 + timedelta(days=3), None, None),
        ],
        "node_id string, node_type string, raw_id string, created_at timestamp, degree long, is_hub boolean",
    )
    weights = {"device": 0.9, "phone": 0.7, "ip": 0.3, "address": 0.5}
    clusters, _members, links = identity_clusters(edges, nodes, LocalEngine(), ("merchant", "creator"), 4, weights, 0.5)
    rows_out = clusters.collect()
    assert len(rows_out) == 1
    c = rows_out[0]
    assert c["members"] == ["creator:c", "merchant:a", "merchant:b"]
    assert c["n_merchants"] == 2 and c["n_creators"] == 1
    assert c["registration_spread_days"] == pytest.approx(3.0)
    assert "identifier:device:d1" in c["evidence"] and "warehouse" not in c["evidence"]
    pair = {(r["src"], r["dst"]): r["weight"] for r in links.collect()}
    assert pair[("merchant:a", "merchant:b")] == pytest.approx(0.9)
    assert ("merchant:x", "merchant:y") not in pair


def _pairs_with_filler(extra: list[tuple[str, str, str, float]]) -> list[tuple[str, str, str, float]]:
    """Channel pairs: 20 ordinary buyer-pool and identifier pairs (the channels' typical candidates) plus ``extra``."""
    filler = [(f"merchant:f{i:02d}", f"merchant:g{i:02d}", "buyers", 1.0 + 0.05 * i) for i in range(20)]
    filler += [(f"merchant:f{i:02d}", f"merchant:h{i:02d}", "identifier", 0.5 + 0.01 * i) for i in range(20)]
    return filler + extra


@pytest.mark.spark
def test_collusion_needs_two_kinds_of_evidence(spark) -> None:  # type: ignore[no-untyped-def]
    from fraudmine.graph.collusion import combine_channels

    extra = [
        ("merchant:a", "merchant:b", "buyers", 50.0),  # far above the typical buyer pair, but one channel only
        ("merchant:c", "merchant:d", "buyers", 50.0),
        ("merchant:c", "merchant:d", "identifier", 0.99),
        ("merchant:e", "merchant:f", "duplicate", 0.95),  # a probability channel: capped, not standardised
        ("merchant:e", "merchant:f", "co_registration", 50.0),  # timing family counts once, at half weight
        ("merchant:e", "merchant:f", "co_activity", 50.0),
        ("merchant:g", "merchant:h", "buyers", 50.0),
        ("merchant:g", "merchant:h", "duplicate", 0.95),
    ]
    links = spark.createDataFrame(_pairs_with_filler(extra), "src string, dst string, channel string, score double")
    weights = {"identifier": 1.0, "buyers": 1.0, "duplicate": 1.0, "co_registration": 0.5, "co_activity": 0.5}
    out = {(r["src"], r["dst"]): r for r in combine_channels(links, weights, 1.0, 1.8).collect()}
    assert set(out) == {("merchant:c", "merchant:d"), ("merchant:g", "merchant:h")}
    assert dict(out[("merchant:g", "merchant:h")]["channels"]) == {"buyers": 1.0, "duplicate": 0.95}
    assert out[("merchant:g", "merchant:h")]["weight"] == pytest.approx(1.95)
    # the same pair without its near-duplicate listings is not linked: duplicates change the projection
    no_dup = links.where("channel != 'duplicate'")
    assert ("merchant:g", "merchant:h") not in {
        (r["src"], r["dst"]) for r in combine_channels(no_dup, weights, 1.0, 1.8).collect()
    }


@pytest.mark.spark
def test_duplicate_pairs_feed_the_collusion_projection(spark) -> None:  # type: ignore[no-untyped-def]
    """Cross-shop near-duplicate listings become a ``duplicate`` channel pair; same-shop copies do not."""
    from fraudmine.graph import schemas as S
    from fraudmine.graph.collusion import channel_links

    sells = [
        (m, f"product:{p}", "merchant__sells__product", 1.0, 1, T0, T0)
        for m, p in [("merchant:a", "pa1"), ("merchant:a", "pa2"), ("merchant:b", "pb1"), ("merchant:c", "pc1")]
    ]
    edges = spark.createDataFrame(sells, S.EDGES_SCHEMA)
    nodes = spark.createDataFrame(
        [(m, "merchant", m[9:], T0, None, None) for m in ("merchant:a", "merchant:b", "merchant:c")],
        "node_id string, node_type string, raw_id string, created_at timestamp, degree long, is_hub boolean",
    )
    ident = spark.createDataFrame([], "src string, dst string, weight double")
    dup = spark.createDataFrame([("pa1", "pb1", 0.9), ("pa1", "pa2", 0.99)], "src string, dst string, score double")
    without = channel_links(edges, nodes, ident, 50, 2, 14.0, None).where("channel = 'duplicate'").count()
    got = {
        (r["src"], r["dst"]): r["score"]
        for r in channel_links(edges, nodes, ident, 50, 2, 14.0, dup).collect()
        if r["channel"] == "duplicate"
    }
    assert without == 0
    assert got == {("merchant:a", "merchant:b"): pytest.approx(0.9)}


@pytest.mark.spark
def test_pool_surprise_discounts_big_sellers(spark) -> None:  # type: ignore[no-untyped-def]
    """Three shared buyers between two small shops outweigh three shared between two big ones."""
    from fraudmine.graph.channels import pool_links

    rows = [(f"b{i}", s) for i in range(3) for s in ("merchant:s1", "merchant:s2", "merchant:l1", "merchant:l2")]
    rows += [(f"x{i}", "merchant:l1") for i in range(40)] + [(f"y{i}", "merchant:l2") for i in range(40)]
    rows += [(f"z{i}", f"merchant:o{i % 7}") for i in range(60)] + [
        (f"z{i}", f"merchant:o{(i + 1) % 7}") for i in range(60)
    ]
    m = spark.createDataFrame(rows, "pool string, seller string")
    got = {(r["src"], r["dst"]): r["score"] for r in pool_links(m, "buyers", 50, 3).collect()}
    assert got[("merchant:s1", "merchant:s2")] > 2 * got[("merchant:l1", "merchant:l2")]


def _order(buyer: str, product: str, ts: datetime) -> tuple[str, str, str, float, int, datetime, datetime]:
    return (f"buyer:{buyer}", f"product:{product}", "buyer__ordered__product", 1.0, 1, ts, ts)


@pytest.mark.spark
def test_brushing_blocks_must_be_dense_in_time(spark) -> None:  # type: ignore[no-untyped-def]
    """The same buyer x product block is brushing within a week, a loyal clientele over four months.

    A campaign account that bought a single target product during the campaign joins the block."""
    from fraudmine.graph import schemas as S
    from fraudmine.graph.dense import brushing_blocks
    from fraudmine.graph_config import BrushingConfig

    rows = []
    for m, days in (("fast", 6), ("slow", 120)):
        rows += [(f"merchant:{m}", f"product:{m}{j}", "merchant__sells__product", 1.0, 1, T0, T0) for j in range(4)]
        for i in range(8):
            for j in range(3):
                if (i + j) % 4 != 0:
                    rows.append(_order(f"{m}{i}", f"{m}{j}", T0 + timedelta(days=days * ((i + 8 * j) % 24) / 24)))
    rows.append(_order("single", "fast1", T0 + timedelta(days=3)))  # one target product, inside the campaign
    rows.append(_order("later", "fast1", T0 + timedelta(days=60)))  # the same product, long after
    edges = spark.createDataFrame(rows, S.EDGES_SCHEMA)
    nodes = spark.createDataFrame(
        [], "node_id string, node_type string, raw_id string, created_at timestamp, degree long, is_hub boolean"
    )
    cfg = BrushingConfig(window_days=150.0, min_buyers=4, max_span_days=14.0, expand_slack_days=1.0)
    clusters, roles = brushing_blocks(edges, nodes, cfg)
    got = clusters.collect()
    assert len(got) == 1
    members = set(got[0]["members"])
    assert {f"product:fast{j}" for j in range(3)} <= members and not any("slow" in m for m in members)
    assert "buyer:single" in members and "buyer:later" not in members
    assert {r["role"] for r in roles.collect()} == {"buyer", "target"}
    # a short candidate window already drops the slow block's co-purchases (spread over months)
    short = brushing_blocks(edges, nodes, cfg.model_copy(update={"window_days": 14.0, "max_span_days": 1000.0}))[0]
    assert not any("slow" in m for r in short.collect() for m in r["members"])


@pytest.mark.spark
def test_out_of_fold_counts_exclude_own_fold(spark) -> None:  # type: ignore[no-untyped-def]
    from pyspark.sql import functions as F

    from fraudmine.graph.cluster_features import fold_col, oof_member_counts

    names = [f"merchant:m{i}" for i in range(12)]
    members = spark.createDataFrame([("c1", n) for n in names], "cluster_id string, node_id string")
    bad = spark.createDataFrame([(n, i % 3 == 0) for i, n in enumerate(names)], "node_id string, is_bad boolean")
    folds = {r["node_id"]: r["f"] for r in members.select("node_id", fold_col("node_id", 3, 0).alias("f")).collect()}
    got = {r["node_id"]: r for r in oof_member_counts(members, bad, 3, 0, "x").collect()}
    for n in names:
        other = [j for j, m in enumerate(names) if folds[m] != folds[n]]
        assert got[n]["x_labelled_members_oof"] == len(other)
        assert got[n]["x_bad_members_oof"] == sum(1 for j in other if j % 3 == 0)
    assert members.select(F.countDistinct(fold_col("node_id", 3, 0))).first()[0] > 1  # type: ignore[index]


@pytest.mark.spark
def test_as_of_view_and_stats(spark) -> None:  # type: ignore[no-untyped-def]
    from fraudmine.graph import schemas as S
    from fraudmine.graph.asof import edges_as_of
    from fraudmine.graph.stats import graph_stats

    ev = spark.createDataFrame(
        [
            ("buyer:b1", "product:p1", "buyer__ordered__product", T0, 10.0),
            ("buyer:b1", "product:p1", "buyer__ordered__product", T0 + timedelta(days=10), 5.0),
            ("buyer:b2", "product:p1", "buyer__ordered__product", T0 + timedelta(days=20), 1.0),
        ],
        S.EVENTS_SCHEMA,
    )
    e = edges_as_of(ev, T0 + timedelta(days=10)).collect()
    assert [(r["src"], r["n_events"], r["weight"]) for r in e] == [("buyer:b1", 1, 10.0)]
    full = edges_as_of(ev, None)
    nodes = spark.createDataFrame(
        [("product:p1", "product", "p1", T0, None, None)],
        "node_id string, node_type string, raw_id string, created_at timestamp, degree long, is_hub boolean",
    )
    st = {(r["kind"], r["type"]): r for r in graph_stats(nodes, full).collect()}
    row = st[("edge", "buyer__ordered__product")]
    assert row["count"] == 2 and row["n_events"] == 3 and row["dst_degree_max"] == 2
    assert row["top_dst_hubs"] == ["product:p1=2"]
    assert st[("node", "product")]["count"] == 1


def test_duplicates_stage_runs_before_clusters_and_feeds_it() -> None:
    from fraudmine.graph_config import ClustersConfig
    from fraudmine.jobs import duplicates
    from fraudmine.jobs.names import STAGE_NAMES

    assert STAGE_NAMES.index("duplicates") < STAGE_NAMES.index("clusters")
    assert ClustersConfig().duplicate_edges == f"{duplicates.OUTPUT}/edges"


def test_pool_links_score_is_the_configuration_model_tail(spark) -> None:  # type: ignore[no-untyped-def]
    import math

    from fraudmine.graph.channels import pool_links

    rows = [("p1", s) for s in "abc"] + [("p2", "a"), ("p2", "b"), ("p2", "b"), ("p3", "c")]
    rows += [("hub", s) for s in "abcdef"]  # degree 6 > max_pool_degree: left out of everything
    got = pool_links(spark.createDataFrame(rows, "pool string, seller string"), "buyers", 5, 2).collect()
    assert [(r["src"], r["dst"], r["shared"]) for r in got] == [("a", "b", 2)]
    degrees = [3, 2, 1]  # p1, p2, p3 (duplicates counted once)
    rate = sum(d * (d - 1) for d in degrees) / sum(degrees) ** 2
    lam, k = 2 * 2 * rate, 2.0  # a and b are in two bounded pools each
    assert got[0]["score"] == pytest.approx((k * math.log(k / lam) - k + lam) / math.log(10.0))
