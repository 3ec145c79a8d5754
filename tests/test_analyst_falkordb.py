"""Every playbook query on a real FalkorDB server, plus the upsert guarantees (idempotent, incremental, resumable).

The graph is the golden bundle of the planted run (tests/analyst_run.py), so these
tests need no Spark: the bundle test checks that the export reproduces it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fraudmine.analyst import playbook
from fraudmine.analyst.falkor import FalkorServer
from fraudmine.analyst.local import LocalGraph
from fraudmine.analyst.reader import open_bundle
from fraudmine.analyst.sinks import FalkorSink
from fraudmine.analyst.upsert import LoadState, load_bundle
from tests.analyst_expected import EXPECTED, check_answer

pytestmark = pytest.mark.falkordb

GOLDEN = Path(__file__).parent / "golden" / "neo4j_bundle"
# 7 merchants + 1 creator + 4 products + 1 brand + 3 buyers + 6 identifiers + 4 clusters;
# 26 graph edges + 10 cluster memberships
N_NODES, N_RELS = 26, 36


@pytest.fixture(scope="module")
def server() -> Iterator[FalkorServer]:
    with FalkorServer() as srv:
        yield srv


def _sink(server: FalkorServer, graph: str) -> FalkorSink:
    return FalkorSink(server.host, server.port, graph)


@pytest.fixture(scope="module")
def loaded(server: FalkorServer, tmp_path_factory: pytest.TempPathFactory) -> FalkorSink:
    sink = _sink(server, "playbook")
    state = LoadState(tmp_path_factory.mktemp("state") / "s.sqlite")
    load_bundle(open_bundle(GOLDEN), sink, state, "falkordb:playbook", batch_size=3)
    return sink


def test_golden_bundle_loads_completely(loaded: FalkorSink) -> None:
    assert loaded.count() == (N_NODES, N_RELS)
    _c, rows = loaded.query("MATCH (n:Account) RETURN count(n)", {})
    assert rows == [[11]]
    _c, rows = loaded.query("MATCH (m:Merchant {id: 'm1'}) RETURN m.reasons, m.cluster_ids, m.fraud_risk", {})
    assert rows == [[["SHARED_IDENTIFIERS"], ["collusion:7", "identity:1"], 0.95]]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_playbook_query_answers_the_planted_ring(loaded: FalkorSink, name: str) -> None:
    params, _cols, _rows = EXPECTED[name]
    columns, rows = playbook.run_query(loaded, name, params)
    check_answer(name, columns, rows)


def test_every_playbook_query_is_covered() -> None:
    assert set(EXPECTED) == set(playbook.QUERIES)


def test_hubs_and_hop_limit_bound_the_ring(loaded: FalkorSink) -> None:
    _c, rows = playbook.run_query(loaded, "ring", {"merchant": "m1"})
    accounts = {r[0] for r in rows}
    assert "merchant:m7" not in accounts  # only reachable through the hub wifi
    assert "merchant:m5" not in accounts  # 4 hops away
    _c, rows = playbook.run_query(loaded, "shortest_path", {"source": "merchant:m1", "target": "merchant:m7"})
    assert rows == []  # the only link is a hub
    _c, rows = playbook.run_query(loaded, "clusters", {"kind": "duplicates", "limit": 5})
    assert [r[0] for r in rows] == ["duplicates:d1"]


def test_reload_is_idempotent_and_incremental(server: FalkorServer, tmp_path: Path) -> None:
    sink = _sink(server, "incremental")
    state = LoadState(tmp_path / "s.sqlite")
    first = load_bundle(open_bundle(GOLDEN), sink, state, "t", batch_size=4)
    assert first.written == N_NODES + N_RELS and sink.count() == (N_NODES, N_RELS)
    again = load_bundle(open_bundle(GOLDEN), sink, state, "t", batch_size=4)
    assert again.written == 0 and again.unchanged == N_NODES + N_RELS and sink.count() == (N_NODES, N_RELS)
    full = load_bundle(open_bundle(GOLDEN), sink, state, "t", batch_size=4, full=True)
    assert full.written == N_NODES + N_RELS and sink.count() == (N_NODES, N_RELS)  # MERGE: no duplicates

    # next run: m4's score changed, m3 left the collusion cluster
    nxt = tmp_path / "next"
    shutil.copytree(GOLDEN, nxt)
    part = nxt / "nodes" / "Merchant" / "part-00000.csv"
    part.write_text(part.read_text().replace("Shop m4,DE,fashion,0.3,", "Shop m4,DE,fashion,0.6,"))
    member = nxt / "relationships" / "merchant__member_of__cluster" / "part-00000.csv"
    member.write_text(member.read_text().replace("m3,collusion:7,MEMBER_OF,member\n", ""))
    rep = load_bundle(open_bundle(nxt), sink, state, "t", batch_size=4)
    assert (rep.written, rep.deleted) == (1, 1)
    assert rep.groups["nodes/Merchant"].written == 1
    assert rep.groups["relationships/merchant__member_of__cluster"].deleted == 1
    _c, rows = sink.query("MATCH (m:Merchant {id: 'm4'}) RETURN m.fraud_risk", {})
    assert rows == [[0.6]]
    assert sink.count() == (N_NODES, N_RELS - 1)


class _Crash(RuntimeError):
    pass


class _CrashingSink:
    """The real FalkorDB sink, made to fail after ``n`` writes (a crash mid-load)."""

    def __init__(self, inner: FalkorSink, n: int) -> None:
        self.inner, self.left, self.engine = inner, n, inner.engine

    def ensure_schema(self, id_spaces: list[str]) -> None:
        self.inner.ensure_schema(id_spaces)

    def write(self, cypher: str, rows: list[dict[str, Any]]) -> None:
        if self.left == 0:
            raise _Crash("connection lost")
        self.left -= 1
        self.inner.write(cypher, rows)

    def query(self, cypher: str, params: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
        return self.inner.query(cypher, params)

    def close(self) -> None:
        self.inner.close()


def test_failed_load_resumes_without_resending_committed_batches(server: FalkorServer, tmp_path: Path) -> None:
    sink = _sink(server, "resume")
    state = LoadState(tmp_path / "s.sqlite")
    with pytest.raises(_Crash):
        load_bundle(open_bundle(GOLDEN), _CrashingSink(sink, 5), state, "t", batch_size=2)
    partial_nodes, _ = sink.count()
    assert 0 < partial_nodes < N_NODES
    resumed = load_bundle(open_bundle(GOLDEN), sink, state, "t", batch_size=2)
    assert sink.count() == (N_NODES, N_RELS)
    assert resumed.unchanged == partial_nodes  # the committed batches were not sent again
    assert resumed.written == N_NODES + N_RELS - partial_nodes


def test_local_graph_persists_and_explore_prints_a_table(tmp_path: Path) -> None:
    db = tmp_path / "db"
    with LocalGraph(open_bundle(GOLDEN), db) as g:
        assert g.load_report is not None and g.load_report.written == N_NODES + N_RELS
    with LocalGraph(open_bundle(GOLDEN), db) as g:
        assert g.load_report is None  # reloaded from graph.rdb, nothing sent
        _c, rows = g.run("ring", merchant="m1")
        assert len(rows) == 4
    done = subprocess.run(
        [sys.executable, "-m", "fraudmine.cli", "explore", "--run", str(tmp_path), "--bundle", str(GOLDEN),
         "--db-dir", str(db), "ring", "--merchant", "m1"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["account", "hops", "via", "fraud_risk", "risk_band"]
    assert lines[2].split()[:2] == ["merchant:m2", "1"] and lines[-1] == "(4 rows)"


def test_unknown_query_and_bad_parameters_fail_clearly(loaded: FalkorSink) -> None:
    with pytest.raises(KeyError, match="known"):
        playbook.run_query(loaded, "everything", {})
    with pytest.raises(ValueError, match="'merchant' is required"):
        playbook.run_query(loaded, "ring", {})
    with pytest.raises(ValueError, match="limit"):
        playbook.run_query(loaded, "ring", {"merchant": "m1", "limit": "many"})
