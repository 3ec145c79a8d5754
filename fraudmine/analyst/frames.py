"""Build the analyst property graph of a run as Spark DataFrames, one per file group.

Pure transforms over the run's tables (explicit inputs, no session state):

* node groups, one per label (ID space): the typed graph's nodes with their
  display attributes (:data:`~fraudmine.analyst.model.ATTRIBUTES`), scores and
  cluster ids; plus one group of cluster nodes;
* relationship groups, one per registered edge type present in the graph (its
  ``key`` names the group), plus ``MEMBER_OF`` per member label and ``VIOLATES``.

Every group's DataFrame has the columns ``[id, labels]`` (nodes) or ``[start, end,
type]`` (relationships) followed by its properties, in header order.  An edge type
found in the graph but not in the registry is rejected (allow-list).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from fraudmine.analyst import model as M
from fraudmine.analyst.model import Prop
from fraudmine.contracts import ids
from fraudmine.contracts.ids import NodeType
from fraudmine.graph import schemas as S

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeGroup:
    """Nodes of one ID space: ``df`` columns ``[id, labels, *props]``."""

    id_space: str
    props: tuple[Prop, ...]
    df: DataFrame


@dataclass(frozen=True)
class RelGroup:
    """Relationships of one file group: ``df`` columns ``[start, end, type, *props]``."""

    name: str
    rel_type: str
    start_space: str
    end_space: str
    props: tuple[Prop, ...]
    df: DataFrame


@dataclass(frozen=True)
class RunTables:
    """The run outputs the export reads; everything but ``nodes``/``edges`` is optional.

    Attributes:
        nodes: ``graph/nodes`` (``NODES_SCHEMA``).
        edges: ``graph/edges`` (``EDGES_SCHEMA``).
        scores: ``scores/`` (``SCORES_DDL``) or None.
        members: normalised cluster members ``[cluster_key, member, role]`` or None.
        clusters: normalised clusters ``[cluster_key, kind, cluster_id, size, risk, evidence]`` or None.
        attributes: clean tables by name (``merchants``, ``products`` ...) for display attributes.
        brand_violations: ``brand_violations/`` or None.
    """

    nodes: DataFrame
    edges: DataFrame
    scores: DataFrame | None = None
    members: DataFrame | None = None
    clusters: DataFrame | None = None
    attributes: Mapping[str, DataFrame] | None = None
    brand_violations: DataFrame | None = None


def _typed(col: Column, prop: Prop) -> Column:
    cast = {
        "string": "string",
        "long": "long",
        "float": "double",
        "boolean": "boolean",
        "datetime": "timestamp",
        "string[]": "array<string>",
    }[prop.type]
    return col.cast(cast).alias(prop.name)


def _scored_types(scores: DataFrame | None) -> set[str]:
    if scores is None:
        return set()
    return {str(r["entity_type"]) for r in scores.select("entity_type").distinct().collect()}


def _node_group(t: RunTables, node_type: NodeType, scored: set[str]) -> NodeGroup:
    label = M.label_for(node_type)
    nodes = t.nodes.where(F.col(S.NODE_TYPE) == str(node_type))
    props: list[Prop] = list(M.BASE_NODE_PROPS)
    cols: list[Column] = [F.col(S.NODE_ID), F.col(S.CREATED_AT), F.col(S.DEGREE)]
    if node_type == NodeType.IDENTIFIER:
        props += M.IDENTIFIER_PROPS
        cols += [F.substring_index(F.col(S.RAW_ID), ":", 1), F.coalesce(F.col(S.IS_HUB), F.lit(False))]
    df = nodes.select(F.col(S.RAW_ID).alias("id"), *[_typed(c, p) for c, p in zip(cols, props, strict=True)])
    attrs = M.ATTRIBUTES.get(node_type)
    if attrs and t.attributes and attrs[0] in t.attributes:
        table, key, aprops = attrs
        src = t.attributes[table]
        present = [p for p in aprops if p.name in src.columns]
        df = df.join(
            src.select(F.col(key).alias("id"), *[_typed(F.col(p.name), p) for p in present]).dropDuplicates(["id"]),
            "id",
            "left",
        )
        props += present
    if t.scores is not None and str(node_type) in scored:
        s = t.scores.where(F.col("entity_type") == str(node_type)).select(
            F.col("entity_id").alias("id"),
            *[_typed(F.col("top_reasons" if p.name == "reasons" else p.name), p) for p in M.SCORE_PROPS],
        )
        df = df.join(s.dropDuplicates(["id"]), "id", "left")
        props += M.SCORE_PROPS
    if t.members is not None:
        cids = t.members.groupBy(F.col("member").alias(M.NODE_ID)).agg(
            F.array_sort(F.collect_set("cluster_key")).alias(M.CLUSTER_IDS.name)
        )
        df = df.join(cids, M.NODE_ID, "left")
        props.append(M.CLUSTER_IDS)
    labels = ";".join((label, *M.extra_labels(node_type)))
    out = df.select("id", F.lit(labels).alias("labels"), *[p.name for p in props])
    return NodeGroup(label, tuple(props), out)


def _cluster_group(clusters: DataFrame) -> NodeGroup:
    label_of = F.create_map(*[x for kind, lab in M.CLUSTER_KINDS.items() for x in (F.lit(kind), F.lit(lab))])
    df = clusters.select(
        F.col("cluster_key").alias("id"),
        F.concat_ws(";", F.lit(M.CLUSTER), label_of[F.col("kind")]).alias("labels"),
        F.col("cluster_key").alias(M.NODE_ID),
        *[_typed(F.col(p.name), p) for p in M.CLUSTER_NODE_PROPS],
    )
    return NodeGroup(M.CLUSTER, (Prop(M.NODE_ID, "string"), *M.CLUSTER_NODE_PROPS), df)


def node_groups(t: RunTables) -> list[NodeGroup]:
    """One group per node type present in the graph, then the cluster nodes (if any)."""
    present = {str(r[S.NODE_TYPE]) for r in t.nodes.select(S.NODE_TYPE).distinct().collect()}
    scored = _scored_types(t.scores)
    groups = [_node_group(t, nt, scored) for nt in NodeType if str(nt) in present]
    if t.clusters is not None:
        groups.append(_cluster_group(t.clusters))
    return groups


def _check_edge_types(edges: DataFrame) -> list[ids.EdgeType]:
    keys = sorted(str(r[S.EDGE_TYPE]) for r in edges.select(S.EDGE_TYPE).distinct().collect())
    known = {et.key: et for et in ids.ALL_EDGE_TYPES}
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise M.AllowListError(
            f"graph/edges: edge_type(s) {unknown} are not in the registry fraudmine.contracts.ids.ALL_EDGE_TYPES "
            f"(known: {sorted(known)}); register them there to export them"
        )
    return [et for et in ids.ALL_EDGE_TYPES if et.key in keys]


def _strip_type(col: str) -> Column:
    # typed id "<type>:<raw>" -> raw (raw ids of identifiers contain ':' themselves)
    return F.expr(f"substring({col}, instr({col}, ':') + 1)")


def rel_groups(t: RunTables) -> list[RelGroup]:
    """One group per registered edge type present in the graph, ``MEMBER_OF`` per member label, ``VIOLATES``.

    Raises:
        AllowListError: if the graph holds an edge type that is not registered.
    """
    groups: list[RelGroup] = []
    for et in _check_edge_types(t.edges):
        rt = M.check_rel_type(M.rel_type_for(et))
        df = t.edges.where(F.col(S.EDGE_TYPE) == et.key).select(
            _strip_type(S.SRC).alias("start"),
            _strip_type(S.DST).alias("end"),
            F.lit(rt).alias("type"),
            *[_typed(F.col(p.name), p) for p in M.EDGE_PROPS],
        )
        groups.append(RelGroup(et.key, rt, M.label_for(et.src), M.label_for(et.dst), M.EDGE_PROPS, df))
    if t.members is not None:
        member_type = F.substring_index(F.col("member"), ":", 1)
        types = sorted(str(r[0]) for r in t.members.select(member_type).distinct().collect())
        for nt in types:
            space = M.label_for(nt)
            df = t.members.where(member_type == nt).select(
                _strip_type("member").alias("start"),
                F.col("cluster_key").alias("end"),
                F.lit(M.MEMBER_OF).alias("type"),
                F.col("role").cast("string").alias("role"),
            )
            groups.append(RelGroup(f"{nt}__member_of__cluster", M.MEMBER_OF, space, M.CLUSTER, M.MEMBER_PROPS, df))
    if t.brand_violations is not None:
        groups.extend(_violations(t.brand_violations))
    return groups


def _violations(bv: DataFrame) -> list[RelGroup]:
    if not {"product_id", "brand_id"} <= set(bv.columns):
        log.warning("brand_violations has no product_id/brand_id columns (%s): not exported", bv.columns)
        return []
    cols = {p.name: (F.col(p.name) if p.name in bv.columns else F.lit(None)) for p in M.VIOLATION_PROPS}
    if "evidence" in bv.columns and bv.schema["evidence"].dataType.simpleString() != "string":
        cols["evidence"] = F.to_json(F.col("evidence"))
    df = bv.select(
        F.col("product_id").cast("string").alias("start"),
        F.col("brand_id").cast("string").alias("end"),
        F.lit(M.VIOLATES).alias("type"),
        *[_typed(cols[p.name], p) for p in M.VIOLATION_PROPS],
    ).where(F.col("end").isNotNull())
    product, brand = M.label_for(NodeType.PRODUCT), M.label_for(NodeType.BRAND)
    return [RelGroup("product__violates__brand", M.VIOLATES, product, brand, M.VIOLATION_PROPS, df)]
