"""Run every cluster detector on the typed graph as of a date.

``mine_clusters`` is the pure transform behind the ``clusters`` stage: typed nodes,
events and report attributes in, the four cluster tables, their members and the
per-entity feature table out.  Everything is computed from the graph *as of*
``as_of`` (events strictly before it), so calling it at the training cut-off gives
time-safe training features.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from fraudmine.graph import schemas as S
from fraudmine.graph.algorithms.engine import GraphEngine, choose_engine
from fraudmine.graph.algorithms.spark_common import checkpoint_with_counts
from fraudmine.graph.asof import edges_as_of, nodes_as_of
from fraudmine.graph.cluster_features import entity_features
from fraudmine.graph.clusters import CLUSTER_ID, CLUSTER_KINDS, member_rows
from fraudmine.graph.collusion import collusion_clusters
from fraudmine.graph.dense import brushing_blocks
from fraudmine.graph.identity import account_identifiers, clusters_from_links, identity_links, prune_hubs
from fraudmine.graph.reporters import reporter_credibility, reporter_rings
from fraudmine.graph_config import ClustersConfig

log = logging.getLogger(__name__)


@dataclass
class MiningResult:
    """Outputs of :func:`mine_clusters`.

    Attributes:
        clusters: cluster rows (:data:`~fraudmine.graph.clusters.CLUSTERS_SCHEMA`) by kind.
        members: member rows (:data:`~fraudmine.graph.clusters.MEMBERS_SCHEMA`) of every kind.
        features: per-entity features (:func:`~fraudmine.graph.cluster_features.entity_features_schema` of the kinds).
        engines: engine used per step.
        seconds: wall time per step.
    """

    clusters: dict[str, DataFrame]
    members: DataFrame
    features: DataFrame
    engines: dict[str, str]
    seconds: dict[str, float]


def _engine(spark: SparkSession, n_edges: int, cfg: ClustersConfig) -> GraphEngine:
    e = cfg.engine
    return choose_engine(spark, n_edges, e.engine, e.local_max_edges, e.checkpoint_interval)


def mine_clusters(
    nodes: DataFrame,
    events: DataFrame,
    reports: DataFrame,
    labels: DataFrame,
    as_of: datetime,
    cfg: ClustersConfig,
    duplicate_pairs: DataFrame | None = None,
    kinds: Sequence[str] = CLUSTER_KINDS,
) -> MiningResult:
    """Identity clusters, collusion communities, brushing blocks, reporter rings and entity features.

    ``kinds`` restricts the mining to some detectors (in :data:`~fraudmine.graph.clusters.CLUSTER_KINDS`):
    the result then has only their clusters and members, and the entity features only their columns
    (:func:`~fraudmine.graph.cluster_features.entity_features_schema`); identity always runs (the collusion
    graph is built on its links) and is always in the result.  The ``clusters`` stage mines
    identity and collusion alone at the training cut-off, the only columns the training features read.

    Args:
        nodes: typed nodes (graph stage output).
        events: typed events (graph stage output); only those before ``as_of`` are used.
        reports: report node attributes (graph stage output).
        labels: clean ``labels`` table (out-of-fold member counts only).
        as_of: cut-off instant.
        cfg: the ``clusters`` config section.
        duplicate_pairs: optional near-duplicate product pairs ``[src, dst(, score)]``.
        kinds: the detectors to run (default: all four).

    Raises:
        ValueError: an unknown kind (naming the known ones).
    """
    unknown = [k for k in kinds if k not in CLUSTER_KINDS]
    if unknown:
        raise ValueError(f"mine_clusters: unknown cluster kind(s) {unknown}; kinds are {list(CLUSTER_KINDS)}")
    secs: dict[str, float] = {}
    engines: dict[str, str] = {}
    t0 = time.monotonic()
    edges = edges_as_of(events, as_of).localCheckpoint(eager=True)
    nodes = nodes_as_of(nodes, as_of)
    ic = cfg.identity
    ai = account_identifiers(edges, ic.account_types)
    kept, _ = prune_hubs(ai, ic.hub_max_degree)
    # the link counts the engine choice needs are observed while the links materialise (no count jobs)
    strong = F.col(S.WEIGHT) >= F.lit(ic.min_link_weight)
    all_links, n_links = checkpoint_with_counts(identity_links(kept, ic.type_weights), {"strong": F.count_if(strong)})
    id_links = all_links.where(strong)
    spark = edges.sparkSession
    eng = _engine(spark, n_links["strong"], cfg)
    engines["identity"] = eng.name
    ident, _ = clusters_from_links(id_links, kept, nodes, eng)
    ident, n = checkpoint_with_counts(ident)
    secs["identity"] = time.monotonic() - t0
    log.info("identity: %d clusters (%.1fs, engine %s)", n["rows"], secs["identity"], eng.name)

    clusters = {"identity": ident}
    roles: dict[str, DataFrame] = {}
    cred = None
    if "collusion" in kinds:
        t0 = time.monotonic()
        # the collusion graph has at most this many links plus pool links
        coll_engine = _engine(spark, n_links["rows"], cfg)
        engines["collusion"] = coll_engine.name
        coll, _, _ = collusion_clusters(edges, nodes, all_links, coll_engine, cfg.collusion, duplicate_pairs)
        clusters["collusion"], n = checkpoint_with_counts(coll)
        secs["collusion"] = time.monotonic() - t0
        log.info("collusion: %d clusters (%.1fs)", n["rows"], secs["collusion"])

    if "brushing" in kinds:
        t0 = time.monotonic()
        brush, roles["brushing"] = brushing_blocks(edges, nodes, cfg.brushing, as_of)
        clusters["brushing"], n = checkpoint_with_counts(brush)
        secs["brushing"] = time.monotonic() - t0
        log.info("brushing: %d blocks (%.1fs)", n["rows"], secs["brushing"])

    if "reporter_rings" in kinds:
        t0 = time.monotonic()
        rc = cfg.reporter_rings
        cred = reporter_credibility(
            edges, reports, as_of, rc.credibility_prior, rc.credibility_strength
        ).localCheckpoint(eager=True)
        rings, roles["reporter_rings"] = reporter_rings(
            edges,
            nodes,
            cred,
            rc.window_days,
            rc.min_reporters,
            rc.burst_share,
            rc.max_ring_credibility,
            rc.max_p_value,
            min_secondary_reporters=rc.min_secondary_reporters,
            as_of=as_of if rc.observed_period else None,
            scan_correction=rc.scan_correction,
        )
        clusters["reporter_rings"], n = checkpoint_with_counts(rings)
        secs["reporter_rings"] = time.monotonic() - t0
        log.info("reporter rings: %d rings (%.1fs)", n["rows"], secs["reporter_rings"])

    members = {k: member_rows(k, v, roles.get(k)) for k, v in clusters.items()}
    all_members = members["identity"]
    for k in list(clusters)[1:]:
        all_members = all_members.unionByName(members[k])
    feats = entity_features(
        clusters, {k: m.select(CLUSTER_ID, S.NODE_ID) for k, m in members.items()}, cred, labels, as_of, cfg.label_folds
    )
    return MiningResult(clusters, all_members, feats, engines, secs)
