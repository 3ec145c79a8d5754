"""The ordered stages of the nightly run.

Each :class:`Stage` names its output folder, its runner and what its output
depends on besides the previous stage: the config sections it reads
(``config``) and whether it writes the run id into its rows (``uses_run_id``).
:func:`fraudmine.jobs.fingerprint.stage_keys` turns that into a validity key
per stage, so a changed input, config section or code recomputes from the
first affected stage on.  To add a stage, add it here (and its name to
:data:`fraudmine.jobs.names.STAGE_NAMES`) with the config sections it reads.
"""

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
    duplicates,
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
    """A pipeline stage.

    Attributes:
        name: stage name (``--only`` / ``--from-stage`` value).
        output: its output folder inside the run folder.
        run: ``run(ctx, staging) -> StageResult`` writing into ``staging``.
        config: dotted config prefixes whose values change this stage's output.
        uses_run_id: the output carries the run id (so any config change recomputes it).
        enabled: whether the config switches the stage on (a disabled stage is skipped, not recorded).
    """

    name: str
    output: str
    run: Callable[[StageContext, Path], StageResult]
    config: tuple[str, ...] = ()
    uses_run_id: bool = False
    enabled: Callable[[Config], bool] = _always


STAGES: tuple[Stage, ...] = (
    Stage("validate", validate.OUTPUT, validate.run, ("validation",)),
    Stage("graph", build_graph.OUTPUT, build_graph.run, ("graph",)),
    Stage("duplicates", duplicates.OUTPUT, duplicates.run, ("dedup", "features.label_window_days")),
    Stage("clusters", clusters.OUTPUT, clusters.run, ("graph", "clusters")),
    Stage("features", build_features.OUTPUT, build_features.run, ("graph", "features", "clusters")),
    Stage("train", train.OUTPUT, train.run, ("model",)),
    Stage("score", score.OUTPUT, score.run, ("scoring",), uses_run_id=True),
    Stage("decide", decide.OUTPUT, decide.run, ("policy_path", "decisions"), uses_run_id=True),
    Stage("report", report.OUTPUT, report.run),
    Stage("neo4j", export_neo4j.OUTPUT, export_neo4j.run, ("neo4j",), enabled=export_neo4j.enabled),
    Stage("publish", publish.OUTPUT, publish.run, ("publish", "serving"), uses_run_id=True),
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
