"""Time-safe labels: the latest label per entity known before a date."""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

FRAUD = "fraud"
LOW_QUALITY = "low_quality"
OK = "ok"


def latest_labels(labels: DataFrame, as_of: datetime, entity_type: str = "merchant") -> DataFrame:
    """Latest label per entity with ``labelled_at < as_of``.

    Ties on ``labelled_at`` are broken by label text so the result is deterministic.

    Returns:
        DataFrame ``[entity_id, label, labelled_at]``.
    """
    w = Window.partitionBy("entity_id").orderBy(F.col("labelled_at").desc(), F.col("label"))
    return (
        labels.where((F.col("entity_type") == entity_type) & (F.col("labelled_at") < F.lit(as_of)))
        .withColumn("_rk", F.row_number().over(w))
        .where(F.col("_rk") == 1)
        .select("entity_id", "label", "labelled_at")
    )


def binary_targets(latest: DataFrame) -> DataFrame:
    """Targets of the two risk models from the latest labels.

    ``y_fraud`` is 1 for ``fraud`` and 0 for ``ok``/``low_quality``; ``y_low_quality``
    is 1 for ``low_quality``, 0 for ``ok`` and null for ``fraud`` (a fraud label says
    nothing about listing quality, so those rows are left out of that model).  ``labelled_at``
    is kept: the champion/challenger gate holds out the labels a champion has not seen.
    """
    return latest.select(
        "entity_id",
        "labelled_at",
        (F.col("label") == FRAUD).cast("int").alias("y_fraud"),
        F.when(F.col("label") == LOW_QUALITY, 1).when(F.col("label") == OK, 0).alias("y_low_quality"),
    )
