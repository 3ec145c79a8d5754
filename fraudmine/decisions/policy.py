"""The decision policy: a versioned YAML of rules, parsed and checked on load.

Shape (``conf/policy.yaml`` is the reference)::

    version: "2026-12-01"
    precedence: [escalate, reject, review, approve]   # most severe first
    default: {action: approve, reason: NO_RISK_SIGNAL}
    reasons: {SELLER_FRAUD_CRITICAL: "seller fraud risk is critical", ...}
    rules:
      - name: critical_seller
        item_types: [product_listing, video]          # optional (default: every type)
        markets: [US, GB]                             # optional, seller country (default: every market)
        when:                                         # every predicate must hold
          seller.fraud_band: {in: [critical]}
          seller.fraud_risk: {gte: 0.9}
        action: reject
        reason: SELLER_FRAUD_CRITICAL

Semantics.  Every rule that matches an item adds its reason and evidence.  The
item's action is the most severe action among the matching rules in
``precedence`` order; its primary reason is that of the first such rule in file
order.  So a decision never depends on row order or partitioning.

Checks on load (:func:`check_policy`), each error naming the rule: unknown facts,
unknown bands, operators that do not fit a fact's kind, thresholds outside a
fact's range, empty or inverted intervals, undeclared reasons, duplicate names,
rules whose facts do not exist on any of their item types, and rules that can
never decide an action because an earlier or more severe rule matches every item
they match (shadowed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fraudmine.config import ConfigError
from fraudmine.contracts.outputs import ACTIONS, RISK_BANDS
from fraudmine.contracts.raw import ITEM_TYPES
from fraudmine.decisions.facts import FACTS, FactSpec, fact

Action = Literal["approve", "review", "reject", "escalate"]
ItemType = Literal["product_listing", "video", "live_session"]
DEFAULT_PRECEDENCE: tuple[Action, ...] = ("escalate", "reject", "review", "approve")

#: Reason codes the queue step adds itself; a policy may not declare them.
SYSTEM_REASONS: dict[str, str] = {
    "EXPLORATION_SAMPLE": "random sample of uncertain items sent to review for unbiased labels",
    "OVER_CAPACITY_DEFERRED": "review queue full today: kept pending and re-ranked in the next run",
    "OVER_CAPACITY_APPROVED": "review queue full today: approved by the over-capacity default",
    "ESCALATION_OVER_CAPACITY": "specialist queue full today: sent to the normal review queue",
}


class PolicyError(ConfigError):
    """The policy file is invalid; the message names the file and the rule."""


class Predicate(BaseModel):
    """A test on one fact: ``in`` (bands), ``gte``/``gt``/``lte``/``lt`` (numbers), ``eq`` (booleans)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    in_: list[str] | None = Field(None, alias="in")
    gte: float | None = None
    gt: float | None = None
    lte: float | None = None
    lt: float | None = None
    eq: bool | None = None

    def interval(self) -> tuple[float, bool, float, bool]:
        """``(lo, lo_closed, hi, hi_closed)`` of a numeric predicate (unbounded sides are infinite)."""
        lo, lo_c = (
            (self.gte, True) if self.gte is not None else (self.gt, False) if self.gt is not None else (None, True)
        )
        hi, hi_c = (
            (self.lte, True) if self.lte is not None else (self.lt, False) if self.lt is not None else (None, True)
        )
        return (
            float("-inf") if lo is None else lo,
            lo_c,
            float("inf") if hi is None else hi,
            hi_c,
        )


class Rule(BaseModel):
    """A named rule: where it applies, what must hold, the action and the reason."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    item_types: list[ItemType] | None = None
    markets: list[str] | None = None
    when: dict[str, Predicate] = Field(min_length=1)
    action: Action
    reason: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")


class Default(BaseModel):
    """Action and reason of an item no rule matches."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    action: Action = "approve"
    reason: str = "NO_RISK_SIGNAL"


class Policy(BaseModel):
    """A versioned decision policy (see the module docstring for the semantics)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str = Field(min_length=1)
    precedence: list[Action] = Field(default_factory=lambda: list(DEFAULT_PRECEDENCE))
    default: Default = Default()
    reasons: dict[str, str]
    rules: list[Rule]

    def severity(self, action: str) -> int:
        """Rank of an action in ``precedence`` (0 = most severe)."""
        return self.precedence.index(action)  # type: ignore[arg-type]

    def ordered_rules(self) -> list[tuple[int, Rule]]:
        """``(file index, rule)`` sorted by action severity, then file order: the resolution order."""
        return sorted(enumerate(self.rules), key=lambda ir: (self.severity(ir[1].action), ir[0]))

    def describe(self, reason: str) -> str:
        """Human description of a reason code (policy or system)."""
        return self.reasons.get(reason) or SYSTEM_REASONS.get(reason, reason)


@dataclass(frozen=True)
class _Scope:
    """What a rule constrains, normalised for the subset test."""

    types: frozenset[str]
    markets: frozenset[str] | None
    when: dict[str, Predicate]


def _scope(rule: Rule) -> _Scope:
    types = frozenset(rule.item_types or ITEM_TYPES)
    for name in rule.when:
        types &= frozenset(FACTS[name].item_types)
    return _Scope(types, frozenset(rule.markets) if rule.markets else None, dict(rule.when))


def _pred_within(inner: Predicate, outer: Predicate) -> bool:
    """Every value satisfying ``inner`` satisfies ``outer``."""
    if outer.in_ is not None:
        return inner.in_ is not None and set(inner.in_) <= set(outer.in_)
    if outer.eq is not None:
        return inner.eq == outer.eq
    ilo, ilo_c, ihi, ihi_c = inner.interval()
    olo, olo_c, ohi, ohi_c = outer.interval()
    lo_ok = ilo > olo or (ilo == olo and (olo_c or not ilo_c))
    hi_ok = ihi < ohi or (ihi == ohi and (ohi_c or not ihi_c))
    return lo_ok and hi_ok


def _within(inner: _Scope, outer: _Scope) -> bool:
    """Every item matched by ``inner`` is matched by ``outer``."""
    if not inner.types <= outer.types:
        return False
    if outer.markets is not None and (inner.markets is None or not inner.markets <= outer.markets):
        return False
    return all(n in inner.when and _pred_within(inner.when[n], p) for n, p in outer.when.items())


def _check_predicate(rule: str, spec: FactSpec, p: Predicate) -> None:
    where = f"rule {rule!r}: fact {spec.name!r} ({spec.kind})"
    numeric = [v for v in (p.gte, p.gt, p.lte, p.lt) if v is not None]
    if spec.kind == "band":
        if p.in_ is None or numeric or p.eq is not None:
            raise PolicyError(f"{where}: use 'in: [bands]'")
        unknown = [b for b in p.in_ if b not in RISK_BANDS]
        if unknown:
            raise PolicyError(f"{where}: unknown band(s) {unknown}; bands are {list(RISK_BANDS)}")
        if not p.in_:
            raise PolicyError(f"{where}: empty 'in' list, the rule can never fire")
        return
    if spec.kind == "bool":
        if p.eq is None or numeric or p.in_ is not None:
            raise PolicyError(f"{where}: use 'eq: true' or 'eq: false'")
        return
    if p.in_ is not None or p.eq is not None or not numeric:
        raise PolicyError(f"{where}: use thresholds gte/gt/lte/lt")
    if (p.gte is not None and p.gt is not None) or (p.lte is not None and p.lt is not None):
        raise PolicyError(f"{where}: give at most one lower (gte/gt) and one upper (lte/lt) bound")
    lo_ok, hi_ok = (0.0, 1.0) if spec.kind == "probability" else (0.0, float("inf"))
    for v in numeric:
        if not lo_ok <= v <= hi_ok:
            raise PolicyError(f"{where}: threshold {v} outside [{lo_ok}, {hi_ok}]")
        if spec.kind == "count" and v != int(v):
            raise PolicyError(f"{where}: count threshold {v} is not a whole number")
    lo, lo_c, hi, hi_c = p.interval()
    if lo > hi or (lo == hi and not (lo_c and hi_c)):
        raise PolicyError(f"{where}: empty interval (lower bound {lo} above upper bound {hi}), the rule can never fire")


def check_policy(policy: Policy) -> None:
    """Semantic checks beyond the schema (see the module docstring).

    Raises:
        PolicyError: the first problem found, naming the rule and what to change.
    """
    if sorted(policy.precedence) != sorted(ACTIONS):
        raise PolicyError(f"precedence must list each action once: {list(ACTIONS)}; got {policy.precedence}")
    clash = sorted(set(policy.reasons) & set(SYSTEM_REASONS))
    if clash:
        raise PolicyError(f"reasons {clash} are reserved for the queue step; choose other codes")
    if policy.default.reason not in policy.reasons:
        raise PolicyError(f"default reason {policy.default.reason!r} is not declared under 'reasons'")
    seen: set[str] = set()
    for rule in policy.rules:
        if rule.name in seen:
            raise PolicyError(f"rule {rule.name!r} is defined twice")
        seen.add(rule.name)
        if rule.reason not in policy.reasons:
            raise PolicyError(
                f"rule {rule.name!r}: unknown reason {rule.reason!r}; declare it under 'reasons' "
                f"(declared: {sorted(policy.reasons)})"
            )
        for m in rule.markets or []:
            if len(m) != 2 or not m.isupper():
                raise PolicyError(f"rule {rule.name!r}: market {m!r} is not an ISO 3166-1 alpha-2 code")
        for name, pred in rule.when.items():
            try:
                spec = fact(name)
            except KeyError as exc:
                raise PolicyError(f"rule {rule.name!r}: {exc.args[0]}") from None
            _check_predicate(rule.name, spec, pred)
        if not _scope(rule).types:
            types: list[str] = list(rule.item_types or ITEM_TYPES)
            missing = [n for n in rule.when if not set(FACTS[n].item_types) & set(types)]
            raise PolicyError(
                f"rule {rule.name!r} is unreachable: fact(s) {missing} do not exist on item types {types} "
                f"(item.* needs a listing, creator.* a creator)"
            )
    scopes = [_scope(r) for r in policy.rules]
    for i, rule in enumerate(policy.rules):
        for j, other in enumerate(policy.rules):
            if i == j:
                continue
            stronger = policy.severity(other.action) < policy.severity(rule.action)
            tie_first = policy.severity(other.action) == policy.severity(rule.action) and j < i
            if (stronger or tie_first) and _within(scopes[i], scopes[j]):
                raise PolicyError(
                    f"rule {rule.name!r} is unreachable: every item it matches is also matched by rule "
                    f"{other.name!r}, whose action {other.action!r} takes precedence over {rule.action!r}"
                    + (" (same action, earlier in the file)" if tie_first else "")
                )


def parse_policy(data: object, source: str = "<policy>") -> Policy:
    """Validate a parsed policy document (schema, then :func:`check_policy`).

    Raises:
        PolicyError: naming ``source``, the rule and the problem.
    """
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        problems = []
        rules = data.get("rules") if isinstance(data, dict) else None
        for e in exc.errors():
            loc = list(e["loc"])
            if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int) and isinstance(rules, list):
                name = rules[loc[1]].get("name") if isinstance(rules[loc[1]], dict) else None
                loc[1] = f"{loc[1]} ({name!r})" if name else loc[1]
            problems.append(f"{'.'.join(str(p) for p in loc)}: {e['msg']}")
        raise PolicyError(f"{source}: invalid policy: {'; '.join(problems)}") from None
    try:
        check_policy(policy)
    except PolicyError as exc:
        raise PolicyError(f"{source}: {exc}") from None
    return policy


def load_policy(path: Path) -> Policy:
    """Read and validate a policy YAML file.

    Raises:
        PolicyError: file missing, not YAML, or invalid (naming the file and the rule).
    """
    try:
        data = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise PolicyError(f"policy file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from None
    return parse_policy(data, str(path))
