"""Partial, delayed, noisy labels and the ground-truth tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from fraudmine.synth.blocks import creator_ids, merchant_ids
from fraudmine.synth.entities import Plan
from fraudmine.synth.planting import group_name
from fraudmine.synth.util import US_PER_DAY
from fraudmine.synth.writer import to_table

TruthRow = tuple[str, str, str, str | None, str]


def labels_table(plan: Plan, rng: np.random.Generator) -> pa.Table:
    """Labels: a share of fraud / low-quality / honest merchants and some creators.

    ``labelled_at`` is activity start plus an exponential delay; labels that would
    fall at or after ``end_date`` are dropped (not known yet); a share is flipped.
    """
    cfg = plan.scenario.labels
    n = plan.n_merchants
    fraud, lq = plan.fraud, plan.low_quality
    cov = np.where(fraud, cfg.fraud_coverage, np.where(lq, cfg.low_quality_coverage, cfg.ok_coverage))
    if cfg.selection:
        cov = _selected(plan, rng, cov)
    pick = rng.random(n) < cov
    label = np.where(fraud, "fraud", np.where(lq, "low_quality", "ok"))
    cleared = fraud & (rng.random(n) < cfg.fraud_cleared_prob)
    label = np.where(cleared, "ok", label)
    framed = (plan.victim >= 0) & (rng.random(n) < cfg.victim_upheld_prob)
    label = np.where(framed, "fraud", label)
    start = np.where(fraud, plan.fraud_start, np.maximum(plan.registered, plan.start_us))
    delay = np.floor(rng.exponential(cfg.delay_mean_days * US_PER_DAY, n)).astype(np.int64)
    at = start + delay + US_PER_DAY
    u = rng.random(n)
    source = np.where(
        fraud,
        np.where(plan.counterfeit & (u < 0.6), "brand_complaint", np.where(u < 0.7, "manual_review", "chargeback")),
        np.where(lq, np.where(u < 0.6, "manual_review", "chargeback"), np.where(u < 0.7, "manual_review", "appeal")),
    )
    flip = rng.random(n) < cfg.noise_rate
    noisy = np.where(label == "ok", np.where(rng.random(n) < 0.5, "fraud", "low_quality"), "ok")
    label = np.where(flip, noisy, label)
    keep = pick & (at < plan.end_us)
    c = plan.n_creators
    colluder = plan.c_ring >= 0
    c_pick = rng.random(c) < np.where(colluder, cfg.creator_coverage, cfg.ok_coverage / 2)
    c_label = np.where(colluder, "fraud", "ok")
    c_label = np.where(rng.random(c) < cfg.noise_rate, np.where(colluder, "ok", "fraud"), c_label)
    c_start = np.maximum(plan.c_registered, plan.start_us)
    c_at = c_start + US_PER_DAY + np.floor(rng.exponential(cfg.delay_mean_days * US_PER_DAY, c)).astype(np.int64)
    c_keep = c_pick & (c_at < plan.end_us)
    mi, ci = np.flatnonzero(keep), np.flatnonzero(c_keep)
    return to_table(
        "labels",
        {
            "entity_type": ["merchant"] * mi.shape[0] + ["creator"] * ci.shape[0],
            "entity_id": merchant_ids(mi) + creator_ids(ci),
            "label": label[mi].tolist() + c_label[ci].tolist(),
            "source": source[mi].tolist() + ["manual_review"] * ci.shape[0],
            "labelled_at": np.concatenate([at[mi], c_at[ci]]),
        },
    )


def _selected(plan: Plan, rng: np.random.Generator, cov: np.ndarray) -> np.ndarray:
    """Review probability like a moderation team's: reports, exposure and prior flags drive it.

    The scenario's coverage rates set the average; the logit adds
    ``report_weight * log(report volume)`` and ``exposure_weight * log(order
    volume)``, victims of report rings are reviewed more, and a
    ``never_caught_share`` of fraud is never reviewed at all.
    """
    cfg = plan.scenario.labels
    n = plan.n_merchants
    reports = plan.report_mult * np.where(plan.victim >= 0, 8.0, 1.0)
    z = cfg.base_review_logit + cfg.report_weight * np.log(reports) + cfg.exposure_weight * np.log(plan.activity + 0.05)
    z = z + rng.normal(0.0, 0.5, n)
    prob = 1.0 / (1.0 + np.exp(-z))
    # rescale each population to its configured mean coverage (capped at 1)
    out = np.zeros(n)
    for mask in (plan.fraud, plan.low_quality & ~plan.fraud, ~plan.fraud & ~plan.low_quality):
        if mask.any():
            target = float(cov[mask].mean())
            out[mask] = np.clip(prob[mask] * target / max(float(prob[mask].mean()), 1e-9), 0.0, 1.0)
    hidden = plan.fraud & (rng.random(n) < cfg.never_caught_share)
    out[hidden] = 0.0
    return out


def merchant_typologies(plan: Plan) -> list[list[str]]:
    """Typology names of every merchant (``low_quality`` included)."""
    cols = [
        ("collusion_ring", plan.ring >= 0),
        ("duplicate_listing", plan.n_dup > 0),
        ("counterfeit", plan.counterfeit),
        ("brushing", plan.brush >= 0),
        ("creator_collusion", plan.promoted),  # ring shops a colluding creator actually promoted
        ("low_quality", plan.low_quality),
    ]
    out: list[list[str]] = [[] for _ in range(plan.n_merchants)]
    for name, mask in cols:
        for i in np.flatnonzero(mask).tolist():
            out[i].append(name)
    return out


def merchant_group(plan: Plan, m: int) -> str | None:
    """The main truth group of merchant ``m`` (ring, then brushing block, then duplicate group)."""
    if plan.ring[m] >= 0:
        return group_name("ring", int(plan.ring[m]))
    if plan.brush[m] >= 0:
        return group_name("brush", int(plan.brush[m]))
    if plan.n_dup[m] > 0:
        return group_name("dup", int(plan.dup_group[m]))
    return None


def truth_frames(plan: Plan, block_rows: list[TruthRow]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build ``(merchants, entities)`` truth frames from the plan and the block-level rows."""
    typ = merchant_typologies(plan)
    mids = merchant_ids(np.arange(plan.n_merchants))
    groups = [merchant_group(plan, m) if typ[m] else None for m in range(plan.n_merchants)]
    merchants = pd.DataFrame(
        {
            "merchant_id": mids,
            "is_fraud": plan.fraud,
            "is_low_quality": plan.low_quality,
            "typologies": ["|".join(t) for t in typ],
            "camouflaged": plan.camo & plan.fraud,
            "group_id": pd.array(groups, dtype="string"),
        }
    )
    rows: list[TruthRow] = []
    for m, names in enumerate(typ):
        for name in names:
            if name == "collusion_ring":
                rows.append(("merchant", mids[m], name, group_name("ring", int(plan.ring[m])), "shop"))
            elif name == "creator_collusion":
                rows.append(("merchant", mids[m], name, group_name("ring", int(plan.ring[m])), "beneficiary"))
            elif name == "duplicate_listing":
                g = int(plan.ring[m])
                grp = group_name("ring", g) if g >= 0 else group_name("dup", int(plan.dup_group[m]))
                rows.append(("merchant", mids[m], name, grp, "seller"))
            elif name == "brushing":
                rows.append(("merchant", mids[m], name, group_name("brush", int(plan.brush[m])), "seller"))
            else:
                g = int(plan.ring[m])
                rows.append(("merchant", mids[m], name, group_name("ring", g) if g >= 0 else None, "seller"))
    cids = creator_ids(np.flatnonzero(plan.c_ring >= 0))
    for cid, g in zip(cids, plan.c_ring[plan.c_ring >= 0].tolist(), strict=True):
        rows.append(("creator", cid, "creator_collusion", group_name("ring", g), "promoter"))
    rows.extend(block_rows)
    entities = pd.DataFrame(rows, columns=["entity_type", "entity_id", "typology", "group_id", "role"])
    entities["group_id"] = entities["group_id"].astype("string")
    entities = entities.drop_duplicates(["entity_type", "entity_id", "typology", "role"]).reset_index(drop=True)
    return merchants, entities
