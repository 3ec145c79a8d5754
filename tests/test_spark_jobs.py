"""Fixed Spark costs of the nightly run: jobs per stage step, schemas and row counts without Spark jobs.

On small inputs a run's time is mostly the fixed cost of its Spark jobs (each write,
count, collect, schema inference and adaptive query stage is one), so these tests
count jobs with :func:`fraudmine.spark.counting_jobs` and fail when a step needs more
than a bound the previous code exceeded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from fraudmine.config import ValidationConfig
from fraudmine.contracts.raw import RAW_TABLES
from fraudmine.jobs.parquet import parquet_rows, read_parquet, written_schema
from fraudmine.spark import counting_jobs
from fraudmine.validation.reader import read_raw
from fraudmine.validation.streaming import validate_to_disk

pytestmark = pytest.mark.spark

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)


def test_counting_jobs_counts_the_actions_of_its_block_only(spark: SparkSession) -> None:
    df = spark.range(10)
    df.count()  # outside: not counted
    with counting_jobs(spark, "t") as outer:
        df.collect()
        with counting_jobs(spark, "inner") as inner:
            df.collect()
        df.collect()
    assert inner.jobs == 1
    assert outer.jobs == 2  # the inner block's job belongs to the inner group
    assert spark.sparkContext.getLocalProperty("spark.jobGroup.id") is None


def test_written_schema_equals_what_spark_infers(spark: SparkSession, tmp_path: Path) -> None:
    df = spark.createDataFrame(
        [("a", 1, 2.5, datetime(2026, 1, 1, tzinfo=UTC), ["x"], {"k": "v"}, True)],
        "s string, i long, d double, t timestamp, a array<string>, m map<string,string>, b boolean",
    ).withColumn("st", F.struct(F.col("s").alias("inner"), F.lit(None).cast("int").alias("n")))
    df.write.parquet(str(tmp_path / "flat"))
    df.withColumn("kind", F.lit("merchant")).unionByName(df.withColumn("kind", F.lit("product"))).write.partitionBy(
        "kind"
    ).parquet(str(tmp_path / "parts"))
    df.withColumn("day", F.lit(3)).write.partitionBy("day").parquet(str(tmp_path / "numeric"))
    for name in ("flat", "parts"):
        path = tmp_path / name
        assert written_schema(path) == spark.read.parquet(str(path)).schema
        assert read_parquet(spark, path).schema == spark.read.parquet(str(path)).schema
        assert sorted(read_parquet(spark, path).collect()) == sorted(spark.read.parquet(str(path)).collect())
    assert written_schema(tmp_path / "numeric") is None  # Spark infers an int from `day=3`: left to Spark
    assert read_parquet(spark, tmp_path / "numeric").schema == spark.read.parquet(str(tmp_path / "numeric")).schema
    assert written_schema(tmp_path / "absent") is None
    assert parquet_rows(tmp_path / "flat") == 1 and parquet_rows(tmp_path / "parts") == 2
    with counting_jobs(spark, "read") as tally:
        read_parquet(spark, tmp_path / "flat")
        read_parquet(spark, tmp_path / "parts")
        parquet_rows(tmp_path / "parts")
    assert tally.jobs == 0
