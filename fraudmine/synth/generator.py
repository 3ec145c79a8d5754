"""Public entry point: generate a synthetic marketplace with planted fraud and its ground truth."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from fraudmine.contracts.typologies import TYPOLOGIES
from fraudmine.synth import activity, blocks, orders, planting
from fraudmine.synth.entities import base_plan
from fraudmine.synth.labels import TruthRow, labels_table, truth_frames
from fraudmine.synth.scales import get_scale
from fraudmine.synth.scenario import load_scenario, scenario_yaml
from fraudmine.synth.typologies import plant_all
from fraudmine.synth.util import KEY_ENV, dataset_keys
from fraudmine.synth.writer import PartWriter

log = logging.getLogger(__name__)


def generate(scale: str, seed: int, out: Path, scenario_path: Path | None = None) -> dict[str, Any]:
    """Generate raw tables and ground truth under ``out``.

    Writes ``out/raw/<table>/part-NNNNN.parquet`` (exact contract schemas) and
    ``out/truth/`` (merchants.parquet, entities.parquet, summary.json,
    scenario.yaml).  Existing ``out/raw`` and ``out/truth`` folders are replaced.
    Output is a pure function of ``(scale, seed, scenario)`` and, when set,
    ``$FRAUDMINE_SYNTH_IDENTIFIER_KEY`` (the identifier hash key; by default one is
    drawn from the seed; it is never written anywhere).

    Args:
        scale: one of :data:`fraudmine.synth.SCALES` (``xs``, ``s``, ``m``, ``l``).
        seed: root random seed.
        out: output directory (created if missing).
        scenario_path: scenario YAML; ``None`` uses ``conf/scenarios/default.yaml``.

    Returns:
        The summary also written to ``truth/summary.json``: seed, scale, scenario,
        start/end dates, row counts per table, member counts per typology, and
        ``dataset_id`` (also written to ``raw/_dataset.json``).

    Raises:
        ValueError: unknown scale.
        fraudmine.synth.scenario.ScenarioError: invalid scenario file.
    """
    sc_obj = get_scale(scale)
    sc = load_scenario(scenario_path)
    out = Path(out)
    for sub in ("raw", "truth"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    (out / "truth").mkdir(parents=True)
    t0 = time.perf_counter()
    plan_ss, creators_ss, brands_ss, labels_ss, blocks_ss = np.random.SeedSequence(seed).spawn(5)
    plan_rng = np.random.default_rng(plan_ss)
    plan = base_plan(sc_obj, sc, plan_rng)
    plan.keys = dataset_keys(seed, os.environ.get(KEY_ENV))
    plant_all(plan, plan_rng)
    log.info(
        "generate plan: scale %s, %s merchants, %s creators, scenario %s (%.1fs)",
        scale,
        f"{plan.n_merchants:,}",
        f"{plan.n_creators:,}",
        sc.name,
        time.perf_counter() - t0,
    )

    writer = PartWriter(out / "raw")
    for name, table in activity.brands_chunk(plan, np.random.default_rng(brands_ss)).items():
        writer.write(name, [table])  # type: ignore[list-item]
    for name, table in activity.creators_chunk(plan, np.random.default_rng(creators_ss)).items():
        writer.write(name, [table])  # type: ignore[list-item]

    counters = blocks.Counters()
    truth_rows: list[TruthRow] = []
    step = sc_obj.block_merchants
    starts = list(range(0, plan.n_merchants, step))
    for k, (a, ss) in enumerate(zip(starts, blocks_ss.spawn(len(starts)), strict=True), start=1):
        tb = time.perf_counter()
        blk = blocks.Block(plan, a, min(a + step, plan.n_merchants), np.random.default_rng(ss), counters, seed)
        _fill_block(blk)
        for name, tables in blk.out.items():
            writer.write(name, tables)
        truth_rows.extend(blk.truth)
        rows = sum(t.num_rows for tables in blk.out.values() for t in tables)
        log.info(
            "generate block %d/%d: merchants %s..%s, %s rows (%.1fs)",
            k,
            len(starts),
            f"{a:,}",
            f"{blk.b - 1:,}",
            f"{rows:,}",
            time.perf_counter() - tb,
        )
    writer.write("labels", [labels_table(plan, np.random.default_rng(labels_ss))])
    writer.close()

    merchants, entities = truth_frames(plan, truth_rows)
    pq.write_table(pa.Table.from_pandas(merchants, preserve_index=False), out / "truth" / "merchants.parquet")
    pq.write_table(pa.Table.from_pandas(entities, preserve_index=False), out / "truth" / "entities.parquet")
    (out / "truth" / "scenario.yaml").write_text(scenario_yaml(sc), encoding="utf-8")
    end = sc.timeline.end_date.astimezone(UTC)
    per_typ = {
        t: {
            et: int(n)
            for et, n in entities.loc[entities["typology"] == t].groupby("entity_type")["entity_id"].nunique().items()
        }
        for t in TYPOLOGIES
    }
    summary: dict[str, Any] = {
        "seed": seed,
        "scale": scale,
        "scenario": sc.name,
        "start_date": _iso(end - timedelta(days=sc.timeline.history_days)),
        "end_date": _iso(end),
        "tables": dict(writer.rows),
        "typologies": per_typ,
        "fraud_merchants": int(merchants["is_fraud"].sum()),
        "low_quality_merchants": int(merchants["is_low_quality"].sum()),
        "camouflaged_merchants": int(merchants["camouflaged"].sum()),
    }
    # Identifies this dataset: evaluate refuses truth whose id differs from the run's input.
    summary["dataset_id"] = "synth-" + hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()[:16]
    (out / "raw" / "_dataset.json").write_text(json.dumps({"dataset_id": summary["dataset_id"]}) + "\n")
    (out / "truth" / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    log.info(
        "generate done: %s rows in %d tables (%.1fs)",
        f"{sum(writer.rows.values()):,}",
        len(writer.rows),
        time.perf_counter() - t0,
    )
    return summary


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _fill_block(blk: blocks.Block) -> None:
    """Produce every table's rows of one merchant block, in a fixed order (determinism)."""
    blocks.merchants_rows(blk)
    blocks.product_frame(blk)
    listing = blocks.base_listings(blk)
    planting.duplicate_listings(blk, listing)
    planting.counterfeit_listings(blk, listing)
    planting.relistings(blk, listing)
    blocks.emit_products(blk, listing)
    orders.background_orders(blk)
    planting.brushing(blk)
    blocks.background_reports(blk)
    planting.malicious_reporting(blk)
    activity.identity_rows(blk)
    activity.promotions_rows(blk)
    activity.queue_rows(blk)
