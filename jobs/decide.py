"""Stage ``decide``: moderation decisions and their KPIs (``decisions/``, ``decisions/_kpis.json``)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from pyspark.sql import functions as F

from fraudmine.contracts.raw import RAW_TABLES
from fraudmine.decisions import DecisionInputs, decide, load_policy
from fraudmine.decisions.facts import CLUSTER_KINDS
from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.jobs.parquet import read_parquet

OUTPUT = "decisions"
KPIS = "_kpis.json"  # '_' prefix: Spark and pyarrow skip it when reading decisions/ as a table
log = logging.getLogger(__name__)


def _inputs(ctx: StageContext) -> DecisionInputs:
    tables = {
        s.name: ctx.read("validate", "clean", s.name)
        for s in RAW_TABLES
        if ctx.path("validate", "clean", s.name).exists()
    }
    clusters = {k: ctx.read("clusters", k) for k in CLUSTER_KINDS if ctx.path("clusters", k).exists()}
    if "duplicates" not in clusters and ctx.path("duplicates", "members").exists():
        # the duplicates stage's members, in the one-row-per-member cluster shape decisions read
        members = ctx.read("duplicates", "members")
        clusters["duplicates"] = members.select(
            "cluster_id", F.lit("product").alias("entity_type"), F.col("product_id").alias("entity_id")
        )
    bv = ctx.read("brand_violations") if ctx.path("brand_violations").exists() else None
    if bv is None and ctx.path("duplicates", "brand_violations").exists():
        bv = ctx.read("duplicates", "brand_violations").select("product_id", "evidence")
    return DecisionInputs(tables, ctx.read("scores"), clusters, bv)


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Write ``decisions/`` (schema ``DECISIONS_DDL``), one row per pending queue item, and its KPIs."""
    policy_path = Path(ctx.config.policy_path)
    if not policy_path.is_absolute():
        policy_path = ctx.conf_root / policy_path
    policy = load_policy(policy_path)
    model_version = str(json.loads(ctx.path("model", "model.json").read_text())["model_version"])
    inputs = _inputs(ctx)
    cfg = ctx.config.decisions
    result = decide(
        inputs, policy, cfg, ctx.as_of, ctx.run_id, model_version, ctx.config.graph.hub_identifier_min_degree
    )
    missing = sorted(k for k, v in result.available.items() if not v)
    log.info("decide: optional inputs missing: %s", ", ".join(missing) or "none")
    result.decisions.orderBy("item_id").write.mode("overwrite").parquet(str(staging))
    result.release()
    result.decisions = read_parquet(ctx.spark, staging)
    kpis = result.kpis(policy, cfg, inputs, ctx.as_of)
    kpis.update(run_id=ctx.run_id, as_of=ctx.as_of.isoformat(), model_version=model_version)
    (staging / KPIS).write_text(json.dumps(kpis, indent=2, sort_keys=True, default=str))
    return StageResult(
        rows_in={"moderation_queue": ctx.rows("validate", "clean", "moderation_queue")},
        rows_out={"decisions": kpis["items"], **{f"action.{a}": n for a, n in kpis["by_action"].items()}},
        versions={"policy": policy.version, "model": model_version},
    )
