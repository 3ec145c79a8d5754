"""The shop-level rules of :mod:`.marketplace` on Spark DataFrames, for :mod:`.spark_listings`.

Stock photos (an image hash shown by many shops) and the shop-pair rules on the confident edges
(corroboration and vouching) need each pair's two shops; here they are joins and group-bys, so the
listings never reach the driver.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def with_stock_photos(listings: DataFrame, min_shops: int) -> DataFrame:
    """``listings`` plus ``stock_photo`` (:func:`.marketplace.stock_photos`: the image hash is shown by
    listings of at least ``min_shops`` distinct shops; ``0``: never)."""
    if min_shops <= 0:
        return listings.withColumn("stock_photo", F.lit(False))
    shops = (
        listings.where(F.col("image_phash").isNotNull())
        .groupBy("image_phash")
        .agg(F.countDistinct("merchant_id").alias("_shops"))
    )
    flag = F.coalesce(F.col("_shops") >= F.lit(min_shops), F.lit(False))
    return listings.join(shops, "image_phash", "left").withColumn("stock_photo", flag).drop("_shops")


def _with_shops(pairs: DataFrame, listings: DataFrame) -> DataFrame:
    """``pairs [i, j, score]`` plus both listings' shops ``_a``, ``_b`` and the unordered shop pair ``_lo``, ``_hi``."""
    shop = listings.select("rid", "merchant_id")
    x = pairs.join(shop.select(F.col("rid").alias("i"), F.col("merchant_id").alias("_a")), "i").join(
        shop.select(F.col("rid").alias("j"), F.col("merchant_id").alias("_b")), "j"
    )
    return x.select(
        "i", "j", "score", "_a", "_b", F.least("_a", "_b").alias("_lo"), F.greatest("_a", "_b").alias("_hi")
    )


def shop_rule_edges(conf: DataFrame, text_only: DataFrame, listings: DataFrame, min_matches: int) -> DataFrame:
    """``[i, j, score, vouched]``: the pairs of ``conf`` that :func:`.marketplace.corroborated` keeps (same
    shop, or two shops sharing at least ``min_matches`` pairs of ``conf``), plus (``vouched`` true) the
    ``text_only`` cross-shop pairs between two such shops (:func:`.marketplace.vouched`).  ``min_matches``
    ≤ 1 keeps every confident pair and vouches for none.  The shop pairs' support is counted once for both."""
    if min_matches <= 1:
        return conf.select("i", "j", "score", F.lit(False).alias("vouched"))
    x = _with_shops(conf, listings)
    support = x.groupBy("_lo", "_hi").count().where(F.col("count") >= F.lit(min_matches)).select("_lo", "_hi")
    same = x.where(F.col("_a") == F.col("_b"))
    cross = x.where(F.col("_a") != F.col("_b")).join(support, ["_lo", "_hi"])
    backed = same.unionByName(cross).select("i", "j", "score", F.lit(False).alias("vouched"))
    t = _with_shops(text_only, listings).where(F.col("_a") != F.col("_b"))
    rescued = t.join(support, ["_lo", "_hi"]).select("i", "j", "score", F.lit(True).alias("vouched"))
    return backed.unionByName(rescued)
