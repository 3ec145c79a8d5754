"""Breadth-first walks run as Cypher steps: the identity ring of a merchant, shortest paths.

Both playbook answers are built level by level in Python from small Cypher step
queries (one per label of the frontier), identical on Neo4j and FalkorDB, because a
single variable-length pattern enumerates *paths*: on a dense ring (twenty shops
sharing a dozen devices) the number of paths of length six explodes (measured on
the xs run: one ``ring`` query took 98 s on FalkorDB), while a breadth-first search
visits each account once.

**Ring.** From the merchant, each level goes account → non-hub identifier → account
(one step query), up to ``max_hops`` levels; an account keeps the first level it is
reached at and, among its parents at that level, the smallest ``(parent, identifier)``;
``via`` lists the identifier types along that chain.

**Shortest path.**

FalkorDB's ``shortestPath`` is directed-only and its ``algo.SPpaths`` enumerates
paths depth-first (measured here: 10 s on the xs graph at 6 hops over six
relationship types, 110 s at 8), so on FalkorDB the playbook's ``shortest_path``
runs this search instead: each step is one Cypher query per label of the
frontier (``UNWIND $ids … MATCH (n:Label {id: x})-[:T1|T2]-(m)``), hub identifiers
are never entered, and the smaller frontier is expanded first (Pohl, "Bi-directional
search", Machine Intelligence 6, 1971).  Ties are broken by the smallest typed id,
so the answer is deterministic.  On Neo4j the playbook uses ``shortestPath`` with
the same hub rule (see :mod:`fraudmine.analyst.dialect`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fraudmine.analyst import model as M
from fraudmine.analyst.sinks import GraphSink
from fraudmine.contracts.ids import EdgeType, split_typed_id


def _step_query(label: str, rel_pattern: str) -> str:
    return (
        f"UNWIND $ids AS x MATCH (n:{M.check_label(label)} {{{M.KEY}: x}})-[:{rel_pattern}]-(m) "
        "WHERE NOT coalesce(m.is_hub, false) RETURN n.node_id AS a, m.node_id AS b"
    )


def _expand(sink: GraphSink, frontier: Sequence[str], rel_pattern: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for label, raws in sorted(_by_label(frontier).items()):
        _cols, rows = sink.query(_step_query(label, rel_pattern), {"ids": sorted(raws)})
        pairs.extend((str(a), str(b)) for a, b in rows)
    return sorted(pairs)


def _ring_step(label: str, uses: str) -> str:
    # WITH pins the plan to the key index of n (FalkorDB otherwise starts from a label scan of i)
    return (
        f"UNWIND $ids AS x MATCH (n:{M.check_label(label)} {{{M.KEY}: x}})-[:{uses}]-(i) "
        f"WHERE NOT coalesce(i.is_hub, false) WITH n, i MATCH (i)-[:{uses}]-(o) WHERE o <> n "
        "RETURN n.node_id AS a, i.node_id AS i, i.identifier_type AS t, o.node_id AS b"
    )


def _by_label(frontier: Sequence[str]) -> dict[str, list[str]]:
    by_label: dict[str, list[str]] = {}
    for node_id in frontier:
        nt, raw = split_typed_id(node_id)
        by_label.setdefault(M.label_for(nt), []).append(raw)
    return by_label


def ring(
    sink: GraphSink, merchant: str, uses: Sequence[EdgeType], max_hops: int = 3, limit: int = 50
) -> tuple[list[str], list[list[Any]]]:
    """Accounts linked to ``merchant`` through shared non-hub identifiers, up to ``max_hops`` levels.

    Args:
        sink: the graph.
        merchant: raw merchant id.
        uses: the registry's account → identifier edge types.
        max_hops: account-to-account levels.
        limit: rows returned (ordered by hops, fraud risk descending, account).

    Returns:
        Columns ``account, hops, via, fraud_risk, risk_band`` and the rows.
    """
    pattern = M.relation_pattern(*uses)
    start = f"merchant:{merchant}"
    split_typed_id(start)
    found: dict[str, tuple[int, list[str]]] = {start: (0, [])}
    frontier = [start]
    for hop in range(1, max_hops + 1):
        pairs: list[tuple[str, str, str, str]] = []
        for label, raws in sorted(_by_label(frontier).items()):
            _c, rows = sink.query(_ring_step(label, pattern), {"ids": sorted(raws)})
            pairs.extend((str(a), str(i), str(t), str(b)) for a, i, t, b in rows)
        nxt: list[str] = []
        for a, _i, t, b in sorted(pairs):
            if b not in found and split_typed_id(b)[0] in M.ACCOUNT_TYPES:
                found[b] = (hop, [*found[a][1], t])
                nxt.append(b)
        frontier = nxt
        if not frontier:
            break
    accounts = [a for a in found if a != start]
    risk: dict[str, tuple[Any, Any]] = {}
    if accounts:
        _c, rows = sink.query(
            f"UNWIND $ids AS x MATCH (n:{M.ACCOUNT} {{{M.NODE_ID}: x}}) RETURN n.node_id, n.fraud_risk, n.risk_band",
            {"ids": sorted(accounts)},
        )
        risk = {str(r[0]): (r[1], r[2]) for r in rows}
    out = [[a, found[a][0], found[a][1], *risk.get(a, (None, None))] for a in accounts]
    out.sort(key=lambda r: (r[1], -(r[3] if r[3] is not None else -1.0), r[0]))
    return ["account", "hops", "via", "fraud_risk", "risk_band"], out[:limit]


def _walk(parents: dict[str, str | None], node: str) -> list[str]:
    out = [node]
    while (p := parents[node]) is not None:
        out.append(p)
        node = p
    return out


def shortest_path(
    sink: GraphSink,
    source: str,
    target: str,
    edge_types: Sequence[EdgeType],
    max_hops: int = 8,
    max_frontier: int = 200_000,
) -> tuple[list[str], int] | None:
    """A shortest hub-free path between two typed ids, or None if there is none within ``max_hops``.

    Args:
        sink: the graph.
        source: typed id of one account (``merchant:m0000001``).
        target: typed id of the other.
        edge_types: registry edge types that may be traversed (either direction).
        max_hops: longest path searched.
        max_frontier: give up (None) when a frontier grows beyond this many nodes.

    Returns:
        ``(typed ids along the path, hops)``.

    Raises:
        ValueError: if an id is not a typed id.
    """
    split_typed_id(source)
    split_typed_id(target)
    if source == target:
        return [source], 0
    pattern = M.relation_pattern(*edge_types)
    fwd: dict[str, str | None] = {source: None}
    bwd: dict[str, str | None] = {target: None}
    f_front, b_front = [source], [target]
    hops = 0
    while f_front and b_front and hops < max_hops:
        expand_fwd = len(f_front) <= len(b_front)
        front, seen, other = (f_front, fwd, bwd) if expand_fwd else (b_front, bwd, fwd)
        nxt: list[str] = []
        meet: list[str] = []
        for a, b in _expand(sink, front, pattern):
            if b in seen:
                continue
            seen[b] = a
            nxt.append(b)
            if b in other:
                meet.append(b)
        hops += 1
        if meet:
            m = min(meet)
            path = list(reversed(_walk(fwd, m))) + _walk(bwd, m)[1:]
            return path, len(path) - 1
        if len(nxt) > max_frontier:
            return None
        if expand_fwd:
            f_front = nxt
        else:
            b_front = nxt
    return None


def path_rows(result: tuple[list[str], int] | None) -> tuple[list[str], list[list[Any]]]:
    """The playbook's tabular shape of a path result: ``path, hops`` (no row when there is no path)."""
    cols = ["path", "hops"]
    if result is None:
        return cols, []
    return cols, [[result[0], result[1]]]
