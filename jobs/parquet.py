"""Read committed stage outputs without Spark's fixed costs: no schema-inference job, no count job.

Spark infers the schema of a Parquet folder with a Spark job of its own (it reads
one footer on an executor), and ``df.count()`` on an output just written scans it
again.  On the small inputs of a nightly run each of those jobs costs a few hundred
milliseconds of scheduling, planning and code generation for nothing: a stage
output's schema is in its footers (Spark stores its own schema there, under
:data:`SPARK_SCHEMA_KEY`) and its row count is in every footer's metadata.  Both are
read here with pyarrow on the driver (local and mounted file systems).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

# The footer key under which Spark's Parquet writer stores the DataFrame's schema as JSON;
# Spark's reader prefers it over the Parquet schema when it infers a folder's schema.
SPARK_SCHEMA_KEY = b"org.apache.spark.sql.parquet.row.metadata"


def data_files(path: Path) -> list[Path]:
    """The Parquet data files under ``path`` as Spark sees them (``_`` and ``.`` names skipped), sorted."""
    if path.is_file():
        return [path]
    return sorted(
        p
        for p in path.rglob("*.parquet")
        if p.is_file() and not any(part.startswith(("_", ".")) for part in p.relative_to(path).parts)
    )


def _plain_text(value: str) -> bool:
    """Whether Spark's partition-type inference certainly reads ``value`` as a string.

    Conservative: anything that starts like a number or a date, parses as a float
    (``NaN``, ``Infinity``) or is a boolean word is treated as not plain.
    """
    v = value.strip()
    if not v or v[0].isdigit() or v[0] in "+-.":
        return False
    try:
        float(v)
    except ValueError:
        return v.lower() not in ("true", "false")
    return False


def _partition_columns(path: Path) -> list[str] | None:
    """Partition column names of a ``key=value`` folder tree, outermost first.

    Returns ``None`` when a value might not be inferred as a string by Spark, or the
    layout is irregular; ``[]`` for a folder that is not partitioned.
    """
    names: list[str] = []
    level = [path]
    while True:
        subdirs = [d for p in level for d in p.iterdir() if d.is_dir() and not d.name.startswith(("_", "."))]
        if not subdirs:
            return names
        keys = {d.name.split("=", 1)[0] for d in subdirs if "=" in d.name}
        if len(keys) != 1 or any("=" not in d.name for d in subdirs):
            return None
        if not all(_plain_text(d.name.split("=", 1)[1]) for d in subdirs):
            return None
        names.append(keys.pop())
        level = subdirs


def _as_nullable(dt: T.DataType) -> T.DataType:
    """``dt`` with every field, element and value nullable (what Spark does to a file source's schema)."""
    if isinstance(dt, T.StructType):
        return T.StructType([T.StructField(f.name, _as_nullable(f.dataType), True, f.metadata) for f in dt.fields])
    if isinstance(dt, T.ArrayType):
        return T.ArrayType(_as_nullable(dt.elementType), True)
    if isinstance(dt, T.MapType):
        return T.MapType(_as_nullable(dt.keyType), _as_nullable(dt.valueType), True)
    return dt


def written_schema(path: Path) -> T.StructType | None:
    """The schema Spark would infer for a folder it wrote, read from one footer on the driver.

    Spark infers a folder's schema from one file's footer, preferring the schema it
    stored there itself, and appends the partition columns (``key=value`` folders) with
    a type inferred from their values; this returns the same schema without a Spark job.

    Returns:
        The schema, or ``None`` (let Spark infer) for a folder without data files, files
        Spark did not write (no stored schema), or partition values that are not plain
        text (Spark could infer a number or a date).
    """
    if not path.is_dir():
        return None
    partitions = _partition_columns(path)
    files = data_files(path)
    if partitions is None or not files:
        return None
    stored = (pq.read_metadata(files[0]).metadata or {}).get(SPARK_SCHEMA_KEY)
    if stored is None:
        return None
    schema = _as_nullable(T.StructType.fromJson(json.loads(stored)))
    assert isinstance(schema, T.StructType)
    if any(name in schema.fieldNames() for name in partitions):
        return None
    for name in partitions:
        schema = schema.add(name, T.StringType(), nullable=True)
    return schema


def read_parquet(spark: SparkSession, path: Path) -> DataFrame:
    """``spark.read.parquet(path)`` without the schema-inference job when the schema is known."""
    schema = written_schema(path)
    reader = spark.read if schema is None else spark.read.schema(schema)
    return reader.parquet(str(path))


def parquet_rows(path: Path) -> int:
    """Rows of a Parquet file or folder (partitioned or not), from the footers: no Spark job.

    Raises:
        FileNotFoundError: ``path`` does not exist.
    """
    if not path.exists():
        raise FileNotFoundError(f"no Parquet output at {path}")
    return sum(pq.read_metadata(f).num_rows for f in data_files(path))
