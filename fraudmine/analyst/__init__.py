"""Analyst graph exploration: Neo4j bulk-import bundle, Bolt upserts, Cypher playbook, local FalkorDB.

Modules:

* ``model`` — the one allow-list: labels, relationship types and typed properties,
  derived from the edge-type registry (:mod:`fraudmine.contracts.ids`).
* ``frames`` / ``clusters`` — the run's tables as property-graph DataFrames (Spark).
* ``bundle`` — the ``neo4j-admin`` bulk-import bundle writer (Spark); ``headers``,
  ``scripts``, ``reader`` — its headers, text files and a Spark-free reader.
* ``dialect`` — every difference between Neo4j 5 and FalkorDB, in one place.
* ``playbook`` — the parameterised Cypher investigations.
* ``upsert`` / ``sinks`` — incremental, resumable upserts (Bolt for Neo4j, FalkorDB).
* ``falkor`` / ``local`` — the embedded FalkorDB server and the local analyst graph.
"""
