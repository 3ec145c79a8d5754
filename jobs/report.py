"""Stage ``report``: gather small aggregates of the run and render ``reports/report.html``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from fraudmine.audit import RunStats, bin_counts, psi
from fraudmine.decisions.facts import CLUSTER_KINDS
from fraudmine.decisions.inputs import cluster_members
from fraudmine.decisions.outcomes import latest_label
from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.jobs.parquet import read_parquet
from fraudmine.report import ReportData, render_report, scorer_rows
from fraudmine.spark import run_concurrently

OUTPUT = "reports"
CALIBRATION_SOURCE = (
    "calibrated scores at the run date against the latest label known before it (merchants, creators and listings "
    "with a label; these were training rows, so the curve is in-sample and optimistic)"
)


def _pd(df: DataFrame) -> pd.DataFrame:
    return pd.DataFrame(df.toPandas())


def _top(df: DataFrame, part: str, order: list[Any], n: int) -> DataFrame:
    w = Window.partitionBy(part).orderBy(*order)
    return df.withColumn("_rk", F.row_number().over(w)).where(F.col("_rk") <= n).drop("_rk")


def _calibration(scores: DataFrame, labels: DataFrame, ctx: StageContext) -> pd.DataFrame:
    latest = latest_label(labels, ctx.as_of).select(
        "entity_type", "entity_id", (F.col("label") == "fraud").cast("double").alias("y")
    )
    # rank-normalised (label-free) scores are not probabilities: no reliability curve for them
    calibrated = scores.where(F.col("calibrated")) if "calibrated" in scores.columns else scores
    j = calibrated.join(latest, ["entity_type", "entity_id"])
    b = F.least(F.floor(F.col("fraud_risk") * 10), F.lit(9))
    return _pd(
        j.groupBy("entity_type", b.alias("bin"))
        .agg(F.avg("fraud_risk").alias("p_mean"), F.avg("y").alias("y_mean"), F.count(F.lit(1)).alias("n"))
        .orderBy("entity_type", "bin")
    )


def _duplicates(ctx: StageContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Largest duplicate clusters and top counterfeit flags of the ``duplicates`` stage (empty without it)."""
    if not ctx.path("duplicates", "listing_clusters").exists():
        return pd.DataFrame(), pd.DataFrame()
    dup = ctx.read("duplicates", "listing_clusters").orderBy(F.desc("size"), "cluster_id").limit(10)
    flags = ctx.read("duplicates", "brand_violations").where(F.col("level") == "counterfeit_pattern")
    flags = flags.orderBy(F.desc("n_evidence"), "product_id").limit(10)
    cols = ["product_id", "merchant_id", "brand_id", "level", "n_evidence", "evidence"]
    return _pd(dup), _pd(flags.select(*cols))


# the report lists the kinds that point at fraud first: an identity cluster's risk is how surely its
# accounts are one operator (families and agencies too), not how likely they are to be fraud
REPORT_KIND_ORDER = ("collusion", "brushing", "reporter_rings", "identity")


def _clusters(ctx: StageContext) -> tuple[pd.DataFrame, list[str]]:
    frames, missing = [], []
    order = {k: i for i, k in enumerate(REPORT_KIND_ORDER)}
    for kind in sorted(CLUSTER_KINDS, key=lambda k: (order.get(k, len(order)), k)):
        if not ctx.path("clusters", kind).exists():
            missing.append(kind)
            continue
        m = cluster_members(ctx.read("clusters", kind), kind)
        c = m.groupBy("cluster_id").agg(
            F.max("size").alias("size"), F.max("risk").alias("risk"), F.first("evidence", True).alias("evidence")
        )
        frames.append(
            _pd(c.orderBy(F.desc_nulls_last("risk"), F.desc("size"), "cluster_id").limit(10)).assign(kind=kind)
        )
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), missing


def _drift(ctx: StageContext, scores: DataFrame, kpis: dict[str, Any] | None) -> dict[str, Any] | None:
    current = ctx.out_dir / "current"
    if not current.exists() or current.resolve() == ctx.run_dir.resolve():
        return None
    prev_dir = current.resolve()
    audit_file = prev_dir / "publish" / "audit.json"
    rows = []
    if audit_file.exists():
        prev = RunStats.from_dict(json.loads(audit_file.read_text())["stats"])
        for key, prof in sorted(prev.profiles.items()):
            etype, col = key.split("/")
            vals = scores.where((F.col("entity_type") == etype) & F.col(col).isNotNull())
            rows.append({"model": key, "psi": psi(prof.counts, bin_counts(vals, col, prof.edges))})
    bands = []
    for run, df in (("previous", read_parquet(ctx.spark, prev_dir / "scores")), ("this", scores)):
        counts = _pd(df.groupBy("entity_type", "risk_band").count())
        counts["share"] = counts["count"] / counts.groupby("entity_type")["count"].transform("sum")
        bands.append(counts.assign(run=run))
    prev_kpis_file = prev_dir / "decisions" / "_kpis.json"
    actions = []
    if prev_kpis_file.exists() and kpis is not None:
        prev_k = json.loads(prev_kpis_file.read_text())
        actions = [
            {"action": a, "previous": prev_k["by_action"].get(a, 0), "this": n} for a, n in kpis["by_action"].items()
        ]
    return {
        "previous_run": prev_dir.name,
        "psi": rows,
        "bands": pd.concat(bands, ignore_index=True),
        "actions": actions,
    }


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Gather the report's aggregates from the committed outputs and render it."""
    manifest = json.loads(ctx.path("manifest.json").read_text())
    kpis_file = ctx.path("decisions", "_kpis.json")
    kpis = json.loads(kpis_file.read_text()) if kpis_file.exists() else None
    quarantine = ctx.read("validate", "quarantine").groupBy("table", "reason_code").count()
    scores = ctx.read("scores")
    hist_bin = F.least(F.floor(F.col("fraud_risk") * 20), F.lit(19)).alias("bin")
    top = _top(scores, "entity_type", [F.desc("fraud_risk"), "entity_id"], 10)
    decisions = ctx.read("decisions")
    cols = ["item_id", "item_type", "action", "primary_reason", "expected_loss", "evidence", "queue_rank"]
    auto_rej = decisions.where((F.col("action") == "reject") & (F.col("queue_status") == "auto"))
    pool = decisions.where((F.col("action") == "review") & (F.col("queue_status") != "exploration"))
    # independent small aggregates: on a small input two are gathered at once (the result does not depend on it)
    parts: dict[str, Callable[[], Any]] = {
        "quarantine": lambda: _pd(quarantine.withColumnRenamed("count", "rows").orderBy("table", "reason_code")),
        "hist": lambda: _pd(scores.groupBy("entity_type", hist_bin).count().orderBy("entity_type", "bin")),
        "bands": lambda: _pd(scores.groupBy("entity_type", "risk_band").count()),
        "top_entities": lambda: _pd(
            top.select("entity_type", "entity_id", "fraud_risk", "risk_band", "top_reasons").orderBy(
                "entity_type", F.desc("fraud_risk"), "entity_id"
            )
        ),
        "clusters": lambda: _clusters(ctx),
        "duplicates": lambda: _duplicates(ctx),
        "queue_top": lambda: _pd(
            decisions.where(F.col("queue_status") == "queued").orderBy("queue_rank").select(*cols).limit(20)
        ),
        "rejects_top": lambda: _pd(auto_rej.orderBy(F.desc("expected_loss"), "item_id").select(*cols).limit(10)),
        "losses": lambda: [float(r[0]) for r in pool.select("expected_loss").collect()],
        "calibration": lambda: _calibration(scores, ctx.read("validate", "clean", "labels"), ctx),
        "drift": lambda: _drift(ctx, scores, kpis),
    }
    got = dict(zip(parts, run_concurrently(ctx.spark, list(parts.values()), ctx.workers), strict=True))
    clusters, missing = got["clusters"]
    duplicates, brand_flags = got["duplicates"]
    bands = got["bands"]
    meta = json.loads(ctx.path("model", "model.json").read_text())
    data = ReportData(
        manifest=manifest,
        kpis=kpis,
        quarantine=got["quarantine"],
        hist=got["hist"],
        bands=bands,
        top_entities=got["top_entities"],
        calibration=got["calibration"],
        calibration_source=CALIBRATION_SOURCE,
        clusters=clusters,
        cluster_kinds_missing=missing,
        duplicates=duplicates,
        brand_flags=brand_flags,
        queue_top=got["queue_top"],
        rejects_top=got["rejects_top"],
        review_losses=got["losses"],
        promotion=meta.get("promotion"),
        scorers=scorer_rows(meta),
        drift=got["drift"],
        rendering_stage="report",
    )
    (staging / "report.html").write_text(render_report(data))
    return StageResult(
        rows_in={"scores": int(bands["count"].sum()), "decisions": kpis["items"] if kpis else 0},
        rows_out={"report.html": 1},
    )
