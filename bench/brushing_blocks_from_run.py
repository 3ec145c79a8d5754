"""Per truth brushing block: was it found, and how well (analysis of a run against the generator's truth).

For every truth block (``truth/entities.parquet``, typology ``brushing``, roles ``fake_buyer`` and
``target``) prints its size, the best F1 of any ``clusters/members`` brushing cluster (the term
``fraudmine evaluate`` averages into ``block_f1``), the share of its members in any brushing cluster,
and a summary split by whether a block was found.  With ``--raw`` also the burst check for a star
detector: the most distinct buyers a listing had in any ``--window-days`` window before ``--date``, for
the targets of small blocks (at most 3 targets) against honest listings, and orders per buyer, fake
against honest::

    .venv/bin/python bench/brushing_blocks_from_run.py RUN_DIR TRUTH_DIR [--raw DATA/raw --date 2026-11-01]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from fraudmine.cluster_eval import best_matches, cluster_groups


def block_table(run: Path, truth: Path) -> pd.DataFrame:
    """One row per truth brushing block: buyers, targets, best_f1, covered, n_candidates, best cluster size."""
    ent = pd.read_parquet(truth / "entities.parquet")
    ent["node_id"] = ent["entity_type"] + ":" + ent["entity_id"]
    t = ent[(ent["typology"] == "brushing") & ent["role"].isin(["fake_buyer", "target"])].dropna(subset=["group_id"])
    groups = cluster_groups(pd.read_parquet(run / "clusters" / "members"), "brushing")
    clustered = set().union(*groups.values()) if groups else set()
    truth_groups = {str(k): set(v) for k, v in t.groupby("group_id")["node_id"]}
    rows = []
    for gid, (best, arg, n_cands) in best_matches(truth_groups, groups).items():
        roles = t.loc[t["group_id"] == gid, "role"]
        rows.append(
            {
                "block": gid,
                "buyers": int((roles == "fake_buyer").sum()),
                "targets": int((roles == "target").sum()),
                "best_f1": round(best, 3),
                "covered": round(len(truth_groups[gid] & clustered) / len(truth_groups[gid]), 3),
                "n_candidates": n_cands,
                "best_cluster_size": len(groups[arg]) if arg else 0,
            }
        )
    return pd.DataFrame(rows).sort_values(["best_f1", "block"]).reset_index(drop=True)


def burst_check(raw: Path, truth: Path, as_of: str, window_days: int) -> None:
    """Print the burst and buyer-activity comparison described in the module docstring."""
    o = pd.read_parquet(raw / "orders", columns=["buyer_id", "product_id", "ordered_at"])
    o = o[o["ordered_at"] < pd.Timestamp(as_of, tz="UTC")].assign(day=lambda d: d["ordered_at"].dt.floor("D"))
    ent = pd.read_parquet(truth / "entities.parquet")
    br = ent[ent["typology"] == "brushing"]
    fake = set(br.loc[br["role"] == "fake_buyer", "entity_id"])
    tgt = br[br["role"] == "target"]
    n_targets = tgt.groupby("group_id").size()
    small = set(tgt.loc[tgt["group_id"].isin(n_targets[n_targets <= 3].index), "entity_id"])
    daily = o.groupby(["product_id", "day"])["buyer_id"].nunique().reset_index("day")
    peak = daily.groupby(level=0).apply(
        lambda d: d.set_index("day")["buyer_id"].sort_index().rolling(f"{window_days}D").sum().max()
    )
    honest = peak[~peak.index.isin(set(tgt["entity_id"]))]
    print(f"\nmost distinct buyers in any {window_days}-day window before {as_of}:")
    print("  small-block targets:", peak[peak.index.isin(small)].describe().round(1).to_dict())
    print("  honest listings:    ", honest.describe().round(1).to_dict(), "q99", honest.quantile(0.99))
    per_buyer = o.groupby("buyer_id").size()
    print(
        "orders per buyer (q10, q50, q90): fake",
        per_buyer[per_buyer.index.isin(fake)].quantile([0.1, 0.5, 0.9]).tolist(),
    )
    print(
        "                                honest",
        per_buyer[~per_buyer.index.isin(fake)].quantile([0.1, 0.5, 0.9]).tolist(),
    )


def main() -> None:
    """Print the per-block table and the found / not-found summary."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", type=Path)
    ap.add_argument("truth", type=Path)
    ap.add_argument("--raw", type=Path, help="the run's raw input folder: also print the burst check")
    ap.add_argument("--date", default="2026-11-01", help="run date (orders strictly before it)")
    ap.add_argument("--window-days", type=int, default=10)
    args = ap.parse_args()
    df = block_table(args.run, args.truth)
    print(df.to_string(index=False))
    found = df["n_candidates"] > 0
    print(f"\nblocks: {len(df)}, found: {int(found.sum())}, block F1 (mean best F1): {df['best_f1'].mean():.3f}")
    print(df.groupby(found.map({True: "found", False: "not found"}))[["buyers", "targets", "best_f1"]].describe().T)
    if args.raw:
        burst_check(args.raw, args.truth, args.date, args.window_days)


if __name__ == "__main__":
    main()
