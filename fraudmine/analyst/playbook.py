"""The analyst playbook: parameterised Cypher investigations, one text for Neo4j and FalkorDB.

Relationship types in the text come from the edge-type registry through
:mod:`fraudmine.analyst.model` (allow-listed, so a renamed relation flows through);
every value (ids, limits, kinds) is a ``$parameter``.  Only ``shortest_path`` differs per
engine (see :mod:`fraudmine.analyst.dialect`).  Ordering is total in every
query (ties broken by id) so answers are deterministic; null risks sort last.

Queries (``fraudmine explore --run DIR <name> ...``):

* ``ring`` — accounts linked to a merchant through shared identifiers, up to 3
  account-to-account hops, never through a hub identifier.  Run on every engine as a
  breadth-first search of Cypher steps (:func:`fraudmine.analyst.paths.ring`); the
  single-pattern text below is the interactive form for Neo4j Browser (same answer,
  but it enumerates paths and is slow on dense rings).
* ``collusion`` — a collusion cluster's members with their risks, reasons and the
  identifiers they share with other members, plus the cluster's evidence.
* ``duplicates`` — a duplicate-listing cluster, canonical listing first, with sellers.
* ``counterfeit`` — unauthorised sellers of a brand's listings (claims and flagged
  violations) and the other such sellers each shares identifiers with.
* ``reporters`` — the accounts reporting a merchant or its listings, their ring (if a
  reporter-ring cluster holds them) and the co-reporters they share identifiers with.
* ``shortest_path`` — a shortest path between two accounts (typed ids) that never
  passes through a hub identifier (over every relation but the brand catalogue).
  On Neo4j it is ``shortestPath``; on FalkorDB a bidirectional search of Cypher
  steps (:mod:`fraudmine.analyst.paths`), because its own path procedures are
  directed-only or exponential.
* ``clusters`` — the riskiest clusters by exposure: cluster risk (or the mean member
  risk) times the order value through the members.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fraudmine.analyst import model as M
from fraudmine.analyst import paths
from fraudmine.analyst.dialect import Engine
from fraudmine.analyst.sinks import GraphSink
from fraudmine.contracts import ids

USES_EDGE_TYPES = (ids.MERCHANT_USES, ids.CREATOR_USES, ids.BUYER_USES)
USES = M.relation_pattern(*USES_EDGE_TYPES)
SELLS = M.relation_pattern(ids.SELLS)
CLAIMS = M.relation_pattern(ids.CLAIMS_BRAND)
AUTHORISED = M.relation_pattern(ids.AUTHORIZED_FOR)
ORDERED = M.relation_pattern(ids.ORDERED)
REPORTED = M.relation_pattern(ids.REPORTED_MERCHANT, ids.REPORTED_CREATOR, ids.REPORTED_PRODUCT)
# Paths run over every registered relation except the brand catalogue (claims and
# authorisations): two shops selling the same brand is not a link between them.
PATH_EDGE_TYPES = tuple(et for et in ids.ALL_EDGE_TYPES if ids.NodeType.BRAND not in (et.src, et.dst))
PATH_TYPES = M.relation_pattern(*PATH_EDGE_TYPES)
MAX_PATH = 8
RING_HOPS = 3


@dataclass(frozen=True)
class Param:
    """A query parameter: name, Python type, default (``None`` = required unless ``optional``), help."""

    name: str
    type: type
    help: str
    default: Any = None
    optional: bool = False


@dataclass(frozen=True)
class Query:
    """A playbook query: its text (or one per engine), parameters and a description."""

    name: str
    description: str
    params: tuple[Param, ...]
    cypher: str = ""
    per_engine: dict[Engine, str] = field(default_factory=dict)
    procedure_on: frozenset[Engine] | set[Engine] = frozenset()

    def text(self, engine: Engine) -> str:
        """The Cypher to run on ``engine``."""
        return self.per_engine.get(engine, self.cypher)

    def bind(self, values: dict[str, Any]) -> dict[str, Any]:
        """Parameters for a run: defaults filled in, required ones checked, types coerced.

        Raises:
            ValueError: naming a missing required parameter or one of the wrong type.
        """
        out: dict[str, Any] = {}
        for p in self.params:
            v = values.get(p.name, p.default)
            if v is None:
                if not p.optional:
                    raise ValueError(f"playbook query {self.name!r}: parameter {p.name!r} is required ({p.help})")
                out[p.name] = None
                continue
            try:
                out[p.name] = p.type(v)
            except (TypeError, ValueError):
                raise ValueError(
                    f"playbook query {self.name!r}: parameter {p.name!r}={v!r} is not {p.type.__name__}"
                ) from None
        unknown = sorted(set(values) - {p.name for p in self.params})
        if unknown:
            raise ValueError(f"playbook query {self.name!r}: unknown parameters {unknown}")
        return out


_RING = f"""
MATCH p = (m:Merchant {{id: $merchant}})-[:{USES}*1..{2 * RING_HOPS}]-(other)
WHERE other:Account AND other <> m AND all(n IN nodes(p) WHERE NOT coalesce(n.is_hub, false))
WITH other, p ORDER BY length(p), [n IN nodes(p) | n.node_id]
WITH other, collect(p)[0] AS p
RETURN other.node_id AS account, length(p) / 2 AS hops,
       [n IN nodes(p) WHERE n:Identifier | n.identifier_type] AS via,
       other.fraud_risk AS fraud_risk, other.risk_band AS risk_band
ORDER BY hops, coalesce(fraud_risk, -1.0) DESC, account
LIMIT $limit
"""

_COLLUSION = f"""
MATCH (c:CollusionCluster {{cluster_id: $cluster}})<-[r:MEMBER_OF]-(m)
OPTIONAL MATCH (m)-[:{USES}]->(i:Identifier)<-[:{USES}]-(o)-[:MEMBER_OF]->(c)
WHERE o <> m AND NOT coalesce(i.is_hub, false)
WITH c, m, r, collect(DISTINCT i.identifier_type) AS shared, count(DISTINCT o) AS linked
RETURN c.id AS cluster, c.size AS size, c.risk AS cluster_risk, c.evidence AS evidence,
       m.node_id AS member, r.role AS role, m.fraud_risk AS fraud_risk, m.risk_band AS risk_band,
       m.reasons AS reasons, linked AS linked_members, shared AS shared_identifier_types
ORDER BY coalesce(fraud_risk, -1.0) DESC, member
"""

_DUPLICATES = f"""
MATCH (c:DuplicateCluster {{cluster_id: $cluster}})<-[r:MEMBER_OF]-(p:Product)
OPTIONAL MATCH (s:Merchant)-[:{SELLS}]->(p)
RETURN c.id AS cluster, c.size AS size, r.role AS role, p.id AS listing, p.title AS title,
       p.price AS price, s.id AS merchant, s.fraud_risk AS merchant_risk
ORDER BY CASE r.role WHEN 'canonical' THEN 0 ELSE 1 END, listing
"""

_COUNTERFEIT = f"""
MATCH (b:Brand {{id: $brand}})<-[:{CLAIMS}|{M.VIOLATES}]-(p:Product)<-[:{SELLS}]-(m:Merchant)
WHERE NOT (m)-[:{AUTHORISED}]->(b)
WITH b, m, count(DISTINCT p) AS listings, min(p.price) AS min_price
OPTIONAL MATCH (m)-[:{USES}]->(i:Identifier)<-[:{USES}]-(o:Merchant)
               -[:{SELLS}]->(:Product)-[:{CLAIMS}|{M.VIOLATES}]->(b)
WHERE o <> m AND NOT coalesce(i.is_hub, false) AND NOT (o)-[:{AUTHORISED}]->(b)
WITH m, listings, min_price, collect(DISTINCT o.id) AS linked
RETURN m.id AS merchant, listings, min_price, m.fraud_risk AS fraud_risk, m.risk_band AS risk_band,
       linked AS linked_sellers
ORDER BY listings DESC, coalesce(fraud_risk, -1.0) DESC, merchant
LIMIT $limit
"""

_REPORTERS = f"""
MATCH (m:Merchant {{id: $merchant}})
OPTIONAL MATCH (m)-[:{SELLS}]->(p:Product)
WITH m, collect(p) + [m] AS targets
UNWIND targets AS t
MATCH (r:Account)-[e:{REPORTED}]->(t)
WITH m, targets, r, toInteger(sum(e.n_events)) AS reports,
     min(e.first_ts) AS first_report, max(e.last_ts) AS last_report
OPTIONAL MATCH (r)-[:MEMBER_OF]->(ring:ReporterRing)
OPTIONAL MATCH (r)-[:{USES}]->(i:Identifier)<-[:{USES}]-(o:Account)-[:{REPORTED}]->(t2)
WHERE o <> r AND NOT coalesce(i.is_hub, false) AND t2 IN targets
WITH r, reports, first_report, last_report, collect(DISTINCT ring.id) AS rings, collect(DISTINCT o.node_id) AS linked
RETURN r.node_id AS reporter, rings, reports, first_report, last_report, linked AS linked_reporters,
       r.fraud_risk AS reporter_risk
ORDER BY size(rings) DESC, size(linked) DESC, reports DESC, reporter
LIMIT $limit
"""

_PATH_NEO4J = f"""
MATCH (a:Account {{node_id: $source}}), (b:Account {{node_id: $target}})
MATCH p = shortestPath((a)-[:{PATH_TYPES}*..{MAX_PATH}]-(b))
WHERE all(n IN nodes(p) WHERE NOT coalesce(n.is_hub, false))
RETURN [n IN nodes(p) | n.node_id] AS path, length(p) AS hops
"""

_CLUSTERS = f"""
MATCH (c:Cluster)
WHERE $kind IS NULL OR c.kind = $kind
OPTIONAL MATCH (c)<-[:MEMBER_OF]-(m)
WITH c, avg(m.fraud_risk) AS member_risk, count(m) AS members
OPTIONAL MATCH (c)<-[:MEMBER_OF]-(:Account)-[:{SELLS}]->(:Product)<-[o1:{ORDERED}]-()
WITH c, member_risk, members, coalesce(sum(o1.weight), 0.0) AS sold
OPTIONAL MATCH (c)<-[:MEMBER_OF]-(:Account)-[o2:{ORDERED}]->()
WITH c, member_risk, members, sold, coalesce(sum(o2.weight), 0.0) AS bought
OPTIONAL MATCH (c)<-[:MEMBER_OF]-(:Product)<-[o3:{ORDERED}]-()
WITH c, member_risk, members, sold, bought, coalesce(sum(o3.weight), 0.0) AS listed
WITH c, members, sold + bought + listed AS order_value, coalesce(c.risk, member_risk, 0.0) AS risk
RETURN c.id AS cluster, c.kind AS kind, members, risk, order_value, risk * order_value AS exposure
ORDER BY exposure DESC, risk DESC, cluster
LIMIT $limit
"""

_LIMIT = Param("limit", int, "maximum rows", 50)

QUERIES: dict[str, Query] = {
    q.name: q
    for q in (
        Query(
            "ring",
            "accounts linked to a merchant through shared non-hub identifiers (≤ 3 hops)",
            (Param("merchant", str, "merchant id, e.g. m0000042"), _LIMIT),
            _RING,
            procedure_on=frozenset(Engine),
        ),
        Query(
            "collusion",
            "a collusion cluster: members, risks, reasons, shared identifiers, evidence",
            (Param("cluster", str, "cluster id (without the 'collusion:' prefix)"),),
            _COLLUSION,
        ),
        Query(
            "duplicates",
            "a duplicate-listing cluster, canonical listing first, with sellers",
            (Param("cluster", str, "cluster id (without the 'duplicates:' prefix)"),),
            _DUPLICATES,
        ),
        Query(
            "counterfeit",
            "unauthorised sellers of a brand's listings and the sellers they share identifiers with",
            (Param("brand", str, "brand id"), _LIMIT),
            _COUNTERFEIT,
        ),
        Query(
            "reporters",
            "accounts reporting a merchant or its listings, their rings and linked co-reporters",
            (Param("merchant", str, "merchant id"), _LIMIT),
            _REPORTERS,
        ),
        Query(
            "shortest_path",
            "a shortest path between two accounts (typed ids) that never passes through a hub identifier",
            (Param("source", str, "typed id, e.g. merchant:m0000001"), Param("target", str, "typed id")),
            per_engine={Engine.NEO4J: _PATH_NEO4J},
            procedure_on={Engine.FALKORDB},
        ),
        Query(
            "clusters",
            "riskiest clusters by exposure (risk x order value through the members)",
            (Param("kind", str, f"cluster kind, one of {list(M.CLUSTER_KINDS)}", optional=True), _LIMIT),
            _CLUSTERS,
        ),
    )
}


def render_neo4j_playbook() -> str:
    """The playbook as one ``.cypher`` file for Neo4j Browser / cypher-shell (parameters documented)."""
    parts = ["// fraudmine analyst playbook (Neo4j 5). Set parameters first, e.g. :param merchant => 'm0000042'\n"]
    for q in QUERIES.values():
        params = ", ".join(
            f"${p.name}" + (f" (default {p.default})" if p.default is not None else "") for p in q.params
        )
        parts.append(f"// {q.name}: {q.description}\n// parameters: {params}\n{q.text(Engine.NEO4J).strip()};\n")
    return "\n".join(parts)


def run_query(sink: GraphSink, name: str, params: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Run playbook query ``name`` on ``sink``; return column names and rows.

    Raises:
        KeyError: for an unknown query (listing the known ones).
        ValueError: for missing, unknown or mistyped parameters.
    """
    if name not in QUERIES:
        raise KeyError(f"unknown playbook query {name!r}; known: {sorted(QUERIES)}")
    q = QUERIES[name]
    bound = q.bind(params)
    if sink.engine in q.procedure_on and name == "ring":
        return paths.ring(sink, bound["merchant"], USES_EDGE_TYPES, RING_HOPS, bound["limit"])
    if sink.engine in q.procedure_on:
        found = paths.shortest_path(sink, bound["source"], bound["target"], PATH_EDGE_TYPES, MAX_PATH)
        return paths.path_rows(found)
    return sink.query(q.text(sink.engine), bound)
