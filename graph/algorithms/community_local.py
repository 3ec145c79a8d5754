"""Driver implementation of :class:`~.community_ops.CommunityOps` (the local engine): pandas and igraph.

Each Spark input is collected once (:meth:`LocalCommunityOps.table`) and each result goes back as one local
relation (:meth:`LocalCommunityOps.frame`); every step in between runs in pandas, with no Spark job.  The
rules are those of :mod:`.community_spark` row for row: sums of weights are fixed-point sums
(:func:`fixed_sum`, the twin of :func:`~.spark_common.exact_sum`), comparisons are the same double
comparisons, and ties go to the smallest cluster id.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession

from fraudmine.graph.algorithms import local
from fraudmine.graph.algorithms.community_ops import (
    CLUSTER_ID,
    NODE_ID,
    POOL,
    SELLER,
    CommunityOps,
    cluster_id,
    ddl_columns,
)
from fraudmine.graph.algorithms.spark_common import DST, EXACT_SUM_SCALE, SRC, WEIGHT, to_pandas


def fixed_sum(values: pd.Series) -> float:
    """:func:`~.spark_common.exact_sum` of a column: each value rounded half-up to 2**-30, summed as a long."""
    v = values.to_numpy(dtype=np.float64) * EXACT_SUM_SCALE
    return float(int((np.sign(v) * np.floor(np.abs(v) + 0.5)).astype(np.int64).sum()) / EXACT_SUM_SCALE)


def k_core(edges: pd.DataFrame, k: int) -> pd.DataFrame:
    """The ``k``-core of an undirected ``[src, dst, ...]`` frame (:func:`.community_spark.k_core`'s rule, rows kept)."""
    cur = edges
    while True:
        deg = pd.concat([cur[SRC], cur[DST]]).value_counts()
        keep = set(deg.index[deg.to_numpy() >= k])
        nxt = cur[cur[SRC].isin(keep) & cur[DST].isin(keep)]
        if len(nxt) == len(cur):
            return nxt
        cur = nxt


def big_members(members: pd.DataFrame, min_size: int) -> pd.DataFrame:
    """``[node_id, cluster_id, _size]`` of the members of communities with at least ``min_size`` members."""
    size = members.groupby(CLUSTER_ID)[NODE_ID].transform("size")
    out = members.assign(_size=size.astype(np.int64))
    return out[out["_size"] >= min_size][[NODE_ID, CLUSTER_ID, "_size"]]


def _both_ways(edges: pd.DataFrame, a: str, b: str, *extra: str) -> pd.DataFrame:
    """``[a, b, *extra]`` with each undirected edge in both directions."""
    fwd = edges[[SRC, DST, *extra]].rename(columns={SRC: a, DST: b})
    back = edges[[DST, SRC, *extra]].rename(columns={DST: a, SRC: b})
    return pd.concat([fwd, back], ignore_index=True)


def _best(hits: pd.DataFrame, who: str, order: list[str], keep: list[str]) -> pd.DataFrame:
    """One row per ``who``: the first by ``order`` (descending), then the smallest cluster id."""
    cols = [*order, CLUSTER_ID]
    ranked = hits.sort_values(cols, ascending=[False] * len(order) + [True], kind="mergesort")
    first = ranked.drop_duplicates(who, keep="first")
    return first[[who, CLUSTER_ID, *keep]].rename(columns={who: NODE_ID}).reset_index(drop=True)


def _outside(df: pd.DataFrame, col: str, big: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``df`` whose ``col`` is not a member of a big community."""
    return df[~df[col].isin(set(big[NODE_ID]))]


class LocalCommunityOps(CommunityOps[pd.DataFrame]):
    """:class:`~.community_ops.CommunityOps` on pandas frames.

    Args:
        spark: the session the results are handed back to.
    """

    name = "local"

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark

    def table(self, df: DataFrame, reused: bool = False) -> pd.DataFrame:
        """Collect ``df`` (one Spark job; ``reused`` changes nothing here)."""
        return to_pandas(df)

    def frame(self, t: pd.DataFrame, ddl: str) -> DataFrame:
        """A local relation (its size is known to Spark, so joins with it broadcast)."""
        cols = [name for name, _ in ddl_columns(ddl)]
        pdf = t[cols].astype(object).where(t[cols].notna(), None)
        return self.spark.createDataFrame(pdf, ddl)

    def core_communities(
        self,
        members: pd.DataFrame,
        edges: pd.DataFrame,
        min_size: int,
        min_link: float,
        min_degree: int,
        kind: str,
        tag: str,
    ) -> pd.DataFrame:
        """See :meth:`.CommunityOps.core_communities`."""
        big = big_members(members, min_size)
        w = edges[edges[WEIGHT] >= min_link]
        w = _outside(_outside(w, SRC, big), DST, big)
        core = k_core(w[[SRC, DST]], min_degree)
        rows: list[tuple[str, str]] = []
        if len(core):
            g = local.from_pandas(core, weight=None)
            comp = pd.Series(local.connected_components(g), index=g.names)
            sizes = comp.value_counts()
            rows = [(str(n), cluster_id(kind, f"{tag}{c}")) for n, c in comp.items() if sizes[c] >= min_size]
        return pd.DataFrame(rows, columns=[NODE_ID, CLUSTER_ID], dtype=object)

    def merge_dense(
        self, members: pd.DataFrame, edges: pd.DataFrame, min_size: int, min_link: float, min_density: float
    ) -> pd.DataFrame:
        """See :meth:`.CommunityOps.merge_dense`."""
        big = big_members(members, min_size)
        cid, size = big.set_index(NODE_ID)[CLUSTER_ID], big.set_index(NODE_ID)["_size"]
        w = edges[(edges[WEIGHT] >= min_link) & edges[SRC].isin(cid.index) & edges[DST].isin(cid.index)]
        a, b = w[SRC].map(cid).to_numpy(dtype=object), w[DST].map(cid).to_numpy(dtype=object)
        nn = w[SRC].map(size).to_numpy(dtype=np.int64) * w[DST].map(size).to_numpy(dtype=np.int64)
        pairs = pd.DataFrame({SRC: np.where(a < b, a, b), DST: np.where(a < b, b, a), "_nn": nn})[a != b]
        k = pairs.groupby([SRC, DST, "_nn"]).size().rename("_k").reset_index()
        cross = k[k["_k"].to_numpy(dtype=np.float64) >= min_density * k["_nn"].to_numpy(dtype=np.float64)]
        if cross.empty:
            return members
        g = local.from_pandas(cross, weight=None)
        new = pd.Series(local.connected_components(g), index=g.names)
        out = members[[NODE_ID, CLUSTER_ID]].copy()
        out[CLUSTER_ID] = out[CLUSTER_ID].map(new).fillna(out[CLUSTER_ID])
        return out

    def attach_by_share(
        self, members: pd.DataFrame, memberships: pd.DataFrame, min_size: int, min_share: float, min_links: int
    ) -> pd.DataFrame:
        """See :meth:`.CommunityOps.attach_by_share`."""
        big = big_members(members, min_size)
        m = memberships[[POOL, SELLER]].drop_duplicates().rename(columns={POOL: "_sat", SELLER: NODE_ID})
        hits = m.merge(big, on=NODE_ID).groupby(["_sat", CLUSTER_ID, "_size"]).size().rename("k").reset_index()
        ok = (hits["k"] >= min_links) & (hits["k"].astype(np.float64) >= min_share * hits["_size"].astype(np.float64))
        return _best(_outside(hits[ok], "_sat", big), "_sat", ["k"], ["k"])

    def attach_by_two_ties(
        self,
        members: pd.DataFrame,
        memberships: pd.DataFrame,
        edges: pd.DataFrame,
        min_size: int,
        min_pooled: int,
        min_linked: int,
    ) -> pd.DataFrame:
        """See :meth:`.CommunityOps.attach_by_two_ties`."""
        big = big_members(members, min_size)[[NODE_ID, CLUSTER_ID]]
        links = _outside(_both_ways(edges[edges[WEIGHT] > 0], "_x", NODE_ID).merge(big, on=NODE_ID), "_x", big)
        ki = links.groupby(["_x", CLUSTER_ID])[NODE_ID].nunique().rename("k").reset_index()
        ki = ki[ki["k"] >= min_linked]
        m = memberships[[POOL, SELLER]].drop_duplicates().rename(columns={POOL: "_x", SELLER: NODE_ID})
        kp = _outside(m.merge(big, on=NODE_ID), "_x", big).groupby(["_x", CLUSTER_ID]).size().rename("_kp")
        kp = kp[kp >= min_pooled].reset_index()
        return _best(ki.merge(kp, on=["_x", CLUSTER_ID]), "_x", ["k", "_kp"], ["k"])

    def attach_by_link_sum(
        self, members: pd.DataFrame, edges: pd.DataFrame, min_size: int, min_score: float, min_links: int
    ) -> pd.DataFrame:
        """See :meth:`.CommunityOps.attach_by_link_sum`."""
        big = big_members(members, min_size)[[NODE_ID, CLUSTER_ID]]
        links = _outside(_both_ways(edges, "_x", NODE_ID, WEIGHT).merge(big, on=NODE_ID), "_x", big)
        grp = links.groupby(["_x", CLUSTER_ID])
        hits = pd.concat(
            [grp[NODE_ID].nunique().rename("k"), grp[WEIGHT].agg(fixed_sum).rename("score")], axis=1
        ).reset_index()
        return _best(hits[(hits["k"] >= min_links) & (hits["score"] >= min_score)], "_x", ["score"], ["k", "score"])

    def attach_by_pool_surprise(
        self,
        members: pd.DataFrame,
        memberships: pd.DataFrame,
        edges: pd.DataFrame,
        min_size: int,
        max_pool_degree: int,
        min_shared: int,
        min_surprise: float,
        min_link: float,
    ) -> pd.DataFrame:
        """See :meth:`.CommunityOps.attach_by_pool_surprise`."""
        m = memberships[[POOL, SELLER]].drop_duplicates()
        m = m[m.groupby(POOL)[SELLER].transform("size") <= max_pool_degree]
        d = m.groupby(POOL).size()
        total = float(len(m))
        rate = float(int((d * (d - 1)).sum())) / (total * total) if total > 0 else 0.0
        big = big_members(members, min_size)[[NODE_ID, CLUSTER_ID]]
        cpool = m.merge(big, left_on=SELLER, right_on=NODE_ID)[[POOL, CLUSTER_ID]].drop_duplicates()
        n_c = cpool.groupby(CLUSTER_ID).size().rename("_nc")
        n_u = m.groupby(SELLER).size().rename("_nu")
        hits = _outside(m, SELLER, big).merge(cpool, on=POOL).groupby([SELLER, CLUSTER_ID]).size().rename("k")
        hits = hits[hits >= min_shared].reset_index().join(n_u, on=SELLER).join(n_c, on=CLUSTER_ID)
        lam = np.maximum((hits["_nu"] * hits["_nc"]).to_numpy(dtype=np.int64) * rate, 1e-12)
        k = hits["k"].to_numpy(dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            tail = np.where(k > lam, (k * np.log(k / lam) - k + lam) / math.log(10.0), 0.0)
        hits = hits.assign(surprise=tail)
        hits = hits[hits["surprise"] >= min_surprise]
        links = _both_ways(edges, SELLER, NODE_ID, WEIGHT).merge(big, on=NODE_ID)
        second = links.groupby([SELLER, CLUSTER_ID])[WEIGHT].max().rename("_w")
        second = second[second >= min_link].reset_index()
        return _best(hits.merge(second, on=[SELLER, CLUSTER_ID]), SELLER, ["surprise"], ["k", "surprise"])

    def adopt(self, members: pd.DataFrame, attached: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """See :meth:`.CommunityOps.adopt`."""
        stay = members[~members[NODE_ID].isin(set(attached[NODE_ID]))][[NODE_ID, CLUSTER_ID]]
        moved = pd.concat([stay, attached[[NODE_ID, CLUSTER_ID]]], ignore_index=True)
        return moved, attached.groupby(CLUSTER_ID).size().rename("count").reset_index()

    def count_in(self, members: pd.DataFrame, nodes: pd.DataFrame) -> pd.DataFrame:
        """See :meth:`.CommunityOps.count_in`."""
        inside = members[members[NODE_ID].isin(set(nodes[NODE_ID]))]
        return inside.groupby(CLUSTER_ID).size().rename("count").reset_index()
