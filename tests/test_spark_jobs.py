"""Fixed Spark costs of the nightly run: jobs per stage step, schemas and row counts without Spark jobs.

On small inputs a run's time is mostly the fixed cost of its Spark jobs (each write,
count, collect, schema inference and adaptive query stage is one), so these tests
count jobs with :func:`fraudmine.spark.counting_jobs` and fail when a step needs more
than a bound the previous code exceeded.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from fraudmine.contracts.raw import RAW_TABLES
from fraudmine.jobs.parquet import parquet_rows, read_parquet, written_schema
from fraudmine.spark import counting_jobs

pytestmark = pytest.mark.spark

NOW = datetime(2026, 11, 2, tzinfo=UTC)
# Jobs of the graph stage on tiny tables: its five writes and their adaptive query stages.
# Reading the clean tables with Spark's schema inference and counting with Spark jobs took
# 22 more (46 here); the bound leaves a little room for a changed plan, not for a job per table.
GRAPH_JOBS_BOUND = 30


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


def test_checkpoint_with_counts_costs_no_job_beyond_the_checkpoint(spark: SparkSession) -> None:
    from fraudmine.graph.algorithms.spark_common import checkpoint_with_counts

    df = spark.range(40).withColumn("g", F.col("id") % 7).groupBy("g").agg(F.count(F.lit(1)).alias("n"))
    with counting_jobs(spark, "plain") as plain:
        df.localCheckpoint(eager=True)
    with counting_jobs(spark, "observed") as observed:
        out, got = checkpoint_with_counts(df, {"big": F.count_if(F.col("n") > 5), "total": F.sum("n")})
    assert observed.jobs == plain.jobs  # the counts ride on the checkpoint's own job(s)
    assert got == {"rows": 7, "big": 5, "total": 40}
    assert sorted(r["g"] for r in out.collect()) == list(range(7))
    _, empty = checkpoint_with_counts(df.where(F.col("n") > 100), {"total": F.sum("n")})
    assert empty == {"rows": 0, "total": 0}  # a null sum reads 0


def test_validate_and_graph_stages_run_few_spark_jobs_on_tiny_tables(spark: SparkSession, tmp_path: Path) -> None:
    """Validation: per table one write plus the adaptive stages of its duplicate window and FK joins,
    nothing else (no persist, count, input scan or schema inference); graph: no schema-inference or
    count jobs (48 jobs on xs before, 23 after)."""
    from fraudmine.config import Config
    from fraudmine.jobs import build_graph, runtime, validate
    from fraudmine.jobs.context import StageContext
    from fraudmine.validation.crossrow import _fk_groups
    from tests.tables import small_marketplace

    raw, out = tmp_path / "raw", tmp_path / "out"
    for name, df in small_marketplace(spark).items():
        df.write.parquet(str(raw / name))
    run_dir = out / "runs" / "2026-11-01"
    cfg = Config.model_validate({"validation": {"max_quarantine_fraction": 1.0}})
    ctx = StageContext(cfg, spark, date(2026, 11, 1), raw, out, "r", "v", tmp_path, attempt_dir=run_dir, started_at=NOW)
    jobs = {}
    for stage in (validate, build_graph):
        staging = runtime.staging_dir(run_dir, stage.OUTPUT)
        with counting_jobs(spark, stage.OUTPUT) as tally:
            stage.run(ctx, staging)
        runtime.commit(run_dir, stage.OUTPUT)
        jobs[stage.OUTPUT] = tally.jobs
    # a table: its clean write, its window's shuffle stage, one broadcast per foreign-key group,
    # and the same again for its quarantine write when it has bad rows
    counts = json.loads((run_dir / "validate" / "counts.json").read_text())
    bound = sum((2 + len(_fk_groups(s))) * (2 if counts[s.name]["quarantined"] else 1) for s in RAW_TABLES)
    assert len(RAW_TABLES) <= jobs["validate"] <= bound, jobs
    assert jobs["graph"] <= GRAPH_JOBS_BOUND, jobs


def test_run_concurrently_keeps_order_job_group_and_first_error(spark: SparkSession) -> None:
    import threading

    from fraudmine.spark import run_concurrently

    df = spark.range(10)
    main = threading.get_ident()
    threads: list[int] = []

    def task(i: int) -> int:
        threads.append(threading.get_ident())
        return int(df.where(F.col("id") < i).count())

    with counting_jobs(spark, "threads") as tally:
        got = run_concurrently(spark, [lambda i=i: task(i) for i in range(1, 6)], 2)
    assert got == [1, 2, 3, 4, 5]
    assert tally.jobs >= 5  # the threads' jobs ran in the caller's job group
    assert main not in threads
    threads.clear()
    assert run_concurrently(spark, [lambda: task(3)], 2) == [3] and threads == [main]  # one task: no thread
    assert run_concurrently(spark, [lambda: task(2), lambda: task(4)], 1) == [2, 4] and set(threads) == {main}

    def fail(msg: str) -> int:
        raise ValueError(msg)

    with pytest.raises(ValueError, match="first"):
        run_concurrently(spark, [lambda: task(1), lambda: fail("first"), lambda: fail("second")], 2)
