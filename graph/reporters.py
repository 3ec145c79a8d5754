"""Reporter rings and reporter credibility.

**Credibility** (time-safe): a reporter's share of reports upheld among its reports
*reviewed before* ``as_of``, smoothed towards a prior (Beta prior with mean
``prior`` and strength ``strength``): ``(upheld + prior·strength) / (reviewed + strength)``.

**Rings**: reporters who report the same target (a merchant or creator; a product
report counts for its merchant) together in a short window.  For every target the
reports are scanned with a window of ``window_days``; the window holding the most
distinct reporters is a *burst* when it has at least ``min_reporters`` reporters,
holds at least ``burst_share`` of the target's reports, and is improbable under the
target's own background rate (Poisson tail below ``max_p_value``): a scam wave of
honest buyers spreads over weeks, a coordinated ring lands within days.  A ring may report
in waves: the densest windows of the reports left are peeled too (at least
``min_secondary_reporters`` reporters each), the background counts only reports outside every
window, and each later wave must be improbable under it as well.  Bursts
that share reporters or a target are merged (connected components) into rings; a ring whose reporters'
mean credibility exceeds ``max_ring_credibility`` is dropped (honest customers reporting a real
scam together are usually upheld).  The densest window is widened by half a window on each
side so a burst straddling it is not cut in two.

Ring risk (no labels): ``min(1, -log10 p / 20) · (1 - mean credibility of its reporters)``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from scipy.stats import poisson

from fraudmine.contracts import ids
from fraudmine.graph import schemas as S
from fraudmine.graph.algorithms import local
from fraudmine.graph.algorithms.community_ops import cluster_id
from fraudmine.graph.algorithms.spark_common import to_pandas
from fraudmine.graph.clusters import CLUSTER_ID, ROLE, assemble_clusters

REPORTER, TARGET = "reporter", "target"


def report_frame(edges: DataFrame) -> DataFrame:
    """``[report, reporter, target, ts]``: one row per report, product targets mapped to their merchant."""
    files = edges.where(F.col(S.EDGE_TYPE) == ids.FILES.key).select(
        F.col(S.SRC).alias(REPORTER), F.col(S.DST).alias("report"), F.col(S.FIRST_TS).alias("ts")
    )
    tg = edges.where(F.col(S.EDGE_TYPE).isin([t.key for t in ids.TARGETS])).select(
        F.col(S.SRC).alias("report"), F.col(S.DST).alias("_t")
    )
    pm = edges.where(F.col(S.EDGE_TYPE) == ids.SELLS.key).select(F.col(S.DST).alias("_t"), F.col(S.SRC).alias("_m"))
    tg = tg.join(pm, "_t", "left").select("report", F.coalesce("_m", "_t").alias(TARGET))
    return files.join(tg, "report")


def reporter_credibility(
    edges: DataFrame, reports: DataFrame, as_of: datetime, prior: float, strength: float
) -> DataFrame:
    """``[node_id, n_reports, n_reviewed, n_upheld, credibility]`` per reporter (outcomes reviewed before ``as_of``).

    Args:
        edges: typed edges as of ``as_of`` (``files`` edges).
        reports: report node attributes (:data:`~fraudmine.graph.schemas.REPORTS_SCHEMA`).
        as_of: outcomes count only when ``reviewed_at < as_of``.
        prior, strength: Beta prior mean and pseudo-count.
    """
    files = edges.where(F.col(S.EDGE_TYPE) == ids.FILES.key).select(
        F.col(S.SRC).alias(S.NODE_ID), F.col(S.DST).alias("report")
    )
    known = F.col(S.REVIEWED_AT).isNotNull() & (F.col(S.REVIEWED_AT) < F.lit(as_of))
    r = reports.select(
        F.col(S.NODE_ID).alias("report"),
        known.cast("long").alias("_rev"),
        (known & (F.col(S.OUTCOME) == "upheld")).cast("long").alias("_up"),
    )
    agg = (
        files.join(r, "report", "left")
        .groupBy(S.NODE_ID)
        .agg(
            F.count(F.lit(1)).alias("n_reports"),
            F.coalesce(F.sum("_rev"), F.lit(0)).alias("n_reviewed"),
            F.coalesce(F.sum("_up"), F.lit(0)).alias("n_upheld"),
        )
    )
    cred = (F.col("n_upheld") + F.lit(prior * strength)) / (F.col("n_reviewed") + F.lit(strength))
    return agg.withColumn("credibility", cred)


def bursts(
    frame: pd.DataFrame,
    window_days: float,
    min_reporters: int,
    burst_share: float,
    max_p_value: float,
    min_secondary_reporters: int | None = None,
    observed_since: Mapping[str, np.datetime64] | None = None,
    until: np.datetime64 | None = None,
    scan_correction: bool = False,
) -> pd.DataFrame:
    """Per target, its densest report window if it is a burst, and its later waves (see module docstring).

    Windows are peeled: the densest ``window_days`` window of distinct reporters (it needs
    ``min_reporters``), then, with ``min_secondary_reporters`` set, the densest window of the reports
    left (it needs that many), and so on.  The target's background rate counts only the reports
    outside every peeled window, so a ring that reports in several waves does not hide its own first
    wave.  The first window must also hold ``burst_share`` of the target's reports; every window
    must be Poisson-improbable (``max_p_value``) under the background.  ``min_secondary_reporters``
    ``None``: the first window only (the rule before 2026-12-07).

    A later wave counts in the background until it is itself improbable: the windows are tested against
    the background of the reports outside the windows still accepted, the windows that fail go back into
    the background, and the test is repeated until no window fails (a pair of honest reports a week apart
    is not a wave, and removing it from the background must not make the first window look rarer).

    The background rate is the reports outside the windows over the target's *observed period*: from
    ``observed_since[target]`` (e.g. the later of its registration and the first report in the data) to
    ``until``, and at least the span of its reports.  Without them the period is the span of the reports,
    so a target reported once, by a ring, has no quiet time to compare with.  With ``scan_correction``
    the p-value threshold is divided by the number of windows in that period (a longer observed period
    offers more windows in which a chance burst can fall).

    Args:
        frame: ``[reporter, target, ts]`` (pandas, ``ts`` datetime64).
        window_days, min_reporters, burst_share, max_p_value, min_secondary_reporters: burst rule.
        observed_since, until: observed period per target (optional, see above).
        scan_correction: divide ``max_p_value`` by the observed period in windows.

    Returns:
        ``[target, start, end, reporters (list), n_reports, p_value]``, one row per burst.
    """
    out = []
    w = np.timedelta64(int(window_days * 86400), "s")
    for target, g in frame.sort_values(["target", "ts", "reporter"]).groupby("target", sort=True):
        if g["reporter"].nunique() < min_reporters:
            continue
        ts_all = g["ts"].to_numpy(dtype="datetime64[s]")
        rep_all = g["reporter"].to_numpy(dtype=str)
        alive = np.ones(ts_all.size, dtype=bool)
        wins: list[tuple[int, np.ndarray]] = []
        while True:
            need = min_reporters if not wins else min_secondary_reporters
            if need is None or int(alive.sum()) < need:
                break
            idx = np.flatnonzero(alive)
            ts, rep = ts_all[idx], rep_all[idx]
            hi = np.searchsorted(ts, ts + w, side="left")
            best_i, best_n = -1, 0
            for i in range(ts.size):
                n = np.unique(rep[i : hi[i]]).size
                if n > best_n:
                    best_i, best_n = i, n
            if best_n < need:
                break
            # the densest window can cut a burst in two: widen it by half a window on each side
            lo_t, hi_t = ts[best_i] - w // 2, ts[hi[best_i] - 1] + w // 2
            inside = alive & (ts_all >= lo_t) & (ts_all <= hi_t)
            wins.append((int(hi[best_i] - best_i), inside))
            alive &= ~inside
        if not wins or wins[0][0] / ts_all.size < burst_share:
            continue
        span_days = max((ts_all[-1] - ts_all[0]) / np.timedelta64(1, "D"), window_days)
        if observed_since is not None and until is not None and target in observed_since:
            since = np.asarray(observed_since[target]).astype("datetime64[s]")
            end = np.asarray(until).astype("datetime64[s]")
            span_days = max(span_days, float((end - since) / np.timedelta64(1, "D")))
        p_max = max_p_value * window_days / span_days if scan_correction else max_p_value
        accepted = list(range(len(wins)))
        while True:  # a wave stays in the background until it is itself improbable
            background = max(ts_all.size - sum(wins[j][0] for j in accepted), 1) / span_days * window_days
            pv = {j: float(poisson.sf(wins[j][0] - 1, background)) for j in accepted}
            keep = [j for j in accepted if pv[j] <= p_max]
            if keep == accepted or 0 not in keep:
                break
            accepted = keep
        if 0 not in keep:
            continue  # no first burst, no waves
        for j in keep:
            k, inside = wins[j]
            ins = ts_all[inside]
            out.append((target, ins[0], ins[-1], sorted(set(rep_all[inside].tolist())), k, pv[j]))
    return pd.DataFrame(out, columns=["target", "start", "end", "reporters", "n_reports", "p_value"])


def _naive_utc(t: object) -> np.datetime64:
    """A timestamp (naive = UTC, as the Spark session's time zone) as a naive ``datetime64[s]`` in UTC."""
    ts = pd.Timestamp(t)  # type: ignore[arg-type]
    return np.datetime64((ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo else ts).to_datetime64(), "s")


def frame_targets(spark: SparkSession, frame: pd.DataFrame) -> DataFrame:
    """``[node_id]``: the distinct targets of a report frame, as a Spark frame."""
    return spark.createDataFrame([(t,) for t in sorted(frame[TARGET].unique().tolist())], f"{S.NODE_ID} string")


def reporter_rings(
    edges: DataFrame,
    nodes: DataFrame,
    credibility: DataFrame,
    window_days: float,
    min_reporters: int,
    burst_share: float,
    max_ring_credibility: float = 0.5,
    max_p_value: float = 1e-4,
    min_secondary_reporters: int | None = None,
    as_of: datetime | None = None,
    scan_correction: bool = False,
) -> tuple[DataFrame, DataFrame]:
    """Reporter rings as cluster rows (bursts sharing reporters or a target are one ring).

    With ``as_of``, a target's background rate is taken over its observed period, from the later of
    its registration (``created_at`` of its node) and the first report in ``edges``, to ``as_of``
    (:func:`bursts`).

    Returns:
        ``(clusters, roles [cluster_id, node_id, role])``; members are reporters (role ``reporter``);
        the targeted sellers are named in the evidence.
    """
    spark = edges.sparkSession
    frame = to_pandas(report_frame(edges).select(REPORTER, TARGET, "ts"))
    since: dict[str, np.datetime64] | None = None
    until = None
    if as_of is not None and not frame.empty:
        start = _naive_utc(frame["ts"].min())
        reg = to_pandas(
            nodes.join(frame_targets(spark, frame), S.NODE_ID).select(S.NODE_ID, F.col(S.CREATED_AT).alias("_c"))
        )
        since = {t: start for t in frame[TARGET].unique().tolist()}
        for t, c in zip(reg[S.NODE_ID], reg["_c"], strict=True):
            if pd.notna(c):
                since[t] = max(start, _naive_utc(c))
        until = _naive_utc(as_of)
    b = bursts(
        frame,
        window_days,
        min_reporters,
        burst_share,
        max_p_value,
        min_secondary_reporters,
        since,
        until,
        scan_correction,
    )
    rows: list[tuple[str, str, str]] = []
    summ: list[tuple[str, float, str]] = []
    if not b.empty:
        pairs = [(f"burst{i}", r) for i, rs in enumerate(b["reporters"]) for r in rs]
        pairs += [(f"burst{i}", f"target\x1f{t}") for i, t in enumerate(b["target"])]  # waves on one target
        g = local.from_pandas(pd.DataFrame(pairs, columns=["src", "dst"]))
        comp = dict(zip(g.names.tolist(), local.connected_components(g).tolist(), strict=True))
        b["ring"] = [comp[f"burst{i}"] for i in range(len(b))]
        cred = to_pandas(credibility.select(S.NODE_ID, "credibility")).set_index(S.NODE_ID)["credibility"]
        for _, grp in b.groupby("ring", sort=True):
            reporters = sorted({r for rs in grp["reporters"] for r in rs})
            cid = cluster_id("reporter_ring", reporters[0])
            mean_cred = float(cred.reindex(reporters).fillna(0.0).mean())
            if mean_cred > max_ring_credibility:
                continue  # a burst of reporters whose reports are usually upheld is a scam wave, not a ring
            p = float(grp["p_value"].min())
            risk = min(1.0, -np.log10(max(p, 1e-300)) / 20.0) * (1.0 - mean_cred)
            ev = {
                "targets": sorted(grp["target"].tolist()),
                "reports_in_bursts": int(grp["n_reports"].sum()),
                "first_burst": str(grp["start"].min()),
                "min_p_value": p,
                "mean_reporter_credibility": round(mean_cred, 3),
            }
            rows += [(cid, r, "reporter") for r in reporters]
            summ.append((cid, float(risk), json.dumps(ev)))
    roles = spark.createDataFrame(rows, f"{CLUSTER_ID} string, {S.NODE_ID} string, {ROLE} string")
    summary = spark.createDataFrame(summ, f"{CLUSTER_ID} string, risk double, evidence string")
    clusters = assemble_clusters("reporter_rings", roles.select(CLUSTER_ID, S.NODE_ID), nodes, summary)
    return clusters, roles
