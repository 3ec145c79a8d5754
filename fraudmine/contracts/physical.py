"""Physical schemas derived from the logical :mod:`fraudmine.contracts.raw` specs.

Spark and Arrow are imported lazily so that callers needing only one engine
(the generator needs Arrow, the pipeline needs Spark) do not pay for the other.
Timestamps are UTC instants: Arrow ``timestamp[us, tz=UTC]`` is read by Spark as
``TimestampType`` (a zone-less Arrow timestamp would come back as ``TIMESTAMP_NTZ``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fraudmine.contracts.raw import DType, TableSpec

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql.types import DataType, StructType


def spark_type(dtype: DType) -> DataType:
    """Spark SQL type of a logical dtype."""
    from pyspark.sql import types as T

    mapping: dict[str, DataType] = {
        "string": T.StringType(),
        "long": T.LongType(),
        "int": T.IntegerType(),
        "double": T.DoubleType(),
        "boolean": T.BooleanType(),
        "timestamp": T.TimestampType(),
    }
    return mapping[dtype]


def spark_schema(spec: TableSpec) -> StructType:
    """Spark ``StructType`` of a table spec (all fields nullable: nullability is a row rule)."""
    from pyspark.sql import types as T

    return T.StructType([T.StructField(c.name, spark_type(c.dtype), True) for c in spec.columns])


def arrow_type(dtype: DType) -> pa.DataType:
    """Arrow type of a logical dtype."""
    import pyarrow as pa

    mapping: dict[str, pa.DataType] = {
        "string": pa.string(),
        "long": pa.int64(),
        "int": pa.int32(),
        "double": pa.float64(),
        "boolean": pa.bool_(),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }
    return mapping[dtype]


def arrow_schema(spec: TableSpec) -> pa.Schema:
    """Arrow schema of a table spec, in declared column order."""
    import pyarrow as pa

    return pa.schema([pa.field(c.name, arrow_type(c.dtype), nullable=True) for c in spec.columns])
