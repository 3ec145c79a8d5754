"""Cluster quality of a run against the synthetic ground truth, per typology.

Scored (``fraudmine evaluate`` adds these rows under ``"clusters"``; a run of the graph stages
only, without scores, gets these rows alone):

* ``collusion_ring`` — ``clusters/collusion`` against the truth rings (shops and their promoting
  creators, grouped by ring).  ``ari``: adjusted Rand index over every merchant and creator of the
  graph, with each entity outside a ring / cluster its own singleton (so it is the pair-counting
  agreement on who belongs with whom).  ``precision`` / ``recall``: share of clustered sellers that
  are ring members / of ring members that are clustered.  ``identity`` clusters are scored the same way.
* ``brushing`` — ``clusters/brushing`` members (buyers and target products) against the truth
  brushing members: member ``precision``, ``recall``, ``f1``; plus ``block_f1``, the mean over truth
  blocks of the best F1 of any predicted block (one block found per truth block).
* ``malicious_reporting`` — ``clusters/reporter_rings`` reporters against the truth ring reporters:
  member ``precision`` / ``recall`` / ``f1`` and ``block_f1``.

* ``duplicate_listing`` / ``typo_squat`` — the ``duplicates`` stage's clusters (pairwise F1, with
  the exact-title baseline) and typo-squat flags (recall): :mod:`fraudmine.dedup.evaluation`.

Each typology also gets the trivial baseline (:func:`baseline_rows`): connected components on
shared identifiers, scored the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from sklearn.metrics import adjusted_rand_score

from fraudmine.graph.algorithms import local

BASELINE_MAX_DEGREE = 20


def _read(path: Path) -> pd.DataFrame | None:
    return pq.read_table(path).to_pandas() if path.exists() else None


def _prf(pred: set[str], truth: set[str]) -> dict[str, Any]:
    tp = len(pred & truth)
    p = tp / len(pred) if pred else None
    r = tp / len(truth) if truth else None
    f = 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)
    return {"n_pred": len(pred), "n_truth": len(truth), "precision": p, "recall": r, "f1": f}


def best_matches(
    truth_groups: dict[str, set[str]], pred_groups: dict[str, set[str]]
) -> dict[str, tuple[float, str | None, int]]:
    """Per truth group: the best F1 against any predicted group (0 when none overlaps), that group's id,
    and the number of predicted groups overlapping it."""
    member_of: dict[str, list[str]] = {}
    for g, ms in pred_groups.items():
        for m in ms:
            member_of.setdefault(m, []).append(g)
    out: dict[str, tuple[float, str | None, int]] = {}
    for key, ms in truth_groups.items():
        cands = {g for m in ms for g in member_of.get(m, [])}
        best, arg = 0.0, None
        for g in sorted(cands):
            f1 = 2 * len(ms & pred_groups[g]) / (len(ms) + len(pred_groups[g]))
            if f1 > best:
                best, arg = f1, g
        out[key] = (best, arg, len(cands))
    return out


def best_match_f1(truth_groups: dict[str, set[str]], pred_groups: dict[str, set[str]]) -> float | None:
    """Mean over truth groups of the best F1 against any predicted group (0 when none overlaps)."""
    if not truth_groups:
        return None
    return float(np.mean([f1 for f1, _, _ in best_matches(truth_groups, pred_groups).values()]))


def partition_ari(universe: list[str], truth: dict[str, str], pred: dict[str, str]) -> float:
    """ARI over ``universe`` where entities absent from a mapping are singletons."""
    t = [truth.get(u, f"_t{i}") for i, u in enumerate(universe)]
    p = [pred.get(u, f"_p{i}") for i, u in enumerate(universe)]
    return float(adjusted_rand_score(t, p))


def cluster_groups(members: pd.DataFrame, kind: str) -> dict[str, set[str]]:
    """Predicted groups of one cluster kind: ``cluster_id`` → member node ids (``clusters/members`` rows)."""
    m = members[members["cluster_type"] == kind]
    return {str(k): set(v) for k, v in m.groupby("cluster_id")["node_id"]}


def evaluate_clusters(truth_dir: Path, run_dir: Path) -> list[dict[str, Any]]:
    """Cluster-quality rows (see the module docstring); empty when the run has no ``clusters/``.

    Raises:
        FileNotFoundError: the truth entities file is missing.
    """
    from fraudmine.dedup.evaluation import evaluate_duplicates

    dup_rows = evaluate_duplicates(truth_dir, run_dir)
    members = _read(run_dir / "clusters" / "members")
    if members is None:
        return dup_rows
    ent_path = truth_dir / "entities.parquet"
    if not ent_path.exists():
        raise FileNotFoundError(f"truth file not found: {ent_path}")
    ent = pq.read_table(ent_path).to_pandas()
    ent["node_id"] = ent["entity_type"] + ":" + ent["entity_id"]
    nodes = _read(run_dir / "graph" / "nodes")
    sellers = (
        sorted(nodes.loc[nodes["node_type"].isin(["merchant", "creator"]), "node_id"])
        if nodes is not None
        else sorted(ent.loc[ent["entity_type"].isin(["merchant", "creator"]), "node_id"].unique())
    )
    rows: list[dict[str, Any]] = []
    ring = ent[
        ((ent["typology"] == "collusion_ring") & (ent["role"] == "shop"))
        | ((ent["typology"] == "creator_collusion") & (ent["role"] == "promoter"))
    ].dropna(subset=["group_id"])
    truth_map = dict(zip(ring["node_id"], ring["group_id"], strict=True))
    for kind in ("collusion", "identity"):
        g = cluster_groups(members, kind)
        pred_map = {m: c for c, ms in g.items() for m in ms if m.split(":", 1)[0] in ("merchant", "creator")}
        rows.append(
            {
                "typology": "collusion_ring",
                "clusters": kind,
                "ari": partition_ari(sellers, truth_map, pred_map),
                **_prf(set(pred_map), set(truth_map)),
                "block_f1": best_match_f1(
                    {k: set(v) for k, v in ring.groupby("group_id")["node_id"]},
                    {c: {m for m in ms if m in pred_map} for c, ms in g.items()},
                ),
                "n_clusters": len(g),
            }
        )
    for typ, kind, roles in (
        ("brushing", "brushing", ("fake_buyer", "target")),
        ("malicious_reporting", "reporter_rings", ("reporter",)),
    ):
        t = ent[(ent["typology"] == typ) & ent["role"].isin(roles)].dropna(subset=["group_id"])
        g = cluster_groups(members, kind)
        pred = {m for ms in g.values() for m in ms}
        rows.append(
            {
                "typology": typ,
                "clusters": kind,
                "ari": None,
                **_prf(pred, set(t["node_id"])),
                "block_f1": best_match_f1({k: set(v) for k, v in t.groupby("group_id")["node_id"]}, g),
                "n_clusters": len(g),
            }
        )
    return rows + baseline_rows(run_dir, truth_dir) + dup_rows


def baseline_rows(run: Path, truth: Path, max_degree: int = BASELINE_MAX_DEGREE) -> list[dict[str, Any]]:
    """The trivial baseline: connected components of accounts sharing any identifier held by at most
    ``max_degree`` accounts (sellers for rings; buyers for brushing and reporter rings), components of
    two or more accounts, scored like the detectors (rows with ``clusters = baseline_cc_identifiers``).

    Returns an empty list when the run has no ``graph/edges``.
    """
    if not (run / "graph" / "edges").exists():
        return []
    e = pq.read_table(
        run / "graph" / "edges",
        filters=[
            (
                "edge_type",
                "in",
                [
                    "merchant__uses__identifier",
                    "creator__uses__identifier",
                    "buyer__uses__identifier",
                ],
            )
        ],
    ).to_pandas()
    deg = e.groupby("dst")["src"].nunique()
    e = e[e["dst"].isin(deg[deg <= max_degree].index)]
    ent = pq.read_table(truth / "entities.parquet").to_pandas()
    ent["node_id"] = ent["entity_type"] + ":" + ent["entity_id"]
    nodes = pq.read_table(run / "graph" / "nodes", columns=["node_id", "node_type"]).to_pandas()
    rows = []
    for typ, kinds, roles in (
        ("collusion_ring", ("merchant", "creator"), None),
        ("brushing", ("buyer",), ("fake_buyer", "target")),
        ("malicious_reporting", ("buyer",), ("reporter",)),
    ):
        sub = e[e["src"].str.split(":").str[0].isin(kinds)]
        g = local.from_pandas(sub[["src", "dst"]])
        comp = pd.Series(local.connected_components(g), index=g.names)
        comp = comp[~comp.index.str.startswith("identifier:")]
        sizes = comp.map(comp.value_counts())
        comp = comp[sizes >= 2]
        groups = {c: set(ix) for c, ix in comp.groupby(comp).groups.items()}
        if typ == "collusion_ring":
            t = ent[
                ((ent["typology"] == "collusion_ring") & (ent["role"] == "shop"))
                | ((ent["typology"] == "creator_collusion") & (ent["role"] == "promoter"))
            ]
            sellers = sorted(nodes.loc[nodes["node_type"].isin(["merchant", "creator"]), "node_id"])
            tm = dict(zip(t["node_id"], t["group_id"], strict=True))
            ari = partition_ari(sellers, tm, comp.to_dict())
        else:
            t = ent[(ent["typology"] == typ) & ent["role"].isin(roles)]
            ari = None
        tg = {k: set(v) for k, v in t.groupby("group_id")["node_id"]}
        rows.append(
            {
                "typology": typ,
                "clusters": "baseline_cc_identifiers",
                "ari": ari,
                **_prf(set(comp.index), set(t["node_id"])),
                "block_f1": best_match_f1(tg, groups),
                "n_clusters": len(groups),
            }
        )
    return rows


def format_cluster_table(rows: list[dict[str, Any]]) -> str:
    """Fixed-width text table of :func:`evaluate_clusters` rows."""

    def f(v: Any) -> str:
        return "-" if v is None else f"{v:.3f}"

    head = f"{'typology':<22}{'clusters':<25}{'n_clust':>8}{'ARI':>8}{'prec':>8}{'recall':>8}{'F1':>8}{'blockF1':>9}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['typology']:<22}{r['clusters']:<25}{r['n_clusters']:>8}{f(r['ari']):>8}{f(r['precision']):>8}"
            f"{f(r['recall']):>8}{f(r['f1']):>8}{f(r['block_f1']):>9}"
        )
    return "\n".join(lines)
