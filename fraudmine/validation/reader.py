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

import csv
import gzip
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.pandas.types import from_arrow_schema

from fraudmine.contracts.physical import spark_schema, spark_type
from fraudmine.contracts.raw import HASH_PATTERN, DType, TableSpec
from fraudmine.validation.errors import SchemaError

log = logging.getLogger(__name__)

RAW_ERRORS = "_raw_errors"
RAW_ERRORS_TYPE = T.MapType(T.StringType(), T.StringType(), valueContainsNull=True)

# CSV input is read line by line: one physical line is one record, with RFC 4180
# quoting for commas and quotes inside a value (a quote inside a quoted value is
# doubled).  A line break inside a value is not supported: such a record is
# quarantined line by line (``malformed_row``), never merged with its neighbour.
# These are the options a writer of CSV input for fraudmine should use.
CSV_OPTIONS: dict[str, str] = {
    "header": "true",
    "quote": '"',
    "escape": '"',
    "mode": "PERMISSIVE",
}
CSV_SUFFIXES = (".csv", ".csv.gz")
# A well-formed CSV line: fields separated by commas, each either unquoted (no quote
# inside) or fully quoted (doubled quotes inside) and followed by a comma or the end.
# Possessive quantifiers: no backtracking on long free-text values.
CSV_LINE_REGEX = r'^(?:"(?:[^"]++|"")*+"|[^",]*+)(?:,(?:"(?:[^"]++|"")*+"|[^",]*+))*+$'
# Keys of ``_raw_errors`` that describe the whole line rather than one column.
ROW_ERROR = "_row"
ROW_LINE = "_line"
_CORRUPT = "_corrupt_record"
_MAX_LINE_ECHO = 500

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


def _is_csv(name: str) -> bool:
    return name.lower().endswith(CSV_SUFFIXES)


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


def data_files(path: Path) -> list[Path]:
    """The data files of a table path as Spark sees them (names starting with ``_`` or ``.`` skipped)."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(("_", ".")))


def detect_format(path: Path, table: str) -> Format:
    """Decide whether ``path`` holds Parquet or CSV (``.csv`` / ``.csv.gz``) from the file names.

    Args:
        path: a data file, or a folder of such files.
        table: raw table name, for error messages.

    Returns:
        ``"parquet"`` or ``"csv"``.

    Raises:
        FileNotFoundError: ``path`` does not exist or holds no data files.
        ValueError: unknown extension, or a folder mixing Parquet and CSV.
    """
    if not path.exists():
        raise FileNotFoundError(f"raw table {table!r}: input not found at {path}")
    names = [p.name for p in data_files(path)]
    kinds = {"parquet" if n.lower().endswith(".parquet") else "csv" if _is_csv(n) else "other" for n in names}
    if {"parquet", "csv"} <= kinds:
        raise ValueError(f"raw table {table!r}: {path} mixes Parquet and CSV files")
    if "parquet" in kinds:
        return "parquet"
    if "csv" in kinds:
        return "csv"
    if path.is_file():
        raise ValueError(f"raw table {table!r}: {path} is neither .parquet, .csv nor .csv.gz")
    raise FileNotFoundError(f"raw table {table!r}: no .parquet, .csv or .csv.gz files in {path}")


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


def check_parquet_files(path: Path, spec: TableSpec) -> tuple[int, pa.Schema | None]:
    """Check every Parquet file's footer of a local table folder against the contract.

    Spark infers a folder's schema from one footer, so a file whose column has another
    physical type (e.g. an all-null column written as INT32 where the contract says
    string) would otherwise fail deep inside a scan with a JVM stack trace.  Reading the
    footers only costs one small read per file.

    Returns:
        The number of rows in the files (from the footers), and their common Arrow schema
        (``None`` when the files differ, e.g. INT32 in one file and INT64 in another).

    Raises:
        SchemaError: naming the table, the column, the expected type, the type found and
            the offending file.
    """
    files = [f for f in data_files(path) if f.name.lower().endswith(".parquet")]
    declared = {c.name: c.dtype for c in spec.columns}
    rows = 0
    common: pa.Schema | None = None
    for i, f in enumerate(files):
        meta = pq.read_metadata(f)
        schema = meta.schema.to_arrow_schema().remove_metadata()
        rows += meta.num_rows
        common = schema if i == 0 or (common is not None and common.equals(schema)) else None
        for field in schema:
            dtype = declared.get(field.name)
            if dtype is not None and not _arrow_ok(dtype, field.type):
                raise SchemaError(spec.name, field.name, dtype, str(field.type), schema.names, str(f))
    return rows, common


def _open_text(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def csv_line_count(path: Path) -> tuple[str, int]:
    """The raw header line and the number of lines after it, counted from the bytes.

    Independent of Spark's parser, this is what the parsed rows are checked against:
    a row merged, split or dropped by parsing shows up as a difference.

    Raises:
        ValueError: the file is empty (no header line).
    """
    with _open_text(path) as fh:
        header = fh.readline()
        if not header:
            raise ValueError(f"{path}: empty CSV file (no header line)")
        lines, last = 0, b"\n"
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1  # a final line without a line break
    return header.decode("utf-8-sig").rstrip("\r\n"), lines


def _csv_header(text: str, source: Path, table: str) -> list[str]:
    fields = next(csv.reader([text]), [])
    if not fields:
        raise ValueError(f"raw table {table!r}: {source} has an empty header line")
    return [f.strip() for f in fields]


@dataclass(frozen=True)
class RawTable:
    """A raw table read for validation.

    Attributes:
        frame: the conformed frame (spec columns, declared types, ``_raw_errors``).
        expected_rows: rows the files hold, counted without Spark (Parquet footers;
            CSV lines after the header), or ``None`` if unknown.
        source: the path read.
    """

    frame: DataFrame
    expected_rows: int | None
    source: str


def _read_csv(spark: SparkSession, path: Path, spec: TableSpec) -> RawTable:
    """Read CSV line by line; malformed lines get ``_raw_errors[_row]`` instead of being merged or dropped."""
    files = data_files(path)
    header_line, total = None, 0
    for f in files:
        line, n = csv_line_count(f)
        if header_line is not None and line != header_line:
            raise ValueError(f"raw table {spec.name!r}: {f} has another header than {files[0]}")
        header_line, total = line, total + n
    assert header_line is not None
    header = _csv_header(header_line, files[0], spec.name)
    check_schema(spec, T.StructType([T.StructField(h, T.StringType()) for h in header]), str(path), strings_ok=True)
    schema = T.StructType([T.StructField(f"_c{i}", T.StringType()) for i in range(len(header))])
    schema = schema.add(_CORRUPT, T.StringType())
    options = {**CSV_OPTIONS, "columnNameOfCorruptRecord": _CORRUPT}
    options.pop("header")
    lines = spark.read.text([str(f) for f in files])
    # The header comes back as a line of every file; the BOM, if any, with it.
    lines = lines.where(~F.regexp_replace("value", "^\ufeff", "").eqNullSafe(F.lit(header_line)))
    parsed = lines.select("value", F.from_csv("value", schema.simpleString(), options).alias("r"))
    well_formed = F.col("value").rlike(CSV_LINE_REGEX)
    n = len(header)
    problem = (
        F.when(F.col("value") == "", F.lit("empty line"))
        .when(~well_formed, F.lit("unbalanced or stray quote"))
        .when(F.col(f"r.{_CORRUPT}").isNotNull(), F.lit(f"wrong number of fields (header has {n})"))
    )
    has_hash = any(c.pattern == HASH_PATTERN for c in spec.columns)
    shown = F.lit("<redacted: table with identifier hashes>") if has_hash else F.substring("value", 1, _MAX_LINE_ECHO)
    row_err = F.when(
        problem.isNotNull(),
        F.create_map(F.lit(ROW_ERROR), problem, F.lit(ROW_LINE), shown),
    ).otherwise(empty_raw_errors())
    wanted = {name: i for i, name in enumerate(header)}
    cols = [F.col(f"r._c{wanted[c]}").alias(c) for c in spec.column_names]
    frame = parsed.select(*cols, row_err.alias(RAW_ERRORS))
    return RawTable(conform(frame, spec, str(path), text=True), total, str(path))


def read_raw(spark: SparkSession, path: str, spec: TableSpec) -> RawTable:
    """Read one raw table, conform it to its contract and count its rows without Spark.

    Args:
        spark: the session to read with.
        path: folder of Parquet files, folder of ``.csv``/``.csv.gz`` files (with a header
            line), or a single such file.
        spec: the table contract.

    Returns:
        A :class:`RawTable`; its frame has the spec's columns in declared order with
        declared types, plus ``_raw_errors`` (see the module docstring).

    Raises:
        FileNotFoundError: the path does not exist or holds no data files (names table and path);
            an absent optional table (``spec.optional``) is read as empty instead.
        SchemaError: a declared column is missing/misspelt or has an incompatible type.
        ValueError: unknown file extension, mixed formats, empty CSV or CSV headers that differ.
    """
    p = Path(path)
    if spec.optional and not p.exists():
        log.info("optional table %r absent at %s: read as empty", spec.name, p)
        empty = spark.createDataFrame([], spark_schema(spec)).select("*", empty_raw_errors().alias(RAW_ERRORS))
        return RawTable(empty, 0, str(p))
    fmt = detect_format(p, spec.name)
    if fmt == "parquet":
        # The schema comes from the footers: conform() fails before any data is scanned.
        rows, schema = check_parquet_files(p, spec)
        reader = spark.read
        if schema is not None:
            # Known from the footers already: spares Spark its own schema-inference job.
            reader = reader.schema(from_arrow_schema(schema))
        return RawTable(conform(reader.parquet(str(p)), spec, str(p), text=False), rows, str(p))
    return _read_csv(spark, p, spec)


def read_raw_table(spark: SparkSession, path: str, spec: TableSpec) -> DataFrame:
    """:func:`read_raw` without the row count (the conformed frame only)."""
    return read_raw(spark, path, spec).frame
