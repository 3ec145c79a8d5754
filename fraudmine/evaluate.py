"""Evaluate a run's scores against the synthetic ground truth.

For every (typology, entity type) in the truth whose entity type was scored:
positives are the members (victims and honest re-listings excluded), negatives are the scored
entities of that type with no fraud typology and not low quality.  Reported:
AUROC, AUPRC (average precision) and recall within the top ``budget`` fraction
of all scored entities of that type.  ``low_quality`` uses ``low_quality_risk``,
every other typology uses ``fraud_risk``.  An ``overall_fraud`` row per entity
type compares all fraud members with the rest.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from sklearn.metrics import average_precision_score, roc_auc_score

from fraudmine.contracts.typologies import NON_MEMBER_ROLES, TYPOLOGIES

TYPOLOGY_ORDER = TYPOLOGIES

SCORED_AS: dict[tuple[str, str], str] = {("malicious_reporting", "buyer"): "reporter"}
"""(typology, truth entity type) → entity type of the scores that answer it (default: the same)."""

TRUTH_TYPE: dict[str, str] = {"reporter": "buyer"}
"""Scored entity type → the truth's entity type of its ids."""

BASELINES: dict[str, tuple[str, str]] = {
    "merchant": ("merchant_score", "n_reports"),
    "creator": ("creator_score", "n_promotions"),
    "product": ("product_score", "n_orders"),
    "buyer": ("buyer_score", "n_orders"),
    "reporter": ("reporter_score", "n_reports"),
}
"""Scored entity type → (feature table, raw count) of the trivial baseline; low quality uses ``refund_rate``."""

LOW_QUALITY_BASELINE = "refund_rate"


def _read_parquet_dir(path: Path, what: str) -> pd.DataFrame:
    if not path.exists():
        raise FileNotFoundError(f"{what} not found: {path}")
    return pq.read_table(path).to_pandas()


def _metrics(scores: pd.Series, pos: pd.Series, neg: pd.Series, budget: float) -> dict[str, Any]:
    """AUROC / AUPRC on pos vs neg, recall@budget over all scored entities of the type."""
    n_pos, n_neg = int(pos.sum()), int(neg.sum())
    row: dict[str, Any] = {"n_pos": n_pos, "n_neg": n_neg}
    if n_pos == 0 or n_neg == 0:
        return {
            **row,
            "auroc": None,
            "auprc": None,
            "recall_at_budget": None,
            "status": "no_positives" if n_pos == 0 else "no_negatives",
        }
    sel = pos | neg
    y = pos[sel].to_numpy(dtype=int)
    s = scores[sel].to_numpy(dtype=float)
    k = max(1, math.ceil(budget * len(scores)))
    order = np.argsort(-scores.to_numpy(dtype=float), kind="stable")
    top = np.zeros(len(scores), dtype=bool)
    top[order[:k]] = True
    recall = float((top & pos.to_numpy()).sum() / n_pos)
    return {
        **row,
        "auroc": float(roc_auc_score(y, s)),
        "auprc": float(average_precision_score(y, s)),
        "recall_at_budget": recall,
        "status": "ok",
    }


class DatasetMismatch(ValueError):
    """The truth belongs to another dataset than the run's input."""


def resolve_run(path: Path) -> Path:
    """A run folder from ``--run``: an output folder means its ``current`` run.

    Raises:
        FileNotFoundError: the path does not exist, or is an output folder with nothing published.
    """
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"--run {path}: folder not found")
    if (path / "scores").exists() or (path / "manifest.json").exists():
        return path
    if (path / "current").exists():
        return (path / "current").resolve()
    if (path / "runs").is_dir():
        raise FileNotFoundError(f"--run {path}: output folder with no published run (no current); pass a run folder")
    raise FileNotFoundError(f"--run {path}: neither a run folder (scores/, manifest.json) nor an output folder")


def check_dataset(truth_dir: Path, run_dir: Path) -> None:
    """Check that the truth was generated for the data the run read.

    The generator writes a ``dataset_id`` into ``truth/summary.json`` and
    ``raw/_dataset.json``; the nightly run copies the latter into its manifest.

    Raises:
        DatasetMismatch: the ids differ or one is missing (``--force`` skips this check).
    """
    summary, manifest = truth_dir / "summary.json", run_dir / "manifest.json"
    truth_id = json.loads(summary.read_text()).get("dataset_id") if summary.exists() else None
    run_id = json.loads(manifest.read_text()).get("dataset_id") if manifest.exists() else None
    if truth_id is None or run_id is None or truth_id != run_id:
        raise DatasetMismatch(
            f"truth {truth_dir} is of dataset {truth_id or 'unknown'} but run {run_dir} read dataset "
            f"{run_id or 'unknown'}; metrics would be meaningless (pass --force to evaluate anyway)"
        )


def evaluate(truth_dir: Path, run_dir: Path, budget: float = 0.01, force: bool = False) -> dict[str, Any]:
    """Score a run against the truth.

    Args:
        truth_dir: folder with ``merchants.parquet`` and ``entities.parquet`` (generator truth).
        run_dir: run output folder containing ``scores/`` (Parquet folder with
            ``entity_type``, ``entity_id``, ``fraud_risk``, ``low_quality_risk``).
        budget: review budget as a fraction of scored entities per type (0 < budget <= 1).
        force: skip the check that the truth belongs to the run's dataset.

    Returns:
        ``{"budget": float, "metrics": [{typology, entity_type, n_pos, n_neg, auroc,
        auprc, recall_at_budget, status}, ...], "clusters": [...]}``; status is ``ok``,
        ``not_scored``, ``no_positives`` or ``no_negatives``; ``clusters`` holds the cluster
        quality rows of :func:`fraudmine.cluster_eval.evaluate_clusters` (empty when the run
        has no ``clusters/``).

    Raises:
        FileNotFoundError: the scores folder (when the run has no ``clusters/`` either) or a truth
            file is missing (names the path).
        ValueError: ``budget`` outside ``(0, 1]`` or scores lack required columns.
        DatasetMismatch: the truth is of another dataset (unless ``force``).
    """
    if not 0 < budget <= 1:
        raise ValueError(f"budget must be in (0, 1], got {budget}")
    truth_dir, run_dir = Path(truth_dir), Path(run_dir)
    if not truth_dir.is_dir():
        raise FileNotFoundError(f"--truth {truth_dir}: folder not found")
    if not force:
        check_dataset(truth_dir, run_dir)
    from fraudmine.cluster_eval import evaluate_clusters

    if not (run_dir / "scores").exists() and (run_dir / "clusters").exists():
        # a run of the graph stages only (e.g. --only validate graph clusters): cluster quality alone
        return {"budget": budget, "metrics": [], "clusters": evaluate_clusters(truth_dir, run_dir)}
    scores = _read_parquet_dir(run_dir / "scores", "scores folder")
    merchants = _read_parquet_dir(truth_dir / "merchants.parquet", "truth file")
    entities = _read_parquet_dir(truth_dir / "entities.parquet", "truth file")
    need = {"entity_type", "entity_id", "fraud_risk", "low_quality_risk"}
    missing = need - set(scores.columns)
    if missing:
        raise ValueError(f"{run_dir / 'scores'}: missing columns {sorted(missing)}")
    scores = scores.drop_duplicates(["entity_type", "entity_id"], keep="last")
    members = entities[~entities["role"].isin(NON_MEMBER_ROLES)]
    fraud_members = members[members["typology"] != "low_quality"]
    lq_ids = set(merchants.loc[merchants["is_low_quality"], "merchant_id"]) | set(
        members.loc[members["typology"] == "low_quality", "entity_id"]
    )
    fraud_merchants = set(merchants.loc[merchants["is_fraud"], "merchant_id"])
    baselines = _baselines(run_dir)

    def bad_ids(scored_type: str) -> set[str]:
        truth_type = TRUTH_TYPE.get(scored_type, scored_type)
        bad = set(fraud_members.loc[fraud_members["entity_type"] == truth_type, "entity_id"])
        return bad | fraud_merchants if scored_type == "merchant" else bad

    def row(sc: pd.DataFrame, col: str, pos: pd.Series, neg: pd.Series, base_col: str) -> dict[str, Any]:
        sc, pos, neg = sc.reset_index(drop=True), pos.reset_index(drop=True), neg.reset_index(drop=True)
        got = _metrics(sc[col], pos, neg, budget)
        base = baselines.get(str(sc["entity_type"].iloc[0])) if len(sc) else None
        if base is None or base_col not in base.columns or got["status"] != "ok":
            return {
                **got,
                "baseline": None,
                "baseline_auroc": None,
                "baseline_auprc": None,
                "baseline_recall_at_budget": None,
            }
        b = sc[["entity_id"]].merge(base[["entity_id", base_col]], on="entity_id", how="left")[base_col]
        bm = _metrics(b.fillna(0.0).astype(float), pos, neg, budget)
        return {
            **got,
            "baseline": base_col,
            "baseline_auroc": bm["auroc"],
            "baseline_auprc": bm["auprc"],
            "baseline_recall_at_budget": bm["recall_at_budget"],
        }

    out: list[dict[str, Any]] = []
    pairs = members[["typology", "entity_type"]].drop_duplicates()
    pairs = pairs.assign(o=pairs["typology"].map({t: i for i, t in enumerate(TYPOLOGY_ORDER)}).fillna(99))
    for typ, etype in pairs.sort_values(["o", "entity_type"])[["typology", "entity_type"]].itertuples(index=False):
        scored_type = SCORED_AS.get((typ, etype), etype)
        sc = scores[scores["entity_type"] == scored_type]
        base = {"typology": typ, "entity_type": scored_type}
        if sc.empty:
            out.append(
                {
                    **base,
                    "n_pos": 0,
                    "n_neg": 0,
                    "auroc": None,
                    "auprc": None,
                    "recall_at_budget": None,
                    "status": "not_scored",
                    "baseline": None,
                    "baseline_auroc": None,
                    "baseline_auprc": None,
                    "baseline_recall_at_budget": None,
                }
            )
            continue
        ids = sc["entity_id"]
        pos = ids.isin(set(members.loc[(members["typology"] == typ) & (members["entity_type"] == etype), "entity_id"]))
        neg = ~ids.isin(bad_ids(scored_type)) & ~ids.isin(lq_ids)
        col = "low_quality_risk" if typ == "low_quality" else "fraud_risk"
        base_col = LOW_QUALITY_BASELINE if typ == "low_quality" else BASELINES.get(scored_type, ("", ""))[1]
        out.append({**base, **row(sc, col, pos, neg, base_col)})
    for etype in sorted(scores["entity_type"].unique()):
        sc = scores[scores["entity_type"] == etype].reset_index(drop=True)
        bad = bad_ids(etype)
        if etype == "reporter":
            bad = set(members.loc[members["typology"] == "malicious_reporting", "entity_id"]) & bad
        if not bad:
            continue
        pos = sc["entity_id"].isin(bad)
        base_col = BASELINES.get(etype, ("", ""))[1]
        out.append({"typology": "overall_fraud", "entity_type": etype, **row(sc, "fraud_risk", pos, ~pos, base_col)})
    known = _labelled_before_run(run_dir)
    merchant_scores = scores[scores["entity_type"] == "merchant"]
    if known is not None and not merchant_scores.empty:
        # The operational question: how well are merchants *without* a label found?
        # Labelled merchants were training rows, so including them flatters the model.
        sc = merchant_scores[~merchant_scores["entity_id"].isin(known)].reset_index(drop=True)
        pos = sc["entity_id"].isin(fraud_merchants)
        out.append(
            {
                "typology": "overall_fraud_unlabelled",
                "entity_type": "merchant",
                **row(sc, "fraud_risk", pos, ~pos, "n_reports"),
            }
        )
    return {"budget": budget, "metrics": out, "clusters": evaluate_clusters(truth_dir, run_dir)}


def _baselines(run_dir: Path) -> dict[str, pd.DataFrame]:
    """Scored entity type → its feature table of the run (``entity_id`` + raw counts), where present."""
    out: dict[str, pd.DataFrame] = {}
    for etype, (table, _) in BASELINES.items():
        path = run_dir / "features" / table
        if not path.exists():
            continue
        frame = pq.read_table(path).to_pandas()
        key = next((c for c in frame.columns if c.endswith("_id")), None)
        if key is not None:
            out[etype] = frame.rename(columns={key: "entity_id"})
    return out


def _labelled_before_run(run_dir: Path) -> set[str] | None:
    """Merchants with a label known before the run date, or ``None`` if the run has no such record.

    Reads the run's clean ``labels`` table and its ``manifest.json`` (run date).
    """
    labels_dir, manifest = run_dir / "validate" / "clean" / "labels", run_dir / "manifest.json"
    if not labels_dir.exists() or not manifest.exists():
        return None
    run_date = pd.Timestamp(json.loads(manifest.read_text())["run_date"], tz="UTC")
    labels = pq.read_table(labels_dir).to_pandas()
    known = labels[(labels["entity_type"] == "merchant") & (labels["labelled_at"] < run_date)]
    return set(known["entity_id"])


def format_table(result: dict[str, Any]) -> str:
    """Render an :func:`evaluate` result as a fixed-width text table."""

    def f(v: Any) -> str:
        return "-" if v is None else f"{v:.3f}"

    head = f"{'typology':<26}{'entity':<10}{'n_pos':>8}{'n_neg':>9}{'AUROC':>8}{'AUPRC':>8}"
    r_at = "R@" + format(result["budget"], "g")
    head += f"{r_at:>9}  {'baseline':<14}{'AUROC':>7}{'AUPRC':>7}{r_at:>8}  status"
    lines = [head, "-" * len(head)]
    for r in result["metrics"]:
        lines.append(
            f"{r['typology']:<26}{r['entity_type']:<10}{r['n_pos']:>8}{r['n_neg']:>9}{f(r['auroc']):>8}"
            f"{f(r['auprc']):>8}{f(r['recall_at_budget']):>9}  {r.get('baseline') or '-':<14}"
            f"{f(r.get('baseline_auroc')):>7}{f(r.get('baseline_auprc')):>7}{f(r.get('baseline_recall_at_budget')):>8}"
            f"  {r['status']}"
        )
    if result.get("clusters"):
        from fraudmine.cluster_eval import format_cluster_table

        lines += ["", "cluster quality", format_cluster_table(result["clusters"])]
    return "\n".join(lines)
