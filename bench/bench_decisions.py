"""Decision quality against the generator's truth, and a moderator-outcome simulation for the feedback loop.

Measure a run (before or after a change) against the truth of the synthetic marketplace::

    .venv/bin/python bench/bench_decisions.py measure --run out/s/current --truth data/synth-s/truth [--json]

An item is *bad* when its seller is a fraud or low-quality merchant in the truth, or its listing or
creator is a member (not a victim) of a fraud typology; ``fraud only`` leaves low quality out.
Reported per action (and per queue status where the run has one): items and the share that is bad
(the precision of reject / escalate / review; for approve, the share that is clean).  "Reviewer
time on clean items" is the share of clean items among what humans see this run: every review item
when the run has no capacity model (before), the queued + exploration items otherwise.

Simulate moderators (their verdict is the truth) for the items of a run that humans saw, and the
appeals of a random share of its auto-rejects, as the optional ``moderation_outcomes`` table of a
copy of the raw input; the next run (a later date) then ingests them::

    .venv/bin/python bench/bench_decisions.py simulate --run out/s/current --truth data/synth-s/truth \\
        --raw data/synth-s/raw --out /tmp/raw-with-outcomes [--days 2] [--appeal-share 0.1]
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from fraudmine.contracts.physical import arrow_schema
from fraudmine.contracts.raw import table_spec
from fraudmine.synth.slices import truth_bad_sets


def label_items(decisions: pd.DataFrame, truth: Path) -> pd.DataFrame:
    """Add ``bad_fraud`` and ``bad`` (fraud or low quality) truth columns to decision rows."""
    fraud_m, lq_m, prod, cre = truth_bad_sets(truth)
    d = decisions.copy()
    d["bad_fraud"] = d["merchant_id"].isin(fraud_m) | d["product_id"].isin(prod) | d["creator_id"].isin(cre)
    d["bad"] = d["bad_fraud"] | d["merchant_id"].isin(lq_m)
    return d


def measure(run: Path, truth: Path) -> dict[str, Any]:
    """Precision per action and reviewer time on clean items (see the module docstring)."""
    d = label_items(pd.read_parquet(run / "decisions"), truth)
    has_queue = "queue_status" in d.columns
    rows = []
    keys = ["action", "queue_status"] if has_queue else ["action"]
    for key, g in d.groupby(keys, sort=True):
        k = key if isinstance(key, tuple) else (key,)
        right = (~g["bad"]) if k[0] == "approve" else g["bad"]
        right_f = (~g["bad_fraud"]) if k[0] == "approve" else g["bad_fraud"]
        rows.append(
            {
                "action": k[0],
                "queue_status": k[1] if has_queue else "-",
                "items": len(g),
                "precision": float(right.mean()),
                "precision_fraud_only": float(right_f.mean()),
            }
        )
    seen = (
        d[d["queue_status"].isin(["queued", "exploration"]) & d["action"].isin(["review"])]
        if has_queue
        else d[d["action"] == "review"]
    )
    per_action = []
    for action, g in d.groupby("action", sort=True):
        right = (~g["bad"]) if action == "approve" else g["bad"]
        per_action.append({"action": action, "items": len(g), "precision": float(right.mean())})
    manifest = json.loads((run / "manifest.json").read_text())
    kpis_file = run / "decisions" / "_kpis.json"
    return {
        "run": str(run.resolve()),
        "items": len(d),
        "per_action": per_action,
        "per_action_and_status": rows,
        "reviewed_items": len(seen),
        "reviewer_time_on_clean": float((~seen["bad"]).mean()) if len(seen) else None,
        "reviewer_time_on_clean_fraud_only": float((~seen["bad_fraud"]).mean()) if len(seen) else None,
        "bad_items_missed_by_auto_approve": int((d["bad"] & (d["action"] == "approve")).sum()),
        "bad_items_total": int(d["bad"].sum()),
        "decide_seconds": manifest["stages"].get("decide", {}).get("duration_s"),
        "kpis": json.loads(kpis_file.read_text()) if kpis_file.exists() else None,
    }


def simulate(run: Path, truth: Path, raw: Path, out: Path, days: int, appeal_share: float, seed: int) -> int:
    """Write a copy of ``raw`` with a ``moderation_outcomes`` table for the run's human-seen items."""
    d = label_items(pd.read_parquet(run / "decisions"), truth)
    rng = np.random.default_rng(seed)
    seen = d["queue_status"].isin(["queued", "exploration"])
    appeal = (d["action"] == "reject") & (d["queue_status"] == "auto") & (rng.random(len(d)) < appeal_share)
    o = d[seen | appeal].copy()
    as_of = pd.Timestamp(o["as_of"].iloc[0]) if len(o) else pd.Timestamp.now(tz="UTC")
    o["decided_at"] = as_of + pd.to_timedelta(rng.uniform(0, days * 86400, len(o)), unit="s")
    lq_only = o["bad"] & ~o["bad_fraud"]
    table = pd.DataFrame(
        {
            "outcome_id": [f"oc{i:07d}" for i in range(len(o))],
            "item_id": o["item_id"].to_numpy(),
            "item_type": o["item_type"].to_numpy(),
            "merchant_id": o["merchant_id"].to_numpy(),
            "creator_id": o["creator_id"].to_numpy(),
            "product_id": o["product_id"].to_numpy(),
            "verdict": np.where(o["bad"], "violation", "no_violation"),
            "violation_type": np.where(o["bad"], np.where(lq_only, "low_quality", "fraud"), None),
            "routed_action": np.where(appeal[o.index], "reject", o["action"]),
            "route": np.where(
                appeal[o.index], "appeal", np.where(o["queue_status"] == "exploration", "exploration", "policy")
            ),
            "decision_run_id": o["run_id"].to_numpy(),
            "source": np.where(
                appeal[o.index], "appeal", np.where(o["action"] == "escalate", "specialist", "moderator")
            ),
            "decided_at": o["decided_at"].to_numpy(),
        }
    )
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(raw, out)
    dst = out / "moderation_outcomes"
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir()
    spec = table_spec("moderation_outcomes")
    table["decided_at"] = pd.to_datetime(table["decided_at"], utc=True)
    pq.write_table(pa.Table.from_pandas(table, schema=arrow_schema(spec), preserve_index=False), dst / "part-0.parquet")
    return len(table)


def main() -> None:
    """Command line (see the module docstring)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--run", type=Path, required=True)
    m.add_argument("--truth", type=Path, required=True)
    m.add_argument("--json", action="store_true")
    s = sub.add_parser("simulate")
    s.add_argument("--run", type=Path, required=True)
    s.add_argument("--truth", type=Path, required=True)
    s.add_argument("--raw", type=Path, required=True)
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--days", type=int, default=2)
    s.add_argument("--appeal-share", type=float, default=0.1)
    s.add_argument("--seed", type=int, default=5)
    a = p.parse_args()
    if a.cmd == "simulate":
        n = simulate(a.run, a.truth, a.raw, a.out, a.days, a.appeal_share, a.seed)
        print(f"wrote {n} moderator outcomes to {a.out / 'moderation_outcomes'}")
        return
    r = measure(a.run, a.truth)
    if a.json:
        print(json.dumps(r, indent=2, default=str))
        return
    print(f"run {r['run']}: {r['items']} items, decide stage {r['decide_seconds']} s")
    print(f"{'action':<10}{'status':<24}{'items':>7}{'precision':>11}{'fraud only':>12}")
    for x in r["per_action_and_status"]:
        print(
            f"{x['action']:<10}{x['queue_status']:<24}{x['items']:>7}{x['precision']:>11.3f}{x['precision_fraud_only']:>12.3f}"
        )
    print(
        f"reviewer time on clean items: {r['reviewer_time_on_clean']:.3f} of {r['reviewed_items']} reviewed items "
        f"(fraud only: {r['reviewer_time_on_clean_fraud_only']:.3f})"
    )
    print(f"bad items auto-approved: {r['bad_items_missed_by_auto_approve']} of {r['bad_items_total']}")


if __name__ == "__main__":
    main()
