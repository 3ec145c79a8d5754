"""Stage ``features``: time-safe features per entity type, for training (at D - window) and scoring (at D).

Writes ``features/merchant_score`` and ``features/merchant_train`` (labelled), ``features/creator_score``
and ``features/creator_train`` (labelled), ``features/product_score`` and ``features/product_train`` (listings
with a moderator verdict before D, the labels of :func:`fraudmine.decisions.outcomes.outcome_labels`), and
``features/{buyer,reporter}_score`` (no labels exist for those types).  Graph inputs of the same dates come
from the ``clusters`` stage (``entity_features[_train]``, brushing members) and the ``duplicates`` stage when
they ran.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path

from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from fraudmine.contracts.raw import RAW_TABLES
from fraudmine.decisions.outcomes import labels_with_outcomes
from fraudmine.features.buyer import buyer_features, linked_buyers
from fraudmine.features.creator import creator_features
from fraudmine.features.graph_rank import pagerank_features
from fraudmine.features.labels import binary_targets, latest_labels
from fraudmine.features.merchant import merchant_features
from fraudmine.features.product import product_features
from fraudmine.features.reporter import reporter_features
from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.spark import run_concurrently

OUTPUT = "features"
log = logging.getLogger(__name__)


def _optional(ctx: StageContext, *parts: str) -> DataFrame | None:
    return ctx.read(*parts) if ctx.path(*parts).exists() else None


def _write(df: DataFrame, staging: Path, name: str, key: str, when: str) -> dict[str, int]:
    """Write one feature table, counting rows (and label positives) during the write."""
    t0 = time.monotonic()
    obs = Observation(name)
    aggs = [F.count(F.lit(1)).alias("n")]
    if "y_fraud" in df.columns:
        aggs += [F.count_if(F.col("y_fraud") == 1).alias("fraud"), F.count_if(F.col("y_low_quality") == 1).alias("lq")]
    df.observe(obs, *aggs).orderBy(key).write.parquet(str(staging / name))
    got = {k: int(v) for k, v in obs.get.items()}
    log.info("features: %s as of %s, %s rows (%.1fs)", name, when, f"{got['n']:,}", time.monotonic() - t0)
    return {name: got["n"]} | {f"{name}.{k}_positives": v for k, v in got.items() if k != "n"}


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Compute and write every entity type's feature tables (see the module docstring)."""
    t = {s.name: ctx.read("validate", "clean", s.name) for s in RAW_TABLES}
    hub = ctx.config.graph.hub_identifier_min_degree
    d, dt = ctx.as_of, ctx.train_as_of
    ef, ef_train = _optional(ctx, "clusters", "entity_features"), _optional(ctx, "clusters", "entity_features_train")
    labels = labels_with_outcomes(t["labels"], t.get("moderation_outcomes"), d)
    rows: dict[str, int] = {}

    def targets(entity_type: str, key: str) -> DataFrame:
        return binary_targets(latest_labels(labels, d, entity_type)).withColumnRenamed("entity_id", key)

    def labelled(x: DataFrame, entity_type: str, key: str) -> DataFrame:
        return x.join(targets(entity_type, key), key)

    members = _optional(ctx, "clusters", "members")
    brushing = None
    if members is not None and ctx.path("clusters", "brushing").exists():
        risk = ctx.read("clusters", "brushing").select("cluster_id", "risk")
        brushing = members.where(F.col("cluster_type") == "brushing").join(risk, "cluster_id")
    dup = _optional(ctx, "duplicates", "members"), _optional(ctx, "duplicates", "brand_violations")
    score_date, train_date = str(d.date()), str(dt.date())
    ranks, ranks_train = None, None
    if ctx.path("graph", "events").exists():
        events = ctx.read("graph", "events")
        cc = ctx.config.clusters

        def rank(when: datetime) -> DataFrame:
            t0 = time.monotonic()
            out = pagerank_features(events, labels, when, hub, cc.label_folds, engine=cc.engine)
            out = out.localCheckpoint(eager=True)
            log.info(
                "features: PageRank as of %s, %s accounts (%.1fs)",
                when.date(),
                f"{out.count():,}",
                time.monotonic() - t0,
            )
            return out

        ranks, ranks_train = rank(d), rank(dt)

    def merchant_score() -> dict[str, int]:
        m_score = merchant_features(t, d, hub, _optional(ctx, "duplicates", "merchant_features"), ranks=ranks)
        return _write(m_score, staging, "merchant_score", "merchant_id", score_date)

    def merchant_train() -> dict[str, int]:
        # the training frame keeps labelled merchants only: compute only their rows (same values)
        m_labelled = targets("merchant", "merchant_id").select("merchant_id")
        dup_train = _optional(ctx, "duplicates", "merchant_features_train")
        m_train = merchant_features(t, dt, hub, dup_train, m_labelled, ranks=ranks_train)
        return _write(
            labelled(m_train, "merchant", "merchant_id"), staging, "merchant_train", "merchant_id", train_date
        )

    def creator_score() -> dict[str, int]:
        return _write(creator_features(t, d, hub, ef), staging, "creator_score", "creator_id", score_date)

    def creator_train() -> dict[str, int]:
        c_train = labelled(creator_features(t, dt, hub, ef_train), "creator", "creator_id")
        return _write(c_train, staging, "creator_train", "creator_id", train_date)

    def product_score() -> dict[str, int]:
        linked = linked_buyers(t["identities"], d, hub)
        products = product_features(t, d, linked, *dup, brushing)
        return _write(products, staging, "product_score", "product_id", score_date)

    def product_train() -> dict[str, int]:
        # listings with a moderator verdict before D, as they were at D - window (see product_features for what
        # of the duplicates / brushing evidence is as of D); no verdicts, no rows: the listing rule scores
        linked = linked_buyers(t["identities"], dt, hub)
        p_train = labelled(product_features(t, dt, linked, *dup, brushing), "product", "product_id")
        return _write(p_train, staging, "product_train", "product_id", train_date)

    def buyer_score() -> dict[str, int]:
        buyers = buyer_features(t, d, hub, ef, engine=ctx.config.clusters.engine)
        return _write(buyers, staging, "buyer_score", "buyer_id", score_date)

    def reporter_score() -> dict[str, int]:
        return _write(reporter_features(t, d, ef), staging, "reporter_score", "reporter_id", score_date)

    # independent tables: on a small input two are built at once (the driver's planning of one
    # overlaps the other's jobs); one at a time on a large one (each needs the memory to itself)
    tasks = [
        merchant_score,
        merchant_train,
        creator_score,
        creator_train,
        product_score,
        product_train,
        buyer_score,
        reporter_score,
    ]
    for part in run_concurrently(ctx.spark, tasks, ctx.workers):
        rows |= part
    return StageResult(rows_out=rows)
