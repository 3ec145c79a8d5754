"""Label propagation on Spark DataFrames with a semi-synchronous schedule.

Raghavan, Albert & Kumara 2007 (label propagation); Cordasco & Gargano 2010
(semi-synchronous updates).  A fully synchronous schedule oscillates on
bipartite graphs (two sides swap labels forever, e.g. merchant-identifier), so
each step updates only a pseudo-random half of the nodes (a hash of node, step
and seed): neighbours updating in the same step are then the exception, the
oscillation is broken, and every step is still one join + one aggregation.

Each active node takes the label with the largest summed edge weight among its
neighbours; it keeps its own label when that label is among the best (which
stops flip-flopping between equal labels); other ties are broken by a seeded hash.
The run stops when no node would take another label (a stable labelling: checked
over every node, not only the active half) or after ``max_iter`` steps.
"""

from __future__ import annotations

import logging

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from fraudmine.graph.algorithms.spark_common import (
    ID,
    NODE,
    cut_lineage,
    exact_sum,
    indexed_edges,
    node_index,
    weighted_edges,
)

log = logging.getLogger(__name__)

COMMUNITY = "community"


def label_propagation(
    edges: DataFrame,
    nodes: DataFrame | None = None,
    max_iter: int = 30,
    seed: int = 0,
    checkpoint_interval: int = 4,
) -> tuple[DataFrame, int, bool]:
    """Communities by semi-synchronous weighted label propagation.

    Args:
        edges: ``[src, dst(, weight)]`` undirected edges over string node names.
        nodes: optional ``[node]`` frame adding isolated nodes (their own community).
        max_iter: maximum number of (half-)steps.
        seed: seed of the activation and tie-break hashes (same seed, same result).
        checkpoint_interval: reliable checkpoint every this many steps.

    Returns:
        ``(frame [node, community], steps, converged)``; ``community`` is the smallest
        node name of the community.
    """
    e0 = weighted_edges(edges)
    index = node_index(e0, nodes).localCheckpoint(eager=True)
    e = indexed_edges(e0, index)
    adj = e.select("a", "b", "w").union(e.select(F.col("b").alias("a"), F.col("a").alias("b"), "w"))
    adj = adj.localCheckpoint(eager=True)
    labels = index.select(F.col(ID).alias("a"), F.col(ID).alias("label"))
    steps, converged = 0, False
    while steps < max_iter:
        steps += 1
        msgs = adj.join(labels.select(F.col("a").alias("b"), F.col("label").alias("nl")), "b")
        score = msgs.groupBy("a", "nl").agg(exact_sum("w").alias("s"))
        cur = labels.select("a", F.col("label").alias("cur"))
        score = score.join(cur, "a").withColumn("own", (F.col("nl") == F.col("cur")).cast("int"))
        tie = F.xxhash64(F.col("a"), F.col("nl"), F.lit(steps), F.lit(seed))
        order = Window.partitionBy("a").orderBy(F.col("s").desc(), F.col("own").desc(), tie)
        best = score.withColumn("_r", F.row_number().over(order)).where(F.col("_r") == 1).select("a", "nl")
        active = F.pmod(F.xxhash64(F.col("a"), F.lit(steps), F.lit(seed)), F.lit(2)) == 0
        wants = F.col("nl").isNotNull() & (F.col("nl") != F.col("label"))
        new = labels.join(best, "a", "left").select(
            "a",
            F.when(active & wants, F.col("nl")).otherwise(F.col("label")).alias("label"),
            wants.alias("_wants"),
        )
        new = cut_lineage(new, steps, checkpoint_interval)
        # stable = no node, active or not, would take another label: counting only the nodes that
        # changed stops early when the ones that still want to move happened to sit out two steps
        unstable = new.where(F.col("_wants")).count()
        labels = new.select("a", "label")
        log.info("label propagation step %d: %d nodes not yet at a best label", steps, unstable)
        if unstable == 0:
            converged = True
            break
    # community name = smallest member name (stable ids across engines and runs)
    named = labels.join(index.select(F.col(ID).alias("a"), NODE), "a")
    out = named.withColumn(COMMUNITY, F.min(NODE).over(Window.partitionBy("label"))).select(NODE, COMMUNITY)
    return out, steps, converged
