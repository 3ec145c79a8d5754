"""The one place that builds a SparkSession, sized from the input and the machine.

Local defaults suit a laptop: adaptive execution on, UTC session time zone, UI
off, and Spark's own log4j output silenced unless asked for (``quiet=False``,
the CLI's ``--verbose``).  ``driver_memory: auto`` and ``shuffle_partitions:
auto`` (the defaults) are derived by :func:`plan_resources` from the input size
and the machine, so every scale runs on the default config.  Under
``spark-submit`` the master and any ``spark.*`` settings given on the command
line win: ``getOrCreate`` returns the session that spark-submit configured and
only unset runtime SQL keys are filled in (static keys such as memory belong to
spark-submit's command line).
"""

from __future__ import annotations

import itertools
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from fraudmine.config import CONF_ROOT, SparkConfig

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

QUIET_LOG4J = CONF_ROOT / "conf" / "log4j2-quiet.properties"
GiB = 1 << 30
MiB = 1 << 20
# Sizing rules (measured in docs/benchmarks.md, "Scale without a special profile").
MIN_DRIVER_GIB = 2
DRIVER_BYTES_PER_INPUT_BYTE = 4  # in-memory columnar data is several times its Snappy Parquet size
MAX_DRIVER_FRACTION_OF_RAM = 0.6
INPUT_BYTES_PER_PARTITION = 48 * MiB
MAX_SHUFFLE_PARTITIONS = 400
# Small inputs: a run is hundreds of short Spark jobs whose cost is the driver JVM warming up;
# C2 compilations of Spark's own code then take CPU from the work (measured in docs/benchmarks.md,
# "Hardening (issue 6)": C1 only cut validation's CPU time by about a third at xs).  Long runs on
# large inputs keep the full tiered JIT, whose C2 code is faster once warm.
SMALL_INPUT_MAX_BYTES = 256 * MiB
# measured only at xs (5 MiB); s (about 50 MiB) and above keep the default tiered JIT until measured
QUICK_JIT_MAX_INPUT_BYTES = 32 * MiB
# C1 only.  Without tiered compilation the JVM reserves a 48 MiB code cache, which a nightly run fills
# ("CodeCache is full. Compiler has been disabled.": everything after runs interpreted, several times
# slower); the tiered default of 240 MiB is kept.
QUICK_JIT_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m"
# Small inputs: Catalyst's constraint propagation (inferring IS NOT NULL and equality filters from
# every join and filter, then pruning with them) is the costliest optimizer step on the nightly's
# wide plans of dozens of joins, and the plans are optimized again at every adaptive query stage; on a
# small input that planning is most of a stage's time.  The inferred filters are implied by the plan,
# so results are the same without them; large inputs keep them (early null filters shrink shuffles).
LEAN_PLANNING_CONF = {"spark.sql.constraintPropagation.enabled": "false"}
JOB_GROUP = "spark.jobGroup.id"  # Spark's local property naming the job group of a thread's jobs
R = TypeVar("R")


@dataclass(frozen=True)
class Resources:
    """What a run asks of the machine.

    Attributes:
        driver_memory: JVM heap of the driver (in local mode it is the executor too), e.g. ``"4g"``.
        shuffle_partitions: ``spark.sql.shuffle.partitions`` (and default parallelism).
        quick_jit: the driver JVM compiles with C1 only (``-XX:TieredStopAtLevel=1``).
        lean_planning: Catalyst's constraint propagation off (:data:`LEAN_PLANNING_CONF`).
        input_bytes: size of the raw input files.
        cores: CPU cores of this machine.
        ram_bytes: physical memory of this machine.
    """

    driver_memory: str
    shuffle_partitions: int
    input_bytes: int = 0
    cores: int = 1
    ram_bytes: int = 0
    quick_jit: bool = False
    lean_planning: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for the manifest."""
        return asdict(self)

    def describe(self) -> str:
        """One line for the progress log."""
        return (
            f"driver {self.driver_memory}, {self.shuffle_partitions} shuffle partitions, "
            f"{'quick (C1)' if self.quick_jit else 'full'} JIT{', lean planning' if self.lean_planning else ''}; "
            f"input {self.input_bytes / MiB:,.0f} MiB, {self.cores} cores, {self.ram_bytes / GiB:.0f} GiB RAM"
        )


def machine_ram_bytes() -> int:
    """Physical memory of this machine (``/proc/meminfo``, else ``sysconf``)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def input_size(path: Path) -> int:
    """Total size of the files under ``path`` (listing only; nothing is read)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _, names in os.walk(path):
        for n in names:
            try:
                total += (Path(root) / n).stat().st_size
            except OSError:
                continue
    return total


def size_resources(cfg: SparkConfig, input_bytes: int, cores: int, ram_bytes: int) -> Resources:
    """Resolve ``auto`` settings from the input size and the machine (pure).

    * driver memory: 2 GiB plus 4x the input size, at most 60% of the RAM;
    * shuffle partitions: one per 48 MiB of input, at least twice the cores, at most 400
      (adaptive execution coalesces small ones).

    * JIT: C1 only (quick start-up) up to :data:`QUICK_JIT_MAX_INPUT_BYTES` of input;
    * lean planning (:data:`LEAN_PLANNING_CONF`) up to the same size.

    Explicit values in ``cfg`` are kept.
    """
    if cfg.driver_memory == "auto":
        want = MIN_DRIVER_GIB * GiB + DRIVER_BYTES_PER_INPUT_BYTE * input_bytes
        cap = max(MIN_DRIVER_GIB * GiB, int(MAX_DRIVER_FRACTION_OF_RAM * ram_bytes))
        driver = f"{max(MIN_DRIVER_GIB, math.ceil(min(want, cap) / GiB))}g"
    else:
        driver = cfg.driver_memory
    if cfg.shuffle_partitions == "auto":
        parts = max(2 * cores, math.ceil(input_bytes / INPUT_BYTES_PER_PARTITION))
        parts = min(parts, MAX_SHUFFLE_PARTITIONS)
    else:
        parts = int(cfg.shuffle_partitions)
    quick = cfg.jit == "quick" or (cfg.jit == "auto" and input_bytes <= QUICK_JIT_MAX_INPUT_BYTES)
    lean = input_bytes <= QUICK_JIT_MAX_INPUT_BYTES
    return Resources(driver, parts, input_bytes, cores, ram_bytes, quick, lean)


def parallel_tables(input_bytes: int, cores: int) -> int:
    """Raw tables validated at the same time: the cores for a small input, one at a time above.

    On a small input a table's validation is mostly fixed driver work that overlaps with
    another table's execution; on a large one each table needs the memory to itself.
    """
    return max(2, cores) if input_bytes <= SMALL_INPUT_MAX_BYTES else 1


def run_concurrently(spark: SparkSession, tasks: Sequence[Callable[[], R]], workers: int) -> list[R]:
    """Run independent pieces of Spark work from ``workers`` threads; results in the order of ``tasks``.

    On a small input each action is mostly fixed driver work (Python building the
    plan, Catalyst planning it, scheduling its tiny jobs) on one core, so two
    independent actions at once keep both cores busy.  Each thread runs its jobs in
    the caller's job group (a new thread starts without it), so
    :func:`counting_jobs` still counts them.  With ``workers <= 1`` or a single
    task the tasks run one after the other in the calling thread: the same code
    path as the parallel one, for large inputs where each action needs the
    memory to itself (see :func:`parallel_tables`).  Results must not depend on
    the order the tasks run in: each task builds its own plans.

    Raises:
        Exception: the first failing task's error (in task order), after every task ended.
    """
    if workers <= 1 or len(tasks) <= 1:
        return [task() for task in tasks]
    sc = spark.sparkContext
    group = sc.getLocalProperty(JOB_GROUP)

    def in_thread(task: Callable[[], R]) -> R:
        sc.setLocalProperty(JOB_GROUP, group)  # type: ignore[arg-type]
        try:
            return task()
        finally:
            sc.setLocalProperty(JOB_GROUP, None)  # type: ignore[arg-type]

    with ThreadPoolExecutor(max_workers=min(workers, len(tasks))) as pool:
        futures = [pool.submit(in_thread, task) for task in tasks]
    return [f.result() for f in futures]


def plan_resources(cfg: SparkConfig, input_dir: Path) -> Resources:
    """:func:`size_resources` for ``input_dir`` on this machine."""
    return size_resources(cfg, input_size(input_dir), os.cpu_count() or 1, machine_ram_bytes())


def session_conf(
    cfg: SparkConfig, checkpoint_dir: str | None = None, resources: Resources | None = None, quiet: bool = True
) -> dict[str, str]:
    """The ``spark.*`` settings the factory applies, as a plain dict (pure; for tests and docs)."""
    res = resources or size_resources(cfg, 0, os.cpu_count() or 1, machine_ram_bytes())
    conf = {
        "spark.sql.shuffle.partitions": str(res.shuffle_partitions),
        "spark.default.parallelism": str(res.shuffle_partitions),
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": res.driver_memory,
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.local.dir": checkpoint_dir or tempfile.gettempdir(),
    }
    if res.lean_planning:
        conf.update(LEAN_PLANNING_CONF)
    java_options = [QUICK_JIT_OPTIONS] if res.quick_jit else []
    if quiet:
        java_options.append(f"-Dlog4j2.configurationFile={QUIET_LOG4J.resolve().as_uri()}")
    if java_options:
        conf["spark.driver.extraJavaOptions"] = " ".join(java_options)
    for key, value in cfg.conf.items():
        if key == "spark.driver.extraJavaOptions" and key in conf:
            conf[key] = f"{conf[key]} {value}"
        else:
            conf[key] = value
    return conf


def get_spark(
    cfg: SparkConfig,
    checkpoint_dir: str | Path | None = None,
    resources: Resources | None = None,
    quiet: bool = True,
) -> SparkSession:
    """Return the active SparkSession or build one from ``cfg``.

    Args:
        cfg: Spark settings (master, partitions, extra ``spark.*`` conf).
        checkpoint_dir: folder for RDD checkpoints used by iterative graph algorithms.
        resources: resolved sizes (:func:`plan_resources`); ``None`` sizes for an empty input.
        quiet: silence Spark's own log4j output (``--verbose`` turns this off).

    Returns:
        A SparkSession; if one is already active (tests, spark-submit) it is reused.
    """
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    conf = session_conf(cfg, str(checkpoint_dir) if checkpoint_dir else None, resources, quiet)
    active = SparkSession.getActiveSession()
    if active is None and os.environ.get("PYSPARK_GATEWAY_PORT"):
        # Launched by spark-submit: the JVM already holds its --master and --conf.
        # Take that session and fill in only the runtime SQL settings it left unset.
        active = SparkSession.builder.appName(cfg.app_name).getOrCreate()
        for key, value in conf.items():
            if active.conf.isModifiable(key) and active.conf.get(key, None) is None:
                active.conf.set(key, value)
        active.sparkContext.setLogLevel(cfg.log_level if quiet else "WARN")
    elif active is None:
        builder = SparkSession.builder.appName(cfg.app_name).master(cfg.master)
        for key, value in conf.items():
            builder = builder.config(key, value)
        active = builder.getOrCreate()
        active.sparkContext.setLogLevel(cfg.log_level if quiet else "WARN")
    if checkpoint_dir is not None:
        Path(checkpoint_dir).mkdir(parents=True, exist_ok=True)
        active.sparkContext.setCheckpointDir(str(checkpoint_dir))
    return active


@dataclass
class JobTally:
    """Spark jobs run inside a :func:`counting_jobs` block (filled in when the block ends).

    Attributes:
        group: the job group the block ran its jobs under.
        jobs: number of Spark jobs started in the block (on the calling thread).
    """

    group: str
    jobs: int = 0


_GROUPS = itertools.count(1)


@contextmanager
def counting_jobs(spark: SparkSession, label: str) -> Iterator[JobTally]:
    """Run the block's Spark jobs under a job group of their own and count them.

    Every action (a write, a count, a collect, a schema inference, each adaptive query
    stage) is one Spark job; on small inputs each costs a fixed few hundred
    milliseconds, so the count is the figure to keep low.  Jobs started from other
    threads are not counted.  The status store keeps the last ``spark.ui.retainedJobs``
    jobs (1000 by default), so a larger count is a lower bound.

    Args:
        spark: the session.
        label: names the group (``fraudmine:<label>:<n>``, unique per process).

    Yields:
        A :class:`JobTally` whose ``jobs`` is set when the block exits (also on error).
    """
    sc = spark.sparkContext
    tally = JobTally(f"fraudmine:{label}:{next(_GROUPS)}")
    previous = sc.getLocalProperty("spark.jobGroup.id")
    sc.setJobGroup(tally.group, f"fraudmine {label}")
    try:
        yield tally
    finally:
        tally.jobs = len(sc.statusTracker().getJobIdsForGroup(tally.group))
        sc.setLocalProperty("spark.jobGroup.id", previous)  # type: ignore[arg-type]
