"""Brushing blocks: FRAUDAR dense-subgraph detection on buyer-product orders and reviews, in time.

Hooi et al. 2016 (:mod:`fraudmine.graph.algorithms.fraudar`).  The buyer-product graph
of a marketplace is one giant component, so peeling it whole would find one block per
pass over millions of edges.  Candidates are cut first, in Spark: an order or review
edge ``(buyer, product)`` is a candidate when the buyer touched at least
``min_buyer_products`` distinct products of that product's seller *within* ``window_days``
(two tumbling bucketings, offset by half a window, so any pair closer than half a window
shares a bucket).  Brushing buys several target products of one shop in a short campaign;
a loyal customer who buys from the same shops month after month does not.  The candidate
edges are collected, split into connected components, and FRAUDAR peels each component
repeatedly (``max_blocks_per_component``), with column weights computed from each
product's degree in the *whole* graph (camouflage resistance).  A block is kept when it has
at least ``min_buyers`` buyers, ``min_products`` products, a fill (edges / (buyers x
products)) of at least ``min_fill`` and its edges are dense in time too: the 5-95 % range
of their times spans at most ``max_span_days`` (a three-mode buyer x product x time block,
as in D-Cube / M-Zoom, Shin et al. 2017-2018).  Components are taken per seller (a candidate
edge's buyer node is the pair (buyer, seller)): brushing inflates one shop's listings, and a buyer
who co-purchased in two shops would otherwise chain their blocks into one component where small
blocks are never peeled.  The peel returns the block's dense core, so buyers are attached back
(:func:`_expand`): those touching enough of its products, and (:func:`campaign_buyers`) those who
ordered or reviewed one of its products inside the block's time span (± ``expand_slack_days``)
when that product's traffic in the span is mostly excess: at most ``1 - attach_min_excess`` of its
buyers in the span are expected from the product's own rate outside it — a fake account that
bought one target product during the campaign belongs to it, the honest buyers of a popular
target product who happened to buy during the campaign do not.  A target product with less than
``attach_min_outside_days`` of observed life outside the span has no outside rate (a popular new
listing near the cut-off): its span buyers join only when they number at most
``attach_new_max_ratio`` times the block's core buyers on it.

Block risk (graph evidence only): ``1 - exp(-density)``, density = FRAUDAR's ``g``.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from fraudmine.contracts import ids
from fraudmine.graph import schemas as S
from fraudmine.graph.algorithms import local
from fraudmine.graph.algorithms.community_ops import cluster_id
from fraudmine.graph.algorithms.fraudar import Block, column_weights, peel_blocks
from fraudmine.graph.algorithms.spark_common import to_pandas
from fraudmine.graph.clusters import CLUSTER_ID, ROLE, assemble_clusters
from fraudmine.graph_config import BrushingConfig

log = logging.getLogger(__name__)


def buyer_product_edges(edges: DataFrame) -> DataFrame:
    """``[buyer, product, n_events, first_ts, last_ts, seller, product_degree]``: orders and reviews per pair."""
    bp = (
        edges.where(F.col(S.EDGE_TYPE).isin(ids.ORDERED.key, ids.REVIEWED.key))
        .groupBy(F.col(S.SRC).alias("buyer"), F.col(S.DST).alias("product"))
        .agg(
            F.sum(S.N_EVENTS).alias(S.N_EVENTS), F.min(S.FIRST_TS).alias(S.FIRST_TS), F.max(S.LAST_TS).alias(S.LAST_TS)
        )
    )
    pm = edges.where(F.col(S.EDGE_TYPE) == ids.SELLS.key).select(
        F.col(S.DST).alias("product"), F.col(S.SRC).alias("seller")
    )
    deg = bp.groupBy("product").agg(F.count(F.lit(1)).alias("product_degree"))
    return bp.join(pm, "product").join(deg, "product")


def candidate_edges(edges: DataFrame, min_buyer_products: int, window_days: float) -> DataFrame:
    """``[buyer, product, n_events, first_ts, last_ts, seller, product_degree]`` candidate edges (module docstring)."""
    return candidate_pairs(buyer_product_edges(edges), min_buyer_products, window_days)


def candidate_pairs(bp: DataFrame, min_buyer_products: int, window_days: float) -> DataFrame:
    """:func:`candidate_edges` from already built :func:`buyer_product_edges`."""
    # a buyer with fewer distinct products of a shop over all time has fewer in every window: this
    # cheap necessary condition drops most pairs, and its (buyer, seller) partitioning also serves the
    # two bucketed windows below (a hash partitioning on a subset of their keys), so no new exchange
    everything = Window.partitionBy("buyer", "seller")
    j = bp.withColumn("_all", F.size(F.collect_set("product").over(everything))).where(
        F.col("_all") >= min_buyer_products
    )
    day = F.col(S.FIRST_TS).cast("double") / F.lit(86400.0 * window_days)
    keep = F.lit(False)
    for off in (0.0, 0.5):
        per = Window.partitionBy("buyer", "seller", F.floor(day + F.lit(off)))
        keep = keep | (F.size(F.collect_set("product").over(per)) >= min_buyer_products)
    return j.withColumn("_keep", keep).where(F.col("_keep")).drop("_keep", "_all")


def _expand(rows: np.ndarray, cols: np.ndarray, blk: Block, n_rows: int, min_fill: float) -> np.ndarray:
    """Buyers of the block: the peeled core plus every buyer touching ``≥ max(2, min_fill·|products|)`` of its products.

    FRAUDAR's peel keeps the densest *core*: a fake buyer who ordered only two of six target
    products adds less than the average and is peeled off.  Brushing is about the products'
    buyer set, so the block's products define the block and its buyers are re-attached.
    """
    need = max(2, int(np.ceil(min_fill * blk.cols.size)))
    hits = np.bincount(rows[np.isin(cols, blk.cols)], minlength=n_rows)
    return np.union1d(blk.rows, np.flatnonzero(hits >= need))


def time_span(cand: pd.DataFrame, buyers: list[str], products: list[str]) -> tuple[pd.Timestamp, pd.Timestamp]:
    """5 % and 95 % quantiles of the first-event times of the block's candidate edges."""
    sub = cand[cand["buyer"].isin(buyers) & cand["product"].isin(products)]
    t = pd.to_datetime(sub[S.FIRST_TS], utc=True)
    return t.quantile(0.05), t.quantile(0.95)


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

    Args:
        touches: ``[buyer, product, first_ts]`` buyer-product edges (all of them, not only candidates).
        min_excess: share of the span's buyers that must be unexplained by the product's outside rate.
        as_of: end of the observed period.
        core: the block's core buyers (for products without an outside rate).
        min_outside_days: observed days outside the span needed for the excess test.
        new_max_ratio: span buyers per core buyer allowed on a product without an outside rate.
    """
    slack = pd.Timedelta(days=slack_days)
    a, b = lo - slack, hi + slack
    t = pd.to_datetime(touches[S.FIRST_TS], utc=True)
    end = as_of if as_of is not None else (t.max() if len(t) else b)
    span_days = max((b - a).total_seconds() / 86400.0, 1e-9)
    core_set = set(core or ())
    out: set[str] = set()
    for p in products:
        on = (touches["product"] == p).to_numpy()
        if not on.any():
            continue
        tp = t[on]
        inside = ((tp >= a) & (tp <= b)).to_numpy()
        n_in = int(inside.sum())
        if n_in == 0:
            continue
        life = (end - tp.min()).total_seconds() / 86400.0
        if new_max_ratio is not None and life - span_days < min_outside_days:
            n_core = len(core_set.intersection(touches.loc[on, "buyer"].astype(str)))
            if n_in <= new_max_ratio * max(n_core, 1):
                out.update(touches.loc[on, "buyer"].to_numpy()[inside].astype(str).tolist())
            continue
        expected = (on.sum() - n_in) * span_days / max(life - span_days, span_days)
        if 1.0 - expected / n_in >= min_excess:
            out.update(touches.loc[on, "buyer"].to_numpy()[inside].astype(str).tolist())
    return sorted(out)


def find_blocks(
    cand: pd.DataFrame,
    min_buyers: int,
    min_products: int,
    min_fill: float,
    max_blocks_per_component: int,
    column_weight_c: float,
) -> list[tuple[list[str], list[str], Block]]:
    """FRAUDAR blocks in collected candidate edges (columns as :func:`candidate_edges`).

    With a ``seller`` column, a buyer is one node per seller it bought from (components and blocks
    never span two shops); without it, one node per buyer.

    Returns:
        ``(buyer names, product names, block)`` per accepted block, in a deterministic order.
    """
    if cand.empty:
        return []
    # the peel's float sums and tie-breaks follow edge order: fix it by content, not by Spark's partitioning
    cand = cand.sort_values(["buyer", "product"], kind="stable").reset_index(drop=True)
    key = cand["buyer"].to_numpy(dtype=str)
    if "seller" in cand.columns:
        key = np.char.add(np.char.add(key, "\x1f"), cand["seller"].to_numpy(dtype=str))
    keys, bi = np.unique(key, return_inverse=True)
    buyers = np.array([k.split("\x1f", 1)[0] for k in keys.tolist()], dtype=str)
    products, pi = np.unique(cand["product"].to_numpy(dtype=str), return_inverse=True)
    w_col = column_weights(cand["product_degree"].to_numpy(), column_weight_c)
    g = local.from_pandas(
        pd.DataFrame({"src": "b" + pd.Series(bi).astype(str), "dst": "p" + pd.Series(pi).astype(str)})
    )
    comp = local.connected_components(g)
    comp_of = dict(zip(g.names.tolist(), comp.tolist(), strict=True))
    edge_comp = np.array([comp_of[f"b{b}"] for b in bi])

    def accept(b: Block) -> bool:
        nb, nc = b.rows.size, b.cols.size
        return nb >= min_buyers and nc >= min_products and b.n_edges / (nb * nc) >= min_fill

    out: list[tuple[list[str], list[str], Block]] = []
    for c in sorted(set(edge_comp.tolist())):
        sel = edge_comp == c
        rb, cb = np.unique(bi[sel], return_inverse=True)
        rp, cp = np.unique(pi[sel], return_inverse=True)
        if rb.size < min_buyers or rp.size < min_products:
            continue

        def expand(b: Block, cb: np.ndarray = cb, cp: np.ndarray = cp, n: int = rb.size) -> np.ndarray:
            return _expand(cb, cp, b, n, min_fill)

        for blk in peel_blocks(cb, cp, w_col[sel], rb.size, rp.size, max_blocks_per_component, accept, expand):
            out.append((sorted(buyers[rb[blk.rows]].tolist()), sorted(products[rp[blk.cols]].tolist()), blk))
    return out


def brushing_blocks(
    edges: DataFrame, nodes: DataFrame, cfg: BrushingConfig, as_of: datetime | None = None
) -> tuple[DataFrame, DataFrame]:
    """Brushing blocks as cluster rows.

    Args:
        edges: typed edges as of the date.
        nodes: typed nodes.
        cfg: the ``clusters.brushing`` config section (:class:`fraudmine.graph_config.BrushingConfig`).
        as_of: end of the observed period (the target products' outside rate); default their last touch.

    Returns:
        ``(clusters, roles [cluster_id, node_id, role])``: members are the block's buyers
        (role ``buyer``) and products (role ``target``).
    """
    spark: SparkSession = edges.sparkSession
    # built once: the candidates and, after the peel, the targets' buyers both read it
    bp = buyer_product_edges(edges).localCheckpoint(eager=True)
    cand = to_pandas(candidate_pairs(bp, cfg.min_buyer_products, cfg.window_days))
    log.info("brushing: %d candidate buyer-product edges", len(cand))
    found = find_blocks(
        cand, cfg.min_buyers, cfg.min_products, cfg.min_fill, cfg.max_blocks_per_component, cfg.column_weight_c
    )
    blocks = []
    for buyers, products, blk in found:
        lo, hi = time_span(cand, buyers, products)
        span = (hi - lo).total_seconds() / 86400.0
        if span <= cfg.max_span_days:
            blocks.append((buyers, products, blk, lo, hi, span))
    log.info("brushing: %d FRAUDAR blocks, %d dense in time", len(found), len(blocks))
    touches = pd.DataFrame(columns=["buyer", "product", S.FIRST_TS])
    if blocks:
        targets = spark.createDataFrame([(p,) for b in blocks for p in b[1]], "product string").distinct()
        touches = to_pandas(bp.join(F.broadcast(targets), "product").select("buyer", "product", S.FIRST_TS))
    end = pd.Timestamp(as_of) if as_of is not None else None
    rows, summ = [], []
    for core, products, blk, lo, hi, span in blocks:
        joined = campaign_buyers(
            touches,
            products,
            lo,
            hi,
            cfg.expand_slack_days,
            cfg.attach_min_excess,
            end,
            core,
            cfg.attach_min_outside_days,
            cfg.attach_new_max_ratio,
        )
        buyers = sorted(set(core) | set(joined))
        cid = cluster_id("brushing", f"{products[0]}|{core[0]}")  # two blocks may share a buyer
        rows += [(cid, b, "buyer") for b in buyers] + [(cid, p, "target") for p in products]
        ev = {
            "buyers": len(buyers),
            "core_buyers": len(core),
            "products": len(products),
            "edges": blk.n_edges,
            "fill": round(blk.n_edges / (len(core) * len(products)), 3),
            "density": round(blk.density, 4),
            "active_days": round(float(span), 1),
            "first_ts": str(lo),
            "products_list": products[:20],
        }
        summ.append((cid, float(1.0 - np.exp(-blk.density)), json.dumps(ev)))
    roles = spark.createDataFrame(rows, f"{CLUSTER_ID} string, {S.NODE_ID} string, {ROLE} string").dropDuplicates(
        [CLUSTER_ID, S.NODE_ID]
    )
    summary = spark.createDataFrame(summ, f"{CLUSTER_ID} string, risk double, evidence string")
    clusters = assemble_clusters("brushing", roles.select(CLUSTER_ID, S.NODE_ID), nodes, summary)
    return clusters, roles
