"""The Spark path's per-merchant duplicate features and brand violations (:mod:`.spark_listings` does the clusters).

Only small results reach the driver: one row per merchant, and the listings that claim or mention a
protected brand (the input of :func:`.violations.brand_violations`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from fraudmine.dedup.brands import BrandMatcher, brand_keys, mention_table
from fraudmine.dedup.violations import ViolationParams, brand_context, brand_violations


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


def brand_violations_spark(
    products: DataFrame,
    members: DataFrame,
    merchants: DataFrame,
    brands: pd.DataFrame,
    auths: pd.DataFrame,
    as_of: pd.Timestamp,
    params: ViolationParams,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Brand violations with only the listings that claim or mention a protected brand collected.

    The claims and title mentions are found per partition with the local path's matcher; the brands'
    market prices (median per canonical brand) are computed per brand group; the rest of
    :func:`fraudmine.dedup.violations.brand_violations` runs on the collected subset.

    Returns:
        ``(violations, subset)``: the violations and the collected listings they were found on.
    """
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
        params,
        market=market_price,
    )
    return violations, subset
