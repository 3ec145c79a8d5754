"""The HTML run report: stage table, quarantine reasons, score histogram, top risky merchants.

:func:`render_report` is pure (inputs are plain Python / pandas objects, output is
an HTML string with the plot embedded as a base64 PNG), so it is tested without
Spark; the ``report`` stage gathers the inputs.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import numpy as np
import pandas as pd


def score_histogram_png(fraud_risk: np.ndarray[Any, np.dtype[np.float64]]) -> bytes:
    """PNG bytes of the calibrated fraud-risk histogram (log-scaled counts)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3), dpi=100)
    ax.hist(fraud_risk, bins=40, range=(0.0, 1.0), color="#b03a2e")
    ax.set_yscale("log")
    ax.set_xlabel("calibrated fraud risk")
    ax.set_ylabel("merchants (log)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _table(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in df.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _graph_sections(graph: pd.DataFrame | None, clusters: pd.DataFrame | None, top_n: int) -> str:
    out = ""
    if graph is not None and len(graph):
        out += f"<h2>Graph</h2>{_table(graph)}"
    if clusters is not None and len(clusters):
        bins = pd.cut(
            clusters["size"], [1, 2, 3, 5, 10, 20, 50, 10**9], labels=["2", "3", "4-5", "6-10", "11-20", "21-50", ">50"]
        )
        dist = (
            clusters.assign(size_bin=bins)
            .groupby(["cluster_type", "size_bin"], observed=True)
            .size()
            .unstack(fill_value=0)
        )
        riskiest = clusters.sort_values(["risk", "size", "cluster_id"], ascending=[False, False, True]).head(top_n)
        out += f"<h2>Cluster sizes</h2>{_table(dist.reset_index())}"
        out += (
            f"<h2>Riskiest clusters</h2>{_table(riskiest[['cluster_type', 'cluster_id', 'size', 'risk', 'evidence']])}"
        )
    return out


def render_report(
    manifest: dict[str, Any],
    quarantine: pd.DataFrame,
    scores: pd.DataFrame,
    decisions: pd.DataFrame,
    top_n: int = 25,
    graph: pd.DataFrame | None = None,
    clusters: pd.DataFrame | None = None,
) -> str:
    """Render the run report.

    Args:
        manifest: the run manifest (``stages`` with status, rows, durations).
        quarantine: ``[table, reason_code, rows]``.
        scores: ``[entity_id, fraud_risk, low_quality_risk, risk_band, top_reasons]``.
        decisions: ``[action, rows]``.
        top_n: how many top-risk merchants to list.
        graph: optional graph stats (``graph/stats``: counts, degree quantiles, hubs per node and edge type).
        clusters: optional cluster rows of every kind (``cluster_type, cluster_id, size, risk, evidence``):
            size distribution per kind and the riskiest clusters with their evidence are shown.

    Returns:
        A self-contained HTML document.
    """
    stages = pd.DataFrame(
        [
            {
                "stage": name,
                "status": rec.get("status"),
                "duration_s": rec.get("duration_s"),
                "rows_in": sum((rec.get("rows_in") or {}).values()),
                "rows_out": ", ".join(f"{k}={v}" for k, v in sorted((rec.get("rows_out") or {}).items())[:8]),
            }
            for name, rec in manifest.get("stages", {}).items()
        ]
    )
    png = base64.b64encode(score_histogram_png(scores["fraud_risk"].to_numpy(dtype=float))).decode()
    top = scores.sort_values(["fraud_risk", "entity_id"], ascending=[False, True]).head(top_n).copy()
    top["fraud_risk"] = top["fraud_risk"].round(4)
    top["low_quality_risk"] = top["low_quality_risk"].astype(float).round(4)
    top["top_reasons"] = top["top_reasons"].map(lambda r: ", ".join(list(r)) if r is not None else "")
    bands = scores["risk_band"].value_counts().rename_axis("risk_band").reset_index(name="merchants")
    title = f"fraudmine run {html.escape(str(manifest.get('run_id', '')))}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}}th{{background:#eee}}</style></head>
<body><h1>{title}</h1>
<p>run date {html.escape(str(manifest.get("run_date")))} · code {html.escape(str(manifest.get("code_version")))}
· config {html.escape(str(manifest.get("config_fingerprint")))}</p>
<h2>Stages</h2>{_table(stages)}
<h2>Quarantine reasons</h2>{_table(quarantine) if len(quarantine) else "<p>No quarantined rows.</p>"}
<h2>Fraud risk distribution</h2><img alt="fraud risk histogram" src="data:image/png;base64,{png}">
{_table(bands)}
<h2>Top {top_n} risky merchants</h2>
{_table(top[["entity_id", "fraud_risk", "risk_band", "low_quality_risk", "top_reasons"]])}
<h2>Moderation decisions</h2>{_table(decisions)}
{_graph_sections(graph, clusters, top_n)}
</body></html>
"""
