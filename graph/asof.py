"""The graph as it was at a date: events strictly before ``as_of`` only.

Training features at ``D - window`` and scoring features at ``D`` must see the
graph of their own date, not tonight's.  The graph stage keeps the event table
(:data:`fraudmine.graph.schemas.EVENTS_SCHEMA`); an edge as of ``D`` aggregates
the events of its ``(src, dst, edge_type)`` with ``ts < D``.  Events without a
time are kept (they are undated facts such as a brand claim on a listing whose
creation time is itself before ``D``).
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraudmine.graph import schemas as S


def events_as_of(events: DataFrame, as_of: datetime | None) -> DataFrame:
    """Events strictly before ``as_of`` (all of them when ``as_of`` is ``None``).

    Args:
        events: event table (:data:`~fraudmine.graph.schemas.EVENTS_SCHEMA`).
        as_of: cut-off instant (timezone-aware or UTC-naive).
    """
    if as_of is None:
        return events
    return events.where(F.col(S.TS).isNull() | (F.col(S.TS) < F.lit(as_of)))


def edges_as_of(events: DataFrame, as_of: datetime | None = None, edge_types: list[str] | None = None) -> DataFrame:
    """Aggregate events into typed edges as of a date (schema :data:`~fraudmine.graph.schemas.EDGES_SCHEMA`).

    Args:
        events: event table.
        as_of: only events with ``ts < as_of`` count (``None``: every event).
        edge_types: restrict to these edge-type keys (``EdgeType.key``); ``None`` keeps all.

    Returns:
        One row per ``(src, dst, edge_type)``: summed weight, event count, first and last event time.
    """
    ev = events_as_of(events, as_of)
    if edge_types is not None:
        ev = ev.where(F.col(S.EDGE_TYPE).isin(list(edge_types)))
    out = ev.groupBy(S.SRC, S.DST, S.EDGE_TYPE).agg(
        F.sum(S.WEIGHT).cast("double").alias(S.WEIGHT),
        F.count(F.lit(1)).alias(S.N_EVENTS),
        F.min(S.TS).alias(S.FIRST_TS),
        F.max(S.TS).alias(S.LAST_TS),
    )
    return S.check_schema(out, S.EDGES_SCHEMA, "graph.edges")


def nodes_as_of(nodes: DataFrame, as_of: datetime | None) -> DataFrame:
    """Nodes created strictly before ``as_of`` (nodes without a creation time are kept)."""
    if as_of is None:
        return nodes
    return nodes.where(F.col(S.CREATED_AT).isNull() | (F.col(S.CREATED_AT) < F.lit(as_of)))
