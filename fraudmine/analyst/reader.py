"""Read a bundle back (no Spark): validated headers and typed rows, group by group.

The Bolt writer and the local FalkorDB loader consume the bundle through this
reader, so every engine gets exactly what ``neo4j-admin`` would import.  Values
are converted by the header types; an empty field is null (quoted empty strings
are null too: the CSV reader cannot tell them apart, and the export never writes
empty strings that matter).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fraudmine.analyst import headers
from fraudmine.analyst.bundle_format import FORMAT, MANIFEST
from fraudmine.analyst.headers import Field, HeaderError

Converter = Callable[[str], Any]


class BundleError(ValueError):
    """A bundle folder is missing files or is not a fraudmine Neo4j bundle."""


@dataclass(frozen=True)
class Group:
    """One file group of a bundle.

    Attributes:
        kind: ``"nodes"`` or ``"relationships"``.
        name: ID space (nodes) or group name (relationships).
        fields: parsed header.
        files: data files in order.
        rows: row count from the manifest.
        start_space / end_space: relationship ID spaces (None for nodes).
        rel_type: relationship type (None for nodes).
    """

    kind: str
    name: str
    fields: tuple[Field, ...]
    files: tuple[Path, ...]
    rows: int
    start_space: str | None = None
    end_space: str | None = None
    rel_type: str | None = None

    @property
    def props(self) -> tuple[Field, ...]:
        """Property fields (those with a name that are not ``:ID``)."""
        return tuple(f for f in self.fields if f.name and f.type not in ("ID",))


@dataclass(frozen=True)
class Bundle:
    """A validated bundle: its folder, manifest and groups (nodes first)."""

    root: Path
    manifest: dict[str, Any]
    nodes: tuple[Group, ...]
    relationships: tuple[Group, ...]

    @property
    def run_id(self) -> str:
        """Run id recorded by the writer."""
        return str(self.manifest.get("run_id", ""))


def open_bundle(root: Path) -> Bundle:
    """Open and validate a bundle folder.

    Raises:
        BundleError: if the manifest or a listed file is missing.
        HeaderError: if a header is invalid or an ID space is undefined.
    """
    mf = root / MANIFEST
    if not mf.exists():
        raise BundleError(f"{root}: no {MANIFEST}; write one with `fraudmine export neo4j --run DIR --out DIR`")
    manifest = json.loads(mf.read_text())
    if manifest.get("format") != FORMAT:
        raise BundleError(f"{mf}: format {manifest.get('format')!r}, expected {FORMAT!r}")
    nodes = tuple(_group(root, "nodes", e["id_space"], e) for e in manifest["nodes"])
    rels = tuple(_group(root, "relationships", e["name"], e) for e in manifest["relationships"])
    headers.check_id_spaces([g.name for g in nodes], [(g.name, str(g.start_space), str(g.end_space)) for g in rels])
    return Bundle(root, manifest, nodes, rels)


def _group(root: Path, kind: str, name: str, entry: dict[str, Any]) -> Group:
    folder = root / kind / name
    hfile = folder / "header.csv"
    if not hfile.exists():
        raise BundleError(f"{hfile}: header file missing")
    fields = tuple(headers.parse_header(hfile.read_text().splitlines()[0], str(hfile)))
    files = tuple(folder / f for f in entry["files"])
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        raise BundleError(f"{folder}: data files listed in the manifest are missing: {missing}")
    if kind == "nodes":
        space = headers.validate_node_header(fields, str(hfile))
        if space != name:
            raise HeaderError(f"{hfile}: ID space {space!r} does not match the group folder {name!r}")
        return Group(kind, name, fields, files, int(entry["rows"]))
    start, end = headers.validate_rel_header(fields, str(hfile))
    return Group(kind, name, fields, files, int(entry["rows"]), start, end, str(entry["type"]))


def _float(v: str) -> float:
    return float(v)


def _bool(v: str) -> bool:
    if v not in ("true", "false"):
        raise ValueError(f"not a boolean: {v!r}")
    return v == "true"


def converters(fields: tuple[Field, ...], datetime_conv: Converter) -> list[Converter]:
    """Per-field value converters from the header types."""
    table: dict[str, Converter] = {
        "string": str,
        "long": int,
        "float": _float,
        "boolean": _bool,
        "datetime": datetime_conv,
        "string[]": lambda v: v.split(headers.ARRAY_DELIMITER),
        "ID": str,
        "START_ID": str,
        "END_ID": str,
        "TYPE": str,
        "LABEL": lambda v: v.split(headers.ARRAY_DELIMITER),
    }
    return [table[f.type] for f in fields]


def iter_rows(group: Group, datetime_conv: Converter = str) -> Iterator[tuple[list[str], list[Any]]]:
    """Yield ``(raw fields, typed values)`` of every data row of ``group``, in file order.

    Raises:
        BundleError: naming the file and line of a row with the wrong field count or a bad value.
    """
    conv = converters(group.fields, datetime_conv)
    width = len(group.fields)
    for path in group.files:
        with path.open(newline="", encoding="utf-8") as fh:
            for lineno, raw in enumerate(csv.reader(fh), start=1):
                if len(raw) != width:
                    raise BundleError(f"{path}:{lineno}: {len(raw)} fields, header has {width}")
                try:
                    values = [c(v) if v != "" else None for c, v in zip(conv, raw, strict=True)]
                except ValueError as exc:
                    raise BundleError(f"{path}:{lineno}: {exc}") from None
                yield raw, values
