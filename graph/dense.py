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
from dataclasses import dataclass
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
from fraudmine.graph.campaign import campaign_buyers, confirm_core, shop_lift
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


@dataclass(frozen=True)
class CampaignBlock:
    """A brushing block: its buyers (core and campaign), products, FRAUDAR block and time span."""

    buyers: list[str]
    core: list[str]
    products: list[str]
    block: Block
    lo: pd.Timestamp
    hi: pd.Timestamp

    @property
    def span_days(self) -> float:
        """Days between the 5 % and 95 % quantiles of the block's edge times."""
        return float((self.hi - self.lo).total_seconds()) / 86400.0


def dense_in_time(
    cand: pd.DataFrame, cfg: BrushingConfig
) -> list[tuple[list[str], list[str], Block, pd.Timestamp, pd.Timestamp]]:
    """FRAUDAR blocks of the candidate edges (cores from ``min_core_buyers``) dense in time (``max_span_days``).

    Returns:
        ``(core buyers, products, block, lo, hi)`` per block, ``[lo, hi]`` its :func:`time_span`.
    """
    found = find_blocks(
        cand,
        min(cfg.min_core_buyers, cfg.min_buyers),
        cfg.min_products,
        cfg.min_fill,
        cfg.max_blocks_per_component,
        cfg.column_weight_c,
    )
    out = []
    for buyers, products, blk in found:
        lo, hi = time_span(cand, buyers, products)
        if (hi - lo).total_seconds() / 86400.0 <= cfg.max_span_days:
            out.append((buyers, products, blk, lo, hi))
    log.info("brushing: %d FRAUDAR blocks, %d dense in time", len(found), len(out))
    return out


def campaign_blocks(
    cand: pd.DataFrame,
    touches: pd.DataFrame,
    cfg: BrushingConfig,
    as_of: pd.Timestamp | None = None,
) -> list[CampaignBlock]:
    """Brushing blocks from collected candidate edges: FRAUDAR cores dense in time, completed by their
    campaign buyers and kept when the core or the campaign is large enough (:mod:`fraudmine.graph.campaign`).

    Args:
        cand: candidate edges (columns as :func:`candidate_edges`).
        touches: ``[buyer, product, seller, first_ts]`` every buyer-product edge of the candidate
            sellers' listings (the block products' traffic and, with ``shop_relative``, the shop's other
            listings as the reference of :func:`~fraudmine.graph.campaign.shop_lift`).
        cfg: the ``clusters.brushing`` config section.
        as_of: end of the observed period; default the last touch.
    """
    if as_of is None and len(touches):
        as_of = pd.to_datetime(touches[S.FIRST_TS], utc=True).max()
    seller_of = dict(zip(cand["product"], cand["seller"], strict=False))
    out = []
    for core, products, blk, lo, hi in dense_in_time(cand, cfg):
        on = touches["product"].isin(products)
        lift = 1.0
        if cfg.shop_relative and as_of is not None:
            shops = {seller_of[p] for p in products}
            ref = touches[~on & touches["seller"].isin(shops)]
            mid, half = lo + (hi - lo) / 2, pd.Timedelta(days=cfg.campaign_reach_days / 2)
            a, b = (mid - half, mid + half) if hi - lo < 2 * half else (lo, hi)
            lift = shop_lift(ref, a, b, cfg.expand_slack_days, as_of, cfg.shop_lift_prior, cfg.attach_min_outside_days)
        joined = campaign_buyers(
            touches[on],
            products,
            lo,
            hi,
            cfg.expand_slack_days,
            cfg.attach_min_excess,
            as_of,
            core,
            cfg.attach_min_outside_days,
            cfg.attach_new_max_ratio,
            lift,
            cfg.campaign_reach_days,
        )
        if confirm_core(core, joined, cfg.min_buyers, cfg.min_campaign_buyers):
            out.append(CampaignBlock(sorted(set(core) | set(joined)), core, products, blk, lo, hi))
    return out


def brushing_blocks(
    edges: DataFrame, nodes: DataFrame, cfg: BrushingConfig, as_of: datetime | None = None
) -> tuple[DataFrame, DataFrame]:
    """Brushing blocks as cluster rows (:func:`campaign_blocks` on the collected candidates).

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
    # built once: the candidates and, after the peel, the candidate shops' traffic both read it
    bp = buyer_product_edges(edges).localCheckpoint(eager=True)
    cand = to_pandas(candidate_pairs(bp, cfg.min_buyer_products, cfg.window_days))
    log.info("brushing: %d candidate buyer-product edges", len(cand))
    touches = pd.DataFrame(columns=["buyer", "product", "seller", S.FIRST_TS])
    if len(cand):
        # the shops of the blocks are among the candidates' shops (few): their whole traffic is collected
        shops = spark.createDataFrame([(s,) for s in sorted(set(cand["seller"]))], "seller string")
        touches = to_pandas(bp.join(F.broadcast(shops), "seller").select("buyer", "product", "seller", S.FIRST_TS))
    blocks = campaign_blocks(cand, touches, cfg, pd.Timestamp(as_of) if as_of is not None else None)
    rows, summ = [], []
    for cb in blocks:
        core, products, blk = cb.core, cb.products, cb.block
        cid = cluster_id("brushing", f"{products[0]}|{core[0]}")  # two blocks may share a buyer
        rows += [(cid, b, "buyer") for b in cb.buyers] + [(cid, p, "target") for p in products]
        ev = {
            "buyers": len(cb.buyers),
            "core_buyers": len(core),
            "products": len(products),
            "edges": blk.n_edges,
            "fill": round(blk.n_edges / (len(core) * len(products)), 3),
            "density": round(blk.density, 4),
            "active_days": round(cb.span_days, 1),
            "first_ts": str(cb.lo),
            "products_list": products[:20],
        }
        summ.append((cid, float(1.0 - np.exp(-blk.density)), json.dumps(ev)))
    roles = spark.createDataFrame(rows, f"{CLUSTER_ID} string, {S.NODE_ID} string, {ROLE} string").dropDuplicates(
        [CLUSTER_ID, S.NODE_ID]
    )
    summary = spark.createDataFrame(summ, f"{CLUSTER_ID} string, risk double, evidence string")
    clusters = assemble_clusters("brushing", roles.select(CLUSTER_ID, S.NODE_ID), nodes, summary)
    return clusters, roles
