"""Moderation decisions that explain themselves, under reviewer capacity.

Pipeline of one decision run (each step a pure function; :func:`decide` chains them):

1. :func:`~fraudmine.decisions.enrich.item_facts`: every pending queue item with the facts of its
   seller, listing and creator (scores, labels, clusters, hard evidence) and evidence sentences;
2. :func:`~fraudmine.decisions.engine.apply_policy`: the versioned policy YAML
   (:mod:`~fraudmine.decisions.policy`) → action, reasons, evidence, matched rules;
3. :func:`~fraudmine.decisions.queue.route`: the review queue ordered by expected loss and cut at
   capacity, with an exploration sample;
4. :func:`~fraudmine.decisions.kpis.compute_kpis`: the run's KPIs.

Moderator outcomes (:mod:`~fraudmine.decisions.outcomes`) close the loop: realised precision per
action, and labels for the next training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraudmine.config import DecisionsConfig
from fraudmine.contracts.outputs import DECISIONS_DDL, ddl_columns
from fraudmine.decisions.engine import apply_policy
from fraudmine.decisions.enrich import item_facts
from fraudmine.decisions.inputs import DecisionInputs, InputError
from fraudmine.decisions.kpis import compute_kpis
from fraudmine.decisions.outcomes import outcome_labels, realised_precision
from fraudmine.decisions.policy import Policy, PolicyError, load_policy, parse_policy
from fraudmine.decisions.queue import route

__all__ = [
    "DecisionInputs",
    "DecisionRun",
    "InputError",
    "Policy",
    "PolicyError",
    "decide",
    "load_policy",
    "outcome_labels",
    "parse_policy",
]


@dataclass
class DecisionRun:
    """The result of :func:`decide`.

    Attributes:
        decisions: rows in the :data:`~fraudmine.contracts.outputs.DECISIONS_DDL` layout.
        load: queue pool sizes (see :func:`~fraudmine.decisions.queue.route`).
        available: optional input name → present in this run.
        cached: DataFrames persisted while deciding; call :meth:`release` after writing.
    """

    decisions: DataFrame
    load: dict[str, int]
    available: dict[str, bool]
    cached: list[DataFrame] = field(default_factory=list)

    def kpis(self, policy: Policy, cfg: DecisionsConfig, inputs: DecisionInputs, as_of: datetime) -> dict[str, Any]:
        """KPIs of ``decisions`` (pass the written copy to avoid recomputing the facts)."""
        outcomes = inputs.outcomes if self.available.get("moderation_outcomes") else None
        realised = [] if outcomes is None else realised_precision(outcomes, as_of, cfg.outcome_window_days)
        return compute_kpis(self.decisions, policy, cfg, self.load, self.available, realised)

    def release(self) -> None:
        """Unpersist the cached intermediate results."""
        for df in self.cached:
            df.unpersist()


def decide(
    inputs: DecisionInputs,
    policy: Policy,
    cfg: DecisionsConfig,
    as_of: datetime,
    run_id: str,
    model_version: str,
    hub_min_degree: int,
) -> DecisionRun:
    """Decide every pending moderation-queue item.

    Args:
        inputs: the run's tables (optional ones may be absent).
        policy: a checked policy (:func:`load_policy`).
        cfg: capacity, exploration, exposure and prior settings.
        as_of: run cut-off: only data strictly before it is used.
        run_id, model_version: stamped on every row.
        hub_min_degree: identifiers shared by this many accounts are hubs, not evidence.

    Returns:
        A :class:`DecisionRun`; the policy decisions and the routed decisions are persisted (the queue
        step needs two passes, the KPIs several); :meth:`DecisionRun.release` frees them.
    """
    scored_types = {r[0] for r in inputs.scores.select("entity_type").distinct().collect()}
    has_outcomes = inputs.outcomes is not None and bool(inputs.outcomes.limit(1).collect())
    if not has_outcomes:
        inputs = DecisionInputs(
            {k: v for k, v in inputs.tables.items() if k != "moderation_outcomes"},
            inputs.scores,
            inputs.clusters,
            inputs.brand_violations,
        )
    available = inputs.available(scored_types, has_outcomes)
    facts = item_facts(inputs, as_of, scored_types, cfg, hub_min_degree)
    decided = apply_policy(facts, policy).persist()
    routed, load = route(decided, cfg)
    out = routed.select(
        *[c for c in ddl_columns(DECISIONS_DDL) if c not in {"policy_version", "model_version", "run_id", "as_of"}],
        F.lit(policy.version).alias("policy_version"),
        F.lit(model_version).alias("model_version"),
        F.lit(run_id).alias("run_id"),
        F.lit(as_of).cast("timestamp").alias("as_of"),
    )
    final = out.select(*ddl_columns(DECISIONS_DDL)).persist()
    return DecisionRun(final, load, available, [decided, final])
