"""Render the raw input contract as Markdown (``docs/data-contract.md`` is generated from this)."""

from __future__ import annotations

from fraudmine.contracts.raw import RAW_TABLES, ColumnSpec, TableSpec

HEADER = """# Raw input contract

Generated from `fraudmine/contracts/raw.py` by `fraudmine contract`; a test fails if
this file and the code disagree. Each table is a folder of Parquet files, or CSV
files with a header row, named after the table under the input folder.

Validation order: the **schema check** runs first (a missing, misspelt or wrongly
typed column fails the run before anything is written, naming the table, the
column, the expected and the found type); then **row rules** send bad rows to the
quarantine with a reason code (`null_required`, `bad_type`, `unknown_enum`,
`out_of_range`, `too_long`, `bad_pattern` / `malformed_hash`, `future_timestamp`,
`bad_interval`, `duplicate_row`, `duplicate_key`, `dangling_fk`). Every input row
lands in exactly one of the clean table or the quarantine.

A table marked *(optional)* may be left out of the input folder: the run reads it as
empty and logs that it did.

Identifier values are never carried raw: `identities.identifier_hash` is a keyed
hash (HMAC-SHA256, 64 lowercase hex characters).
"""


def _rules(c: ColumnSpec) -> str:
    parts: list[str] = []
    if not c.nullable:
        parts.append("required")
    if c.enum:
        parts.append("one of " + ", ".join(f"`{v}`" for v in c.enum))
    if c.max_length is not None:
        parts.append(f"≤ {c.max_length} chars")
    if c.min_value is not None:
        parts.append(f"≥ {c.min_value:g}")
    if c.max_value is not None:
        parts.append(f"≤ {c.max_value:g}")
    if c.pattern:
        parts.append(f"matches `{c.pattern}`")
    if c.not_future:
        parts.append("not after the run date")
    return "; ".join(parts)


def render_table(spec: TableSpec) -> str:
    """Markdown section of one table."""
    lines = [f"## `{spec.name}`" + (" (optional)" if spec.optional else ""), "", spec.description or "", ""]
    lines.append(f"Primary key: {', '.join(f'`{k}`' for k in spec.primary_key)}")
    for fk in spec.foreign_keys:
        cond = f" where `{fk.type_column}` = `{fk.type_value}`" if fk.type_column else ""
        lines.append(f"- `{fk.column}` → `{fk.ref_table}.{fk.ref_column}`{cond}")
    lines += ["", "| column | type | rules | description |", "|---|---|---|---|"]
    for c in spec.columns:
        lines.append(f"| `{c.name}` | {c.dtype} | {_rules(c)} | {c.description} |")
    return "\n".join(lines) + "\n"


def render_contract() -> str:
    """The whole contract document."""
    return HEADER + "\n" + "\n".join(render_table(t) for t in RAW_TABLES)
