"""KPIs of one decision run, written beside the decisions (``decisions/_kpis.json``) and shown in the report.

Definitions (every rate is over the run's pending items unless said):

- ``automation_rate``: share of items that no human sees this run (``queue_status`` ``auto`` or
  ``over_capacity_approved``).
- ``expected_precision.auto_reject``: mean ``p_violation`` of automatic rejects.  The risks are
  calibrated, so this is the precision the rejects should have if the calibration holds.
  ``expected_precision.queued_review`` is the same for the items reviewers get (policy queue), and
  ``expected_clean_share_of_capacity`` the expected share of reviewer capacity spent on clean items.
- ``queue``: capacity, pool sizes, queued / deferred / exploration counts, ``load`` (review pool
  over capacity) and ``utilisation`` (queued + exploration over capacity).
- ``by_action``, ``by_item_type`` (item type x action), ``by_primary_reason`` and ``by_reason``
  (every reason code of every item), ``rule_hits`` (items each rule matched).
- ``realised_precision``: per recommended action, from moderator outcomes decided in the window
  before D (:func:`fraudmine.decisions.outcomes.realised_precision`); empty without outcomes.
- ``inputs``: which optional inputs the run had, and ``inactive_rules``: the rules that test a
  fact whose input is missing (they could not fire).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraudmine.config import DecisionsConfig
from fraudmine.contracts.outputs import ACTIONS
from fraudmine.decisions.facts import FACTS
from fraudmine.decisions.policy import Policy


def inactive_rules(policy: Policy, available: Mapping[str, bool]) -> dict[str, list[str]]:
    """Rule name → the missing inputs it needs (only rules with at least one)."""
    always = {"labels", "identities", "reports", "products"}
    out: dict[str, list[str]] = {}
    for rule in policy.rules:
        missing = sorted(
            {FACTS[n].input for n in rule.when if FACTS[n].input not in always and not available.get(FACTS[n].input)}
        )
        if missing:
            out[rule.name] = missing
    return out


def _counts(df: DataFrame, *cols: str) -> list[dict[str, Any]]:
    rows = df.groupBy(*cols).count().orderBy(*cols).collect()
    return [{**{c: r[c] for c in cols}, "items": int(r["count"])} for r in rows]


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (int(v) if k == "items" else v) for k, v in r.items()} for r in df.to_dict("records")]


def compute_kpis(
    decisions: DataFrame,
    policy: Policy,
    cfg: DecisionsConfig,
    load: Mapping[str, int],
    available: Mapping[str, bool],
    realised: list[dict[str, Any]],
) -> dict[str, Any]:
    """Compute the run's KPIs (see the module docstring) from the routed decisions.

    Args:
        decisions: output of :func:`fraudmine.decisions.queue.route`.
        policy: the policy used.
        cfg: the decision config (capacities).
        load: the load figures returned by ``route``.
        available: input name → present.
        realised: rows of :func:`fraudmine.decisions.outcomes.realised_precision`.

    Returns:
        A JSON-ready dict.
    """
    auto = F.col("queue_status").isin("auto", "over_capacity_approved")
    auto_reject = (F.col("action") == "reject") & (F.col("queue_status") == "auto")
    queued_review = (F.col("action") == "review") & (F.col("queue_status") == "queued")
    s = decisions.agg(
        F.count(F.lit(1)).alias("n"),
        F.sum(auto.cast("long")).alias("auto"),
        F.sum(auto_reject.cast("long")).alias("auto_reject"),
        F.avg(F.when(auto_reject, F.col("p_violation"))).alias("p_reject"),
        F.avg(F.when(queued_review, F.col("p_violation"))).alias("p_review"),
        F.sum(queued_review.cast("long")).alias("queued_review"),
        F.sum((F.col("queue_status") == "queued").cast("long")).alias("queued"),
        F.sum(((F.col("queue_status") == "queued") & (F.col("action") == "escalate")).cast("long")).alias("queued_esc"),
        F.sum((F.col("queue_status") == "exploration").cast("long")).alias("explore"),
        F.sum((F.col("queue_status") == "deferred").cast("long")).alias("deferred"),
        F.sum((F.col("queue_status") == "over_capacity_approved").cast("long")).alias("over_approved"),
        F.sum(F.when(queued_review, F.col("expected_loss"))).alias("loss_queued"),
        F.sum(F.when(F.col("action") != "approve", F.col("expected_loss"))).alias("loss_flagged"),
    ).first()
    assert s is not None
    n = int(s["n"])
    cap = cfg.capacity.review_per_day
    worked = int(s["queued_review"]) + int(s["explore"] or 0) if n else 0
    groups = pd.DataFrame(_counts(decisions, "item_type", "action", "primary_reason"))
    if groups.empty:
        groups = pd.DataFrame(columns=["item_type", "action", "primary_reason", "items"])
    by_action = {a: int(groups.loc[groups["action"] == a, "items"].sum()) for a in ACTIONS}
    by_type = groups.groupby(["item_type", "action"], as_index=False)["items"].sum()
    by_primary = groups.groupby("primary_reason", as_index=False)["items"].sum()
    tags = F.concat(
        F.transform("reason_codes", lambda r: F.concat(F.lit("reason:"), r)),
        F.transform("matched_rules", lambda r: F.concat(F.lit("rule:"), r)),
    )
    tagged = {row["k"]: row["items"] for row in _counts(decisions.select(F.explode(tags).alias("k")), "k")}
    hits = {r.name: tagged.get(f"rule:{r.name}", 0) for r in policy.rules}
    by_reason = [{"reason": k[7:], "items": n} for k, n in sorted(tagged.items()) if k.startswith("reason:")]
    p_review = None if s["p_review"] is None else float(s["p_review"])
    return {
        "items": n,
        "policy_version": policy.version,
        "automation_rate": (int(s["auto"]) / n) if n else None,
        "expected_precision": {
            "auto_reject": None if s["p_reject"] is None else float(s["p_reject"]),
            "queued_review": p_review,
        },
        "expected_clean_share_of_capacity": None if p_review is None else 1.0 - p_review,
        "queue": {
            "review_capacity": cap,
            "escalate_capacity": cfg.capacity.escalate_per_day,
            **{k: int(v) for k, v in load.items()},
            "queued_review": int(s["queued_review"] or 0),
            "queued_escalate": int(s["queued_esc"] or 0),
            "exploration": int(s["explore"] or 0),
            "deferred": int(s["deferred"] or 0),
            "over_capacity_approved": int(s["over_approved"] or 0),
            "load": (load["review_pool"] / cap) if cap else None,
            "utilisation": (worked / cap) if cap else None,
            "over_capacity_default": cfg.over_capacity,
            "expected_loss_queued_share": (
                float(s["loss_queued"]) / float(s["loss_flagged"]) if s["loss_flagged"] else None
            ),
        },
        "by_action": by_action,
        "by_item_type": _records(by_type),
        "by_primary_reason": _records(by_primary),
        "by_reason": by_reason,
        "rule_hits": hits,
        "realised_precision": realised,
        "inputs": dict(available),
        "inactive_rules": inactive_rules(policy, available),
    }
