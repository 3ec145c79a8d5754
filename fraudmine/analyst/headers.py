"""``neo4j-admin`` CSV headers: format, parse and validate (no Spark).

A node header reads ``id:ID(Merchant),:LABEL,node_id:string,fraud_risk:float,...``;
a relationship header ``:START_ID(Merchant),:END_ID(Product),:TYPE,weight:float,...``.
Validation checks what ``neo4j-admin database import full`` would reject late:
exactly one ``:ID`` per node header with an ID space, ``:START_ID``/``:END_ID``/
``:TYPE`` once each in a relationship header, known property types, unique names,
and (for a whole bundle) that every ID space referenced by a relationship group is
defined by a node group.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fraudmine.analyst.model import KEY, PROPERTY_TYPES, Prop

ARRAY_DELIMITER = ";"
_FIELD = re.compile(
    r"^(?P<name>[A-Za-z][A-Za-z0-9_]*)?(?::(?P<type>[A-Z_]+|[a-z]+(?:\[\])?)(?:\((?P<space>[A-Za-z][A-Za-z0-9_]*)\))?)?$"
)
_SPECIAL = ("ID", "LABEL", "START_ID", "END_ID", "TYPE", "IGNORE")


class HeaderError(ValueError):
    """A bundle header is malformed or inconsistent."""


@dataclass(frozen=True)
class Field:
    """One header field: property ``name`` (may be empty), ``type`` and optional ID ``space``."""

    name: str
    type: str
    space: str | None = None

    @property
    def text(self) -> str:
        """The field as written in a header."""
        base = f"{self.name}:{self.type}"
        return f"{base}({self.space})" if self.space else base


def node_header(id_space: str, props: Sequence[Prop]) -> list[Field]:
    """Header of a node group: key with its ID space, labels, then typed properties."""
    return [Field(KEY, "ID", id_space), Field("", "LABEL"), *(Field(p.name, p.type) for p in props)]


def rel_header(start_space: str, end_space: str, props: Sequence[Prop]) -> list[Field]:
    """Header of a relationship group: start and end with their ID spaces, type, typed properties."""
    return [
        Field("", "START_ID", start_space),
        Field("", "END_ID", end_space),
        Field("", "TYPE"),
        *(Field(p.name, p.type) for p in props),
    ]


def format_header(fields: Iterable[Field]) -> str:
    """One CSV header line (no newline)."""
    return ",".join(f.text for f in fields)


def parse_header(line: str, source: str = "header") -> list[Field]:
    """Parse a header line.

    Raises:
        HeaderError: naming ``source`` and the bad field.
    """
    fields: list[Field] = []
    for raw in line.strip().split(","):
        m = _FIELD.match(raw)
        if not m:
            raise HeaderError(f"{source}: cannot parse header field {raw!r}")
        name, typ, space = m.group("name") or "", m.group("type") or "string", m.group("space")
        if typ.isupper() and typ not in _SPECIAL:
            raise HeaderError(f"{source}: unknown special field type {typ!r} in {raw!r}")
        if not typ.isupper() and typ not in PROPERTY_TYPES:
            raise HeaderError(f"{source}: field {raw!r} has type {typ!r}; allowed: {PROPERTY_TYPES}")
        fields.append(Field(name, typ, space))
    return fields


def validate_node_header(fields: Sequence[Field], source: str) -> str:
    """Check a node header; return its ID space.

    Raises:
        HeaderError: naming ``source`` and the problem.
    """
    ids = [f for f in fields if f.type == "ID"]
    if len(ids) != 1 or not ids[0].space:
        raise HeaderError(f"{source}: a node header needs exactly one ':ID(<space>)' field, found {len(ids)}")
    if sum(f.type == "LABEL" for f in fields) > 1:
        raise HeaderError(f"{source}: more than one ':LABEL' field")
    if any(f.type in ("START_ID", "END_ID", "TYPE") for f in fields):
        raise HeaderError(f"{source}: relationship fields in a node header")
    _unique(fields, source)
    return ids[0].space


def validate_rel_header(fields: Sequence[Field], source: str) -> tuple[str, str]:
    """Check a relationship header; return its ``(start_space, end_space)``.

    Raises:
        HeaderError: naming ``source`` and the problem.
    """
    for special in ("START_ID", "END_ID", "TYPE"):
        n = sum(f.type == special for f in fields)
        if n != 1:
            raise HeaderError(f"{source}: a relationship header needs exactly one ':{special}', found {n}")
    start = next(f for f in fields if f.type == "START_ID").space
    end = next(f for f in fields if f.type == "END_ID").space
    if not start or not end:
        raise HeaderError(f"{source}: ':START_ID' and ':END_ID' must name their ID space, e.g. ':START_ID(Merchant)'")
    if any(f.type in ("ID", "LABEL") for f in fields):
        raise HeaderError(f"{source}: node fields in a relationship header")
    _unique(fields, source)
    return start, end


def _unique(fields: Sequence[Field], source: str) -> None:
    names = [f.name for f in fields if f.name]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise HeaderError(f"{source}: duplicate property names {dupes}")


def check_id_spaces(node_spaces: Iterable[str], rel_spaces: Iterable[tuple[str, str, str]]) -> None:
    """Every ID space used by a relationship group is defined by a node group.

    Args:
        node_spaces: ID spaces of the node groups.
        rel_spaces: ``(group name, start space, end space)`` of each relationship group.

    Raises:
        HeaderError: naming the group and the undefined space.
    """
    defined = set(node_spaces)
    for name, start, end in rel_spaces:
        for space in (start, end):
            if space not in defined:
                raise HeaderError(
                    f"relationship group {name!r} references ID space {space!r}, defined: {sorted(defined)}"
                )
