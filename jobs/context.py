"""What every stage receives: resolved config, Spark, dates and the run's folders."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fraudmine.config import Config

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


@dataclass
class StageResult:
    """Row counts and versions a stage reports to the manifest."""

    rows_in: dict[str, int] = field(default_factory=dict)
    rows_out: dict[str, int] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class StageContext:
    """Inputs shared by all stages of one run.

    Attributes:
        config: resolved configuration.
        spark: the session from :func:`fraudmine.spark.get_spark`.
        run_date: the run's date D; data strictly before D 00:00 UTC is used.
        input_dir: raw input folder (one sub-folder per table).
        out_dir: output root (``runs/``, ``current``, ``mlflow.db``).
        run_id: deterministic id of this run.
        code_version: package version + git commit.
        conf_root: folder holding ``conf/``; relative config paths (policy) resolve against it.
        force_publish: publish even when audit gates fail (``--force``; recorded in the manifest).
        attempt_dir: this attempt's folder (``runs/<D>`` or ``runs/<D>.<n>``); ``None`` means ``runs/<D>``.
        started_at: wall-clock start of the run, taken once by the orchestrator: a timestamp
            later than this is impossible in any run (validation quarantines it).
    """

    config: Config
    spark: SparkSession
    run_date: date
    input_dir: Path
    out_dir: Path
    run_id: str
    code_version: str
    conf_root: Path
    force_publish: bool = False
    attempt_dir: Path | None = None
    started_at: datetime | None = None

    @property
    def as_of(self) -> datetime:
        """The run's cut-off instant: D 00:00 UTC."""
        return datetime(self.run_date.year, self.run_date.month, self.run_date.day, tzinfo=UTC)

    @property
    def train_as_of(self) -> datetime:
        """Cut-off of the training features: ``label_window_days`` before the run date."""
        return self.as_of - timedelta(days=self.config.features.label_window_days)

    @property
    def run_dir(self) -> Path:
        """This attempt's folder: ``<out>/runs/<D>`` (first attempt) or ``<out>/runs/<D>.<n>``."""
        return self.attempt_dir or self.out_dir / "runs" / self.run_date.isoformat()

    @cached_property
    def workers(self) -> int:
        """Independent Spark actions a stage may run at once (:func:`fraudmine.spark.parallel_tables`).

        Two or more (the cores) on a small input, whose actions are mostly fixed driver work; one on a
        large input, where each needs the memory to itself.  Outputs never depend on it.
        """
        from fraudmine.spark import input_size, parallel_tables

        return parallel_tables(input_size(self.input_dir), os.cpu_count() or 1)

    def path(self, *parts: str) -> Path:
        """Path of a committed stage output inside the run folder."""
        return self.run_dir.joinpath(*parts)

    def read(self, *parts: str) -> DataFrame:
        """Read a committed Parquet output of an earlier stage (its schema from the footer: no Spark job)."""
        from fraudmine.jobs.parquet import read_parquet

        return read_parquet(self.spark, self.path(*parts))

    def rows(self, *parts: str) -> int:
        """Rows of a committed Parquet output, from its footers (no Spark job)."""
        from fraudmine.jobs.parquet import parquet_rows

        return parquet_rows(self.path(*parts))
