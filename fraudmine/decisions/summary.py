"""A plain-text summary of a run's decision KPIs (``fraudmine kpis``), for the end of ``make demo``."""

from __future__ import annotations

from typing import Any


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def format_kpis(k: dict[str, Any], report: str | None = None) -> str:
    """Render the KPIs of ``decisions/_kpis.json`` as a few aligned lines.

    Args:
        k: the KPI dict written by the decide stage.
        report: path of the run report, printed last when given.
    """
    q = k["queue"]
    lines = [
        f"decisions   {k['items']:,} pending items, policy {k['policy_version']}",
        "actions     " + ", ".join(f"{a} {n:,}" for a, n in k["by_action"].items()),
        f"automation  {_pct(k['automation_rate'])} decided without a human this run",
        f"auto-reject expected precision {_pct(k['expected_precision']['auto_reject'])} (from calibration)",
        f"queue       {q['review_pool']:,} to review for {q['review_capacity']:,} reviews/day (load {_pct(q['load'])}):"
        f" {q['queued_review']:,} queued, {q['exploration']:,} exploration, {q['deferred']:,} deferred,"
        f" {q['over_capacity_approved']:,} approved over capacity",
        f"            expected share of reviewer time on clean items {_pct(k['expected_clean_share_of_capacity'])}",
    ]
    for r in k.get("realised_precision", []):
        lines.append(
            f"realised    {r['action']} ({r['route']}): {_pct(r['precision'])} of {r['outcomes']:,} moderator outcomes"
        )
    missing = sorted(n for n, ok in k.get("inputs", {}).items() if not ok)
    if missing:
        lines.append(f"missing     {', '.join(missing)} ({len(k.get('inactive_rules', {}))} rules could not fire)")
    if report:
        lines.append(f"report      {report}")
    return "\n".join(lines)
