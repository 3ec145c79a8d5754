"""The facts a policy rule may test, where each comes from, and which item types have it.

A fact is a dotted name (``seller.fraud_band``, ``item.duplicate_of_rejected``) bound
to one column of the per-item facts table that :func:`fraudmine.decisions.inputs.item_facts`
builds.  Every fact declares

- its **kind** (``band``, ``probability``, ``count``, ``bool``), which fixes the
  predicates a rule may use on it and their valid thresholds;
- its **input**: the run output or table it is computed from.  Inputs are optional
  (scores of an entity type, a cluster table, moderator outcomes): when an input is
  absent from a run, its facts are null and every rule that tests them cannot fire;
- its **role** (``seller`` = the item's merchant, ``item`` = the listing it shows,
  ``creator`` = the creator presenting it), which decides the item types that have it:
  a ``product_listing`` has no creator, a ``live_session`` no listing.

The catalogue is data, built once at import; :data:`FACTS` maps name → :class:`FactSpec`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fraudmine.contracts.raw import ITEM_TYPES

FactKind = Literal["band", "probability", "count", "bool"]
Role = Literal["seller", "item", "creator"]

#: Entity type of the scores/labels/clusters rows that describe each role.
ROLE_ENTITY: dict[Role, str] = {"seller": "merchant", "item": "product", "creator": "creator"}

#: Item types on which each role exists (listing: seller + listing; video: all three; live: seller + creator).
ROLE_ITEM_TYPES: dict[Role, tuple[str, ...]] = {
    "seller": ITEM_TYPES,
    "item": ("product_listing", "video"),
    "creator": ("video", "live_session"),
}

#: Cluster tables the decision stage understands (``clusters/<kind>``) and the roles they describe.
CLUSTER_KINDS: dict[str, tuple[Role, ...]] = {
    "identity": ("seller", "creator"),
    "collusion": ("seller", "creator"),
    "brushing": ("seller",),
    "duplicates": ("item",),
}

#: Identifier types whose sharing with rejected merchants is hard evidence.
PEER_IDENTIFIERS: tuple[str, ...] = ("payment", "bank_account", "device", "phone", "address", "ip")


@dataclass(frozen=True)
class FactSpec:
    """One fact a rule can test.

    Attributes:
        name: dotted name used in the policy (``seller.fraud_band``).
        kind: ``band`` (``in``), ``probability`` (thresholds in [0, 1]), ``count``
            (thresholds >= 0), ``bool`` (``eq``).
        role: whose fact it is; decides the item types that have it.
        input: the input it needs (``scores.merchant``, ``clusters.collusion``, ``labels`` ...).
        description: one line for the policy reference and the report.
    """

    name: str
    kind: FactKind
    role: Role
    input: str
    description: str

    @property
    def column(self) -> str:
        """Column of the facts table holding this fact (dots become double underscores)."""
        return self.name.replace(".", "__")

    @property
    def item_types(self) -> tuple[str, ...]:
        """Item types on which the fact can be non-null."""
        return ROLE_ITEM_TYPES[self.role]


def _catalogue() -> dict[str, FactSpec]:
    facts: list[FactSpec] = []
    for role, etype in ROLE_ENTITY.items():
        scores = f"scores.{etype}"
        facts += [
            FactSpec(f"{role}.fraud_risk", "probability", role, scores, f"calibrated fraud risk of the {role}"),
            FactSpec(f"{role}.low_quality_risk", "probability", role, scores, f"low-quality risk of the {role}"),
            FactSpec(f"{role}.fraud_band", "band", role, scores, f"fraud risk band of the {role}"),
            FactSpec(f"{role}.scored", "bool", role, scores, f"the {role} has a score in this run"),
        ]
    labelled: tuple[Role, ...] = ("seller", "creator")
    for role in labelled:
        facts.append(
            FactSpec(f"{role}.labelled_fraud", "bool", role, "labels", f"the {role}'s latest label before D is fraud")
        )
    for kind, roles in CLUSTER_KINDS.items():
        for role in roles:
            src = f"clusters.{kind}"
            facts += [
                FactSpec(f"{role}.cluster.{kind}.size", "count", role, src, f"size of the {role}'s {kind} cluster"),
                FactSpec(
                    f"{role}.cluster.{kind}.risk", "probability", role, src, f"risk of the {role}'s {kind} cluster"
                ),
            ]
    for ident in PEER_IDENTIFIERS:
        facts.append(
            FactSpec(
                f"seller.rejected_peers.{ident}",
                "count",
                "seller",
                "identities",
                f"other merchants sharing a non-hub {ident} identifier with the seller that were rejected before D",
            )
        )
    facts += [
        FactSpec(
            "seller.upheld_reports",
            "count",
            "seller",
            "reports",
            "user reports against the seller upheld by moderation before D",
        ),
        FactSpec(
            "item.duplicate_of_rejected",
            "count",
            "item",
            "products",
            "listings rejected before D that the listing duplicates (duplicate cluster, else the same image hash)",
        ),
        FactSpec(
            "item.unauthorised_brand",
            "bool",
            "item",
            "products",
            "the listing claims a protected brand its seller is not authorised for at D (or a brand violation)",
        ),
    ]
    return {f.name: f for f in facts}


FACTS: dict[str, FactSpec] = _catalogue()


def fact(name: str) -> FactSpec:
    """Return the spec of fact ``name``.

    Raises:
        KeyError: naming the closest known fact.
    """
    try:
        return FACTS[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, FACTS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"unknown fact {name!r}{hint} (known facts: fraudmine.decisions.facts.FACTS)") from None
