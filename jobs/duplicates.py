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
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from fraudmine.config import DedupConfig
from fraudmine.dedup.brands import BrandMatcher, brand_keys, mention_table, utc_series
from fraudmine.dedup.listings import find_duplicates, merchant_duplicate_features
from fraudmine.dedup.violations import (
    ViolationParams,
    brand_context,
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
        return _run_spark(ctx, staging)
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


def _run_spark(ctx: StageContext, staging: Path) -> StageResult:
    """The Spark path (:mod:`fraudmine.dedup.spark_listings`): no collect of the listings."""
    from fraudmine.dedup.spark_listings import find_duplicates_spark
    from fraudmine.graph.algorithms.engine import choose_engine

    cfg = ctx.config.dedup
    eng = ctx.config.clusters.engine
    t0 = time.perf_counter()
    as_of = pd.Timestamp(ctx.as_of)
    brands_df = ctx.read("validate", "clean", "brands")
    products = (
        ctx.read("validate", "clean", "products")
        .where(F.col("created_at") < F.lit(ctx.as_of))
        .join(F.broadcast(brands_df.select("brand_id", F.col("name").alias("brand_name"))), "brand_id", "left")
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
        violations, subset = _violations_spark(ctx, products, dup.members, as_of, cfg)
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


def merchant_duplicate_features_spark(members: DataFrame, listings: DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """:func:`fraudmine.dedup.listings.merchant_duplicate_features` in Spark (one row per merchant collected)."""
    when = F.lit(as_of.to_pydatetime())
    m = members.where(F.col("created_at") < when)
    w = Window.partitionBy("cluster_id")
    m = m.withColumn("size", F.count(F.lit(1)).over(w)).where(F.col("size") >= 2)
    m = m.withColumn("cross", (F.size(F.collect_set("merchant_id").over(w)) >= 2).cast("long"))
    total = listings.where(F.col("created_at") < when).groupBy("merchant_id").agg(F.count(F.lit(1)).alias("total"))
    agg = (
        m.groupBy("merchant_id")
        .agg(
            F.count(F.lit(1)).alias("n_dup_listings"),
            F.sum("cross").alias("cross"),
            F.max("size").alias("dup_max_cluster_size"),
            F.countDistinct("cluster_id").alias("n_dup_clusters"),
        )
        .join(total, "merchant_id", "left")
        .select(
            "merchant_id",
            (F.col("cross") / F.greatest(F.coalesce(F.col("total"), F.lit(1)), F.lit(1))).alias("dup_cross_share"),
            "n_dup_listings",
            "dup_max_cluster_size",
            "n_dup_clusters",
        )
    )
    cols = {"merchant_id": "string", "dup_cross_share": "float64", "n_dup_listings": "int64",
            "dup_max_cluster_size": "int64", "n_dup_clusters": "int64"}  # fmt: skip
    return pd.DataFrame(agg.toPandas()).sort_values("merchant_id").reset_index(drop=True)[list(cols)].astype(cols)


def _violations_spark(
    ctx: StageContext, products: DataFrame, members: DataFrame, as_of: pd.Timestamp, cfg: DedupConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Brand violations with only the listings that claim or mention a protected brand collected.

    The claims and title mentions are found per partition with the local path's matcher; the brands'
    market prices (median per canonical brand) are computed per brand group; the rest of
    :func:`fraudmine.dedup.violations.brand_violations` runs on the collected subset.
    """
    brands = _pandas(ctx, "brands")
    auths = _pandas(ctx, "brand_authorizations")
    to_canon, protected, auth = brand_context(brands, auths, as_of)
    matcher = BrandMatcher(brand_keys(brands))

    def flag(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            claim = pdf["brand_id"].map(lambda b: b is not None and to_canon.get(str(b), str(b)) in protected)
            ment = mention_table(zip(pdf["product_id"], pdf["title"], strict=True), matcher)
            hit = set(ment.loc[ment["brand_id"].isin(protected), "product_id"])
            keep = claim.to_numpy(dtype=bool) | pdf["product_id"].isin(hit).to_numpy()
            yield pdf.loc[keep, ["product_id"]]

    cols = ["product_id", "merchant_id", "brand_id", "title", "price", "created_at"]
    ids = products.select("product_id", "title", "brand_id").mapInPandas(flag, "product_id string")
    subset = pd.DataFrame(products.select(*cols).join(ids, "product_id").toPandas())

    def market(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            canon = pdf["brand_id"].astype(str).map(lambda b: to_canon.get(b, b))
            is_auth = [(b, m) in auth for b, m in zip(canon, pdf["merchant_id"], strict=True)]
            yield pd.DataFrame({"canon": canon, "auth": is_auth, "price": pdf["price"]})

    def median(pdf: pd.DataFrame) -> pd.DataFrame:
        authorised = pdf.loc[pdf["auth"], "price"]
        value = authorised.median() if len(authorised) else pdf["price"].median()
        return pd.DataFrame({"canon": [pdf["canon"].iloc[0]], "price": [value]})

    prices = pd.DataFrame(
        products.where(F.col("brand_id").isNotNull())
        .select("brand_id", "merchant_id", "price")
        .mapInPandas(market, "canon string, auth boolean, price double")
        .groupBy("canon")
        .applyInPandas(median, "canon string, price double")
        .toPandas()
    )
    market_price = pd.Series(prices["price"].to_numpy(), index=pd.Index(prices["canon"].astype(object)))
    copied_df = pd.DataFrame(
        members.join(members.groupBy("cluster_id").agg(F.countDistinct("merchant_id").alias("shops")), "cluster_id")
        .where(~F.col("is_canonical") & (F.col("shops") > 1))
        .select("product_id")
        .join(ids, "product_id")
        .toPandas()
    )
    merchant_ids = subset["merchant_id"].dropna().unique().tolist()
    merchants = ctx.read("validate", "clean", "merchants")
    merchants_sub = pd.DataFrame(
        merchants.join(
            products.sparkSession.createDataFrame(
                pd.DataFrame({"merchant_id": merchant_ids}, dtype=object), "merchant_id string"
            ),
            "merchant_id",
        ).toPandas()
    )
    violations = brand_violations(
        subset,
        merchants_sub,
        brands,
        auths,
        as_of,
        set(copied_df["product_id"]),
        ViolationParams(cfg.price_ratio, cfg.new_shop_days),
        market=market_price,
    )
    return violations, subset
