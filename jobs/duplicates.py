"""Stage ``duplicates``: near-duplicate listing clusters and brand violations with evidence.

Reads the clean ``products``, ``merchants``, ``brands`` and ``brand_authorizations`` as of D and,
up to ``dedup.local_max_listings`` listings, collects the listings to the driver (the numpy /
scikit-learn path of :mod:`fraudmine.dedup`); above it runs the Spark path
(:mod:`fraudmine.dedup.spark_listings`, :mod:`fraudmine.dedup.spark_brands`), which collects only
aggregates.  Either way it writes ``duplicates/{listing_clusters,members,edges,brand_violations,merchant_features,
merchant_features_train}`` plus ``duplicates/_report.json`` (blocking pairs per generator, what the
hot-bucket guard skipped, threshold, splits).  ``edges`` is ``[src, dst, score, cross_merchant]``,
the format ``clusters.duplicate_edges`` reads.  The issue named ``clusters/duplicates``; the
``clusters`` stage commits its whole folder atomically, so this stage owns its own folder.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraudmine.config import DedupConfig
from fraudmine.dedup.brands import utc_series
from fraudmine.dedup.listings import find_duplicates, merchant_duplicate_features
from fraudmine.dedup.violations import (
    ViolationParams,
    brand_violations,
    merchant_violation_features,
)
from fraudmine.features.columns import DUPLICATE_FEATURES
from fraudmine.jobs.context import StageContext, StageResult

OUTPUT = "duplicates"
log = logging.getLogger(__name__)


def _pandas(ctx: StageContext, table: str) -> pd.DataFrame:
    return pd.DataFrame(ctx.read("validate", "clean", table).toPandas())


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
    return _join_features(dup, merchant_violation_features(violations, listings, as_of))


def _join_features(dup: pd.DataFrame, brand: pd.DataFrame) -> pd.DataFrame:
    out = dup.merge(brand, on="merchant_id", how="outer")
    counts = [c for c in DUPLICATE_FEATURES if c != "dup_cross_share"]  # the one share; the rest are counts
    out[counts] = out[counts].fillna(0).astype("int64")
    out["dup_cross_share"] = out["dup_cross_share"].fillna(0.0).astype("float64")
    return out


def choose_path(cfg: DedupConfig, n_listings: int) -> str:
    """``local`` or ``spark``: the configured engine, or by listing count under ``auto``."""
    if cfg.engine != "auto":
        return cfg.engine
    return "local" if n_listings <= cfg.local_max_listings else "spark"


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Find duplicate clusters and brand violations as of D; write them with per-merchant features."""
    cfg = ctx.config.dedup
    products = ctx.read("validate", "clean", "products").where(F.col("created_at") < F.lit(ctx.as_of))
    n = products.count() if cfg.engine == "auto" else -1
    path = choose_path(cfg, n)
    log.info("duplicates: %s path (dedup.engine %s, %s listings, local up to %d)", path, cfg.engine,
             n if n >= 0 else "?", cfg.local_max_listings)  # fmt: skip
    if path == "spark":
        return _run_spark(ctx, staging, products)
    return _run_local(ctx, staging, products)


def _run_local(ctx: StageContext, staging: Path, products: DataFrame) -> StageResult:
    cfg = ctx.config.dedup
    t0 = time.perf_counter()
    as_of = pd.Timestamp(ctx.as_of)
    brands = _pandas(ctx, "brands")
    listings = pd.DataFrame(products.toPandas()).merge(
        brands[["brand_id", "name"]].rename(columns={"name": "brand_name"}), on="brand_id", how="left"
    )
    dup = find_duplicates(listings, cfg)
    dup.report["engine"] = "local"
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
    return _finish(staging, dup.report, len(listings), len(dup.clusters), len(violations), rows, t0)


def _finish(
    staging: Path, report: dict[str, Any], n: int, n_clusters: int, n_violations: int, rows: dict[str, int], t0: float
) -> StageResult:
    seconds = time.perf_counter() - t0
    report["listings_per_second"] = round(n / seconds, 1) if seconds else None
    (staging / "_report.json").write_text(json.dumps(report, indent=1, default=str))
    log.info(
        "duplicates: %d listings, %d clusters, %d brand violations (%.1fs, %.0f listings/s)",
        n,
        n_clusters,
        n_violations,
        seconds,
        n / max(seconds, 1e-9),
    )
    return StageResult(rows_in={"products": n}, rows_out=rows, notes={"report": report})


def _run_spark(ctx: StageContext, staging: Path, listings: DataFrame) -> StageResult:
    """The Spark path (:mod:`fraudmine.dedup.spark_listings`, :mod:`fraudmine.dedup.spark_brands`): no
    collect of the listings."""
    from fraudmine.dedup.spark_brands import brand_violations_spark, merchant_duplicate_features_spark
    from fraudmine.dedup.spark_listings import find_duplicates_spark
    from fraudmine.graph.algorithms.engine import choose_engine

    cfg = ctx.config.dedup
    eng = ctx.config.clusters.engine
    t0 = time.perf_counter()
    as_of = pd.Timestamp(ctx.as_of)
    brands_df = ctx.read("validate", "clean", "brands")
    products = listings.join(
        F.broadcast(brands_df.select("brand_id", F.col("name").alias("brand_name"))), "brand_id", "left"
    )
    spark = products.sparkSession

    def components(edges: DataFrame) -> DataFrame:
        n_edges = edges.count()
        engine = choose_engine(spark, n_edges, eng.engine, eng.local_max_edges, eng.checkpoint_interval)
        return engine.connected_components(edges).frame

    work = staging / "_work"
    try:
        dup = find_duplicates_spark(products, cfg, components, work)
        rows: dict[str, int] = {}
        for name, frame in (("listing_clusters", dup.clusters), ("members", dup.members), ("edges", dup.edges)):
            frame.coalesce(1).write.mode("overwrite").parquet(str(staging / name))
            rows[name] = _rows(staging / name)
        violations, subset = brand_violations_spark(
            products,
            dup.members,
            ctx.read("validate", "clean", "merchants"),
            _pandas(ctx, "brands"),
            _pandas(ctx, "brand_authorizations"),
            as_of,
            ViolationParams(cfg.price_ratio, cfg.new_shop_days),
        )
        write_parquet(violations, staging / "brand_violations")
        rows["brand_violations"] = len(violations)
        for name, when in (("merchant_features", as_of), ("merchant_features_train", pd.Timestamp(ctx.train_as_of))):
            frame = _join_features(
                merchant_duplicate_features_spark(dup.members, products, when),
                merchant_violation_features(violations, subset, when),
            )
            write_parquet(frame, staging / name)
            rows[name] = len(frame)
    except BaseException:
        log.error("duplicates (spark): failed; intermediate tables kept in %s", work)
        raise
    shutil.rmtree(work, ignore_errors=True)
    return _finish(
        staging, dup.report, int(dup.report["listings"]), rows["listing_clusters"], rows["brand_violations"], rows, t0
    )


def _rows(folder: Path) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in folder.glob("*.parquet"))
