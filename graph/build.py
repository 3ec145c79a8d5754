"""Build the typed heterogeneous graph from clean tables.

Nodes: merchants, creators, products, brands, buyers (seen in orders, reviews,
reports or identities), reports and identifiers (one node per ``(identifier_type,
identifier_hash)``; the hash is the keyed hash from the contract, never a raw
value).  Edges: one row per distinct ``(src, dst, edge_type)`` with the number of
underlying events, a weight and the first/last event time.  All node ids are
typed (:mod:`fraudmine.contracts.ids`).  The event table (one row per order,
review, report, identity observation...) is kept too, so the graph as of any
earlier date is a filter and a group-by away (:mod:`fraudmine.graph.asof`).

Identifier nodes used by at least ``hub_min_degree`` accounts are flagged
``is_hub``: shared office Wi-Fi or marketplace warehouse addresses link many
innocent accounts and are not evidence of common control.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from fraudmine.contracts import ids
from fraudmine.contracts.ids import EdgeType, NodeType, typed_id_col
from fraudmine.graph import schemas as S
from fraudmine.graph.asof import edges_as_of


def _null_ts() -> Column:
    return F.lit(None).cast("timestamp")


def _entity_nodes(df: DataFrame, node_type: NodeType, id_col: str, ts_col: str | None) -> DataFrame:
    return df.select(
        typed_id_col(node_type, id_col).alias(S.NODE_ID),
        F.lit(str(node_type)).alias(S.NODE_TYPE),
        F.col(id_col).alias(S.RAW_ID),
        (F.col(ts_col) if ts_col else _null_ts()).alias(S.CREATED_AT),
    )


def identifier_raw_id(type_col: str = "identifier_type", hash_col: str = "identifier_hash") -> Column:
    """Raw id of an identifier node: ``<identifier_type>:<keyed hash>``."""
    return F.concat_ws(":", F.col(type_col), F.col(hash_col))


def identifier_degrees(identities: DataFrame, hub_min_degree: int) -> DataFrame:
    """Distinct accounts per identifier, and whether the identifier is a public hub.

    Returns:
        DataFrame ``[identifier_type, identifier_hash, degree, is_hub]``.
    """
    return (
        identities.select("identifier_type", "identifier_hash", "entity_type", "entity_id")
        .distinct()
        .groupBy("identifier_type", "identifier_hash")
        .agg(F.count(F.lit(1)).alias(S.DEGREE))
        .withColumn(S.IS_HUB, F.col(S.DEGREE) >= F.lit(hub_min_degree))
    )


def _buyer_ids(t: Mapping[str, DataFrame]) -> DataFrame:
    parts = [
        t["orders"].select(F.col("buyer_id").alias("b"), F.col("ordered_at").alias("ts")),
        t["reviews"].select(F.col("buyer_id").alias("b"), F.col("reviewed_at").alias("ts")),
        t["reports"].select(F.col("reporter_id").alias("b"), F.col("reported_at").alias("ts")),
        t["identities"]
        .where(F.col("entity_type") == "buyer")
        .select(F.col("entity_id").alias("b"), F.col("first_seen").alias("ts")),
    ]
    union = parts[0]
    for p in parts[1:]:
        union = union.unionByName(p)
    return union.groupBy("b").agg(F.min("ts").alias("ts"))


def build_nodes(t: Mapping[str, DataFrame], hub_min_degree: int) -> DataFrame:
    """All typed nodes of the marketplace graph (schema :data:`graph.schemas.NODES_SCHEMA`).

    Args:
        t: clean tables by name (validated raw contract tables).
        hub_min_degree: identifier degree from which it is flagged a public hub.
    """
    no_hub = [F.lit(None).cast("long").alias(S.DEGREE), F.lit(None).cast("boolean").alias(S.IS_HUB)]
    entity_parts = [
        _entity_nodes(t["merchants"], NodeType.MERCHANT, "merchant_id", "registered_at"),
        _entity_nodes(t["creators"], NodeType.CREATOR, "creator_id", "registered_at"),
        _entity_nodes(t["products"], NodeType.PRODUCT, "product_id", "created_at"),
        _entity_nodes(t["brands"], NodeType.BRAND, "brand_id", None),
        _entity_nodes(_buyer_ids(t), NodeType.BUYER, "b", "ts"),
        _entity_nodes(t["reports"], NodeType.REPORT, "report_id", "reported_at"),
    ]
    nodes = entity_parts[0].select("*", *no_hub)
    for p in entity_parts[1:]:
        nodes = nodes.unionByName(p.select("*", *no_hub))
    degrees = identifier_degrees(t["identities"], hub_min_degree)
    first_seen = t["identities"].groupBy("identifier_type", "identifier_hash").agg(F.min("first_seen").alias("fs"))
    ident = degrees.join(first_seen, ["identifier_type", "identifier_hash"]).select(
        F.concat(F.lit(f"{NodeType.IDENTIFIER}{ids.SEPARATOR}"), identifier_raw_id()).alias(S.NODE_ID),
        F.lit(str(NodeType.IDENTIFIER)).alias(S.NODE_TYPE),
        identifier_raw_id().alias(S.RAW_ID),
        F.col("fs").alias(S.CREATED_AT),
        F.col(S.DEGREE),
        F.col(S.IS_HUB),
    )
    return S.check_schema(nodes.unionByName(ident), S.NODES_SCHEMA, "graph.nodes")


def _events(
    df: DataFrame, et: EdgeType, src: Column, dst: Column, ts: Column, weight: Column | None = None
) -> DataFrame:
    return df.select(
        src.alias(S.SRC),
        dst.alias(S.DST),
        F.lit(et.key).alias(S.EDGE_TYPE),
        ts.alias(S.TS),
        (weight if weight is not None else F.lit(1.0)).cast("double").alias(S.WEIGHT),
    ).where(F.col(S.SRC).isNotNull() & F.col(S.DST).isNotNull())


def build_report_attrs(t: Mapping[str, DataFrame]) -> DataFrame:
    """Attributes of report nodes (schema :data:`graph.schemas.REPORTS_SCHEMA`).

    Args:
        t: clean tables by name (uses ``reports``).
    """
    out = t["reports"].select(
        typed_id_col(NodeType.REPORT, "report_id").alias(S.NODE_ID),
        F.col("reason").alias(S.REASON),
        F.col("outcome").alias(S.OUTCOME),
        F.col("reviewed_at").alias(S.REVIEWED_AT),
    )
    return S.check_schema(out, S.REPORTS_SCHEMA, "graph.reports")


def build_events(t: Mapping[str, DataFrame]) -> DataFrame:
    """Every event of the typed graph, one row each (schema :data:`graph.schemas.EVENTS_SCHEMA`).

    Relations: ``sells`` (listing created), ``claims`` (listing claims a brand),
    ``authorised_for`` (authorisation valid from), ``promotes``, ``uses_identifier``
    (first seen), ``orders`` (weight = amount), ``reviews``, ``files`` (reporter →
    report) and ``targets`` (report → merchant / creator / product).

    Args:
        t: clean tables by name.
    """
    tid = typed_id_col
    ident_dst = F.concat(F.lit(f"{NodeType.IDENTIFIER}{ids.SEPARATOR}"), identifier_raw_id())
    idt = t["identities"]
    reports = t["reports"]
    parts = [
        _events(
            t["products"], ids.SELLS, tid("merchant", "merchant_id"), tid("product", "product_id"), F.col("created_at")
        ),
        _events(
            t["products"].where(F.col("brand_id").isNotNull()),
            ids.CLAIMS_BRAND,
            tid("product", "product_id"),
            tid("brand", "brand_id"),
            F.col("created_at"),
        ),
        _events(
            t["brand_authorizations"],
            ids.AUTHORIZED_FOR,
            tid("merchant", "merchant_id"),
            tid("brand", "brand_id"),
            F.col("valid_from"),
        ),
        _events(
            t["promotions"],
            ids.PROMOTES,
            tid("creator", "creator_id"),
            tid("product", "product_id"),
            F.col("started_at"),
        ),
        _events(
            t["orders"],
            ids.ORDERED,
            tid("buyer", "buyer_id"),
            tid("product", "product_id"),
            F.col("ordered_at"),
            F.col("amount"),
        ),
        _events(
            t["reviews"], ids.REVIEWED, tid("buyer", "buyer_id"), tid("product", "product_id"), F.col("reviewed_at")
        ),
        _events(reports, ids.FILES, tid("buyer", "reporter_id"), tid("report", "report_id"), F.col("reported_at")),
    ]
    for et in ids.USES_IDENTIFIER:
        parts.append(
            _events(
                idt.where(F.col("entity_type") == str(et.src)),
                et,
                tid(et.src, "entity_id"),
                ident_dst,
                F.col("first_seen"),
            )
        )
    for et in ids.TARGETS:
        parts.append(
            _events(
                reports.where(F.col("target_type") == str(et.dst)),
                et,
                tid("report", "report_id"),
                tid(et.dst, "target_id"),
                F.col("reported_at"),
            )
        )
    for et in (ids.REPORTED_MERCHANT, ids.REPORTED_CREATOR, ids.REPORTED_PRODUCT):
        parts.append(
            _events(
                reports.where(F.col("target_type") == str(et.dst)),
                et,
                tid("buyer", "reporter_id"),
                tid(et.dst, "target_id"),
                F.col("reported_at"),
            )
        )
    events = parts[0]
    for part in parts[1:]:
        events = events.unionByName(part)
    return S.check_schema(events, S.EVENTS_SCHEMA, "graph.events")


def build_edges(t: Mapping[str, DataFrame], as_of: datetime | None = None) -> DataFrame:
    """All typed edges (schema :data:`graph.schemas.EDGES_SCHEMA`), one row per (src, dst, edge_type).

    Args:
        t: clean tables by name.
        as_of: if given, only events strictly before it (see :func:`fraudmine.graph.asof.edges_as_of`).
    """
    return edges_as_of(build_events(t), as_of)
