"""Per-community table work after a community detection, behind one interface with one implementation per engine.

After Leiden or label propagation, community refinement (:mod:`fraudmine.graph.collusion_refine`) is a
chain of small joins and aggregations over a membership table and a few edge tables: k-core communities of
the nodes left outside, merges of densely linked communities, attachments of outside nodes.  On a small
graph every one of those Spark joins is one or more adaptive Spark jobs of a few hundred milliseconds each;
on the driver (pandas + igraph, the local engine) the whole chain costs one collect per input and one
``createDataFrame`` per output.  :meth:`~fraudmine.graph.algorithms.engine.GraphEngine.community_ops`
gives the implementation of the engine that was chosen for the graph, so the algorithm code does not know
which one it runs on.

Tables are opaque to the caller (a Spark ``DataFrame`` or a pandas frame): :meth:`CommunityOps.table` makes
one from a Spark frame, :meth:`CommunityOps.frame` turns one back.  Shapes (column names are the constants
below):

* members ``[node_id, cluster_id]``, one row per node;
* edges ``[src, dst, weight]``, undirected, at most one row per pair;
* memberships ``[pool, seller]`` (e.g. creator → promoted merchant; duplicates allowed);
* attachments ``[node_id, cluster_id, k, ...]``: one community per moving node;
* counts ``[cluster_id, count]``.

Both implementations give equal rows (``tests/test_community_ops.py`` checks them against each other on
random graphs); sums of weights are :func:`~.spark_common.exact_sum` sums on both.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from typing import Any, Generic, TypeVar

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

NODE_ID, CLUSTER_ID, POOL, SELLER = "node_id", "cluster_id", "pool", "seller"
"""Column names of the member, attachment and membership tables."""

MEMBERS_DDL = f"{NODE_ID} string, {CLUSTER_ID} string"
COUNTS_DDL = f"{CLUSTER_ID} string, count long"

T = TypeVar("T")


def cluster_id(kind: str, smallest_member: str) -> str:
    """Stable cluster id ``<kind>-<12 hex of sha1(smallest member)>`` (same members → same id across runs)."""
    return f"{kind}-{hashlib.sha1(smallest_member.encode()).hexdigest()[:12]}"


def cluster_id_col(kind: str, smallest_member: Column) -> Column:
    """Spark twin of :func:`cluster_id`."""
    return F.concat(F.lit(f"{kind}-"), F.substring(F.sha1(smallest_member), 1, 12))


def ddl_columns(ddl: str) -> list[tuple[str, str]]:
    """``[(name, type)]`` of a flat DDL string such as :data:`MEMBERS_DDL`."""
    return [(part.split()[0], part.split()[1]) for part in ddl.split(",")]


class CommunityOps(ABC, Generic[T]):
    """Refinement operations over membership and edge tables of type ``T``; see the module docstring for shapes.

    Every ``min_size`` argument means: communities with fewer members do not count (they neither receive
    nodes nor keep their members from moving).
    """

    name: str = "abstract"

    @abstractmethod
    def table(self, df: DataFrame, reused: bool = False) -> T:
        """This implementation's table of a Spark frame (local: one collect).

        ``reused``: several steps read the table (a Spark implementation materialises it once).
        """

    @abstractmethod
    def frame(self, t: T, ddl: str) -> DataFrame:
        """The Spark frame of a table, with the columns and types of ``ddl`` (e.g. :data:`MEMBERS_DDL`)."""

    @abstractmethod
    def core_communities(
        self, members: T, edges: T, min_size: int, min_link: float, min_degree: int, kind: str, tag: str
    ) -> T:
        """Communities of the ``min_degree``-core of the nodes outside every community.

        The edges of at least ``min_link`` between nodes outside every community of ``min_size`` or more are
        peeled to their ``min_degree``-core (nodes of lower degree removed until none is left); each connected
        component of the core with ``min_size`` nodes or more is a community with id
        ``cluster_id(kind, tag + smallest member)``.

        Returns:
            members ``[node_id, cluster_id]`` of the new communities.
        """

    @abstractmethod
    def merge_dense(self, members: T, edges: T, min_size: int, min_link: float, min_density: float) -> T:
        """``members`` with communities merged whose members are densely linked across them.

        Communities ``A`` and ``B`` (``min_size`` or more each) merge when their edges of at least ``min_link``
        number at least ``min_density · |A| · |B|``; merges are transitive and keep the smallest cluster id.
        """

    @abstractmethod
    def attach_by_share(self, members: T, memberships: T, min_size: int, min_share: float, min_links: int) -> T:
        """Pools outside every community that reach at least ``min_share`` and ``min_links`` of one's members.

        Returns:
            ``[node_id, cluster_id, k]`` (``k`` members reached; most members, then smallest id, wins).
        """

    @abstractmethod
    def attach_by_two_ties(
        self, members: T, memberships: T, edges: T, min_size: int, min_pooled: int, min_linked: int
    ) -> T:
        """Nodes outside every community that pool ``min_pooled`` of one's members *and* link to ``min_linked``.

        ``edges`` of positive weight count as links.

        Returns:
            ``[node_id, cluster_id, k]`` (``k`` members linked; most linked, then most pooled, then smallest id).
        """

    @abstractmethod
    def attach_by_link_sum(self, members: T, edges: T, min_size: int, min_score: float, min_links: int) -> T:
        """Nodes outside every community whose edges to ``min_links`` of its members sum to ``min_score``.

        Returns:
            ``[node_id, cluster_id, k, score]`` (highest score, then smallest id, wins).
        """

    @abstractmethod
    def attach_by_pool_surprise(
        self,
        members: T,
        memberships: T,
        edges: T,
        min_size: int,
        max_pool_degree: int,
        min_shared: int,
        min_surprise: float,
        min_link: float,
    ) -> T:
        """Sellers outside every community sharing a surprising number of the community's pooled members.

        Pools linked to more than ``max_pool_degree`` sellers are skipped.  ``k`` = pools of the seller that
        belong to any member of the community; under the configuration-model null it is about Poisson with
        mean ``λ = n_u · n_C · Σ_p d_p (d_p - 1) / (Σ_p d_p)²`` and ``surprise`` is the Chernoff tail in
        -log10.  A seller joins when ``k ≥ min_shared``, ``surprise ≥ min_surprise`` and one of its edges to a
        member weighs at least ``min_link``.

        Returns:
            ``[node_id, cluster_id, k, surprise]`` (highest surprise, then smallest id, wins).
        """

    @abstractmethod
    def adopt(self, members: T, attached: T) -> tuple[T, T]:
        """Move the ``attached`` nodes into their communities: ``(members, counts [cluster_id, count])``."""

    @abstractmethod
    def count_in(self, members: T, nodes: T) -> T:
        """``[cluster_id, count]``: how many of ``nodes`` (a table with ``node_id``) each community holds."""


Ops = CommunityOps[Any]
"""A :class:`CommunityOps` of whatever table type its engine uses."""
