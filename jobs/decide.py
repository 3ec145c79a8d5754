"""Stage ``decide``: moderation-queue decisions from seller scores and the policy YAML."""

from __future__ import annotations

import json
from pathlib import Path

from fraudmine.decisions import decide, load_policy
from fraudmine.jobs.context import StageContext, StageResult

OUTPUT = "decisions"


def run(ctx: StageContext, staging: Path) -> StageResult:
    """Write ``decisions/`` (schema ``DECISIONS_DDL``), one row per queue item before D."""
    policy_path = Path(ctx.config.policy_path)
    if not policy_path.is_absolute():
        policy_path = ctx.conf_root / policy_path
    policy = load_policy(policy_path)
    model_version = str(json.loads(ctx.path("model", "model.json").read_text())["model_version"])
    queue = ctx.read("validate", "clean", "moderation_queue")
    out = decide(
        queue,
        ctx.read("validate", "clean", "products"),
        ctx.read("scores"),
        policy,
        ctx.as_of,
        ctx.run_id,
        model_version,
    )
    out.orderBy("item_id").write.mode("overwrite").parquet(str(staging))
    written = ctx.spark.read.parquet(str(staging))
    actions = {f"action.{r['action']}": int(r["count"]) for r in written.groupBy("action").count().collect()}
    return StageResult(
        rows_in={"moderation_queue": queue.count()},
        rows_out={"decisions": written.count(), **actions},
        versions={"policy": policy.version, "model": model_version},
    )
