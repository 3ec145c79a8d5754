"""Community refinement operations (:mod:`fraudmine.graph.algorithms.community_ops`) on both implementations.

The driver implementation (pandas + igraph, the local engine) is checked against the Spark DataFrame one on
random graphs over 20 seeds (one disjoint union, so both run once), a hub-heavy graph and a disconnected
one: every operation gives equal rows.  The hand-built cases below check the rules themselves, on both.
"""

from __future__ import annotations

import random
from typing import Any

import pandas as pd
import pytest

from fraudmine.graph.algorithms.community_ops import COUNTS_DDL, MEMBERS_DDL, Ops

pytestmark = pytest.mark.spark

ENGINES = ("local", "spark")
SEEDS = range(20)
MEMBERS, EDGES, POOLS = (
    "node_id string, cluster_id string",
    "src string, dst string, weight double",
    ("pool string, seller string"),
)


def _ops(spark: Any, engine: str) -> Ops:
    from fraudmine.graph.algorithms.engine import LocalEngine, SparkEngine

    return (LocalEngine() if engine == "local" else SparkEngine()).community_ops(spark)


def _rows(ops: Ops, result: Any) -> list[tuple[Any, ...]]:
    """Sorted row tuples of an operation's result (either implementation)."""
    if isinstance(result, pd.DataFrame):
        return sorted(tuple(r) for r in result.itertuples(index=False, name=None))
    return sorted(tuple(r) for r in result.collect())


def _graph(seed: int, prefix: str) -> tuple[list[tuple[str, str]], list[tuple[str, str, float]], list[tuple[str, str]]]:
    """A random seller graph: members (communities of 1-7, a third of the nodes outside), weighted edges
    with tied weights, creator memberships with duplicates."""
    rng = random.Random(seed)
    n = rng.randint(20, 40)
    names = [f"{prefix}:s{i:02d}" for i in range(n)]
    inside = rng.uniform(0.3, 0.8)
    members = [
        (name, f"{prefix}:c{rng.randint(0, 4 + i % 3)}") for i, name in enumerate(names) if rng.random() < inside
    ]
    pairs = {tuple(sorted(rng.sample(names, 2))) for _ in range(rng.randint(n, 6 * n))}
    edges = [
        (a, b, rng.choice([0.3, 0.5, 1.0, 1.0, 1.2, 2.0, round(rng.uniform(0.1, 2.5), 6)])) for a, b in sorted(pairs)
    ]
    pools = [(f"{prefix}:p{rng.randint(0, 9)}", rng.choice(names)) for _ in range(rng.randint(n, 4 * n))]
    # pools (creators) share identifiers with some sellers: the second tie of attach_by_two_ties
    ties = {(f"{prefix}:p{rng.randint(0, 9)}", rng.choice(names)) for _ in range(2 * n)}
    edges += [(a, b, rng.choice([0.0, 0.2, 0.9])) for a, b in sorted(ties)]
    return members, edges, pools


def _hub_graph() -> tuple[list[tuple[str, str]], list[tuple[str, str, float]], list[tuple[str, str]]]:
    """One seller linked to every other, one creator promoting every seller, rings of dense members."""
    names = [f"hub:s{i:02d}" for i in range(30)]
    members = [(n, f"hub:c{i % 4}") for i, n in enumerate(names[:20])]
    edges = [("hub:h", n, 1.5) for n in names] + [
        (names[i], names[j], 1.0) for i in range(20, 30) for j in range(i + 1, 30)
    ]
    edges += [(names[i], names[i + 4], 1.2) for i in range(16)]
    pools = [("hub:ph", n) for n in names] + [("hub:ph", "hub:h")] + [(f"hub:p{i}", names[i]) for i in range(30)]
    pools += [(f"hub:p{i % 3}", n) for i, n in enumerate(names[:12])]
    return members, edges, pools


def _disconnected() -> tuple[list[tuple[str, str]], list[tuple[str, str, float]], list[tuple[str, str]]]:
    """Components that never meet: cliques, pairs, isolated members, a community with no edge at all."""
    members = [(f"dis:a{i}", "dis:ca") for i in range(4)] + [(f"dis:e{i}", "dis:ce") for i in range(3)]
    edges = [(f"dis:k{i}", f"dis:k{j}", 1.0) for i in range(5) for j in range(i + 1, 5)]
    edges += [(f"dis:l{i}", f"dis:l{j}", 1.1) for i in range(6) for j in range(i + 1, 6)]
    edges += [("dis:x0", "dis:a0", 1.0), ("dis:x0", "dis:a1", 1.0), ("dis:y0", "dis:y1", 3.0)]
    pools = [("dis:p0", f"dis:a{i}") for i in range(4)] + [("dis:p1", "dis:y0")]
    return members, edges, pools


def _run_all(spark: Any, engine: str, members: list[Any], edges: list[Any], pools: list[Any]) -> dict[str, Any]:
    """Every operation (several parameter sets) on one implementation."""
    ops = _ops(spark, engine)
    m = ops.table(spark.createDataFrame(members, MEMBERS))
    e = ops.table(spark.createDataFrame(edges, EDGES))
    p = ops.table(spark.createDataFrame(pools, POOLS))
    out: dict[str, Any] = {}
    for k in (2, 4):
        out[f"core{k}"] = _rows(ops, ops.core_communities(m, e, 3, 1.0, k, "collusion", "weak:"))
    for size, dens in ((2, 0.2), (3, 0.5)):
        merged = ops.merge_dense(m, e, size, 1.0, dens)
        out[f"merge{size}-{dens}"] = _rows(ops, ops.frame(merged, MEMBERS_DDL))
    for share, links in ((0.1, 1), (0.5, 2)):
        out[f"share{share}"] = _rows(ops, ops.attach_by_share(m, p, 3, share, links))
    for pooled, linked in ((1, 1), (1, 2)):
        out[f"two{pooled}{linked}"] = _rows(ops, ops.attach_by_two_ties(m, p, e, 2, pooled, linked))
    for score, links in ((1.0, 1), (1.8, 2)):
        out[f"sum{score}"] = _rows(ops, ops.attach_by_link_sum(m, e, 3, score, links))
    for surprise in (0.0, 1.0):
        rows = _rows(ops, ops.attach_by_pool_surprise(m, p, e, 2, 8, 1, surprise, 0.3))
        out[f"pool{surprise}"] = [(*r[:3], round(r[3], 9)) for r in rows]
    sat = ops.attach_by_share(m, p, 2, 0.1, 1)
    moved, counts = ops.adopt(m, sat)
    out["adopt"] = (_rows(ops, ops.frame(moved, MEMBERS_DDL)), _rows(ops, ops.frame(counts, COUNTS_DDL)))
    out["count_in"] = _rows(ops, ops.frame(ops.count_in(moved, sat), COUNTS_DDL))
    return out


def _case(name: str) -> tuple[list[Any], list[Any], list[Any]]:
    if name == "random":
        parts = [_graph(s, f"g{s}") for s in SEEDS]
        return [r for p in parts for r in p[0]], [r for p in parts for r in p[1]], [r for p in parts for r in p[2]]
    return _hub_graph() if name == "hub" else _disconnected()


@pytest.mark.parametrize("case", ["random", "hub", "disconnected"])
def test_local_operations_equal_the_spark_operations(spark, case: str) -> None:  # type: ignore[no-untyped-def]
    """Driver and DataFrame implementations give equal rows for every operation (20 random graphs, a hub, a
    disconnected graph); the random union has results for most operations, so equality is not vacuous."""
    members, edges, pools = _case(case)
    local = _run_all(spark, "local", members, edges, pools)
    dataframe = _run_all(spark, "spark", members, edges, pools)
    for key in local:
        assert local[key] == dataframe[key], key
    if case == "random":  # every operation has rows for some parameters: equality is not vacuous
        kinds = {k.rstrip("0123456789.-") for k in local}
        filled = {k.rstrip("0123456789.-") for k, v in local.items() if v and v != ([], [])}
        assert filled == kinds, sorted(kinds - filled)


def test_engines_hand_out_their_own_operations(spark) -> None:  # type: ignore[no-untyped-def]
    from fraudmine.graph.algorithms.community_local import LocalCommunityOps
    from fraudmine.graph.algorithms.community_spark import SparkCommunityOps

    assert isinstance(_ops(spark, "local"), LocalCommunityOps)
    assert isinstance(_ops(spark, "spark"), SparkCommunityOps)


def test_fixed_sum_is_the_spark_exact_sum(spark) -> None:  # type: ignore[no-untyped-def]
    """The driver's fixed-point sum equals :func:`exact_sum` bit for bit, halves included."""
    from pyspark.sql import functions as F

    from fraudmine.graph.algorithms.community_local import fixed_sum
    from fraudmine.graph.algorithms.spark_common import EXACT_SUM_SCALE, exact_sum

    rng = random.Random(3)
    vals = [rng.uniform(-3, 3) for _ in range(200)] + [
        0.5 / EXACT_SUM_SCALE,
        -0.5 / EXACT_SUM_SCALE,
        1.5 / EXACT_SUM_SCALE,
    ]
    df = spark.createDataFrame([(v,) for v in vals], "w double")
    for chunk in (vals[:3], vals[200:], vals):
        got = fixed_sum(pd.Series(chunk))
        want = df.where(F.col("w").isin(*chunk)).agg(exact_sum("w")).first()[0]
        assert got == want


# --- the rules, on both implementations -------------------------------------------------------------------


def _call(spark: Any, engine: str, op: str, *frames: tuple[list[Any], str], **params: Any) -> list[dict[str, Any]]:
    ops = _ops(spark, engine)
    tables = [ops.table(spark.createDataFrame(rows, ddl)) for rows, ddl in frames]
    res = getattr(ops, op)(*tables, **params)
    if op == "merge_dense":
        res = ops.frame(res, MEMBERS_DDL)
    if isinstance(res, pd.DataFrame):
        return [dict(r) for r in res.to_dict("records")]
    return [r.asDict() for r in res.collect()]


@pytest.mark.parametrize("engine", ENGINES)
def test_creators_attach_to_the_community_they_mostly_promote(spark, engine: str) -> None:  # type: ignore[no-untyped-def]
    members = [(f"merchant:r{i}", "ring") for i in range(4)] + [(f"merchant:q{i}", "big") for i in range(6)]
    members += [("merchant:t0", "tiny"), ("merchant:t1", "tiny")]
    promo = [("creator:c1", f"merchant:r{i}") for i in range(3)]  # 3 of 4: attaches
    promo += [("creator:c2", "merchant:r0"), ("creator:c2", "merchant:x")]  # one member only
    promo += [("creator:c3", "merchant:q0"), ("creator:c3", "merchant:q1")]  # 2 of 6: share too small
    promo += [("creator:c4", "merchant:t0"), ("creator:c4", "merchant:t1")]  # community below min_size
    got = _call(
        spark, engine, "attach_by_share", (members, MEMBERS), (promo, POOLS), min_size=3, min_share=0.5, min_links=2
    )
    assert {(r["node_id"], r["cluster_id"], r["k"]) for r in got} == {("creator:c1", "ring", 3)}


@pytest.mark.parametrize("engine", ENGINES)
def test_attach_partial_needs_weak_ties_to_several_members(spark, engine: str) -> None:  # type: ignore[no-untyped-def]
    members = [(f"merchant:r{i}", "ring") for i in range(5)] + [("merchant:t0", "tiny"), ("merchant:t1", "tiny")]
    weak = [("merchant:r0", "merchant:x", 1.0), ("merchant:r1", "merchant:x", 1.0)]  # two members: joins
    weak += [("merchant:r2", "merchant:y", 2.5)]  # one member, however strong: stays out
    weak += [("merchant:r3", "merchant:z", 0.5), ("merchant:r4", "merchant:z", 0.5)]  # two ties, too weak
    weak += [("merchant:r0", "merchant:t0", 1.0), ("merchant:r1", "merchant:t0", 1.0)]  # small community: joins
    weak += [("merchant:r0", "merchant:r1", 2.0)]  # members themselves are never attached
    got = _call(
        spark, engine, "attach_by_link_sum", (members, MEMBERS), (weak, EDGES), min_size=3, min_score=1.8, min_links=2
    )
    assert {(r["node_id"], r["cluster_id"], r["k"]) for r in got} == {
        ("merchant:x", "ring", 2),
        ("merchant:t0", "ring", 2),
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_merge_dense_joins_a_ring_cut_in_two_only(spark, engine: str) -> None:  # type: ignore[no-untyped-def]
    """Leiden cut ring a|b: weak links join 6 of their 9 member pairs, so they merge (smallest id kept).
    Community c touches b by one weak link (1 of 9 pairs): it stays apart; so does tiny t (below min size)."""
    members = [(f"merchant:{k}{i}", k) for k in "abc" for i in range(3)] + [("merchant:t0", "t"), ("merchant:t1", "t")]
    weak = [(f"merchant:a{i}", f"merchant:b{j}", 1.2) for i in range(3) for j in range(3) if (i + j) % 3 != 0]
    weak += [
        ("merchant:b0", "merchant:c0", 1.5),
        ("merchant:c1", "merchant:t0", 1.5),
        ("merchant:c2", "merchant:t1", 1.5),
    ]
    weak += [("merchant:a1", "merchant:c2", 0.4)]  # below min_link
    got = {
        r["node_id"]: r["cluster_id"]
        for r in _call(
            spark, engine, "merge_dense", (members, MEMBERS), (weak, EDGES), min_size=3, min_link=1.0, min_density=0.5
        )
    }
    assert {n for n, c in got.items() if c == "a"} == {f"merchant:{k}{i}" for k in "ab" for i in range(3)}
    assert {n for n, c in got.items() if c == "c"} == {f"merchant:c{i}" for i in range(3)}
    assert got["merchant:t0"] == "t"


@pytest.mark.parametrize("engine", ENGINES)
def test_core_communities_need_every_member_weakly_tied_to_several_others(spark, engine: str) -> None:  # type: ignore[no-untyped-def]
    """Five shops w0-w4 pairwise linked at 1.2 (one channel each) form a 4-core: one community.  A chain
    p0-p1-p2-p3-p4 of equally strong links, a 1.2-linked tail z of w0 and the members of a Leiden community
    r do not; weak links below the threshold do not count."""
    members = [(f"merchant:r{i}", "ring") for i in range(3)]
    ws = [f"merchant:w{i}" for i in range(5)]
    weak = [(ws[i], ws[j], 1.2) for i in range(5) for j in range(i + 1, 5)]
    weak += [(f"merchant:p{i}", f"merchant:p{i + 1}", 1.2) for i in range(4)]
    weak += [("merchant:w0", "merchant:z", 1.2), ("merchant:z", "merchant:r0", 1.2), ("merchant:z", "merchant:r1", 1.2)]
    weak += [
        ("merchant:r0", "merchant:w1", 1.2),
        ("merchant:r1", "merchant:w2", 1.2),
        ("merchant:r2", "merchant:w3", 1.2),
    ]
    weak += [(f"merchant:q{i}", f"merchant:q{j}", 0.9) for i in range(5) for j in range(i + 1, 5)]  # too weak
    args = ((members, MEMBERS), (weak, EDGES))
    got = _call(
        spark, engine, "core_communities", *args, min_size=3, min_link=1.0, min_degree=4, kind="collusion", tag="weak:"
    )
    assert {r["node_id"] for r in got} == set(ws)
    assert len({r["cluster_id"] for r in got}) == 1
    assert got[0]["cluster_id"].startswith("collusion-")
    assert not _call(spark, engine, "core_communities", *args, min_size=3, min_link=1.0, min_degree=5, kind="c", tag="")


@pytest.mark.parametrize("engine", ENGINES)
def test_attach_identified_needs_promotion_and_identifiers_shared_with_several(spark, engine: str) -> None:  # type: ignore[no-untyped-def]
    """Creator c promotes one ring shop and shares identifiers with two: it joins.  Creator p promotes the
    same shop but shares an identifier with one member only; creator i shares identifiers with three but
    promotes none: neither joins (one channel each)."""
    members = [(f"merchant:r{i}", "ring") for i in range(4)]
    promo = [("creator:c", "merchant:r0"), ("creator:p", "merchant:r0"), ("creator:p", "merchant:x")]
    ident = [("creator:c", "merchant:r1", 0.2), ("merchant:r2", "creator:c", 0.2), ("creator:p", "merchant:r1", 0.9)]
    ident += [("creator:i", f"merchant:r{j}", 0.5) for j in range(3)] + [("creator:c", "merchant:r3", 0.0)]
    args = ((members, MEMBERS), (promo, POOLS), (ident, EDGES))
    got = _call(spark, engine, "attach_by_two_ties", *args, min_size=3, min_pooled=1, min_linked=2)
    assert [(r["node_id"], r["cluster_id"], r["k"]) for r in got] == [("creator:c", "ring", 2)]
    assert not _call(spark, engine, "attach_by_two_ties", *args, min_size=3, min_pooled=1, min_linked=3)


@pytest.mark.parametrize("engine", ENGINES)
def test_attach_pooled_needs_the_community_s_buyers_and_a_second_tie(spark, engine: str) -> None:  # type: ignore[no-untyped-def]
    """Ring shops r0-r2 are bought from by the operator's accounts o0-o3.  Shop x shares one operator account
    with each member (one per pair: no pair link) and has a weak combined link to r0: it joins.  Shop y has
    the same buyers but no second tie; shop h (a busy honest shop) shares one operator account among 40
    buyers: neither joins.  400 background buyers set the null model's rate."""
    members = [(f"merchant:r{i}", "ring") for i in range(3)]
    rows = [(f"o{j}", f"merchant:r{i}") for i in range(3) for j in range(4) if (i + j) % 3 != 0]
    rows += [(f"o{j}", "merchant:x") for j in range(3)] + [(f"o{j}", "merchant:y") for j in range(3)]
    rows += [("o0", "merchant:h")] + [(f"hb{j}", "merchant:h") for j in range(39)]
    rows += [(f"bg{j}", f"merchant:s{(j * 7 + k) % 150}") for j in range(400) for k in (0, 1)]
    ties = [("merchant:r0", "merchant:x", 0.5), ("merchant:r1", "merchant:h", 0.5)]
    got = _call(
        spark,
        engine,
        "attach_by_pool_surprise",
        (members, MEMBERS),
        (rows, POOLS),
        (ties, EDGES),
        min_size=3,
        max_pool_degree=50,
        min_shared=2,
        min_surprise=3.0,
        min_link=0.3,
    )
    assert [(r["node_id"], r["cluster_id"], r["k"]) for r in got] == [("merchant:x", "ring", 3)]
    assert got[0]["surprise"] >= 3.0
