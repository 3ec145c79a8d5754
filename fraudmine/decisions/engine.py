"""Apply a policy to the facts table: action, reasons, evidence and matched rules per item.

:func:`apply_policy` is a pure Spark transform.  Each rule becomes one boolean column
(item type, market and every predicate must hold; a null fact never matches).  The
action is the most severe among the matched rules (``policy.precedence``), the primary
reason that of the first matched rule in (severity, file) order, and ``reason_codes``
the reasons of every matched rule in that order, deduplicated.  ``evidence`` collects
the evidence sentences of the facts each matched rule tested, in the same order.
With no match the policy default applies.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from fraudmine.decisions.facts import FACTS
from fraudmine.decisions.policy import Policy, Predicate, Rule


def predicate_column(name: str, p: Predicate) -> Column:
    """Boolean column of one predicate on fact ``name`` (null when the fact is null)."""
    c = F.col(FACTS[name].column)
    cond: Column = F.lit(True)
    if p.in_ is not None:
        cond = cond & c.isin(list(p.in_))
    if p.eq is not None:
        cond = cond & (c == F.lit(p.eq))
    if p.gte is not None:
        cond = cond & (c >= F.lit(p.gte))
    if p.gt is not None:
        cond = cond & (c > F.lit(p.gt))
    if p.lte is not None:
        cond = cond & (c <= F.lit(p.lte))
    if p.lt is not None:
        cond = cond & (c < F.lit(p.lt))
    return cond


def rule_column(rule: Rule) -> Column:
    """Non-null boolean column: does ``rule`` match the row?"""
    cond: Column = F.lit(True)
    if rule.item_types:
        cond = cond & F.col("item_type").isin(list(rule.item_types))
    if rule.markets:
        cond = cond & F.col("market").isin(list(rule.markets))
    for name, pred in rule.when.items():
        cond = cond & predicate_column(name, pred)
    return F.coalesce(cond, F.lit(False))


def apply_policy(facts: DataFrame, policy: Policy) -> DataFrame:
    """Decide every row of the facts table.

    Args:
        facts: output of :func:`fraudmine.decisions.enrich.item_facts`.
        policy: a checked policy.

    Returns:
        ``facts`` plus ``action``, ``primary_reason``, ``reason_codes`` (array), ``evidence``
        (array of sentences) and ``matched_rules`` (array of rule names).
    """
    ordered = policy.ordered_rules()
    match_cols = {rule.name: f"_m__{i}" for i, rule in ordered}
    df = facts.select("*", *[rule_column(rule).alias(match_cols[rule.name]) for _, rule in ordered])
    action: Column = F.lit(policy.default.action)
    for _, rule in reversed(ordered):
        action = F.when(F.col(match_cols[rule.name]), F.lit(rule.action)).otherwise(action)
    reasons = F.array_compact(
        F.array(*[F.when(F.col(match_cols[r.name]), F.lit(r.reason)) for _, r in ordered])
        if ordered
        else F.array().cast("array<string>")
    )
    reasons = F.array_distinct(reasons)
    reasons = F.when(F.size(reasons) > 0, reasons).otherwise(F.array(F.lit(policy.default.reason)))
    ev_items = [
        F.when(F.col(match_cols[r.name]), F.col(f"ev__{FACTS[name].column}")) for _, r in ordered for name in r.when
    ]
    evidence = F.array_distinct(F.array_compact(F.array(*ev_items))) if ev_items else F.array().cast("array<string>")
    matched = (
        F.array_compact(F.array(*[F.when(F.col(match_cols[r.name]), F.lit(r.name)) for _, r in ordered]))
        if ordered
        else F.array().cast("array<string>")
    )
    out = df.select(
        "*",
        action.alias("action"),
        reasons.getItem(0).alias("primary_reason"),
        reasons.alias("reason_codes"),
        evidence.alias("evidence"),
        matched.alias("matched_rules"),
    )
    return out.drop(*match_cols.values())
