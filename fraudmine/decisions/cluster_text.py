"""One-line human summaries of the cluster tables' machine evidence.

The ``clusters`` stage writes each cluster's ``evidence`` as a JSON object (link counts per
channel, shared identifiers, block density…) for programs: the API returns it as it is.  A
moderator reads the decision's evidence sentences instead, so :func:`cluster_evidence_text`
turns that object into one sentence per cluster kind, e.g. for a collusion cluster
``"linked on 92 seller pairs by co-timed activity 92, shared buyers 91, duplicate listings 91"``.

Evidence that is not a JSON object (free text, or the array of sentences a hand-written
cluster table may carry) is returned unchanged; an object of a kind without its own
wording gets its scalar fields listed.  Pure Python: the decide stage applies it to the
cluster tables (a few thousand rows) before they are joined to the items.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

MAX_CHARS = 300

CHANNEL_NOUNS: Mapping[str, str] = {
    "identifier": "shared identifiers",
    "buyers": "shared buyers",
    "promotion": "shared promoting creators",
    "duplicate": "duplicate listings",
    "co_reported": "shared reporters",
    "co_registration": "co-registration",
    "co_activity": "co-timed activity",
    "timing": "co-timed activity",
}


def _num(x: Any, digits: int = 2) -> str:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    if isinstance(x, int) or float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:.{digits}f}"


def _count(x: Any, noun: str) -> str:
    """``"1 account link"``, ``"3 account links"``; ``"? account links"`` when unknown."""
    return f"{_num(x)} {noun}" if x == 1 else f"{_num(x)} {noun}s"


def _day(x: Any) -> str:
    return str(x)[:10] if x else "?"


def _collusion(ev: Mapping[str, Any]) -> str:
    channels = ev.get("channels") or {}
    parts = sorted(
        ((int(v.get("links", 0)), CHANNEL_NOUNS.get(k, k.replace("_", " "))) for k, v in channels.items()),
        key=lambda p: (-p[0], p[1]),
    )
    by = ", ".join(f"{noun} {n:,}" for n, noun in parts if n > 0)
    head = f"linked on {_count(ev.get('links', '?'), 'seller pair')}"
    return f"{head} by {by}" if by else head


def _identity(ev: Mapping[str, Any]) -> str:
    shared, links = ev.get("shared_identifiers", "?"), ev.get("links", "?")
    text = f"{_count(shared, 'shared identifier')} over {_count(links, 'account link')}"
    top = [i for i in ev.get("identifiers") or [] if isinstance(i, Mapping)][:3]
    if top:
        text += "; most shared: " + ", ".join(
            f"{i.get('type', '?')} ({_num(i.get('accounts', '?'))} accounts)" for i in top
        )
    return text


def _brushing(ev: Mapping[str, Any]) -> str:
    return (
        f"{_num(ev.get('buyers', '?'))} buyers ({_num(ev.get('core_buyers', '?'))} in the dense core) ordering "
        f"{_num(ev.get('products', '?'))} listings, density {_num(ev.get('density', '?'))}, "
        f"active {_num(ev.get('active_days', '?'), 0)} days from {_day(ev.get('first_ts'))}"
    )


def _reporter_rings(ev: Mapping[str, Any]) -> str:
    targets = ev.get("targets") or []
    return (
        f"{_num(ev.get('reports_in_bursts', '?'))} reports in bursts against {len(targets)} target(s) from "
        f"{_day(ev.get('first_burst'))}, mean reporter credibility {_num(ev.get('mean_reporter_credibility', '?'))}"
    )


def _generic(ev: Mapping[str, Any]) -> str:
    parts = []
    for k, v in ev.items():
        if isinstance(v, list):
            parts.append(f"{k.replace('_', ' ')}: {len(v)}")
        elif not isinstance(v, Mapping):
            parts.append(f"{k.replace('_', ' ')} {_num(v)}")
    return ", ".join(parts[:6])


RENDERERS: Mapping[str, Callable[[Mapping[str, Any]], str]] = {
    "collusion": _collusion,
    "identity": _identity,
    "brushing": _brushing,
    "reporter_rings": _reporter_rings,
}


def cluster_evidence_text(kind: str, evidence: str | None) -> str | None:
    """A one-line summary (at most :data:`MAX_CHARS`) of a cluster's ``evidence`` (module docstring).

    Args:
        kind: the cluster kind (``collusion``, ``identity``, ``brushing``, ``reporter_rings`` or another).
        evidence: the table's evidence value: a JSON object, or any other text.
    """
    if evidence is None or not evidence.lstrip().startswith("{"):
        return evidence
    try:
        ev = json.loads(evidence)
    except ValueError:
        return evidence
    if not isinstance(ev, Mapping):
        return evidence
    try:
        text = RENDERERS.get(kind, _generic)(ev)
    except (TypeError, ValueError, AttributeError):  # an unexpected shape: list what there is
        text = _generic(ev)
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"
