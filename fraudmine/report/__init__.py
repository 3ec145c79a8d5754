"""The HTML run report, rendered from Jinja2 templates with embedded matplotlib plots.

:func:`render_report` is pure: it takes a :class:`ReportData` of small, already
aggregated tables (the ``report`` stage gathers them with Spark) and returns one
self-contained HTML document (plots as base64 PNG, no external assets), so it is
tested without Spark and checked in a headless browser.  The template is
``fraudmine/report/templates/report.html.j2`` (package data).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined

from fraudmine.contracts.outputs import RISK_BANDS
from fraudmine.report import plots

STAGE_ORDER_NOTE = {"running": "in progress", "failed": "failed", "committed": "committed"}


@dataclass
class ReportData:
    """Everything the report shows, as small tables.

    Attributes:
        manifest: the run manifest (stages with status, rows, durations; run id, date, versions).
        kpis: the decision KPIs (``decisions/_kpis.json``), or ``None`` when the run has no decisions.
        quarantine: ``[table, reason_code, rows]``.
        hist: ``[entity_type, bin, count]``, 20 equal bins of ``fraud_risk``.
        bands: ``[entity_type, risk_band, count]``.
        top_entities: ``[entity_type, entity_id, fraud_risk, risk_band, top_reasons]``, riskiest first.
        calibration: ``[entity_type, p_mean, y_mean, n]`` and ``calibration_source`` saying what labels it uses.
        clusters: ``[kind, cluster_id, size, risk, evidence]``, riskiest first; ``cluster_kinds_missing``.
        duplicates: largest duplicate-listing clusters
            ``[cluster_id, size, n_merchants, canonical_product_id, evidence]``.
        brand_flags: top counterfeit flags ``[product_id, merchant_id, brand_id, level, n_evidence, evidence]``.
        queue_top: riskiest queued items ``[item_id, item_type, action, primary_reason, expected_loss, evidence]``.
        rejects_top: automatic rejects with their evidence (same columns).
        review_losses: expected loss of every item in the review pool (for the capture curve).
        drift: ``{"previous_run", "psi": [{model, psi}], "bands": DataFrame[entity_type, risk_band, run, share],
            "actions": [{action, previous, this}]}``, or ``None`` without a previous published run.
        rendering_stage: the stage that renders this report (its row says so instead of a duration).
        promotion: the champion/challenger decision of the train stage (``model.json`` ``promotion``).
        scorers: per non-merchant entity type ``{entity_type, scorer, why}``: the trained head or the rule, and
            why (the head-versus-rule comparison, or the reason no head was trained).
    """

    manifest: dict[str, Any]
    kpis: dict[str, Any] | None
    quarantine: pd.DataFrame
    hist: pd.DataFrame
    bands: pd.DataFrame
    top_entities: pd.DataFrame
    calibration: pd.DataFrame = field(default_factory=pd.DataFrame)
    calibration_source: str = ""
    clusters: pd.DataFrame = field(default_factory=pd.DataFrame)
    cluster_kinds_missing: list[str] = field(default_factory=list)
    duplicates: pd.DataFrame = field(default_factory=pd.DataFrame)
    brand_flags: pd.DataFrame = field(default_factory=pd.DataFrame)
    queue_top: pd.DataFrame = field(default_factory=pd.DataFrame)
    rejects_top: pd.DataFrame = field(default_factory=pd.DataFrame)
    review_losses: list[float] = field(default_factory=list)
    drift: dict[str, Any] | None = None
    rendering_stage: str = "report"
    promotion: dict[str, Any] | None = None
    scorers: list[dict[str, str]] = field(default_factory=list)


def scorer_rows(meta: dict[str, Any]) -> list[dict[str, str]]:
    """``{entity_type, scorer, why}`` per entity type of a bundle's ``model.json`` ``entities`` entry."""
    rows = []
    for etype, entry in sorted(meta.get("entities", {}).items()):
        versus = entry.get("head_vs_rule") or []
        why = "; ".join(v["reason"] for v in versus) if versus else str(entry.get("why", ""))
        scorer = "LightGBM head (calibrated)" if entry["kind"] == "lightgbm" else "label-free rank rule"
        rows.append({"entity_type": etype, "scorer": scorer, "why": why})
    return rows


def _b64(png: bytes) -> str:
    return base64.b64encode(png).decode()


def stage_rows(manifest: dict[str, Any], rendering_stage: str) -> list[dict[str, Any]]:
    """Rows of the stage table: status, rows in/out (``None`` when a stage did not record them), duration.

    The stage rendering the report cannot know its own end: it is shown as ``rendering``; stages
    after it that have not started are ``pending``.
    """
    out = []
    for name, rec in manifest.get("stages", {}).items():
        rows_in = rec.get("rows_in") or {}
        rows_out = rec.get("rows_out") or {}
        status = rec.get("status")
        duration = rec.get("duration_s")
        if name == rendering_stage and status == "running":
            status, duration = "rendering (this report)", None
        out.append(
            {
                "stage": name,
                "status": status,
                "rows_in": sum(int(v) for v in rows_in.values()) if rows_in else None,
                "rows_in_detail": ", ".join(f"{k} {v:,}" for k, v in sorted(rows_in.items())),
                "rows_out_detail": ", ".join(f"{k} {v:,}" for k, v in sorted(rows_out.items())[:10]),
                "duration_s": duration,
                "error": rec.get("error"),
            }
        )
    return out


def _band_table(bands: pd.DataFrame) -> list[dict[str, Any]]:
    """Bands in risk order (low → critical) per entity type, with shares."""
    rows = []
    for etype, sub in bands.groupby("entity_type", sort=True):
        total = int(sub["count"].sum())
        counts = dict(zip(sub["risk_band"], sub["count"], strict=True))
        for band in RISK_BANDS:
            n = int(counts.get(band, 0))
            rows.append({"entity_type": etype, "band": band, "count": n, "share": n / total if total else 0.0})
    return rows


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [] if df is None or df.empty else df.to_dict("records")


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("fraudmine.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v, d=1: "—" if v is None else f"{100 * float(v):.{d}f}%"
    env.filters["num"] = lambda v, d=0: "—" if v is None else f"{float(v):,.{d}f}"
    env.filters["join_list"] = lambda v: ", ".join(str(x) for x in v) if v is not None else ""
    return env


def render_report(data: ReportData) -> str:
    """Render the run report.

    Args:
        data: the aggregated inputs (see :class:`ReportData`).

    Returns:
        A self-contained HTML document.
    """
    k = data.kpis
    # every figure the template may show, None when there is nothing to draw (an empty queue on a backfill date)
    images: dict[str, str | None] = dict.fromkeys(("risk", "calibration", "actions", "queue", "capture", "drift"))
    if not data.hist.empty:
        images["risk"] = _b64(plots.risk_histogram(data.hist))
    if not data.calibration.empty:
        images["calibration"] = _b64(plots.calibration_curve(data.calibration))
    if k is not None:
        if k.get("by_item_type"):
            images["actions"] = _b64(plots.actions_by_item_type(k["by_item_type"]))
        images["queue"] = _b64(plots.queue_vs_capacity(k["queue"]))
        if data.review_losses:
            images["capture"] = _b64(plots.expected_loss_capture(data.review_losses, k["queue"]["review_capacity"]))
    drift = data.drift
    if drift is not None and not drift["bands"].empty:
        images["drift"] = _b64(plots.band_drift(drift["bands"]))
    missing = sorted(n for n, ok in (k or {}).get("inputs", {}).items() if not ok)
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            m=data.manifest,
            k=k,
            stages=stage_rows(data.manifest, data.rendering_stage),
            quarantine=_records(data.quarantine),
            bands=_band_table(data.bands) if not data.bands.empty else [],
            top_entities=_records(data.top_entities),
            calibration_source=data.calibration_source,
            clusters=_records(data.clusters),
            cluster_kinds_missing=data.cluster_kinds_missing,
            duplicates=_records(data.duplicates),
            brand_flags=_records(data.brand_flags),
            queue_top=_records(data.queue_top),
            rejects_top=_records(data.rejects_top),
            drift=drift,
            promotion=data.promotion,
            scorers=data.scorers,
            missing_inputs=missing,
            images=images,
        )
    )
