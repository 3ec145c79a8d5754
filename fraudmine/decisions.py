"""Moderation decisions: queue items joined to seller risk, mapped to actions by a policy YAML.

The policy is an ordered list of rules (first match wins), parsed into pydantic
models with ``extra="forbid"``.  :func:`decide` is a pure Spark transform: it
resolves each queue item to a seller (its ``merchant_id``, or the merchant of its
``product_id``), joins that seller's score, and evaluates the rules as one
``CASE WHEN`` chain.  Every decision row carries the reason codes, evidence (the
seller's risk and top reasons as JSON), the policy version, the model version and
the run id.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from fraudmine.config import ConfigError
from fraudmine.contracts.outputs import DECISIONS_DDL, ddl_columns

Action = Literal["approve", "review", "reject", "escalate"]
Band = Literal["low", "medium", "high", "critical"]
ItemType = Literal["product_listing", "video", "live_session"]


class Condition(BaseModel):
    """All listed conditions must hold for a rule to match."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    fraud_band: list[Band] | None = None
    item_type: list[ItemType] | None = None
    min_low_quality_risk: float | None = Field(None, ge=0, le=1)
    unscored: bool | None = None


class Rule(BaseModel):
    """A named policy rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    when: Condition
    action: Action
    reason: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")


class Policy(BaseModel):
    """A versioned decision policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str
    default_action: Action = "approve"
    default_reason: str = "NO_RISK_SIGNAL"
    rules: list[Rule]


def load_policy(path: Path) -> Policy:
    """Parse a policy YAML.

    Raises:
        ConfigError: naming the file and each offending key.
    """
    try:
        return Policy.model_validate(yaml.safe_load(path.read_text()))
    except FileNotFoundError:
        raise ConfigError(f"policy file not found: {path}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: invalid policy: {problems}") from None


def _matches(c: Condition) -> Column:
    cond = F.lit(True)
    if c.fraud_band is not None:
        cond = cond & F.col("risk_band").isin(list(c.fraud_band))
    if c.item_type is not None:
        cond = cond & F.col("item_type").isin(list(c.item_type))
    if c.min_low_quality_risk is not None:
        cond = cond & (F.coalesce(F.col("low_quality_risk"), F.lit(0.0)) >= F.lit(c.min_low_quality_risk))
    if c.unscored is not None:
        cond = cond & (F.col("fraud_risk").isNull() == F.lit(c.unscored))
    return cond


def decide(
    queue: DataFrame,
    products: DataFrame,
    scores: DataFrame,
    policy: Policy,
    as_of: datetime,
    run_id: str,
    model_version: str,
) -> DataFrame:
    """Decide every queue item submitted before ``as_of``.

    Args:
        queue: clean ``moderation_queue``.
        products: clean ``products`` (to resolve an item's seller from its product).
        scores: merchant scores (``SCORES_DDL``).
        policy: the decision policy.
        as_of: run cut-off.
        run_id, model_version: stamped on every row.

    Returns:
        One row per queue item, schema :data:`DECISIONS_DDL`.
    """
    seller = queue.where(F.col("submitted_at") < F.lit(as_of)).join(
        products.select("product_id", F.col("merchant_id").alias("_pm")), "product_id", "left"
    )
    seller = seller.withColumn("_seller", F.coalesce("merchant_id", "_pm"))
    s = scores.where(F.col("entity_type") == "merchant").select(
        F.col("entity_id").alias("_seller"), "fraud_risk", "low_quality_risk", "risk_band", "top_reasons"
    )
    j = seller.join(s, "_seller", "left")
    action: Column = F.lit(policy.default_action)
    reason: Column = F.lit(policy.default_reason)
    for rule in reversed(policy.rules):
        m = _matches(rule.when)
        action = F.when(m, F.lit(rule.action)).otherwise(action)
        reason = F.when(m, F.lit(rule.reason)).otherwise(reason)
    reason_codes = F.concat(F.array(reason), F.coalesce(F.col("top_reasons"), F.array().cast("array<string>")))
    evidence = F.to_json(
        F.struct(
            F.col("_seller").alias("seller_merchant_id"),
            F.col("fraud_risk"),
            F.col("low_quality_risk"),
            F.col("risk_band"),
            F.col("top_reasons"),
        )
    )
    out = j.select(
        "item_id",
        "item_type",
        F.col("_seller").alias("merchant_id"),
        "creator_id",
        "product_id",
        action.alias("action"),
        reason_codes.alias("reason_codes"),
        evidence.alias("evidence"),
        F.lit(policy.version).alias("policy_version"),
        F.lit(model_version).alias("model_version"),
        F.lit(run_id).alias("run_id"),
    )
    return out.select(*ddl_columns(DECISIONS_DDL))
