"""Graph sinks: where upserts and playbook queries run (Neo4j over Bolt, FalkorDB).

A sink is a small port::

    engine: Engine
    ensure_schema(id_spaces)            constraints / indexes, idempotent
    write(cypher, rows) -> None         one write transaction with ``$rows`` (a list of maps)
    query(cypher, params) -> (columns, rows)
    close()

:class:`Neo4jSink` uses the official driver's managed transactions
(``session.execute_write``), which retry transient errors (deadlocks, leader
switches, lost connections) for up to ``max_retry_time_s``.  :class:`FalkorSink`
runs each statement as one FalkorDB query (atomic) and retries a dropped
connection.  Neither ever logs the password.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from fraudmine.analyst import dialect
from fraudmine.analyst.dialect import Engine

log = logging.getLogger(__name__)

Rows = list[dict[str, Any]]


class GraphSink(Protocol):
    """Port of a Cypher engine (see the module docstring for shapes)."""

    engine: Engine

    def ensure_schema(self, id_spaces: list[str]) -> None:
        """Create key constraints and indexes (idempotent)."""

    def write(self, cypher: str, rows: Rows) -> None:
        """Run ``cypher`` with parameter ``rows`` in one write transaction."""

    def query(self, cypher: str, params: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
        """Run a read query; return its column names and rows."""

    def close(self) -> None:
        """Release connections."""


class Neo4jSink:
    """Neo4j 5 over Bolt with the official ``neo4j`` driver.

    Args:
        uri: ``bolt://``/``neo4j://`` URI (no credentials in it).
        user: user name.
        password: the password (kept only by the driver).
        database: database name.
        max_retry_time_s: retry budget of managed transactions.
    """

    engine = Engine.NEO4J

    def __init__(self, uri: str, user: str, password: str, database: str, max_retry_time_s: float = 30.0) -> None:
        from neo4j import GraphDatabase

        self.database = database
        self._driver = GraphDatabase.driver(uri, auth=(user, password), max_transaction_retry_time=max_retry_time_s)
        self._driver.verify_connectivity()
        log.info("connected to Neo4j at %s, database %s, as %s", uri, database, user)

    def ensure_schema(self, id_spaces: list[str]) -> None:
        """Key constraints per ID space and the secondary indexes (``IF NOT EXISTS``)."""
        for stmt in dialect.neo4j_schema(id_spaces):
            self._driver.execute_query(stmt, database_=self.database)

    def write(self, cypher: str, rows: Rows) -> None:
        """One managed write transaction (retried on transient errors by the driver)."""
        with self._driver.session(database=self.database) as session:
            session.execute_write(lambda tx: tx.run(cypher, rows=rows).consume())

    def query(self, cypher: str, params: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
        """Read query in a managed read transaction."""
        from neo4j import RoutingControl

        records, _summary, keys = self._driver.execute_query(
            cypher, parameters_=params, database_=self.database, routing_=RoutingControl.READ
        )
        return list(keys), [list(r.values()) for r in records]

    def close(self) -> None:
        """Close the driver."""
        self._driver.close()


class FalkorSink:
    """A FalkorDB graph (the embedded server of :mod:`fraudmine.analyst.falkor`, or any FalkorDB).

    Args:
        host: server host (loopback for the embedded one).
        port: server port.
        graph: graph key.
        retries: attempts per statement on a dropped connection.
    """

    engine = Engine.FALKORDB

    def __init__(self, host: str, port: int, graph: str, retries: int = 3) -> None:
        from falkordb import FalkorDB

        self._db = FalkorDB(host=host, port=port)
        self.graph_name = graph
        self._graph = self._db.select_graph(graph)
        self._retries = retries

    def _run(self, cypher: str, params: dict[str, Any]) -> Any:
        from redis.exceptions import ConnectionError as RedisConnectionError

        for attempt in range(1, self._retries + 1):
            try:
                return self._graph.query(cypher, params)
            except RedisConnectionError:
                if attempt == self._retries:
                    raise
                log.warning("FalkorDB connection lost, retrying (%d/%d)", attempt, self._retries)
                time.sleep(0.2 * attempt)
        raise AssertionError("unreachable")

    def ensure_schema(self, id_spaces: list[str]) -> None:
        """Exact-match indexes on every key and secondary property, then unique constraints on keys."""
        from redis.exceptions import ResponseError

        for stmt in dialect.falkordb_indexes(id_spaces):
            try:
                self._graph.query(stmt)
            except ResponseError as exc:
                if "already indexed" not in str(exc):
                    raise
        for space in id_spaces:
            try:
                self._db.connection.execute_command(*dialect.falkordb_unique_constraint(self.graph_name, space))
            except ResponseError as exc:
                if "already exists" not in str(exc).lower():
                    raise

    def write(self, cypher: str, rows: Rows) -> None:
        """One FalkorDB query (atomic) with ``$rows``."""
        self._run(cypher, {"rows": rows})

    def query(self, cypher: str, params: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
        """Run a query; column names from the result header."""
        res = self._run(cypher, params)
        return [str(h[1]) for h in res.header], [list(r) for r in res.result_set]

    def count(self) -> tuple[int, int]:
        """``(nodes, relationships)`` in the graph."""
        n = self._graph.query("MATCH (n) RETURN count(n)").result_set[0][0]
        r = self._graph.query("MATCH ()-[r]->() RETURN count(r)").result_set[0][0]
        return int(n), int(r)

    def close(self) -> None:
        """Close the client connection."""
        self._db.connection.close()
