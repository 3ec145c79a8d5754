"""Chunked Parquet writer: one ``part-NNNNN.parquet`` per table per chunk, exact contract schema."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from fraudmine.contracts.physical import arrow_schema
from fraudmine.contracts.raw import RAW_TABLES, table_spec

# a column value: a list (strings, may hold None), an ndarray, an Arrow array, or (ndarray, null mask)
Column = Sequence[Any] | np.ndarray[Any, Any] | pa.Array | tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]


def to_table(name: str, cols: Mapping[str, Any]) -> pa.Table:
    """Build an Arrow table of raw table ``name`` with exactly ``arrow_schema(spec)``.

    Args:
        name: raw table name.
        cols: one value per declared column (see :data:`Column`).

    Returns:
        The Arrow table.

    Raises:
        KeyError: a declared column is missing or an undeclared one is given.
    """
    spec = table_spec(name)
    schema = arrow_schema(spec)
    extra = set(cols) - set(spec.column_names)
    if extra:
        raise KeyError(f"table {name!r}: undeclared columns {sorted(extra)}")
    arrays = []
    for f in schema:
        v = cols[f.name]
        if isinstance(v, pa.Array):
            arrays.append(v if v.type == f.type else v.cast(f.type))
        elif isinstance(v, tuple):
            arrays.append(pa.array(v[0], type=f.type, mask=v[1]))
        else:
            arrays.append(pa.array(v, type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


class PartWriter:
    """Writes numbered part files under ``<root>/<table>/`` and counts rows."""

    def __init__(self, root: Path) -> None:
        """Create one folder per raw table under ``root``."""
        self.root = root
        self.rows: dict[str, int] = {t.name: 0 for t in RAW_TABLES}
        self._parts: dict[str, int] = {t.name: 0 for t in RAW_TABLES}
        for t in RAW_TABLES:
            (root / t.name).mkdir(parents=True, exist_ok=True)

    def write(self, name: str, tables: Sequence[pa.Table]) -> None:
        """Concatenate ``tables`` (all of raw table ``name``) and write them as the next part."""
        tabs = [t for t in tables if t.num_rows > 0]
        if not tabs:
            return
        table = pa.concat_tables(tabs)
        path = self.root / name / f"part-{self._parts[name]:05d}.parquet"
        pq.write_table(table, path, compression="snappy")
        self._parts[name] += 1
        self.rows[name] += table.num_rows

    def close(self) -> None:
        """Write an empty part for tables that received no rows, so every folder has a schema."""
        for t in RAW_TABLES:
            if self._parts[t.name] == 0:
                pq.write_table(arrow_schema(t).empty_table(), self.root / t.name / "part-00000.parquet")
                self._parts[t.name] = 1
