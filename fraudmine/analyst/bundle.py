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
from fraudmine.analyst.frames import NodeGroup
from fraudmine.analyst.model import Prop

log = logging.getLogger(__name__)

IDENTIFIER_ID = r"^[a-z_]+:[0-9a-f]{16,}$"
"""Identifier node ids: ``<identifier_type>:<keyed hash>`` (hex).  Anything else is refused."""


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


def _csv_field(text: Column) -> Column:
    """One CSV field: null → empty; quoted (inner quotes doubled) when it holds , " or edge spaces, or is empty."""
    needs = text.rlike(r'[",]|^\s|\s$') | (text == F.lit(""))
    quoted = F.concat(F.lit('"'), F.regexp_replace(text, '"', '""'), F.lit('"'))
    return F.coalesce(F.when(needs, quoted).otherwise(text), F.lit(""))


def _lines(df: DataFrame, kind: str, group: str, keys: list[str], fields: list[Column]) -> DataFrame:
    return df.select(
        F.lit(kind).alias("kind"),
        F.lit(group).alias("grp"),
        F.col(keys[0]).alias("k1"),
        (F.col(keys[1]) if len(keys) > 1 else F.lit("")).alias("k2"),
        F.concat_ws(",", *[_csv_field(f) for f in fields]).alias("line"),
    )


def _check_identifiers(group: NodeGroup) -> None:
    bad = group.df.where(~F.col("id").rlike(IDENTIFIER_ID)).select("id").limit(3).collect()
    if bad:
        raise RawIdentifierError(
            f"graph/nodes: identifier ids must be '<type>:<keyed hash>' (pattern {IDENTIFIER_ID}); "
            f"found {[r['id'][:12] + '…' for r in bad]}; fix the graph stage, raw identifier values are never exported"
        )


def _count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for _ in fh)


def _place(tmp: Path, out: Path, kind: str, group: str) -> list[str]:
    """Move Spark's part files of one group to ``out/<kind>/<group>/part-NNNNN.csv`` (in partition order)."""
    src = tmp / f"kind={kind}" / f"grp={group}"
    dst = out / kind / group
    names = []
    for i, part in enumerate(sorted(src.glob("part-*.txt")) if src.exists() else []):
        name = f"part-{i:05d}.csv"
        part.rename(dst / name)
        names.append(name)
    return names


def write_bundle(tables: frames.RunTables, out: Path, opts: BundleOptions) -> dict[str, object]:
    """Write the bundle of ``tables`` to ``out`` (replaced if it exists).

    Every group is turned into CSV lines and all groups are written by one Spark job
    (partitioned by group), range-partitioned by ``(group, key)`` into about
    ``total rows / rows_per_file`` parts, each sorted by key, so parts are
    deterministic and a group of any size is split across files.

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
    t0 = time.monotonic()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    tz = tables.nodes.sparkSession.conf.get("spark.sql.session.timeZone") or "UTC"
    node_groups, rel_groups = frames.node_groups(tables), frames.rel_groups(tables)
    lines: DataFrame | None = None
    for group in node_groups:
        if group.id_space == "Identifier":
            _check_identifiers(group)
        folder = out / "nodes" / group.id_space
        folder.mkdir(parents=True)
        fields = headers.node_header(group.id_space, group.props)
        (folder / "header.csv").write_text(headers.format_header(fields) + "\n")
        cols = [F.col("id"), F.col("labels"), *[_text(F.col(p.name), p, tz) for p in group.props]]
        part = _lines(group.df, "nodes", group.id_space, ["id"], cols)
        lines = part if lines is None else lines.unionByName(part)
    for rel in rel_groups:
        folder = out / "relationships" / rel.name
        folder.mkdir(parents=True)
        fields = headers.rel_header(rel.start_space, rel.end_space, rel.props)
        (folder / "header.csv").write_text(headers.format_header(fields) + "\n")
        cols = [F.col("start"), F.col("end"), F.col("type"), *[_text(F.col(p.name), p, tz) for p in rel.props]]
        part = _lines(rel.df, "relationships", rel.name, ["start", "end"], cols)
        lines = part if lines is None else lines.unionByName(part)
    if lines is None:
        raise ValueError("graph/nodes is empty: nothing to export")
    total = _estimated_rows(tables)
    parts = max(1, math.ceil(total / opts.rows_per_file))
    keys = ["kind", "grp", "k1", "k2"]
    spread = lines.repartitionByRange(parts, *keys) if parts > 1 else lines.coalesce(1)
    tmp = out / "_spark"
    spread.sortWithinPartitions(*keys).select("kind", "grp", "line").write.partitionBy("kind", "grp").text(str(tmp))
    log.info(
        "neo4j bundle: %d groups written by Spark in %.1fs (%d range parts)",
        len(node_groups) + len(rel_groups),
        time.monotonic() - t0,
        parts,
    )
    node_entries, rel_entries = [], []
    for group in node_groups:
        files = _place(tmp, out, "nodes", group.id_space)
        rows = sum(_count_lines(out / "nodes" / group.id_space / f) for f in files)
        node_entries.append({"id_space": group.id_space, "rows": rows, "files": files})
        log.info("neo4j bundle: nodes %s: %d rows in %d parts", group.id_space, rows, len(files))
    for rel in rel_groups:
        files = _place(tmp, out, "relationships", rel.name)
        rows = sum(_count_lines(out / "relationships" / rel.name / f) for f in files)
        rel_entries.append({"name": rel.name, "type": rel.rel_type, "rows": rows, "files": files})
        log.info("neo4j bundle: relationships %s: %d rows in %d parts", rel.name, rows, len(files))
    shutil.rmtree(tmp)
    manifest: dict[str, object] = {
        "format": FORMAT,
        "run_id": opts.run_id,
        "array_delimiter": headers.ARRAY_DELIMITER,
        "nodes": node_entries,
        "relationships": rel_entries,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    scripts.write_scripts(out, opts.database)
    return manifest


def _estimated_rows(tables: frames.RunTables) -> int:
    """Rows of the bundle, up to the cluster nodes: graph nodes + edges + memberships (one aggregation each)."""
    n = tables.nodes.count() + tables.edges.count()
    if tables.members is not None:
        n += tables.members.count()
    return int(n)
