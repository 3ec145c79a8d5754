"""What a nightly invocation has to do, decided before Spark starts (pure logic).

Given the stages in run order, the validity key each would have now, the records
of the latest attempt, the selection (``--only`` / ``--from-stage``) and whether
that attempt is sealed (published), :func:`make_plan` returns the stages to
run, whether they go into a new attempt (never into a published one), and the
earlier stages that attempt reuses.  A selected stage whose upstream stage is
out of date and not selected cannot run: :class:`StaleUpstream` says which
stage, why, and the flag that recomputes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fraudmine.jobs.runtime import COMMITTED


class StaleUpstream(RuntimeError):
    """A selected stage needs an earlier stage that is out of date and not selected."""


@dataclass
class Plan:
    """The work of one invocation.

    Attributes:
        run: stage names to (re)compute, in order.
        new_attempt: write them into a new attempt (the latest one is sealed).
        reuse: earlier stages a new attempt takes over from the latest one.
        stale: stage name → why it is out of date (for the log).
    """

    run: list[str]
    new_attempt: bool = False
    reuse: list[str] = field(default_factory=list)
    stale: dict[str, str] = field(default_factory=dict)


def is_fresh(record: Mapping[str, Any] | None, key: str, output_exists: bool) -> bool:
    """A stage is fresh when committed, present on disk and computed with the same key."""
    return bool(record and record.get("status") == COMMITTED and record.get("key") == key and output_exists)


def make_plan(
    order: Sequence[str],
    keys: Mapping[str, str],
    records: Mapping[str, Mapping[str, Any]],
    on_disk: Mapping[str, bool],
    selected: Sequence[str],
    forced: Sequence[str],
    sealed: bool,
    changes: Sequence[str] = (),
) -> Plan:
    """Decide which stages run and where.

    Args:
        order: every stage name in run order.
        keys: the validity key of each stage for this invocation.
        records: the latest attempt's manifest records by stage name.
        on_disk: whether each stage's output folder exists in that attempt.
        selected: stages the user asked for (all, ``--only`` or ``--from-stage`` on).
        forced: selected stages to recompute even when fresh (``--from-stage``).
        sealed: the latest attempt is published and must not be written.
        changes: what changed since that attempt (quoted in the error message).

    Returns:
        The :class:`Plan`.

    Raises:
        StaleUpstream: a selected stage depends on an out-of-date stage outside the selection.
    """
    fresh = {s: is_fresh(records.get(s), keys[s], on_disk.get(s, False)) for s in order}
    stale = {}
    for s in order:
        rec = records.get(s)
        if rec and rec.get("status") == COMMITTED and not fresh[s]:
            stale[s] = "; ".join(changes) or "its inputs changed"
    needed = [s for s in selected if s in forced or not fresh[s]]
    if not needed:
        return Plan(run=[], stale=stale)
    # from the first stage that has to run, every later selected stage runs too
    run = [s for s in selected if order.index(s) >= order.index(needed[0])]
    for s in run:
        for up in order[: order.index(s)]:
            if not fresh[up] and up not in run:
                why = stale.get(up, "not computed yet")
                raise StaleUpstream(
                    f"stage {s!r} needs stage {up!r}, which is out of date ({why}); run without --only/--from-stage "
                    f"to recompute from the first affected stage, or with --from-stage {up}"
                )
    first = order.index(run[0])
    return Plan(run=run, new_attempt=sealed, reuse=list(order[:first]) if sealed else [], stale=stale)
