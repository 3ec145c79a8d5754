"""Per-entity cluster facts the risk models join (``clusters/entity_features``).

One row per entity that is in a cluster or has filed a report, keyed by the typed
``node_id``.  Label-derived columns are **out of fold**: entities are split into
``n_folds`` folds by a seeded hash of their id, and an entity's
``*_bad_members_oof`` counts only members of *other* folds whose latest label
known before ``as_of`` is ``fraud`` — its own label, and the labels of its fold,
never feed its features.  Everything else is label-free graph evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.window import Window

from fraudmine.graph import schemas as S
from fraudmine.graph.clusters import CLUSTER_ID

FOLD = "fold"

ENTITY_FEATURES_SCHEMA = T.StructType(
    [
        T.StructField(S.NODE_ID, T.StringType(), False),
        T.StructField("entity_type", T.StringType(), False),
        T.StructField("entity_id", T.StringType(), False),
        T.StructField("as_of", T.TimestampType(), False),
        T.StructField("identity_cluster_size", T.LongType(), False),
        T.StructField("identity_cluster_risk", T.DoubleType(), False),
        T.StructField("identity_registration_spread_days", T.DoubleType(), True),
        T.StructField("identity_bad_members_oof", T.LongType(), False),
        T.StructField("identity_labelled_members_oof", T.LongType(), False),
        T.StructField("collusion_cluster_size", T.LongType(), False),
        T.StructField("collusion_cluster_risk", T.DoubleType(), False),
        T.StructField("collusion_bad_members_oof", T.LongType(), False),
        T.StructField("collusion_labelled_members_oof", T.LongType(), False),
        T.StructField("brushing_blocks", T.LongType(), False),
        T.StructField("brushing_max_risk", T.DoubleType(), False),
        T.StructField("reporter_ring_size", T.LongType(), False),
        T.StructField("reporter_ring_risk", T.DoubleType(), False),
        T.StructField("reporter_credibility", T.DoubleType(), True),
        T.StructField("reporter_n_reviewed", T.LongType(), False),
    ]
)

KIND_COLUMN_PREFIX: dict[str, str] = {
    "identity": "identity_",
    "collusion": "collusion_",
    "brushing": "brushing_",
    "reporter_rings": "reporter_",
}
"""Prefix of the :data:`ENTITY_FEATURES_SCHEMA` columns each cluster kind gives (``reporter_rings``: rings and
reporter credibility)."""


def entity_features_schema(kinds: Sequence[str] = tuple(KIND_COLUMN_PREFIX)) -> T.StructType:
    """:data:`ENTITY_FEATURES_SCHEMA` restricted to the key columns and those of ``kinds``.

    Raises:
        ValueError: an unknown kind (naming the known ones).
    """
    unknown = [k for k in kinds if k not in KIND_COLUMN_PREFIX]
    if unknown:
        raise ValueError(f"entity_features: unknown cluster kind(s) {unknown}; kinds are {list(KIND_COLUMN_PREFIX)}")
    prefixes = tuple(KIND_COLUMN_PREFIX[k] for k in kinds)
    fields = ENTITY_FEATURES_SCHEMA.fields
    return T.StructType(fields[:4] + [f for f in fields[4:] if f.name.startswith(prefixes)])


def latest_bad_labels(labels: DataFrame, as_of: datetime) -> DataFrame:
    """``[node_id, is_bad]`` from the latest label of each entity known strictly before ``as_of``.

    Args:
        labels: clean ``labels`` table (entity_type, entity_id, label, labelled_at).
        as_of: cut-off instant.
    """
    known = labels.where(F.col("labelled_at") < F.lit(as_of)).withColumn(
        S.NODE_ID, F.concat_ws(":", "entity_type", "entity_id")
    )
    w = Window.partitionBy(S.NODE_ID).orderBy(F.col("labelled_at").desc(), F.col("label"))
    latest = known.withColumn("_r", F.row_number().over(w)).where(F.col("_r") == 1)
    return latest.select(S.NODE_ID, (F.col("label") == "fraud").alias("is_bad"))


def fold_col(node_col: str, n_folds: int, seed: int) -> Column:
    """Fold of an entity: ``pmod(xxhash64(node_id, seed), n_folds)``."""
    return F.pmod(F.xxhash64(F.col(node_col), F.lit(seed)), F.lit(n_folds))


def oof_member_counts(members: DataFrame, bad: DataFrame, n_folds: int, seed: int, prefix: str) -> DataFrame:
    """Out-of-fold labelled and bad member counts per member.

    Args:
        members: ``[cluster_id, node_id]``.
        bad: ``[node_id, is_bad]`` (labelled entities only).
        n_folds, seed: fold assignment.
        prefix: output column prefix.

    Returns:
        ``[node_id, <prefix>_bad_members_oof, <prefix>_labelled_members_oof]`` (summed over the
        entity's clusters of this kind).
    """
    m = members.select(CLUSTER_ID, S.NODE_ID).withColumn(FOLD, fold_col(S.NODE_ID, n_folds, seed))
    lab = m.join(bad, S.NODE_ID)
    per_fold = lab.groupBy(CLUSTER_ID, FOLD).agg(
        F.count(F.lit(1)).alias("_l"), F.sum(F.col("is_bad").cast("long")).alias("_b")
    )
    tot = per_fold.groupBy(CLUSTER_ID).agg(F.sum("_l").alias("_lt"), F.sum("_b").alias("_bt"))
    j = m.join(tot, CLUSTER_ID, "left").join(per_fold, [CLUSTER_ID, FOLD], "left").fillna(0, ["_l", "_b", "_lt", "_bt"])
    return j.groupBy(S.NODE_ID).agg(
        F.sum(F.col("_bt") - F.col("_b")).cast("long").alias(f"{prefix}_bad_members_oof"),
        F.sum(F.col("_lt") - F.col("_l")).cast("long").alias(f"{prefix}_labelled_members_oof"),
    )


def _cluster_facts(clusters: DataFrame, members: DataFrame, prefix: str) -> DataFrame:
    c = clusters.select(CLUSTER_ID, "size", "risk", "registration_spread_days")
    j = members.select(CLUSTER_ID, S.NODE_ID).join(c, CLUSTER_ID)
    return j.groupBy(S.NODE_ID).agg(
        F.max("size").cast("long").alias(f"{prefix}_cluster_size"),
        F.max("risk").cast("double").alias(f"{prefix}_cluster_risk"),
        F.max("registration_spread_days").alias(f"{prefix}_registration_spread_days"),
    )


def entity_features(
    clusters: dict[str, DataFrame],
    members: dict[str, DataFrame],
    credibility: DataFrame | None,
    labels: DataFrame,
    as_of: datetime,
    n_folds: int,
    seed: int = 0,
) -> DataFrame:
    """The per-entity feature table (schema :func:`entity_features_schema` of the kinds in ``clusters``).

    With all four kinds this is :data:`ENTITY_FEATURES_SCHEMA`; a kind left out of ``clusters`` (the
    training-date mining needs identity and collusion only) leaves out its columns, and its members do not
    add rows.

    Args:
        clusters: cluster rows by kind (``identity``, ``collusion``, ``brushing``, ``reporter_rings``; any subset
            in that order).
        members: ``[cluster_id, node_id]`` by kind (only members of reported clusters).
        credibility: output of :func:`fraudmine.graph.reporters.reporter_credibility` (required with
            ``reporter_rings``, unused without).
        labels: clean ``labels`` table; only labels before ``as_of`` are read.
        as_of: the date the features describe.
        n_folds, seed: out-of-fold split of the label counts.

    Raises:
        ValueError: an unknown kind, or ``reporter_rings`` without ``credibility``.
    """
    schema = entity_features_schema(list(clusters))
    bad = latest_bad_labels(labels, as_of)
    parts: list[DataFrame] = []
    if "identity" in clusters:
        parts.append(
            _cluster_facts(clusters["identity"], members["identity"], "identity").join(
                oof_member_counts(members["identity"], bad, n_folds, seed, "identity"), S.NODE_ID, "left"
            )
        )
    if "collusion" in clusters:
        coll = _cluster_facts(clusters["collusion"], members["collusion"], "collusion").drop(
            "collusion_registration_spread_days"
        )
        parts.append(
            coll.join(oof_member_counts(members["collusion"], bad, n_folds, seed, "collusion"), S.NODE_ID, "left")
        )
    if "brushing" in clusters:
        parts.append(
            members["brushing"]
            .join(clusters["brushing"].select(CLUSTER_ID, "risk"), CLUSTER_ID)
            .groupBy(S.NODE_ID)
            .agg(F.count(F.lit(1)).alias("brushing_blocks"), F.max("risk").alias("brushing_max_risk"))
        )
    if "reporter_rings" in clusters:
        if credibility is None:
            raise ValueError("entity_features: the reporter_rings columns need the reporter credibility")
        parts.append(
            members["reporter_rings"]
            .join(clusters["reporter_rings"].select(CLUSTER_ID, "size", "risk"), CLUSTER_ID)
            .groupBy(S.NODE_ID)
            .agg(F.max("size").alias("reporter_ring_size"), F.max("risk").alias("reporter_ring_risk"))
        )
        parts.append(
            credibility.select(
                S.NODE_ID,
                F.col("credibility").alias("reporter_credibility"),
                F.col("n_reviewed").alias("reporter_n_reviewed"),
            )
        )
    if not parts:
        raise ValueError(f"entity_features: no cluster kind given; kinds are {list(KIND_COLUMN_PREFIX)}")
    out = parts[0]
    for part in parts[1:]:
        out = out.join(part, S.NODE_ID, "full")
    fill: dict[str, bool | float | int | str] = {
        f.name: 0
        for f in schema.fields[4:]
        if f.name not in ("identity_registration_spread_days", "reporter_credibility")
    }
    out = out.fillna(fill)
    out = out.select(
        S.NODE_ID,
        F.regexp_extract(S.NODE_ID, r"^([a-z_]+):", 1).alias("entity_type"),
        F.regexp_extract(S.NODE_ID, r"^[a-z_]+:(.*)$", 1).alias("entity_id"),
        F.lit(as_of).cast("timestamp").alias("as_of"),
        *[F.col(f.name).cast(f.dataType) for f in schema.fields[4:]],
    )
    return S.check_schema(out, schema, "clusters.entity_features")
