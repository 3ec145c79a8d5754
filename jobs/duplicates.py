"""Stage ``duplicates``: near-duplicate listing clusters and brand violations with evidence.

Reads the clean ``products``, ``merchants``, ``brands`` and ``brand_authorizations`` as of D,
collects the listings to the driver (the numpy/scikit-learn path of :mod:`fraudmine.dedup`) and
writes ``duplicates/{listing_clusters,members,edges,brand_violations,merchant_features,
merchant_features_train}`` plus ``duplicates/_report.json`` (blocking pairs per generator, what the
hot-bucket guard skipped, threshold, splits).  ``edges`` is ``[src, dst, score, cross_merchant]``,
the format ``clusters.duplicate_edges`` reads.  The issue named ``clusters/duplicates``; the
``clusters`` stage commits its whole folder atomically, so this stage owns its own folder.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import functions as F

from fraudmine.dedup.brands import utc_series
from fraudmine.dedup.listings import find_duplicates, merchant_duplicate_features
from fraudmine.dedup.violations import ViolationParams, brand_violations, merchant_violation_features
from fraudmine.features.columns import DUPLICATE_FEATURES
from fraudmine.jobs.context import StageContext, StageResult

OUTPUT = "duplicates"
log = logging.getLogger(__name__)


def _pandas(ctx: StageContext, table: str) -> pd.DataFrame:
    return ctx.read("validate", "clean", table).toPandas()


def write_parquet(frame: pd.DataFrame, folder: Path) -> None:
    """One Parquet file in ``folder`` with explicit types: text as string even when empty, datetimes in UTC."""
    typed = frame.copy()
    for c in typed.columns:
        if typed[c].dtype == object:
            typed[c] = typed[c].astype("string")
        elif pd.api.types.is_datetime64_any_dtype(typed[c]):
            typed[c] = utc_series(typed[c]).astype("datetime64[us, UTC]")
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(typed, preserve_index=False), folder / "part-00000.parquet")


def _merchant_features(
    members: pd.DataFrame, violations: pd.DataFrame, listings: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Duplicate and brand-violation features per merchant, over listings created before ``as_of``."""
    dup = merchant_duplicate_features(members, listings, as_of)
    brand = merchant_violation_features(violations, listings, as_of)
    out = dup.merge(brand, on="merchant_id", how="outer")
    counts = [c for c in DUPLICATE_FEATURES if c != "dup_cross_share"]  # the one share; the rest are counts
    out[counts] = out[counts].fillna(0).astype("int64")
    out["dup_cross_share"] = out["dup_cross_share"].fillna(0.0).astype("float64")
    return out


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Find duplicate clusters and brand violations as of D; write them with per-merchant features."""
    cfg = ctx.config.dedup
    t0 = time.perf_counter()
    as_of = pd.Timestamp(ctx.as_of)
    products = ctx.read("validate", "clean", "products").where(F.col("created_at") < F.lit(ctx.as_of))
    brands = _pandas(ctx, "brands")
    listings = pd.DataFrame(products.toPandas()).merge(
        brands[["brand_id", "name"]].rename(columns={"name": "brand_name"}), on="brand_id", how="left"
    )
    dup = find_duplicates(listings, cfg)
    copied = set(dup.members.loc[~dup.members["is_canonical"], "product_id"]) & set(
        dup.members.groupby("cluster_id").filter(lambda g: g["merchant_id"].nunique() > 1)["product_id"]
    )
    violations = brand_violations(
        listings,
        _pandas(ctx, "merchants"),
        brands,
        _pandas(ctx, "brand_authorizations"),
        as_of,
        copied,
        ViolationParams(cfg.price_ratio, cfg.new_shop_days),
    )
    outputs = {
        "listing_clusters": dup.clusters,
        "members": dup.members,
        "edges": dup.edges,
        "brand_violations": violations,
        "merchant_features": _merchant_features(dup.members, violations, listings, as_of),
        "merchant_features_train": _merchant_features(dup.members, violations, listings, pd.Timestamp(ctx.train_as_of)),
    }
    rows: dict[str, int] = {}
    for name, frame in outputs.items():
        write_parquet(frame, staging / name)
        rows[name] = len(frame)
    seconds = time.perf_counter() - t0
    dup.report["listings_per_second"] = round(len(listings) / seconds, 1) if seconds else None
    (staging / "_report.json").write_text(json.dumps(dup.report, indent=1, default=str))
    log.info(
        "duplicates: %d listings, %d clusters, %d brand violations (%.1fs, %.0f listings/s)",
        len(listings),
        len(dup.clusters),
        len(violations),
        seconds,
        len(listings) / max(seconds, 1e-9),
    )
    return StageResult(rows_in={"products": len(listings)}, rows_out=rows, notes={"report": dup.report})
