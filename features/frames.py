"""Small shared building blocks of the per-entity feature modules.

Every helper takes explicit frames and an ``as_of`` instant; nothing reads a clock or a session.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from fraudmine.graph.build import identifier_degrees

CLUSTER_COLUMNS: tuple[str, ...] = (
    "identity_cluster_size",
    "identity_cluster_risk",
    "identity_bad_members_oof",
    "collusion_cluster_size",
    "collusion_cluster_risk",
    "collusion_bad_members_oof",
    "brushing_blocks",
    "brushing_max_risk",
    "reporter_ring_size",
    "reporter_ring_risk",
    "reporter_credibility",
    "reporter_n_reviewed",
)
"""Columns of the ``clusters`` stage's ``entity_features`` the entity modules may join."""


def before(df: DataFrame, col: str, as_of: datetime) -> DataFrame:
    """Rows whose ``col`` is strictly before ``as_of`` (the point-in-time cut of every feature)."""
    return df.where(F.col(col) < F.lit(as_of))


def days_between(ts_col: str, as_of: datetime) -> Column:
    """Days from ``ts_col`` to ``as_of`` (fractional)."""
    return (F.lit(as_of).cast("long") - F.col(ts_col).cast("long")) / 86400.0


def cluster_facts(
    entity_features: DataFrame | None, entity_type: str, id_col: str, cols: Sequence[str]
) -> DataFrame | None:
    """The ``clusters`` stage's per-entity facts of one entity type, keyed by its raw id.

    Args:
        entity_features: ``clusters/entity_features[_train]`` (``ENTITY_FEATURES_SCHEMA``; ``_train`` has only the
            identity and collusion columns) or ``None``.
        entity_type: node type whose rows to keep (``buyer`` for reporters too).
        id_col: name of the raw id column in the result.
        cols: columns of :data:`CLUSTER_COLUMNS` to keep.

    Returns:
        ``[id_col, *cols]`` or ``None`` when the table is missing (the caller fills zeros).
    """
    if entity_features is None:
        return None
    return entity_features.where(F.col("entity_type") == entity_type).select(F.col("entity_id").alias(id_col), *cols)


def join_cluster_facts(out: DataFrame, facts: DataFrame | None, id_col: str, cols: Sequence[str]) -> DataFrame:
    """Left-join :func:`cluster_facts` onto ``out``; missing rows (and a missing table) give 0.

    ``reporter_credibility`` stays null when unknown (no reviewed report), like the clusters stage.
    """
    if facts is None:
        out = out.select("*", *[F.lit(None).cast("double").alias(c) for c in cols])
    else:
        out = out.join(facts, id_col, "left")
    zero = [c for c in cols if c != "reporter_credibility"]
    return out.fillna(0, subset=zero)


def shared_identifier_links(
    identities: DataFrame, as_of: datetime, hub_min_degree: int, entity_type: str
) -> tuple[DataFrame, DataFrame]:
    """Identifier sharing of one entity type as of a date.

    Returns:
        ``(counts, pairs)``: counts ``[entity_id, n_identifiers, n_shared_identifiers]`` (shared: a
        non-hub identifier held by at least two accounts); pairs ``[entity_id, other_type, other_id]``
        of the accounts it shares a non-hub identifier with (itself excluded).
    """
    idt = before(identities, "first_seen", as_of)
    deg = identifier_degrees(idt, hub_min_degree)
    idt = idt.join(deg, ["identifier_type", "identifier_hash"])
    mine = idt.where(F.col("entity_type") == entity_type)
    counts = mine.groupBy("entity_id").agg(
        F.countDistinct("identifier_type", "identifier_hash").alias("n_identifiers"),
        F.countDistinct(
            F.when((F.col("degree") >= 2) & ~F.col("is_hub"), F.concat_ws(":", "identifier_type", "identifier_hash"))
        ).alias("n_shared_identifiers"),
    )
    ev = mine.where(~F.col("is_hub") & (F.col("degree") >= 2)).select("entity_id", "identifier_type", "identifier_hash")
    others = idt.where(~F.col("is_hub")).select(
        F.col("entity_type").alias("other_type"),
        F.col("entity_id").alias("other_id"),
        "identifier_type",
        "identifier_hash",
    )
    pairs = (
        ev.join(others, ["identifier_type", "identifier_hash"])
        .where(~((F.col("other_type") == entity_type) & (F.col("other_id") == F.col("entity_id"))))
        .select("entity_id", "other_type", "other_id")
        .distinct()
    )
    return counts, pairs


def as_doubles(out: DataFrame, id_col: str, as_of: datetime, columns: Sequence[str]) -> DataFrame:
    """Final layout ``[id_col, as_of, *columns]`` with every feature a double; counts (``n_*``) 0 when null."""
    out = out.fillna(0, subset=[c for c in columns if c.startswith("n_")])
    return out.select(
        id_col, F.lit(as_of).cast("timestamp").alias("as_of"), *[F.col(c).cast("double").alias(c) for c in columns]
    )
