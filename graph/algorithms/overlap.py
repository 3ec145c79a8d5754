"""Most neighbours shared with any one other node, on one side of a bipartite graph.

For buyers and the products they ordered: the most products a buyer shares with any single
other buyer (a brushing crew orders the same handful of target products). Exact by both
engines; the result lists only nodes that share at least one neighbour with another node.

=========  ======================================  ==============================================
engine     when (``auto``)                         how
=========  ======================================  ==============================================
local      edges ≤ ``local_max_edges``             collect; sparse ``A · Aᵀ`` in row blocks (scipy),
                                                   the diagonal dropped, the row maximum kept
spark      larger                                  self-join on the right-side node, pair counts,
                                                   maximum per node (shuffles Σ degree² rows)
=========  ======================================  ==============================================

The Spark self-join enumerated 73M ordered buyer pairs at scale m (about 200 s of the
``features`` stage); the local product is C code over the same pairs.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import numpy.typing as npt
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from scipy import sparse

from fraudmine.graph.algorithms.spark_common import checkpoint_with_counts, to_pandas

log = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]


def max_shared_local(left: IntArray, right: IntArray, n_left: int, block_rows: int = 50_000) -> IntArray:
    """Per left node ``0..n_left-1``: the most right nodes it shares with any one other left node.

    Args:
        left, right: the edges as integer codes (each ``(left, right)`` pair at most once).
        n_left: number of left nodes.
        block_rows: left nodes per sparse product block (bounds memory).

    Returns:
        ``int64`` array of length ``n_left`` (0 for nodes sharing nothing).
    """
    out = np.zeros(n_left, dtype=np.int64)
    if left.shape[0] == 0:
        return out
    n_right = int(right.max()) + 1
    a = sparse.csr_matrix(
        (np.ones(left.shape[0], dtype=np.int32), (left, right)), shape=(n_left, n_right), dtype=np.int32
    )
    at = a.T.tocsr()
    for start in range(0, n_left, block_rows):
        c = (a[start : start + block_rows] @ at).tocsr()
        rows = np.repeat(np.arange(c.shape[0]), np.diff(c.indptr))
        data = np.where(c.indices == rows + start, 0, c.data)  # a node shares everything with itself
        has = np.diff(c.indptr) > 0
        best = np.zeros(c.shape[0], dtype=np.int64)
        if has.any():
            best[has] = np.maximum.reduceat(data, c.indptr[:-1][has])
        out[start : start + c.shape[0]] = best
    return out


def max_shared_neighbours(
    edges: DataFrame,
    src: str,
    dst: str,
    out_col: str,
    engine: str = "auto",
    local_max_edges: int = 5_000_000,
) -> DataFrame:
    """``[src, out_col]``: for each ``src`` node, the most ``dst`` nodes shared with one other ``src`` node.

    Args:
        edges: distinct ``(src, dst)`` rows.
        src, dst: column names of the two sides.
        out_col: name of the result column (a long, ≥ 1; nodes sharing nothing are absent).
        engine: ``auto``, ``local`` or ``spark`` (``graphframes`` runs the Spark path: GraphFrames
            has no bipartite projection).
        local_max_edges: ``auto`` collects up to this many edges.
    """
    t0 = time.monotonic()
    edges = edges.select(src, dst)
    local = engine == "local"
    if engine == "auto":
        # materialised once, counted in the same job: collected below the limit, read by both sides
        # of the self-join above it
        edges, n = checkpoint_with_counts(edges)
        local = n["rows"] <= local_max_edges
    if local:
        pdf = to_pandas(edges)
        lc, lu = pd.factorize(pdf[src], sort=True)
        rc, _ = pd.factorize(pdf[dst], sort=True)
        best = max_shared_local(lc.astype(np.int64), rc.astype(np.int64), len(lu))
        keep = best > 0
        res = pd.DataFrame({src: np.asarray(lu)[keep], out_col: best[keep]})
        schema = T.StructType(
            [T.StructField(src, edges.schema[src].dataType, True), T.StructField(out_col, T.LongType(), False)]
        )
        df = edges.sparkSession.createDataFrame(res, schema=schema)
        log.info(
            "max shared neighbours: local engine, %s edges, %s nodes (%.1fs)",
            f"{len(pdf):,}",
            f"{int(keep.sum()):,}",
            time.monotonic() - t0,
        )
        return df
    other = edges.select(F.col(src).alias("_o"), F.col(dst))
    return (
        edges.join(other, dst)
        .where(F.col("_o") != F.col(src))
        .groupBy(src, "_o")
        .agg(F.count(F.lit(1)).alias("_shared"))
        .groupBy(src)
        .agg(F.max("_shared").alias(out_col))
    )
