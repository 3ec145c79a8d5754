"""Order-independent sums: the same rows in another order give the same bits."""

from __future__ import annotations

from typing import Any

import pytest

from fraudmine.graph.algorithms.spark_common import exact_avg, exact_sum

pytestmark = pytest.mark.spark


def test_exact_sum_does_not_depend_on_row_order(spark: Any) -> None:
    values = [0.134, 0.847, 0.764, 0.255, 0.495, 0.449]
    assert sum(values) != sum(reversed(values))  # plain float addition depends on the order
    frames = [spark.createDataFrame([(v,) for v in order], "x double").coalesce(1) for order in (values, values[::-1])]
    plain = [f.agg({"x": "sum"}).first()[0] for f in frames]
    exact = [f.select(exact_sum("x").alias("s"), exact_avg("x").alias("m")).first() for f in frames]
    assert plain[0] != plain[1]  # Spark's sum of doubles follows the row order too
    assert exact[0]["s"] == exact[1]["s"] and exact[0]["m"] == exact[1]["m"]
    assert exact[0]["s"] == pytest.approx(sum(values), abs=1e-8)
    assert exact[0]["m"] == pytest.approx(sum(values) / len(values), abs=1e-8)


def test_exact_sum_of_nulls_is_null_and_avg_skips_them(spark: Any) -> None:
    df = spark.createDataFrame([(None,), (2.0,), (4.0,)], "x double")
    row = df.select(exact_sum("x").alias("s"), exact_avg("x").alias("m")).first()
    assert row["s"] == 6.0 and row["m"] == 3.0
    assert spark.createDataFrame([(None,)], "x double").select(exact_sum("x")).first()[0] is None
