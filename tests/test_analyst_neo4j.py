"""The Bolt writer and the playbook against a real Neo4j 5 — only when ``NEO4J_URI`` is set.

No Neo4j server can be installed from the registries this project reaches, so this
module is skipped by default (the reason is printed by ``pytest -ra``). To run it,
point it at a THROWAWAY server: it empties the database first.

    NEO4J_URI=bolt://localhost:7687 NEO4J_PASSWORD=... [NEO4J_DATABASE=neo4j] \\
        .venv/bin/python -m pytest tests/test_analyst_neo4j.py -m neo4j
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fraudmine.analyst import playbook
from fraudmine.analyst.reader import open_bundle
from fraudmine.analyst.sinks import Neo4jSink
from fraudmine.analyst.upsert import LoadState, load_bundle
from fraudmine.config import load_config
from tests.analyst_expected import EXPECTED, check_answer

pytestmark = [
    pytest.mark.integration,
    pytest.mark.neo4j,
    pytest.mark.skipif(
        not os.environ.get("NEO4J_URI"),
        reason="NEO4J_URI is not set: no Neo4j server here (none is installable from the reachable registries)",
    ),
]

GOLDEN = Path(__file__).parent / "golden" / "neo4j_bundle"


@pytest.fixture(scope="module")
def sink() -> Iterator[Neo4jSink]:
    cfg = load_config().neo4j
    s = Neo4jSink(cfg.uri or "", cfg.user, cfg.resolved_password() or "", cfg.database, cfg.max_retry_time_s)
    s.write("MATCH (n) DETACH DELETE n", [])
    yield s
    s.close()


def _counts(sink: Neo4jSink) -> tuple[int, int]:
    _c, n = sink.query("MATCH (n) RETURN count(n)", {})
    _c, r = sink.query("MATCH ()-[r]->() RETURN count(r)", {})
    return int(n[0][0]), int(r[0][0])


def test_bolt_load_is_idempotent_and_incremental(sink: Neo4jSink, tmp_path: Path) -> None:
    state = LoadState(tmp_path / "s.sqlite")
    first = load_bundle(open_bundle(GOLDEN), sink, state, "neo4j-test", batch_size=3)
    counts = _counts(sink)
    assert counts == (26, 36) and first.written == 62
    again = load_bundle(open_bundle(GOLDEN), sink, state, "neo4j-test", batch_size=3)
    assert again.written == 0 and _counts(sink) == counts
    full = load_bundle(open_bundle(GOLDEN), sink, state, "neo4j-test", batch_size=3, full=True)
    assert full.written == 62 and _counts(sink) == counts
    _c, rows = sink.query("SHOW CONSTRAINTS YIELD labelsOrTypes RETURN labelsOrTypes", {})
    assert ["Merchant"] in [r[0] for r in rows]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_playbook_on_neo4j(sink: Neo4jSink, tmp_path: Path, name: str) -> None:
    load_bundle(open_bundle(GOLDEN), sink, LoadState(tmp_path / "s.sqlite"), "neo4j-playbook", batch_size=50)
    params, _c, _r = EXPECTED[name]
    columns, rows = playbook.run_query(sink, name, params)
    check_answer(name, columns, rows)
