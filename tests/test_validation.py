"""Tests of the validation stage: reader, row rules, quarantine and run-level guards.

Every test builds tiny in-memory frames with the contract's Spark schema and uses
the shared session-scoped ``spark`` fixture.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from fraudmine.config import ValidationConfig
from fraudmine.contracts.physical import spark_schema
from fraudmine.contracts.raw import RAW_BY_NAME, RAW_TABLES
from fraudmine.validation import (
    BAD_INTERVAL,
    BAD_PATTERN,
    BAD_TYPE,
    CSV_OPTIONS,
    DANGLING_FK,
    DUPLICATE_KEY,
    DUPLICATE_ROW,
    FUTURE_TIMESTAMP,
    MALFORMED_HASH,
    MALFORMED_ROW,
    NULL_REQUIRED,
    OUT_OF_RANGE,
    PRECEDENCE,
    QUARANTINE_SCHEMA,
    TOO_LONG,
    UNKNOWN_ENUM,
    ConservationError,
    SchemaError,
    ValidationFailed,
    ValidationResult,
    check_conservation,
    check_schema,
    fk_order,
    quarantine_summary,
    read_raw,
    read_raw_table,
    validate_tables,
)

pytestmark = pytest.mark.spark

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
T0 = datetime(2025, 6, 1, tzinfo=UTC)
T1 = datetime(2025, 7, 1, tzinfo=UTC)
HASH = "a" * 64
LENIENT = ValidationConfig(future_tolerance_minutes=0, max_quarantine_fraction=1.0)

# One valid row per table; tests override single fields.
DEFAULTS: dict[str, dict[str, Any]] = {
    "merchants": {
        "merchant_id": "m1",
        "shop_name": "Shop",
        "country": "US",
        "primary_category": "fashion",
        "registered_at": T0,
    },
    "creators": {
        "creator_id": "c1",
        "handle": "h",
        "country": "US",
        "follower_count": 10,
        "registered_at": T0,
    },
    "brands": {"brand_id": "b1", "name": "Brand", "aliases": None, "protected": True},
    "brand_authorizations": {"brand_id": "b1", "merchant_id": "m1", "valid_from": T0, "valid_to": None},
    "products": {
        "product_id": "p1",
        "merchant_id": "m1",
        "brand_id": None,
        "title": "Shoe",
        "description": None,
        "price": 10.0,
        "currency": "USD",
        "category": "fashion",
        "image_phash": None,
        "created_at": T0,
    },
    "identities": {
        "entity_type": "merchant",
        "entity_id": "m1",
        "identifier_type": "device",
        "identifier_hash": HASH,
        "first_seen": T0,
        "last_seen": T1,
    },
    "reviews": {
        "review_id": "r1",
        "buyer_id": "u1",
        "product_id": "p1",
        "rating": 5,
        "text": None,
        "reviewed_at": T0,
    },
    "reports": {
        "report_id": "rp1",
        "reporter_id": "u1",
        "target_type": "merchant",
        "target_id": "m1",
        "reason": "fraud",
        "text": None,
        "reported_at": T0,
        "outcome": None,
        "reviewed_at": None,
    },
}


def frame(spark: SparkSession, table: str, *overrides: dict[str, Any]) -> DataFrame:
    """A frame of ``table`` with one row per override dict (missing fields from DEFAULTS)."""
    spec = RAW_BY_NAME[table]
    rows = [tuple({**DEFAULTS[table], **o}[c] for c in spec.column_names) for o in overrides]
    return spark.createDataFrame(rows, spark_schema(spec))


def quarantined(result: ValidationResult, table: str) -> dict[str, str]:
    """row_key -> reason_code of ``table``'s quarantined rows."""
    rows = result.quarantine.filter(f"`table` = '{table}'").select("row_key", "reason_code").collect()
    return {r["row_key"]: r["reason_code"] for r in rows}


def clean_keys(result: ValidationResult, table: str) -> list[str]:
    """Sorted first primary-key column of ``table``'s clean rows."""
    key = RAW_BY_NAME[table].primary_key[0]
    return sorted(r[0] for r in result.clean[table].select(key).collect())


def test_null_key_is_quarantined(spark: SparkSession) -> None:
    res = validate_tables({"merchants": frame(spark, "merchants", {}, {"merchant_id": None})}, AS_OF, LENIENT)
    assert quarantined(res, "merchants") == {"null": NULL_REQUIRED}
    assert clean_keys(res, "merchants") == ["m1"]


def test_duplicate_key_quarantines_all_versions(spark: SparkSession) -> None:
    m = frame(spark, "merchants", {}, {"merchant_id": "m2", "shop_name": "A"}, {"merchant_id": "m2"})
    res = validate_tables({"merchants": m}, AS_OF, LENIENT)
    rows = res.quarantine.select("row_key", "reason_code").collect()
    assert sorted((r[0], r[1]) for r in rows) == [("m2", DUPLICATE_KEY), ("m2", DUPLICATE_KEY)]
    assert clean_keys(res, "merchants") == ["m1"]


def test_exact_duplicate_row_keeps_one(spark: SparkSession) -> None:
    m = frame(spark, "merchants", {}, {"merchant_id": "m2"}, {"merchant_id": "m2"})
    res = validate_tables({"merchants": m}, AS_OF, LENIENT)
    assert quarantined(res, "merchants") == {"m2": DUPLICATE_ROW}
    assert clean_keys(res, "merchants") == ["m1", "m2"]
    assert res.counts["merchants"] == {"input": 3, "clean": 2, "quarantined": 1, "excluded": 0}


def test_dangling_fk(spark: SparkSession) -> None:
    tables = {
        "merchants": frame(spark, "merchants", {}),
        "products": frame(spark, "products", {}, {"product_id": "p2", "merchant_id": "m9"}),
    }
    res = validate_tables(tables, AS_OF, LENIENT)
    assert quarantined(res, "products") == {"p2": DANGLING_FK}
    assert_df_equality(res.clean["products"], frame(spark, "products", {}), ignore_nullable=True)


def test_polymorphic_fk_follows_type_column(spark: SparkSession) -> None:
    tables = {
        "merchants": frame(spark, "merchants", {}),
        "creators": frame(spark, "creators", {}),
        "products": frame(spark, "products", {}),
        "reports": frame(
            spark,
            "reports",
            {},  # merchant m1: exists
            {"report_id": "rp2", "target_type": "product", "target_id": "p1"},
            {"report_id": "rp3", "target_type": "creator", "target_id": "c1"},
            # m1 is a merchant, not a creator: dangling for this type.
            {"report_id": "rp4", "target_type": "creator", "target_id": "m1"},
            {"report_id": "rp5", "target_type": "product", "target_id": "p9"},
        ),
    }
    res = validate_tables(tables, AS_OF, LENIENT)
    assert quarantined(res, "reports") == {"rp4": DANGLING_FK, "rp5": DANGLING_FK}
    assert clean_keys(res, "reports") == ["rp1", "rp2", "rp3"]


def test_fk_to_quarantined_parent_is_dangling(spark: SparkSession) -> None:
    tables = {
        # Child first in the dict: the stage must still process parents first.
        "products": frame(spark, "products", {}, {"product_id": "p2", "merchant_id": "m2"}),
        "merchants": frame(spark, "merchants", {}, {"merchant_id": "m2", "country": "usa"}),
    }
    res = validate_tables(tables, AS_OF, LENIENT)
    assert quarantined(res, "merchants") == {"m2": BAD_PATTERN}
    assert quarantined(res, "products") == {"p2": DANGLING_FK}
    assert clean_keys(res, "products") == ["p1"]


def test_negative_price(spark: SparkSession) -> None:
    tables = {"products": frame(spark, "products", {}, {"product_id": "p2", "price": -3.0})}
    res = validate_tables(tables, AS_OF, LENIENT)
    assert quarantined(res, "products") == {"p2": OUT_OF_RANGE}
    detail = res.quarantine.filter("row_key = 'p2'").first()
    assert detail is not None
    assert detail["detail"] == "column=price value=-3.0 rule=min_value 0"
    assert clean_keys(res, "products") == ["p1"]


def test_rating_out_of_range(spark: SparkSession) -> None:
    # Parents absent: their foreign keys are skipped (with a warning); keeps the test fast.
    tables = {"reviews": frame(spark, "reviews", {}, {"review_id": "r2", "rating": 7})}
    res = validate_tables(tables, AS_OF, LENIENT)
    assert quarantined(res, "reviews") == {"r2": OUT_OF_RANGE}
    assert clean_keys(res, "reviews") == ["r1"]


def test_future_timestamp_respects_tolerance(spark: SparkSession) -> None:
    later = AS_OF + timedelta(minutes=30)
    m = frame(spark, "merchants", {}, {"merchant_id": "m2", "registered_at": later})
    res = validate_tables({"merchants": m}, AS_OF, LENIENT)
    assert quarantined(res, "merchants") == {"m2": FUTURE_TIMESTAMP}
    assert clean_keys(res, "merchants") == ["m1"]
    tolerant = ValidationConfig(future_tolerance_minutes=60, max_quarantine_fraction=1.0)
    assert validate_tables({"merchants": m}, AS_OF, tolerant).counts["merchants"]["quarantined"] == 0


def test_unknown_enum(spark: SparkSession) -> None:
    tables = {"products": frame(spark, "products", {}, {"product_id": "p2", "currency": "XXX"})}
    res = validate_tables(tables, AS_OF, LENIENT)
    assert quarantined(res, "products") == {"p2": UNKNOWN_ENUM}
    assert clean_keys(res, "products") == ["p1"]


def test_over_long_text(spark: SparkSession) -> None:
    tables = {"products": frame(spark, "products", {}, {"product_id": "p2", "title": "x" * 301})}
    res = validate_tables(tables, AS_OF, LENIENT)
    assert quarantined(res, "products") == {"p2": TOO_LONG}
    assert clean_keys(res, "products") == ["p1"]


def test_malformed_identifier_hash_is_quarantined_and_redacted(spark: SparkSession) -> None:
    raw_phone = "+15551234567"
    tables = {"identities": frame(spark, "identities", {}, {"identifier_hash": raw_phone})}
    res = validate_tables(tables, AS_OF, LENIENT)
    rows = res.quarantine.collect()
    assert [r["reason_code"] for r in rows] == [MALFORMED_HASH]
    assert raw_phone not in rows[0]["row_json"] and raw_phone not in rows[0]["detail"]
    assert res.counts["identities"] == {"input": 2, "clean": 1, "quarantined": 1, "excluded": 0}


def test_bad_type_from_csv(spark: SparkSession, tmp_path: Path) -> None:
    spec = RAW_BY_NAME["products"]
    header = ",".join(spec.column_names)
    lines = [
        header,
        "p1,m1,,Shoe,,10.0,USD,fashion,,2025-06-01T00:00:00Z",
        "p2,m1,,Shoe,,abc,USD,fashion,,2025-06-01T00:00:00Z",
    ]
    (tmp_path / "products.csv").write_text("\n".join(lines) + "\n")
    products = read_raw_table(spark, str(tmp_path / "products.csv"), spec)
    assert products.columns == [*spec.column_names, "_raw_errors"]
    tables = {"products": products}
    res = validate_tables(tables, AS_OF, LENIENT)
    assert quarantined(res, "products") == {"p2": BAD_TYPE}
    row = res.quarantine.first()
    assert row is not None
    assert "column=price value=abc" in row["detail"]
    assert '"price":"abc"' in row["row_json"]
    assert clean_keys(res, "products") == ["p1"]


def test_bad_interval(spark: SparkSession) -> None:
    tables = {
        "identities": frame(spark, "identities", {}, {"identifier_type": "ip", "first_seen": T1, "last_seen": T0}),
        "brand_authorizations": frame(
            spark,
            "brand_authorizations",
            {"valid_to": T1},
            {"valid_from": T1, "valid_to": T1},  # empty interval
        ),
        "reports": frame(
            spark,
            "reports",
            {"outcome": "upheld", "reviewed_at": T1},
            {"report_id": "rp2", "reported_at": T1, "reviewed_at": T0, "outcome": "rejected"},
            {"report_id": "rp3", "outcome": "upheld"},  # reviewed without a review time
        ),
    }
    res = validate_tables(tables, AS_OF, LENIENT)
    assert quarantined(res, "identities") == {f"merchant|m1|ip|{HASH}": BAD_INTERVAL}
    assert quarantined(res, "brand_authorizations") == {"b1|m1|2025-07-01 00:00:00": BAD_INTERVAL}
    assert quarantined(res, "reports") == {"rp2": BAD_INTERVAL, "rp3": BAD_INTERVAL}
    assert clean_keys(res, "reports") == ["rp1"]


def test_conservation_on_mixed_table(spark: SparkSession) -> None:
    products = frame(
        spark,
        "products",
        {},
        {"product_id": "p2", "price": -1.0, "currency": "XXX"},  # two failures, one row
        {"product_id": "p3", "merchant_id": "m9"},
        {"product_id": "p4"},
        {"product_id": "p4"},
        {"product_id": None},
        {"product_id": "p6", "image_phash": "0123456789abcdef"},
    )
    res = validate_tables({"merchants": frame(spark, "merchants", {}), "products": products}, AS_OF, LENIENT)
    assert res.counts["products"] == {"input": 7, "clean": 3, "quarantined": 4, "excluded": 0}
    assert res.clean["products"].count() + res.quarantine.count() == 7
    check_conservation(res.counts)
    p2 = res.quarantine.filter("row_key = 'p2'").first()
    assert p2 is not None
    assert p2["reason_code"] == UNKNOWN_ENUM and p2["reasons"] == [UNKNOWN_ENUM, OUT_OF_RANGE]
    with pytest.raises(ConservationError, match="products"):
        check_conservation({"products": {"input": 7, "clean": 3, "quarantined": 3}})


def test_quarantine_schema_and_summary(spark: SparkSession) -> None:
    m = frame(spark, "merchants", {}, {"merchant_id": None}, {"merchant_id": "m2", "country": "x"})
    res = validate_tables({"merchants": m}, AS_OF, LENIENT)
    actual = [(f.name, f.dataType) for f in res.quarantine.schema.fields]
    assert actual == [(f.name, f.dataType) for f in QUARANTINE_SCHEMA.fields]
    expected = spark.createDataFrame(
        [("merchants", BAD_PATTERN, 1), ("merchants", NULL_REQUIRED, 1)],
        "table string, reason_code string, rows long",
    )
    summary = quarantine_summary(res.quarantine).orderBy("reason_code")
    assert_df_equality(summary, expected, ignore_nullable=True)
    as_of_epochs = {r[0] for r in res.quarantine.select(F.col("as_of").cast("long")).collect()}
    assert as_of_epochs == {int(AS_OF.timestamp())}


def test_schema_errors_name_table_column_types(spark: SparkSession, tmp_path: Path) -> None:
    spec = RAW_BY_NAME["products"]
    good = spark_schema(spec)
    missing = T.StructType([f for f in good.fields if f.name != "price"])
    with pytest.raises(SchemaError, match=r"table 'products': column 'price' expected double, found missing"):
        check_schema(spec, missing)
    misspelt = T.StructType([T.StructField("pirce" if f.name == "price" else f.name, f.dataType) for f in good])
    with pytest.raises(SchemaError, match=r"did you mean 'pirce'\?.*columns present: \[.*'pirce'"):
        check_schema(spec, misspelt)
    wrong = frame(spark, "products", {}).withColumn("price", F.col("price").cast("string"))
    wrong.write.parquet(str(tmp_path / "products"))
    with pytest.raises(SchemaError) as info:
        read_raw_table(spark, str(tmp_path / "products"), spec)
    msg = str(info.value)
    assert "table 'products'" in msg and "column 'price'" in msg
    assert "expected double, found string" in msg and "columns present:" in msg


def test_parquet_widening_and_extra_columns(spark: SparkSession, tmp_path: Path) -> None:
    spec = RAW_BY_NAME["creators"]
    df = frame(spark, "creators", {}).withColumn("follower_count", F.col("follower_count").cast("int"))
    df.withColumn("extra", df["handle"]).write.parquet(str(tmp_path / "creators"))
    read = read_raw_table(spark, str(tmp_path / "creators"), spec)
    assert read.columns == [*spec.column_names, "_raw_errors"]
    assert read.schema["follower_count"].dataType == T.LongType()


def test_missing_table_folder(spark: SparkSession, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"'orders'.*nowhere"):
        read_raw_table(spark, str(tmp_path / "nowhere"), RAW_BY_NAME["orders"])


def test_csv_and_parquet_give_same_clean_rows(spark: SparkSession, tmp_path: Path) -> None:
    spec = RAW_BY_NAME["products"]
    products = frame(
        spark,
        "products",
        {"description": 'a "quoted", comma'},
        {"product_id": "p2", "price": -2.5},
        {"product_id": "p3", "image_phash": "0123456789abcdef", "created_at": T1},
    )
    products.coalesce(1).write.parquet(str(tmp_path / "pq"))
    writer = products.coalesce(1).write.option("timestampFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX")
    for key in ("header", "quote", "escape"):
        writer = writer.option(key, CSV_OPTIONS[key])
    writer.csv(str(tmp_path / "csv"))
    results = [
        validate_tables(
            {"products": read_raw_table(spark, str(tmp_path / d), spec)},
            AS_OF,
            LENIENT,
        )
        for d in ("pq", "csv")
    ]
    from_pq, from_csv = (r.clean["products"].orderBy("product_id") for r in results)
    assert from_pq.count() == 2
    assert_df_equality(from_pq, from_csv, ignore_nullable=True)
    assert results[0].counts == results[1].counts


def test_max_quarantine_fraction_fails_with_result(spark: SparkSession) -> None:
    m = frame(spark, "merchants", {}, {"merchant_id": "m2", "country": "xx"})
    strict = ValidationConfig(future_tolerance_minutes=0, max_quarantine_fraction=0.25)
    with pytest.raises(ValidationFailed, match="merchants") as info:
        validate_tables({"merchants": m}, AS_OF, strict)
    assert info.value.tables == ["merchants"]
    assert info.value.result.quarantine.count() == 1


def test_fk_order_puts_parents_first() -> None:
    order = fk_order({s.name: s for s in reversed(RAW_TABLES)})
    assert sorted(order) == sorted(RAW_BY_NAME)
    for spec in RAW_TABLES:
        for fk in spec.foreign_keys:
            assert order.index(fk.ref_table) < order.index(spec.name)
    assert PRECEDENCE[:2] == (MALFORMED_ROW, BAD_TYPE)


def test_parquet_file_with_a_different_physical_type_is_a_schema_error(spark: SparkSession, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from fraudmine.contracts.physical import arrow_schema

    spec = RAW_BY_NAME["brands"]
    folder = tmp_path / "brands"
    folder.mkdir()
    good = pa.table(
        {"brand_id": ["br1"], "name": ["Acme"], "aliases": ["ACME"], "protected": [True]}, schema=arrow_schema(spec)
    )
    pq.write_table(good, folder / "part-0.parquet")
    # a second file whose all-null 'aliases' column was written without the contract schema
    bad = pa.table({"brand_id": ["br2"], "name": ["Zeta"], "aliases": pa.nulls(1), "protected": [False]})
    pq.write_table(bad, folder / "part-1.parquet")
    with pytest.raises(SchemaError) as exc:
        read_raw_table(spark, str(folder), spec)
    msg = str(exc.value)
    assert "brands" in msg and "aliases" in msg and "part-1.parquet" in msg and "null" in msg


def test_backfill_excludes_rows_after_the_run_date_and_quarantines_impossible_ones(spark: SparkSession) -> None:
    now = AS_OF + timedelta(days=120)  # the run happens long after its date: a backfill
    m = frame(
        spark,
        "merchants",
        {},
        {"merchant_id": "m2", "registered_at": AS_OF},  # at the cut-off: a later run's row
        {"merchant_id": "m3", "registered_at": AS_OF + timedelta(days=30)},
        {"merchant_id": "m4", "registered_at": now + timedelta(days=1)},  # after now: impossible
    )
    ident = frame(
        spark,
        "identities",
        {"last_seen": AS_OF + timedelta(days=10)},  # seen before D, last seen after: later knowledge, kept
        {"entity_id": "m3", "identifier_hash": "b" * 64},  # its merchant is not in this run: dangling
    )
    res = validate_tables({"merchants": m, "identities": ident}, AS_OF, LENIENT, now=now)
    assert res.counts["merchants"] == {"input": 4, "clean": 1, "quarantined": 1, "excluded": 2}
    assert quarantined(res, "merchants") == {"m4": FUTURE_TIMESTAMP}
    assert clean_keys(res, "merchants") == ["m1"]
    assert res.counts["identities"]["clean"] == 1 and res.counts["identities"]["excluded"] == 0
    assert [r["reason_code"] for r in res.quarantine.where("table = 'identities'").collect()] == [DANGLING_FK]
    check_conservation(res.counts)


def test_excluded_row_does_not_make_a_key_ambiguous(spark: SparkSession) -> None:
    # The same product re-listed after the run date is a later version, not a duplicate key.
    p = frame(spark, "products", {}, {"price": 99.0, "created_at": AS_OF + timedelta(days=2)})
    res = validate_tables({"products": p}, AS_OF, LENIENT, now=AS_OF + timedelta(days=5))
    assert res.counts["products"] == {"input": 2, "clean": 1, "quarantined": 0, "excluded": 1}


def _csv(path: Path, lines: list[str]) -> None:
    header = ",".join(RAW_BY_NAME["products"].column_names)
    path.write_text("\n".join([header, *lines]) + "\n")


GOOD = "p{i},m1,,Shoe {i},,1{i}.0,USD,fashion,,2025-06-01T00:00:00Z"


@pytest.mark.parametrize(
    ("bad_line", "problem"),
    [
        ('p9,m1,,"Open quote,,19.0,USD,fashion,,2025-06-01T00:00:00Z', "unbalanced or stray quote"),
        ('p9,m1,,Stray "quote,,19.0,USD,fashion,,2025-06-01T00:00:00Z', "unbalanced or stray quote"),
        ("p9,m1,,Shoe,,19.0,USD,fashion,,2025-06-01T00:00:00Z,extra", "wrong number of fields"),
        ("p9,m1,,Shoe,,19.0,USD,fashion,2025-06-01T00:00:00Z", "wrong number of fields"),
    ],
)
def test_malformed_csv_line_is_quarantined_never_merged(
    spark: SparkSession, tmp_path: Path, bad_line: str, problem: str
) -> None:
    spec = RAW_BY_NAME["products"]
    _csv(tmp_path / "products.csv", [GOOD.format(i=1), bad_line, GOOD.format(i=2), GOOD.format(i=3)])
    raw = read_raw(spark, str(tmp_path / "products.csv"), spec)
    assert raw.expected_rows == 4
    res = validate_tables({"products": raw.frame}, AS_OF, LENIENT)
    assert res.counts["products"] == {"input": 4, "clean": 3, "quarantined": 1, "excluded": 0}
    row = res.quarantine.first()
    assert row is not None and row["reason_code"] == MALFORMED_ROW and problem in row["detail"]
    # the neighbours keep their own values: nothing merged or shifted
    prices = {r["product_id"]: r["price"] for r in res.clean["products"].collect()}
    assert prices == {"p1": 11.0, "p2": 12.0, "p3": 13.0}


def test_csv_gz_folder_is_read_and_counted_from_the_bytes(spark: SparkSession, tmp_path: Path) -> None:
    import gzip

    spec = RAW_BY_NAME["products"]
    folder = tmp_path / "products"
    folder.mkdir()
    _csv(tmp_path / "plain.csv", [GOOD.format(i=1), GOOD.format(i=2)])
    (folder / "part-0.csv.gz").write_bytes(gzip.compress((tmp_path / "plain.csv").read_bytes()))
    _csv(folder / "part-1.csv", [GOOD.format(i=3)])
    raw = read_raw(spark, str(folder), spec)
    assert raw.expected_rows == 3
    assert sorted(r["product_id"] for r in raw.frame.collect()) == ["p1", "p2", "p3"]


def test_validate_to_disk_writes_clean_and_quarantine_and_checks_row_counts(
    spark: SparkSession, tmp_path: Path
) -> None:
    from fraudmine.validation.reader import RawTable
    from fraudmine.validation.streaming import validate_to_disk

    m = frame(spark, "merchants", {}, {"merchant_id": "m2", "country": "usa"})
    p = frame(spark, "products", {}, {"product_id": "p2", "merchant_id": "m2"})
    tables = {"products": RawTable(p, 2, "p"), "merchants": RawTable(m, 2, "m")}
    counts = validate_to_disk(spark, tables, AS_OF, AS_OF, LENIENT, tmp_path / "v")
    assert counts["products"] == {"input": 2, "clean": 1, "quarantined": 1, "excluded": 0}
    q = spark.read.parquet(str(tmp_path / "v" / "quarantine"))
    assert sorted((r["table"], r["reason_code"]) for r in q.collect()) == [
        ("merchants", BAD_PATTERN),
        ("products", DANGLING_FK),
    ]
    assert spark.read.parquet(str(tmp_path / "v" / "clean" / "products")).count() == 1
    # a row the files hold but the parse lost is a conservation failure naming the table
    with pytest.raises(ConservationError, match="'merchants': 3 rows in m but 2 rows parsed"):
        validate_to_disk(spark, {"merchants": RawTable(m, 3, "m")}, AS_OF, AS_OF, LENIENT, tmp_path / "w")


def test_validate_to_disk_in_threads_equals_one_at_a_time_and_keeps_parent_failures(
    spark: SparkSession, tmp_path: Path
) -> None:
    """Two threads, each table starting when its parents are written: same counts and tables as one
    thread (a child never starts before its parents: a dangling key is still found)."""
    from fraudmine.validation.reader import RawTable
    from fraudmine.validation.streaming import validate_to_disk

    m = frame(spark, "merchants", {}, {"merchant_id": "m2"})
    p = frame(spark, "products", {}, {"product_id": "p2", "merchant_id": "m3"}, {"product_id": "p3"})
    r = frame(spark, "reviews", {}, {"review_id": "r2", "product_id": "p2"})
    c = frame(spark, "creators", {})
    tables = {
        "reviews": RawTable(r, 2, "r"),
        "products": RawTable(p, 3, "p"),
        "merchants": RawTable(m, 2, "m"),
        "creators": RawTable(c, 1, "c"),
    }
    one = validate_to_disk(spark, tables, AS_OF, AS_OF, LENIENT, tmp_path / "one")
    two = validate_to_disk(spark, tables, AS_OF, AS_OF, LENIENT, tmp_path / "two", parallel_tables=2)
    assert one == two and list(one) == list(two)
    assert one["reviews"] == {"input": 2, "clean": 1, "quarantined": 1, "excluded": 0}  # r2's product p2 is dangling
    for name in [*tables, "quarantine"]:
        sub = "quarantine" if name == "quarantine" else f"clean/{name}"
        a = spark.read.parquet(str(tmp_path / "one" / sub))
        b = spark.read.parquet(str(tmp_path / "two" / sub))
        assert_df_equality(a, b, ignore_row_order=True)
    # a parent's error stops the run with that error (not a child's), whichever thread ran it
    with pytest.raises(ConservationError, match="'merchants': 3 rows in m"):
        validate_to_disk(
            spark,
            {**tables, "merchants": RawTable(m, 3, "m")},
            AS_OF,
            AS_OF,
            LENIENT,
            tmp_path / "w",
            parallel_tables=2,
        )
