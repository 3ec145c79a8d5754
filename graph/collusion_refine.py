"""Community refinement of the collusion graph: what happens after Leiden / label propagation.

:func:`fraudmine.graph.collusion.collusion_clusters` finds communities on the strong seller links, then
:func:`refine_communities` refines them, in this order: sellers outside every community whose weak links
form a dense core become communities of their own (weak cores); communities densely linked across one
another merge; creators and sellers join the community they promote a large share of (satellites), that
they promote *and* share identifiers with (identified), to whose members their weak links sum high enough
(partial), or whose pooled buyers they share surprisingly often (pooled).  Each attachment moves sellers
and is counted per cluster for the evidence.  The module docstring of :mod:`fraudmine.graph.collusion`
says why each step needs two kinds of evidence.

The steps are operations of the engine's :class:`~fraudmine.graph.algorithms.community_ops.CommunityOps`
(:meth:`~fraudmine.graph.algorithms.engine.GraphEngine.community_ops`): on the local engine they run in
pandas on the driver after one collect per input, on the Spark engines as DataFrame joins; this module does
not know which.
"""

from __future__ import annotations

from pyspark.sql import DataFrame

from fraudmine.graph import channels as ch
from fraudmine.graph import schemas as S
from fraudmine.graph.algorithms.community_ops import COUNTS_DDL, MEMBERS_DDL
from fraudmine.graph.algorithms.engine import GraphEngine
from fraudmine.graph_config import CollusionConfig

WEAK_TAG = "weak:"
"""Prefix of a weak core's smallest member in its cluster id (a weak core's id cannot meet a Leiden one's)."""


def refine_communities(
    core: DataFrame,
    scored: DataFrame,
    edges: DataFrame,
    identity_links: DataFrame,
    engine: GraphEngine,
    cfg: CollusionConfig,
) -> tuple[DataFrame, dict[str, DataFrame]]:
    """Weak cores, dense merges and the attachments, on the engine's community operations.

    Args:
        core: ``[node_id, cluster_id]`` from the community detection.
        scored: ``[src, dst, weight, ...]`` combined seller links of any strength above the lowest floor.
        edges: typed edges as of the date (promotion and buyer memberships).
        identity_links: ``[src, dst, weight, ...]`` identity links (shared non-hub identifiers).
        engine: the engine chosen for the collusion graph.
        cfg: the ``clusters.collusion`` config section.

    Returns:
        ``(members [node_id, cluster_id], {evidence key: [cluster_id, count]})`` where each count is the
        number of sellers a step moved into the cluster (weak-core members counted in the merged clusters).
    """
    ops = engine.community_ops(scored.sparkSession)
    members = ops.table(core, reused=True)
    weak = ops.table(scored.select(S.SRC, S.DST, S.WEIGHT))
    counts = {}
    size = cfg.min_size
    if cfg.weak_min_degree > 0:
        wc = ops.core_communities(members, weak, size, cfg.weak_link, cfg.weak_min_degree, "collusion", WEAK_TAG)
        members, _ = ops.adopt(members, wc)
    if cfg.merge_min_density > 0:  # after the weak cores: a ring's weakly tied part can sit beside its core
        members = ops.merge_dense(members, weak, size, cfg.weak_link, cfg.merge_min_density)
    if cfg.weak_min_degree > 0:  # counted in the merged communities
        counts["weak_core_members"] = ops.count_in(members, wc)
    promoters = ops.table(ch.promotion_memberships(edges), reused=True)
    sat = ops.attach_by_share(members, promoters, size, cfg.attach_min_share, cfg.attach_min_links)
    members, counts["attached_promoters"] = ops.adopt(members, sat)
    if cfg.identified_min_members > 0:
        ids_ = ops.table(identity_links.select(S.SRC, S.DST, S.WEIGHT))
        ident = ops.attach_by_two_ties(
            members, promoters, ids_, size, cfg.identified_min_promoted, cfg.identified_min_members
        )
        members, counts["attached_identified"] = ops.adopt(members, ident)
    if cfg.partial_min_score > 0:
        part = ops.attach_by_link_sum(members, weak, size, cfg.partial_min_score, cfg.partial_min_links)
        members, counts["attached_partial"] = ops.adopt(members, part)
    if cfg.pooled_min_surprise > 0:
        pooled = ops.attach_by_pool_surprise(
            members,
            ops.table(ch.buyer_memberships(edges)),
            weak,
            size,
            cfg.max_pool_degree,
            cfg.min_shared,
            cfg.pooled_min_surprise,
            cfg.pooled_min_link,
        )
        members, counts["attached_pooled"] = ops.adopt(members, pooled)
    return ops.frame(members, MEMBERS_DDL), {k: ops.frame(v, COUNTS_DDL) for k, v in counts.items()}
