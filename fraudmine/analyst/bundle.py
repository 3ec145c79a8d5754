"""Write the ``neo4j-admin`` bulk-import bundle of a run with Spark.

Layout of ``<out>``::

    manifest.json                 groups, headers, files, row counts, run id
    nodes/<IdSpace>/header.csv    one header line (typed), no data
    nodes/<IdSpace>/part-00000.csv ...   data, no header, sorted by id
    relationships/<group>/header.csv, part-*.csv
    schema.cypher                 constraints and indexes (run after the import)
    import.sh                     the exact ``neo4j-admin database import full`` command
    playbook.cypher               the analyst playbook rendered for Neo4j

Headers are separate from the partitioned data so a group of any size is one
header plus N parts.  CSV follows ``neo4j-admin`` defaults: ``,`` delimiter, ``"``
quote doubled inside fields, ``;`` between array elements (an element's own ``;`` is
written as ``,``), newlines inside strings written as spaces, null as an empty
field, datetimes as ISO-8601 UTC (``2026-11-01T00:00:00.000000Z``).
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from fraudmine.analyst import frames, headers, scripts
from fraudmine.analyst.bundle_format import FORMAT, MANIFEST
from fraudmine.analyst.frames import NodeGroup, RelGroup
from fraudmine.analyst.model import Prop

log = logging.getLogger(__name__)

IDENTIFIER_ID = r"^[a-z_]+:[0-9a-f]{16,}$"
"""Identifier node ids: ``<identifier_type>:<keyed hash>`` (hex).  Anything else is refused."""

_CSV = {
    "header": "false",
    "sep": ",",
    "quote": '"',
    "escape": '"',
    "escapeQuotes": "true",
    "nullValue": "",
    "emptyValue": '""',
    "ignoreLeadingWhiteSpace": "false",
    "ignoreTrailingWhiteSpace": "false",
    "lineSep": "\n",
}


class RawIdentifierError(ValueError):
    """An identifier node id is not a keyed hash: refusing to export it."""


@dataclass(frozen=True)
class BundleOptions:
    """Options of the bundle writer.

    Attributes:
        rows_per_file: target rows per data part (a group of N rows gets ceil(N / rows_per_file) parts).
        run_id: run id recorded in the manifest and scripts.
        database: database name used in ``import.sh``.
    """

    rows_per_file: int = 1_000_000
    run_id: str = ""
    database: str = "neo4j"


def _text(col: Column, prop: Prop, tz: str) -> Column:
    if prop.type == "string[]":
        joined = F.concat_ws(headers.ARRAY_DELIMITER, F.transform(col, lambda x: F.regexp_replace(x, ";", ",")))
        return F.when(F.size(col) > 0, joined)  # empty and null arrays: an empty field (null)
    if prop.type == "datetime":
        return F.date_format(F.to_utc_timestamp(col, tz), "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
    if prop.type == "string":
        return F.regexp_replace(col, r"[\r\n]+", " ")
    if prop.type == "boolean":
        return F.when(col, F.lit("true")).when(~col, F.lit("false"))
    return col.cast("string")


def _write_group(df: DataFrame, sort_cols: list[str], folder: Path, rows: int, opts: BundleOptions) -> list[str]:
    parts = max(1, math.ceil(rows / opts.rows_per_file))
    tmp = folder / "_spark"
    ordered = df.repartitionByRange(parts, *sort_cols) if parts > 1 else df.coalesce(1)
    ordered.sortWithinPartitions(*sort_cols).write.mode("overwrite").options(**_CSV).csv(str(tmp))
    written = sorted(p for p in tmp.glob("part-*.csv"))
    names = []
    for i, part in enumerate(written):
        name = f"part-{i:05d}.csv"
        part.rename(folder / name)
        names.append(name)
    shutil.rmtree(tmp)
    return names


def _check_identifiers(group: NodeGroup) -> None:
    bad = group.df.where(~F.col("id").rlike(IDENTIFIER_ID)).select("id").limit(3).collect()
    if bad:
        raise RawIdentifierError(
            f"graph/nodes: identifier ids must be '<type>:<keyed hash>' (pattern {IDENTIFIER_ID}); "
            f"found {[r['id'][:12] + '…' for r in bad]}; fix the graph stage, raw identifier values are never exported"
        )


def write_bundle(tables: frames.RunTables, out: Path, opts: BundleOptions) -> dict[str, object]:
    """Write the bundle of ``tables`` to ``out`` (replaced if it exists).

    Args:
        tables: the run's tables (see :class:`fraudmine.analyst.frames.RunTables`).
        out: bundle folder.
        opts: writer options.

    Returns:
        The manifest (also written to ``out/manifest.json``).

    Raises:
        RawIdentifierError: if an identifier id is not a keyed hash.
        AllowListError: if the graph holds an unregistered edge type.
    """
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    tz = tables.nodes.sparkSession.conf.get("spark.sql.session.timeZone") or "UTC"
    manifest: dict[str, object] = {"format": FORMAT, "run_id": opts.run_id, "array_delimiter": ";"}
    node_entries, rel_entries = [], []
    for group in frames.node_groups(tables):
        if group.id_space == "Identifier":
            _check_identifiers(group)
        t0 = time.monotonic()
        folder = out / "nodes" / group.id_space
        folder.mkdir(parents=True)
        fields = headers.node_header(group.id_space, group.props)
        (folder / "header.csv").write_text(headers.format_header(fields) + "\n")
        df = group.df.select("id", "labels", *[_text(F.col(p.name), p, tz).alias(p.name) for p in group.props])
        rows = group.df.count()
        files = _write_group(df, ["id"], folder, rows, opts)
        node_entries.append({"id_space": group.id_space, "rows": rows, "files": files})
        log.info("neo4j bundle: nodes %s: %d rows, %d parts, %.1fs", group.id_space, rows, len(files), time.monotonic() - t0)
    for rel in frames.rel_groups(tables):
        t0 = time.monotonic()
        folder = out / "relationships" / rel.name
        folder.mkdir(parents=True)
        fields = headers.rel_header(rel.start_space, rel.end_space, rel.props)
        (folder / "header.csv").write_text(headers.format_header(fields) + "\n")
        df = rel.df.select("start", "end", "type", *[_text(F.col(p.name), p, tz).alias(p.name) for p in rel.props])
        rows = rel.df.count()
        files = _write_group(df, ["start", "end"], folder, rows, opts)
        rel_entries.append({"name": rel.name, "type": rel.rel_type, "rows": rows, "files": files})
        log.info("neo4j bundle: relationships %s: %d rows, %d parts, %.1fs", rel.name, rows, len(files), time.monotonic() - t0)
    manifest["nodes"], manifest["relationships"] = node_entries, rel_entries
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    scripts.write_scripts(out, opts.database)
    return manifest

