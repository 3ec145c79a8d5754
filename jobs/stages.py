"""The ordered stages of the nightly run (name → module with ``OUTPUT`` and ``run``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fraudmine.config import Config
from fraudmine.jobs import (
    build_features,
    build_graph,
    clusters,
    decide,
    export_neo4j,
    publish,
    report,
    score,
    train,
    validate,
)
from fraudmine.jobs.context import StageContext, StageResult
from fraudmine.jobs.names import STAGE_NAMES


def _always(_cfg: Config) -> bool:
    return True


@dataclass(frozen=True)
class Stage:
    """A pipeline stage: its name, its output folder in the run, its runner and whether the config enables it."""

    name: str
    output: str
    run: Callable[[StageContext, Path], StageResult]
    enabled: Callable[[Config], bool] = _always


STAGES: tuple[Stage, ...] = (
    Stage("validate", validate.OUTPUT, validate.run),
    Stage("graph", build_graph.OUTPUT, build_graph.run),
    Stage("clusters", clusters.OUTPUT, clusters.run),
    Stage("features", build_features.OUTPUT, build_features.run),
    Stage("train", train.OUTPUT, train.run),
    Stage("score", score.OUTPUT, score.run),
    Stage("decide", decide.OUTPUT, decide.run),
    Stage("report", report.OUTPUT, report.run),
    Stage("neo4j", export_neo4j.OUTPUT, export_neo4j.run, export_neo4j.enabled),
    Stage("publish", publish.OUTPUT, publish.run),
)

if tuple(s.name for s in STAGES) != STAGE_NAMES:  # keep the import-light list in step
    raise RuntimeError("jobs.names.STAGE_NAMES is out of date with jobs.stages.STAGES")


def select_stages(only: list[str] | None, from_stage: str | None) -> list[Stage]:
    """Stages to run given ``--only`` and ``--from-stage``.

    Raises:
        ValueError: naming unknown stages and listing the known ones.
    """
    names = list(only or []) + ([from_stage] if from_stage else [])
    unknown = [n for n in names if n not in STAGE_NAMES]
    if unknown:
        raise ValueError(f"unknown stage(s) {unknown}; stages are {list(STAGE_NAMES)}")
    if only:
        return [s for s in STAGES if s.name in only]
    if from_stage:
        return list(STAGES[STAGE_NAMES.index(from_stage) :])
    return list(STAGES)
