"""``run_realism``: the numbers of ``fraudmine bench realism`` on one generated folder.

Reads ``DIR/raw`` (the contract tables) and ``DIR/truth`` (the generator's ground
truth).  Per typology, the best single per-account aggregate AUROC
(:mod:`.aggregates`, a broad generic set over every raw column; an aggregate's
AUROC counts in either direction, ``max(a, 1 - a)``), a 5-fold LightGBM on all
merchant aggregates, the relational baselines of :mod:`.relational` and the
reference multi-evidence clustering of :mod:`.reference`.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from fraudmine.synth.realism import aggregates as ag
from fraudmine.synth.realism import relational as rel
from fraudmine.synth.realism.reference import copy_only_clusters, image_only_clusters, reference_clusters

log = logging.getLogger(__name__)

CUTS: tuple[int, ...] = (2, 5, 20, 100)
HOMOPHILY_CUT = 20
FRAUD_TYPOLOGIES = ("collusion_ring", "duplicate_listing", "counterfeit", "brushing", "creator_collusion")
ACCOUNT_TYPOLOGIES: dict[str, tuple[tuple[str, str], ...]] = {
    # typology -> (entity type, role) of the accounts it plants; low_quality is reported too
    "collusion_ring": (("merchant", "shop"),),
    "duplicate_listing": (("merchant", "seller"),),
    "counterfeit": (("merchant", "seller"),),
    "brushing": (("merchant", "seller"), ("buyer", "fake_buyer")),
    "creator_collusion": (("merchant", "beneficiary"), ("creator", "promoter")),
    "malicious_reporting": (("buyer", "reporter"),),
    "low_quality": (("merchant", "seller"),),
}


def best_single(x: pd.DataFrame, y: np.ndarray) -> tuple[float, str]:
    """The aggregate with the highest ``max(AUROC, 1 - AUROC)``; NaN ranks below every value."""
    best, name = 0.5, ""
    for col in x.columns:
        v = x[col].to_numpy(dtype=float)
        if np.nanstd(v) == 0 or np.isnan(v).all():
            continue
        v = np.where(np.isnan(v), np.nanmin(v) - 1.0, v)
        a = float(roc_auc_score(y, v))
        a = max(a, 1.0 - a)
        if a > best:
            best, name = a, col
    return best, name


def lgbm_auroc(x: pd.DataFrame, y: np.ndarray, seed: int, top: int = 15) -> tuple[float, dict[str, float]]:
    """Out-of-fold AUROC of a LightGBM on ``x`` (5-fold stratified) and its top features.

    Returns:
        ``(auroc, importance)``: ``importance`` maps the ``top`` aggregates with the largest
        split gain, summed over the folds, to their share of the total gain (what the
        model leans on: the first place to look for a remaining tell).
    """
    import lightgbm as lgb

    oof = np.zeros(y.shape[0])
    gain = np.zeros(x.shape[1])
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    for tr, te in folds.split(x, y):
        model = lgb.LGBMClassifier(
            n_estimators=150,
            learning_rate=0.06,
            num_leaves=15,
            max_bin=63,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            random_state=seed,
            n_jobs=1,
            verbose=-1,
        )
        model.fit(x.iloc[tr], y[tr])
        oof[te] = np.asarray(model.predict_proba(x.iloc[te]))[:, 1]
        gain += model.booster_.feature_importance(importance_type="gain")
    share = pd.Series(gain / max(gain.sum(), 1e-12), index=x.columns).nlargest(top)
    return float(roc_auc_score(y, oof)), {k: round(float(v), 4) for k, v in share.items()}


def run_realism(data: Path, seed: int = 0) -> dict[str, Any]:
    """Compute every realism figure for a generated folder.

    Args:
        data: folder with ``raw/`` and ``truth/`` (as written by ``fraudmine generate``).
        seed: seed of the LightGBM folds and Louvain.

    Returns:
        One JSON-ready dict with keys ``max_single_auroc``, ``tabular_lgbm_auroc``,
        ``trivial_graph_auroc``, ``cc_ari``, ``louvain_ari``, ``homophily``,
        ``reference_ari`` (plus ``details`` — sizes, and ``lgbm_gain_share``: the
        LightGBM's top aggregates by share of split gain — and ``seconds``).

    Raises:
        FileNotFoundError: ``raw/`` or ``truth/`` is missing, naming the path.
    """
    t0 = time.monotonic()
    raw, truth = Path(data) / "raw", Path(data) / "truth"
    for p in (raw / "merchants", truth / "entities.parquet", truth / "merchants.parquet"):
        if not p.exists():
            raise FileNotFoundError(f"realism benchmark needs {p} (a folder written by `fraudmine generate`)")
    ent = pd.read_parquet(truth / "entities.parquet")
    tm = pd.read_parquet(truth / "merchants.parquet")
    feats = {"merchant": ag.merchant_aggregates(raw)}
    log.info("merchant aggregates: %d x %d (%.1fs)", *feats["merchant"].shape, time.monotonic() - t0)
    feats["buyer"] = ag.buyer_aggregates(raw)
    feats["creator"] = ag.creator_aggregates(raw)
    log.info("buyer and creator aggregates (%.1fs)", time.monotonic() - t0)
    flagged = {
        et: set(g["entity_id"]) for et, g in ent[ent["typology"] != "malicious_reporting"].groupby("entity_type")
    }
    flagged["merchant"] = set(tm.loc[tm["is_fraud"] | tm["is_low_quality"], "merchant_id"])
    single: dict[str, Any] = {}
    for typ, roles in ACCOUNT_TYPOLOGIES.items():
        best: dict[str, Any] = {"auroc": 0.5, "aggregate": "", "entity_type": ""}
        for et, role in roles:
            pos = set(
                ent.loc[(ent["typology"] == typ) & (ent["entity_type"] == et) & (ent["role"] == role), "entity_id"]
            )
            x = feats[et]
            keep = x.index.isin(pos) | ~x.index.isin(flagged.get(et, set()))
            # reporter rings are judged among reporters, colluding creators among promoting creators:
            # filing a report or promoting at all is what the role means, not a tell
            if role == "reporter":
                keep &= x["filed.n"].to_numpy() > 0
            if role == "promoter":
                keep &= x["promo.n"].to_numpy() > 0
            y = x.index[keep].isin(pos)
            if y.sum() < 2 or (~y).sum() < 2:
                continue
            a, name = best_single(x[keep], y)
            if a > best["auroc"]:
                best = {"auroc": round(a, 4), "aggregate": f"{et}:{name}", "entity_type": et}
        single[typ] = best
    xm = feats["merchant"]
    fraud = tm.set_index("merchant_id")["is_fraud"].reindex(xm.index).to_numpy(dtype=bool)
    lgbm, importance = lgbm_auroc(xm, fraud.astype(int), seed)
    log.info("lightgbm (%.1fs)", time.monotonic() - t0)
    ring = _ring_index(ent, xm.index)
    tables = {
        t: ag.read_raw(raw, t) for t in ("merchants", "products", "identities", "promotions", "orders", "reports")
    }
    g = rel.trivial_graph(xm.index, tables["identities"], fraud, ring, CUTS, HOMOPHILY_CUT, seed, tables["products"])
    truth_part = rel.truth_partition(xm.shape[0], ring)
    ref_ari = float(adjusted_rand_score(truth_part, reference_clusters(xm.index, tables)))
    image_ari = float(adjusted_rand_score(truth_part, image_only_clusters(xm.index, tables["products"])))
    copy_ari = float(adjusted_rand_score(truth_part, copy_only_clusters(xm.index, tables["products"])))
    log.info("relational (%.1fs)", time.monotonic() - t0)
    trivial = {
        cut: max(v for per in by_score.values() for v in per.values() if v == v) for cut, by_score in g["auroc"].items()
    }
    return {
        "max_single_auroc": single,
        "tabular_lgbm_auroc": round(lgbm, 4),
        "trivial_graph_auroc": {"max": round(max(trivial.values()), 4), "by_cut": g["auroc"]},
        "cc_ari": {k: round(v, 4) for k, v in g["cc_ari"].items()},
        "louvain_ari": {k: round(v, 4) for k, v in g["louvain_ari"].items()},
        "homophily": {k: round(v, 4) for k, v in g["homophily"].items()},
        "reference_ari": round(ref_ari, 4),
        "details": {
            "cuts": list(CUTS),
            "homophily_cut": HOMOPHILY_CUT,
            "merchants": int(xm.shape[0]),
            "fraud_merchants": int(fraud.sum()),
            "ring_merchants": int((ring >= 0).sum()),
            "aggregates": {et: int(f.shape[1]) for et, f in feats.items()},
            "lgbm_gain_share": importance,
            "image_only_ari": round(image_ari, 4),
            "copy_only_ari": round(copy_ari, 4),
        },
        "seconds": round(time.monotonic() - t0, 1),
    }


def _ring_index(ent: pd.DataFrame, merchants: pd.Index) -> np.ndarray:
    """Collusion ring index per merchant (``-1`` outside rings)."""
    shops = ent[(ent["typology"] == "collusion_ring") & (ent["entity_type"] == "merchant")]
    codes = pd.Series(pd.factorize(shops["group_id"])[0], index=shops["entity_id"].to_numpy())
    out: np.ndarray = codes.reindex(merchants).fillna(-1).to_numpy(dtype=np.int64)
    return out
