"""What the decision stage reads, which of it is optional, and how optional tables are normalised.

Required: the clean ``moderation_queue``, ``products``, ``merchants``, ``creators``,
``identities``, ``labels``, ``reports``, ``brands``, ``brand_authorizations`` and
``orders`` tables of the run, and its ``scores``.  Optional (a run may lack them;
the facts that need them are then null, the rules testing them cannot fire, and
the KPIs and the report list them as missing):

- scores of each entity type (``scores.merchant``, ``scores.product``, ``scores.creator``):
  rows of the one scores table (``SCORES_DDL``) with that ``entity_type``;
- cluster tables ``clusters/<kind>`` for kind in :data:`~fraudmine.decisions.facts.CLUSTER_KINDS`;
- ``brand_violations`` (listing-level brand abuse with evidence);
- ``moderation_outcomes`` (the optional raw table of moderator verdicts).

Cluster tables are accepted in either of two shapes, normalised by
:func:`cluster_members` to ``[cluster_id, entity_type, entity_id, size, risk, evidence]``:

- one row per member: ``cluster_id``, ``entity_type``, ``entity_id`` (raw id or typed
  ``merchant:<id>``), optional ``size``, ``risk``, ``evidence`` (string or array of strings);
- one row per cluster: ``cluster_id``, ``members`` (array of typed ids), optional
  ``size``, ``risk``, ``evidence``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from fraudmine.contracts.ids import SEPARATOR
from fraudmine.decisions.cluster_text import cluster_evidence_text
from fraudmine.decisions.facts import CLUSTER_KINDS, ROLE_ENTITY

#: Entity-type aliases accepted in scores and cluster tables.
ENTITY_ALIASES: dict[str, str] = {"listing": "product", "seller": "merchant"}

REQUIRED_TABLES: tuple[str, ...] = (
    "moderation_queue",
    "products",
    "merchants",
    "creators",
    "identities",
    "labels",
    "reports",
    "brands",
    "brand_authorizations",
    "orders",
)


class InputError(ValueError):
    """A decision input is missing a required column; the message names the table and the columns present."""


def require_columns(df: DataFrame, table: str, columns: tuple[str, ...]) -> None:
    """Raise :class:`InputError` naming ``table`` if any of ``columns`` is missing."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"{table}: missing column(s) {missing}; present: {df.columns}")


@dataclass
class DecisionInputs:
    """The tables one decision run reads (see the module docstring).

    Attributes:
        tables: clean raw tables by name (at least :data:`REQUIRED_TABLES`; ``moderation_outcomes``
            may be absent or empty).
        scores: the run's scores (``SCORES_DDL``), every entity type present.
        clusters: cluster tables by kind, only those the run has.
        brand_violations: listing-level violations (``product_id`` + optional ``evidence``), if any.
    """

    tables: dict[str, DataFrame]
    scores: DataFrame
    clusters: dict[str, DataFrame] = field(default_factory=dict)
    brand_violations: DataFrame | None = None

    def __post_init__(self) -> None:
        """Check required tables and normalise scores' entity types.

        Raises:
            InputError: a required table is missing, or a table lacks required columns.
        """
        missing = [t for t in REQUIRED_TABLES if t not in self.tables]
        if missing:
            raise InputError(f"decision inputs: missing table(s) {missing}")
        require_columns(self.scores, "scores", ("entity_type", "entity_id", "fraud_risk", "risk_band"))
        unknown = sorted(set(self.clusters) - set(CLUSTER_KINDS))
        if unknown:
            raise InputError(f"clusters: unknown kind(s) {unknown}; known: {sorted(CLUSTER_KINDS)}")
        self.scores = self.scores.withColumn("entity_type", _canonical_type(F.col("entity_type")))

    @property
    def outcomes(self) -> DataFrame | None:
        """The moderator outcomes table, or ``None`` when the run has none."""
        return self.tables.get("moderation_outcomes")

    def available(self, scored_types: set[str], has_outcomes: bool) -> dict[str, bool]:
        """Input name → present, for the KPIs and the report.

        Args:
            scored_types: entity types with at least one score row (one Spark action, done by the caller).
            has_outcomes: whether the outcomes table has any row.
        """
        out = {f"scores.{e}": e in scored_types for e in sorted(set(ROLE_ENTITY.values()))}
        out.update({f"clusters.{k}": k in self.clusters for k in CLUSTER_KINDS})
        out["brand_violations"] = self.brand_violations is not None
        out["moderation_outcomes"] = has_outcomes
        return out


def _canonical_type(col: Column) -> Column:
    expr = col
    for alias, canonical in ENTITY_ALIASES.items():
        expr = F.when(col == alias, F.lit(canonical)).otherwise(expr)
    return expr


def _evidence_text(df: DataFrame, kind: str) -> Column:
    """The cluster's evidence as a sentence: the first three of an array, a JSON object summarised
    (:func:`~fraudmine.decisions.cluster_text.cluster_evidence_text`), other text as it is."""
    if "evidence" not in df.columns:
        return F.lit(None).cast("string")
    dtype = df.schema["evidence"].dataType
    if isinstance(dtype, T.ArrayType):
        return F.concat_ws("; ", F.slice(F.col("evidence"), 1, 3))
    text = F.udf(lambda s: cluster_evidence_text(kind, s), T.StringType())
    return text(F.col("evidence").cast("string"))


def cluster_members(df: DataFrame, kind: str) -> DataFrame:
    """Normalise a cluster table to one row per member.

    Returns:
        ``[cluster_id, entity_type, entity_id, size, risk, evidence]`` with raw entity ids,
        canonical entity types and ``size`` counted from the members when the table has none.

    Raises:
        InputError: the table has neither member rows nor a ``members`` column.
    """
    table = f"clusters/{kind}"
    require_columns(df, table, ("cluster_id",))
    base = df.select(
        F.col("cluster_id").cast("string").alias("cluster_id"),
        *([F.col("members")] if "members" in df.columns else []),
        *([F.col("entity_type"), F.col("entity_id")] if "entity_id" in df.columns else []),
        (F.col("size").cast("long") if "size" in df.columns else F.lit(None).cast("long")).alias("size"),
        (F.col("risk").cast("double") if "risk" in df.columns else F.lit(None).cast("double")).alias("risk"),
        _evidence_text(df, kind).alias("evidence"),
    )
    if "members" in df.columns:
        typed = base.select("*", F.explode("members").alias("_m"))
        parts = F.split(F.col("_m"), SEPARATOR, 2)
        rows = typed.select(
            "cluster_id",
            parts.getItem(0).alias("entity_type"),
            parts.getItem(1).alias("entity_id"),
            "size",
            "risk",
            "evidence",
        )
    elif "entity_id" in df.columns:
        require_columns(df, table, ("entity_type",))
        parts = F.split(F.col("entity_id"), SEPARATOR, 2)
        typed_id = F.size(parts) == 2
        rows = base.select(
            "cluster_id",
            F.col("entity_type").cast("string").alias("entity_type"),
            F.when(typed_id, parts.getItem(1)).otherwise(F.col("entity_id")).alias("entity_id"),
            "size",
            "risk",
            "evidence",
        )
    else:
        raise InputError(f"{table}: needs member rows (entity_type, entity_id) or a 'members' array; has {df.columns}")
    rows = rows.withColumn("entity_type", _canonical_type(F.col("entity_type")))
    counted = rows.groupBy("cluster_id").agg(F.countDistinct("entity_type", "entity_id").alias("_n"))
    return (
        rows.join(counted, "cluster_id")
        .withColumn("size", F.coalesce("size", "_n"))
        .drop("_n")
        .dropDuplicates(["cluster_id", "entity_type", "entity_id"])
    )
