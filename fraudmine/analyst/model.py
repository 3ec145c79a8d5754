"""The analyst property-graph model: the one allow-list of labels, relationship types and properties.

Everything that reaches Neo4j or FalkorDB is named here.  Labels come from
:class:`fraudmine.contracts.ids.NodeType` and relationship types from the
relation of each registered :class:`fraudmine.contracts.ids.EdgeType`
(``ALL_EDGE_TYPES``), through :func:`label_for` and :func:`rel_type_for`, so a
renamed or added relation in the registry flows through with no edit here.
Cypher text only ever contains names that pass :func:`check_label` /
:func:`check_rel_type` (allow-list membership and an identifier pattern);
values always travel as parameters.

Properties carry ``neo4j-admin`` types (``float``, ``long``, ``boolean``,
``string``, ``string[]``, ``datetime``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from fraudmine.contracts import ids
from fraudmine.contracts.ids import EdgeType, NodeType

# Property types understood by neo4j-admin and by the bundle reader.
PROPERTY_TYPES: Final = ("string", "long", "float", "boolean", "datetime", "string[]")

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

KEY = "id"
"""Key property of every node (unique per label; the raw id, or ``kind:cluster`` for clusters)."""
NODE_ID = "node_id"
"""Typed id ``<type>:<raw id>`` (globally unique), also on every node."""

ACCOUNT = "Account"
"""Extra label on merchants, creators and buyers: accounts an analyst traces between."""
CLUSTER = "Cluster"
"""Label (and ID space) of cluster nodes; each also carries its kind's label."""
MEMBER_OF = "MEMBER_OF"
"""Relationship type from a cluster member to its cluster."""
VIOLATES = "VIOLATES"
"""Relationship type from a flagged listing to the brand it abuses (``brand_violations``)."""

ACCOUNT_TYPES: Final = (NodeType.MERCHANT, NodeType.CREATOR, NodeType.BUYER)

# Cluster tables of a run (``clusters/<kind>``) and the label of each kind.  A kind
# that is absent from a run is simply not exported.
CLUSTER_KINDS: Final[dict[str, str]] = {
    "identity": "IdentityCluster",
    "collusion": "CollusionCluster",
    "brushing": "BrushingRing",
    "reporter_rings": "ReporterRing",
    "duplicates": "DuplicateCluster",
}


class AllowListError(ValueError):
    """A label, relationship type or property name is not in the analyst allow-list."""


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def label_for(node_type: NodeType | str) -> str:
    """Label (and ``neo4j-admin`` ID space) of a node type: ``merchant`` → ``Merchant``.

    Raises:
        ValueError: if ``node_type`` is not a :class:`NodeType`.
    """
    return _pascal(str(NodeType(node_type)))


def rel_type_for(edge_type: EdgeType) -> str:
    """Relationship type of a typed edge: its relation upper-cased (``uses_identifier`` → ``USES_IDENTIFIER``)."""
    return edge_type.relation.upper()


def node_labels() -> tuple[str, ...]:
    """Every allowed node label, in a stable order."""
    return (
        *(label_for(nt) for nt in NodeType),
        ACCOUNT,
        CLUSTER,
        *CLUSTER_KINDS.values(),
    )


def rel_types() -> tuple[str, ...]:
    """Every allowed relationship type, in a stable order (registry first)."""
    out: list[str] = []
    for et in ids.ALL_EDGE_TYPES:
        if rel_type_for(et) not in out:
            out.append(rel_type_for(et))
    return (*out, MEMBER_OF, VIOLATES)


def check_label(label: str) -> str:
    """Return ``label`` if it is allowed in Cypher text.

    Raises:
        AllowListError: naming the label and the allowed ones.
    """
    if label not in node_labels() or not _NAME.match(label):
        raise AllowListError(f"label {label!r} is not in the analyst allow-list {list(node_labels())}")
    return label


def check_rel_type(rel_type: str) -> str:
    """Return ``rel_type`` if it is allowed in Cypher text.

    Raises:
        AllowListError: naming the type and the allowed ones.
    """
    if rel_type not in rel_types() or not _NAME.match(rel_type):
        raise AllowListError(f"relationship type {rel_type!r} is not in the analyst allow-list {list(rel_types())}")
    return rel_type


def check_property(name: str) -> str:
    """Return ``name`` if it is a safe property identifier.

    Raises:
        AllowListError: if the name is not a plain identifier.
    """
    if not _NAME.match(name):
        raise AllowListError(f"property name {name!r} is not a plain identifier")
    return name


@dataclass(frozen=True)
class Prop:
    """A typed property: ``name`` and its ``neo4j-admin`` type."""

    name: str
    type: str

    def __post_init__(self) -> None:
        check_property(self.name)
        if self.type not in PROPERTY_TYPES:
            raise AllowListError(f"property {self.name!r}: type {self.type!r} not in {PROPERTY_TYPES}")

    @property
    def header(self) -> str:
        """Header field, e.g. ``fraud_risk:float``."""
        return f"{self.name}:{self.type}"


# Properties from the typed graph (graph/nodes), per label.
BASE_NODE_PROPS: Final = (Prop(NODE_ID, "string"), Prop("created_at", "datetime"), Prop("degree", "long"))
IDENTIFIER_PROPS: Final = (Prop("identifier_type", "string"), Prop("is_hub", "boolean"))

# Scores (scores/, SCORES_DDL) joined on (entity_type, entity_id).  A label gets them
# when the run scored at least one entity of its type.
SCORE_PROPS: Final = (
    Prop("fraud_risk", "float"),
    Prop("low_quality_risk", "float"),
    Prop("risk_band", "string"),
    Prop("reasons", "string[]"),
    Prop("calibrated", "boolean"),
    Prop("model_version", "string"),
)
CLUSTER_IDS: Final = Prop("cluster_ids", "string[]")
"""On every node that belongs to a cluster: ``<kind>:<cluster id>`` of each."""

# Display attributes from the clean tables (validate/clean/<table>): (table, key column, props);
# each property is read from the column of the same name.  Only these
# columns are read; identifier values never appear (the contract carries keyed hashes
# only, and no identifier attribute is listed here).
ATTRIBUTES: Final[dict[NodeType, tuple[str, str, tuple[Prop, ...]]]] = {
    NodeType.MERCHANT: (
        "merchants",
        "merchant_id",
        (Prop("shop_name", "string"), Prop("country", "string"), Prop("primary_category", "string")),
    ),
    NodeType.PRODUCT: (
        "products",
        "product_id",
        (
            Prop("title", "string"),
            Prop("price", "float"),
            Prop("currency", "string"),
            Prop("category", "string"),
            Prop("image_phash", "string"),
        ),
    ),
    NodeType.CREATOR: (
        "creators",
        "creator_id",
        (Prop("handle", "string"), Prop("country", "string"), Prop("follower_count", "long")),
    ),
    NodeType.BRAND: ("brands", "brand_id", (Prop("name", "string"), Prop("protected", "boolean"))),
}

EDGE_PROPS: Final = (
    Prop("weight", "float"),
    Prop("n_events", "long"),
    Prop("first_ts", "datetime"),
    Prop("last_ts", "datetime"),
)
CLUSTER_NODE_PROPS: Final = (
    Prop("kind", "string"),
    Prop("cluster_id", "string"),
    Prop("size", "long"),
    Prop("risk", "float"),
    Prop("evidence", "string"),
)
MEMBER_PROPS: Final = (Prop("role", "string"),)
VIOLATION_PROPS: Final = (Prop("kind", "string"), Prop("score", "float"), Prop("evidence", "string"))


def extra_labels(node_type: NodeType) -> tuple[str, ...]:
    """Labels a node carries besides its own (``Account`` for merchants, creators, buyers)."""
    return (ACCOUNT,) if node_type in ACCOUNT_TYPES else ()


def relation_pattern(*edge_types: EdgeType) -> str:
    """``A|B`` relationship-type alternation for Cypher text, from registry edge types (deduplicated)."""
    seen: list[str] = []
    for et in edge_types:
        rt = check_rel_type(rel_type_for(et))
        if rt not in seen:
            seen.append(rt)
    return "|".join(seen)
