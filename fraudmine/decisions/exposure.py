"""Probability and exposure of an item: the two factors of its expected loss.

``p_violation`` combines the calibrated risks of the entities an item involves with a
noisy-OR, ``1 - prod(1 - r_role)``, where ``r_role = max(fraud_risk, low_quality_risk)``
of the seller, the listing and the creator (each only when scored with a *calibrated*
model).  The noisy-OR assumes the roles fail independently: it is the probability that
at least one of them is bad when each calibrated risk is right.  Risks of rank rules
(``calibrated = false`` in the scores: a percentile of a documented score, mean 0.5 by
construction) are not probabilities and stay out of it: they still fire the policy's
band rules, but they never inflate the probability that orders the review queue and
feeds the KPIs.  An item none of whose entities has a calibrated score gets the
configured prior.

``exposure_usd`` is the harm, in USD-equivalent, an item does if it is bad: the
listing's GMV over the last ``gmv_window_days`` before D (non-cancelled orders) for
items that show a listing, plus the creator's followers times ``usd_per_follower``
for videos and live sessions, never below ``floor_usd``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from fraudmine.config import ExposureConfig

ROLES = ("seller", "item", "creator")


def p_violation(unscored_prior: float) -> Column:
    """Noisy-OR of the roles' calibrated risks (module docstring); needs ``<role>__*_risk``, ``<role>__calibrated``."""
    keep = F.lit(1.0)
    any_scored = F.lit(False)
    for role in ROLES:
        risk = F.greatest(F.col(f"{role}__fraud_risk"), F.col(f"{role}__low_quality_risk"))
        r = F.when(F.coalesce(F.col(f"{role}__calibrated"), F.lit(False)), risk)
        keep = keep * (1.0 - F.coalesce(r, F.lit(0.0)))
        any_scored = any_scored | r.isNotNull()
    return F.when(any_scored, 1.0 - keep).otherwise(F.lit(unscored_prior))


def exposure_usd(df: DataFrame, tables: Mapping[str, DataFrame], as_of: datetime, cfg: ExposureConfig) -> DataFrame:
    """Add ``listing_gmv_usd``, ``audience`` and ``exposure_usd`` to the items in ``df``.

    Args:
        df: items with ``product_id`` and ``creator_id``.
        tables: clean ``orders`` and ``creators``.
        as_of: run cut-off (orders strictly before it).
        cfg: window, follower value and floor.
    """
    lo = as_of - timedelta(days=cfg.gmv_window_days)
    gmv = (
        tables["orders"]
        .where(
            (F.col("ordered_at") >= F.lit(lo)) & (F.col("ordered_at") < F.lit(as_of)) & (F.col("status") != "cancelled")
        )
        .groupBy("product_id")
        .agg(F.sum("amount").alias("listing_gmv_usd"))
    )
    fol = tables["creators"].select("creator_id", F.col("follower_count").alias("audience"))
    df = df.join(gmv, "product_id", "left").join(fol, "creator_id", "left")
    g = F.when(F.col("product_id").isNotNull(), F.coalesce("listing_gmv_usd", F.lit(0.0))).otherwise(F.lit(0.0))
    a = F.when(F.col("creator_id").isNotNull(), F.coalesce("audience", F.lit(0)).cast("double")).otherwise(F.lit(0.0))
    exposure = F.greatest(g + a * F.lit(cfg.usd_per_follower), F.lit(cfg.floor_usd))
    return (
        df.withColumn("listing_gmv_usd", g).withColumn("audience", a.cast("long")).withColumn("exposure_usd", exposure)
    )
