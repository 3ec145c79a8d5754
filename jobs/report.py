"""Stage ``report``: the HTML run report (``reports/report.html``)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.report import render_report

OUTPUT = "reports"


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Gather small aggregates from the committed outputs and render the report."""
    manifest = json.loads(ctx.path("manifest.json").read_text())
    quarantine = (
        ctx.read("validate", "quarantine")
        .groupBy("table", "reason_code")
        .count()
        .withColumnRenamed("count", "rows")
        .orderBy("table", "reason_code")
        .toPandas()
    )
    scores = (
        ctx.read("scores").select("entity_id", "fraud_risk", "low_quality_risk", "risk_band", "top_reasons").toPandas()
    )
    decisions = (
        ctx.read("decisions").groupBy("action").count().withColumnRenamed("count", "rows").orderBy("action").toPandas()
    )
    graph = ctx.read("graph", "stats").toPandas() if ctx.path("graph", "stats").exists() else None
    clusters = None
    if ctx.path("clusters").exists():
        kinds = [k for k in ("identity", "collusion", "brushing", "reporter_rings") if ctx.path("clusters", k).exists()]
        frames = [
            ctx.read("clusters", k).select("cluster_type", "cluster_id", "size", "risk", "evidence").toPandas()
            for k in kinds
        ]
        clusters = pd.concat(frames, ignore_index=True) if frames else None
    html = render_report(manifest, quarantine, scores, decisions, graph=graph, clusters=clusters)
    (staging / "report.html").write_text(html)
    return StageResult(rows_in={"scores": len(scores)}, rows_out={"report.html": 1})
