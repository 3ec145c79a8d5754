"""Duplicate clusters and typo-squat flags of a run against a generator's truth.

Truth is read from ``entities.parquet`` (``entity_type, entity_id, typology, group_id, role``):
duplicate listings are ``product`` rows of typology ``duplicate_listing`` grouped by ``group_id``;
typo-squats are ``product`` rows of typology ``counterfeit`` with role ``typo_squat``.  Whatever the
generator plants, only these columns are used.  Rows (same keys as the other cluster-quality rows):

* ``duplicates`` — pairwise precision / recall / F1 of the run's ``duplicates/members`` clusters
  over all listing pairs (a pair is positive when both listings share a truth group);
* ``baseline_exact_title`` — the trivial baseline: listings with equal normalised titles;
* ``typo_squat`` — the run's ``brand_violations`` of kind typo-squat or homoglyph against the
  truth typo-squat listings (``recall`` is the issue's typo-squat recall).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from fraudmine.dedup.metrics import cluster_pairs_of, prf
from fraudmine.dedup.normalize import title_key


def _read(path: Path) -> pd.DataFrame | None:
    return pq.read_table(path).to_pandas() if path.exists() else None


def _row(typology: str, clusters: str, pred: set[Any], truth: set[Any], n_clusters: int) -> dict[str, Any]:
    q = prf(pred, truth)
    return {"typology": typology, "clusters": clusters, "ari": None, "n_pred": len(pred), "n_truth": len(truth),
            "precision": q["precision"] if pred else None, "recall": q["recall"] if truth else None,
            "f1": q["f1"] if pred and truth else None, "block_f1": None, "n_clusters": n_clusters}  # fmt: skip


def evaluate_duplicates(truth_dir: Path, run_dir: Path) -> list[dict[str, Any]]:
    """Duplicate-cluster pairwise F1 (with the exact-title baseline) and typo-squat recall; ``[]`` when
    the run has no ``duplicates/`` or the truth has neither typology."""
    members = _read(run_dir / "duplicates" / "members")
    ent = _read(truth_dir / "entities.parquet")
    if members is None or ent is None:
        return []
    prod = ent[ent["entity_type"] == "product"]
    rows: list[dict[str, Any]] = []
    dup = prod[prod["typology"] == "duplicate_listing"].dropna(subset=["group_id"])
    if not dup.empty:
        truth_pairs = cluster_pairs_of(
            dict(zip(dup["entity_id"].astype(str), dup["group_id"].astype(str), strict=True))
        )
        pred = dict(zip(members["product_id"].astype(str), members["cluster_id"].astype(str), strict=True))
        rows.append(
            _row(
                "duplicate_listing", "duplicates", cluster_pairs_of(pred), truth_pairs, members["cluster_id"].nunique()
            )
        )
        products = _read(run_dir / "validate" / "clean" / "products")
        if products is not None:
            keys = products.assign(k=products["title"].map(title_key))
            keys = keys[keys.groupby("k")["product_id"].transform("size").between(2, 200)]
            base = cluster_pairs_of(dict(zip(keys["product_id"].astype(str), keys["k"], strict=True)))
            rows.append(_row("duplicate_listing", "baseline_exact_title", base, truth_pairs, keys["k"].nunique()))
    squat = prod[(prod["typology"] == "counterfeit") & (prod["role"] == "typo_squat")]
    viol = _read(run_dir / "duplicates" / "brand_violations")
    if not squat.empty and viol is not None:
        flagged = set(viol.loc[viol["kind"].isin(["typo_squat", "homoglyph"]), "product_id"].astype(str))
        rows.append(_row("typo_squat", "brand_violations", flagged, set(squat["entity_id"].astype(str)), 0))
    return rows
