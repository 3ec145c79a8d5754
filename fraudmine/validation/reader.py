"""Read one raw table (Parquet or CSV) and conform it to its contract.

The output of :func:`read_raw_table` (and of :func:`conform`) has exactly the
spec's columns, in declared order, with the declared Spark types, plus one
internal column:

``_raw_errors`` (``map<string,string>``)
    declared column name -> original text, for every non-empty CSV value that
    could not be cast to the declared type (the typed column holds null there).
    Always empty for Parquet.  The row rules turn each entry into a ``bad_type``
    failure, so a bad value quarantines its row instead of failing the run.

Structural problems (a missing or misspelt column, an incompatible Parquet
type) raise :class:`~fraudmine.validation.errors.SchemaError` before anything
is computed or written.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from fraudmine.contracts.physical import spark_schema, spark_type
from fraudmine.contracts.raw import DType, TableSpec
from fraudmine.validation.errors import SchemaError

log = logging.getLogger(__name__)

RAW_ERRORS = "_raw_errors"
RAW_ERRORS_TYPE = T.MapType(T.StringType(), T.StringType(), valueContainsNull=True)

# RFC 4180 quoting (a quote inside a quoted field is doubled) and quoted
# newlines, which free-text columns (descriptions, review text) may contain.
# Writers of CSV input for fraudmine should use the same options.
CSV_OPTIONS: dict[str, str] = {
    "header": "true",
    "inferSchema": "false",
    "multiLine": "true",
    "quote": '"',
    "escape": '"',
    "mode": "PERMISSIVE",
    "pathGlobFilter": "*.csv",
}

_INTEGRAL_SMALL = (T.ByteType, T.ShortType, T.IntegerType)

# Input Spark types accepted for each logical dtype: the exact type plus safe
# (lossless, or documented) widenings.  Anything else is a SchemaError.
_ACCEPTED: dict[str, tuple[type[T.DataType], ...]] = {
    "string": (T.StringType,),
    "int": _INTEGRAL_SMALL,
    "long": (*_INTEGRAL_SMALL, T.LongType),
    "double": (*_INTEGRAL_SMALL, T.LongType, T.FloatType, T.DoubleType),
    "boolean": (T.BooleanType,),
    # timestamp_ntz is read as wall-clock time in the session time zone (UTC here).
    "timestamp": (T.TimestampType, T.TimestampNTZType),
}

Format = Literal["parquet", "csv"]


def empty_raw_errors() -> Column:
    """An empty ``_raw_errors`` map literal (for inputs that were never strings)."""
    return F.create_map().cast(RAW_ERRORS_TYPE)


def check_schema(spec: TableSpec, schema: T.StructType, source: str | None = None, strings_ok: bool = False) -> None:
    """Check that ``schema`` has every declared column with a compatible type.

    Args:
        spec: the table contract.
        schema: the input schema (e.g. from a Parquet footer).
        source: path the input came from, quoted in error messages.
        strings_ok: accept string for every column (CSV input: values are cast later,
            row by row).

    Raises:
        SchemaError: for the first declared column that is missing or whose type is not
            the declared one or a safe widening of it; the message names the table, the
            column, expected and found types, the columns present, and for a missing
            column the closest present name.
    """
    present = {f.name: f.dataType for f in schema.fields}
    for col in spec.columns:
        if col.name not in present:
            raise SchemaError(spec.name, col.name, col.dtype, "missing", present, source)
        found = present[col.name]
        if strings_ok and isinstance(found, T.StringType):
            continue
        if not isinstance(found, _ACCEPTED[col.dtype]):
            raise SchemaError(spec.name, col.name, col.dtype, found.simpleString(), present, source)
    extra = [name for name in present if name not in spec.column_names and name != RAW_ERRORS]
    if extra:
        log.warning("table %r: dropping undeclared columns %s (source: %s)", spec.name, extra, source)


def _cast_csv_column(name: str, dtype: DType) -> tuple[Column, Column | None]:
    """Typed column plus a ``(name, original)`` map entry when the cast fails, else null."""
    raw = F.col(name)
    if dtype == "string":
        return raw.alias(name), None
    typed = raw.try_cast(spark_type(dtype))
    failed = F.when(raw.isNotNull() & typed.isNull(), F.struct(F.lit(name).alias("key"), raw.alias("value")))
    return typed.alias(name), failed


def conform(df: DataFrame, spec: TableSpec, source: str | None = None, text: bool | None = None) -> DataFrame:
    """Project ``df`` onto the contract: declared columns, declared types, ``_raw_errors``.

    Parquet-like input (typed) is checked with :func:`check_schema` and widened with
    plain casts.  An all-string input of a table with non-string columns is treated as
    CSV text: each value is cast with ``try_cast`` and failures are recorded in
    ``_raw_errors``.  An existing ``_raw_errors`` column is kept.

    Args:
        df: input frame.
        spec: the table contract.
        source: path the input came from, for error messages.
        text: force text (CSV) handling (``True``) or typed handling (``False``);
            ``None`` decides from the schema as described above.

    Returns:
        The conformed frame (spec columns in order, plus ``_raw_errors``).

    Raises:
        SchemaError: a declared column is missing or has an incompatible type.
    """
    fields = {f.name: f.dataType for f in df.schema.fields}
    as_text = all(isinstance(t, T.StringType) for n, t in fields.items() if n != RAW_ERRORS) if text is None else text
    check_schema(spec, df.schema, source, strings_ok=as_text)
    if as_text:
        cols: list[Column] = []
        failures: list[Column] = []
        for c in spec.columns:
            typed, failed = _cast_csv_column(c.name, c.dtype)
            cols.append(typed)
            if failed is not None:
                failures.append(failed)
        errors = (
            F.map_from_entries(F.filter(F.array(*failures), lambda x: x.isNotNull()))
            if failures
            else empty_raw_errors()
        )
    else:
        cols = [F.col(c.name).cast(spark_type(c.dtype)).alias(c.name) for c in spec.columns]
        errors = empty_raw_errors()
    if RAW_ERRORS in fields:
        errors = F.map_concat(F.col(RAW_ERRORS), errors) if as_text else F.col(RAW_ERRORS)
    return df.select(*cols, errors.alias(RAW_ERRORS))


def detect_format(path: Path, table: str) -> Format:
    """Decide whether ``path`` holds Parquet or CSV from the file extensions.

    Args:
        path: a ``.csv``/``.parquet`` file, or a folder of such files.
        table: raw table name, for error messages.

    Returns:
        ``"parquet"`` or ``"csv"``.

    Raises:
        FileNotFoundError: ``path`` does not exist or holds no data files.
        ValueError: unknown extension, or a folder mixing Parquet and CSV.
    """
    if not path.exists():
        raise FileNotFoundError(f"raw table {table!r}: input not found at {path}")
    if path.is_file():
        suffixes = {path.suffix.lower()}
    else:
        # Spark ignores files starting with '_' or '.' (_SUCCESS, .crc); so do we.
        suffixes = {p.suffix.lower() for p in path.iterdir() if p.is_file() and not p.name.startswith(("_", "."))}
    kinds = suffixes & {".parquet", ".csv"}
    if len(kinds) > 1:
        raise ValueError(f"raw table {table!r}: {path} mixes Parquet and CSV files")
    if kinds == {".parquet"}:
        return "parquet"
    if kinds == {".csv"}:
        return "csv"
    if path.is_file():
        raise ValueError(f"raw table {table!r}: {path} is neither .parquet nor .csv")
    raise FileNotFoundError(f"raw table {table!r}: no .parquet or .csv files in {path}")


def _arrow_ok(dtype: DType, t: pa.DataType) -> bool:
    """Whether a Parquet file's Arrow type can be read as the declared logical type."""
    checks: dict[str, bool] = {
        "string": pa.types.is_string(t) or pa.types.is_large_string(t),
        "long": pa.types.is_integer(t) and t.bit_width <= 64,
        "int": pa.types.is_integer(t) and t.bit_width <= 32,
        "double": pa.types.is_floating(t) or pa.types.is_integer(t),
        "boolean": pa.types.is_boolean(t),
        "timestamp": pa.types.is_timestamp(t),
    }
    return checks[dtype]


def check_parquet_files(path: Path, spec: TableSpec) -> None:
    """Check every Parquet file's footer of a local table folder against the contract.

    Spark infers a folder's schema from one footer, so a file whose column has another
    physical type (e.g. an all-null column written as INT32 where the contract says
    string) would otherwise fail deep inside a scan with a JVM stack trace.  Reading the
    footers only costs one small read per file.

    Raises:
        SchemaError: naming the table, the column, the expected type, the type found and
            the offending file.
    """
    files = [path] if path.is_file() else sorted(path.rglob("*.parquet"))
    declared = {c.name: c.dtype for c in spec.columns}
    for f in files:
        schema = pq.read_schema(f)
        for field in schema:
            dtype = declared.get(field.name)
            if dtype is not None and not _arrow_ok(dtype, field.type):
                raise SchemaError(spec.name, field.name, dtype, str(field.type), schema.names, str(f))


def read_raw_table(spark: SparkSession, path: str, spec: TableSpec) -> DataFrame:
    """Read one raw table and conform it to its contract.

    Args:
        spark: the session to read with.
        path: local folder of Parquet files, folder of ``*.csv`` files (with header), or a
            single ``.csv``/``.parquet`` file.
        spec: the table contract.

    Returns:
        The spec's columns in declared order with declared types, plus ``_raw_errors``
        (see the module docstring).  CSV values are read as text (no inference) and cast
        row by row; timestamps without an offset are read in the session time zone.

    Raises:
        FileNotFoundError: the path does not exist or holds no data files (names table and path);
            an absent optional table (``spec.optional``) is read as empty instead.
        SchemaError: a declared column is missing/misspelt or has an incompatible type.
        ValueError: unknown file extension or mixed formats.
    """
    p = Path(path)
    if spec.optional and not p.exists():
        log.info("optional table %r absent at %s: read as empty", spec.name, p)
        return spark.createDataFrame([], spark_schema(spec)).select("*", empty_raw_errors().alias(RAW_ERRORS))
    fmt = detect_format(p, spec.name)
    if fmt == "parquet":
        # The schema comes from the footers: conform() fails before any data is scanned.
        check_parquet_files(p, spec)
        return conform(spark.read.parquet(str(p)), spec, str(p), text=False)
    reader = spark.read
    for key, value in CSV_OPTIONS.items():
        reader = reader.option(key, value)
    return conform(reader.csv(str(p)), spec, str(p), text=True)
