"""Typed ids and typed edges.

Every node id in the graph is ``<node_type>:<raw_id>`` (GraphFrames' typed vertex
groups), so merchant ``42`` and product ``42`` never collide.  Edge types are
``(src_type, relation, dst_type)`` triples as in PyTorch Geometric.  This module
is the only place that knows the id format.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from pyspark.sql import Column

SEPARATOR = ":"


class NodeType(StrEnum):
    """Node types of the heterogeneous marketplace graph."""

    MERCHANT = "merchant"
    CREATOR = "creator"
    PRODUCT = "product"
    BRAND = "brand"
    BUYER = "buyer"
    IDENTIFIER = "identifier"
    REPORT = "report"


class ScoredType(StrEnum):
    """Entity types of the scores table and the risk API: every node type, plus ``reporter``.

    A reporter is a buyer in its role of report filer (malicious reporting is scored apart from
    brushing): its id is the buyer's raw id.
    """

    MERCHANT = "merchant"
    CREATOR = "creator"
    PRODUCT = "product"
    BRAND = "brand"
    BUYER = "buyer"
    IDENTIFIER = "identifier"
    REPORT = "report"
    REPORTER = "reporter"


class EdgeType(NamedTuple):
    """A typed edge ``(src_type, relation, dst_type)``."""

    src: NodeType
    relation: str
    dst: NodeType

    @property
    def key(self) -> str:
        """Flat name used for folders and columns, e.g. ``merchant__sells__product``."""
        return f"{self.src}__{self.relation}__{self.dst}"


# The relations of the marketplace graph.  The relation strings are what folders,
# Neo4j relationship types and PyG edge types use (kept as the Neo4j export knows them).
SELLS = EdgeType(NodeType.MERCHANT, "sells", NodeType.PRODUCT)
CLAIMS_BRAND = EdgeType(NodeType.PRODUCT, "claims_brand", NodeType.BRAND)
AUTHORIZED_FOR = EdgeType(NodeType.MERCHANT, "authorized_for", NodeType.BRAND)
MERCHANT_USES = EdgeType(NodeType.MERCHANT, "uses", NodeType.IDENTIFIER)
CREATOR_USES = EdgeType(NodeType.CREATOR, "uses", NodeType.IDENTIFIER)
BUYER_USES = EdgeType(NodeType.BUYER, "uses", NodeType.IDENTIFIER)
PROMOTES = EdgeType(NodeType.CREATOR, "promotes", NodeType.PRODUCT)
ORDERED = EdgeType(NodeType.BUYER, "ordered", NodeType.PRODUCT)
REVIEWED = EdgeType(NodeType.BUYER, "reviewed", NodeType.PRODUCT)
FILES = EdgeType(NodeType.BUYER, "files", NodeType.REPORT)
TARGETS_MERCHANT = EdgeType(NodeType.REPORT, "targets", NodeType.MERCHANT)
TARGETS_CREATOR = EdgeType(NodeType.REPORT, "targets", NodeType.CREATOR)
TARGETS_PRODUCT = EdgeType(NodeType.REPORT, "targets", NodeType.PRODUCT)
# reporter -> reported entity shortcuts (one per report event; the report node path is files/targets)
REPORTED_MERCHANT = EdgeType(NodeType.BUYER, "reported", NodeType.MERCHANT)
REPORTED_CREATOR = EdgeType(NodeType.BUYER, "reported", NodeType.CREATOR)
REPORTED_PRODUCT = EdgeType(NodeType.BUYER, "reported", NodeType.PRODUCT)

ALL_EDGE_TYPES: tuple[EdgeType, ...] = (
    SELLS,
    CLAIMS_BRAND,
    AUTHORIZED_FOR,
    MERCHANT_USES,
    CREATOR_USES,
    BUYER_USES,
    PROMOTES,
    ORDERED,
    REVIEWED,
    FILES,
    TARGETS_MERCHANT,
    TARGETS_CREATOR,
    TARGETS_PRODUCT,
    REPORTED_MERCHANT,
    REPORTED_CREATOR,
    REPORTED_PRODUCT,
)

USES_IDENTIFIER: tuple[EdgeType, ...] = (MERCHANT_USES, CREATOR_USES, BUYER_USES)
"""Account → identifier edges, one per account type."""

TARGETS: tuple[EdgeType, ...] = (TARGETS_MERCHANT, TARGETS_CREATOR, TARGETS_PRODUCT)
"""Report → reported entity edges, one per target type."""

SELLER_TYPES: tuple[NodeType, ...] = (NodeType.MERCHANT, NodeType.CREATOR)
"""Node types of the seller projection (collusion communities)."""


def typed_id(node_type: NodeType | str, raw_id: str) -> str:
    """Return the typed id ``<node_type>:<raw_id>``.

    Raises:
        ValueError: if ``node_type`` is not a known :class:`NodeType` or ``raw_id`` is empty.
    """
    nt = NodeType(node_type)
    if not raw_id:
        raise ValueError(f"typed_id: empty raw id for node type {nt!s}")
    return f"{nt}{SEPARATOR}{raw_id}"


def split_typed_id(tid: str) -> tuple[NodeType, str]:
    """Split a typed id into ``(node_type, raw_id)``.

    Raises:
        ValueError: if the id has no known type prefix.
    """
    prefix, sep, raw = tid.partition(SEPARATOR)
    if not sep or not raw:
        raise ValueError(f"not a typed id (expected '<type>:<id>'): {tid!r}")
    return NodeType(prefix), raw


def edge_type_from_key(key: str) -> EdgeType:
    """Inverse of :attr:`EdgeType.key`."""
    for et in ALL_EDGE_TYPES:
        if et.key == key:
            return et
    raise ValueError(f"unknown edge type key {key!r}; known: {[e.key for e in ALL_EDGE_TYPES]}")


def edge_types_of(relation: str) -> tuple[EdgeType, ...]:
    """All edge types with relation name ``relation`` (e.g. ``"uses_identifier"``).

    Raises:
        ValueError: no edge type has that relation.
    """
    found = tuple(e for e in ALL_EDGE_TYPES if e.relation == relation)
    if not found:
        raise ValueError(f"unknown relation {relation!r}; known: {sorted({e.relation for e in ALL_EDGE_TYPES})}")
    return found


def raw_id_col(column: str) -> Column:
    """Spark expression stripping the ``<type>:`` prefix of a typed-id column (inverse of :func:`typed_id_col`)."""
    from pyspark.sql import functions as F

    return F.regexp_extract(F.col(column), r"^[a-z_]+:(.*)$", 1)


def node_type_col(column: str) -> Column:
    """Spark expression giving the node type prefix of a typed-id column."""
    from pyspark.sql import functions as F

    return F.regexp_extract(F.col(column), r"^([a-z_]+):", 1)


def typed_id_col(node_type: NodeType | str, column: str) -> Column:
    """Spark column expression building ``<node_type>:<column>`` (see :func:`typed_id`)."""
    from pyspark.sql import functions as F

    return F.concat(F.lit(f"{NodeType(node_type)}{SEPARATOR}"), F.col(column).cast("string"))
