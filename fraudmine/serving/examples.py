"""Read-only look-ups in a snapshot for people: the riskiest entity of a type (demo and docs)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import NamedTuple


class Example(NamedTuple):
    """An entity worth looking up."""

    entity_type: str
    entity_id: str
    fraud_risk: float
    band: str | None
    reasons: str


def riskiest(snapshot: Path, entity_type: str = "merchant") -> Example | None:
    """The entity of ``entity_type`` with the highest fraud risk in ``snapshot`` (ties: smallest id), or ``None``."""
    con = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
    try:
        row = con.execute(
            "SELECT entity_type, entity_id, fraud_risk, risk_band, reasons FROM scores "
            "WHERE entity_type = ? AND fraud_risk IS NOT NULL ORDER BY fraud_risk DESC, entity_id LIMIT 1",
            (entity_type,),
        ).fetchone()
    finally:
        con.close()
    return None if row is None else Example(*row)
