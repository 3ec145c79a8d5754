"""Run the nightly pipeline on a real Spark standalone cluster on loopback and compare it with local mode.

Starts one master and two workers with pyspark's own ``bin/spark-class`` (no
separate Spark download), submits ``jobs/nightly.py`` with
``spark-submit --master spark://127.0.0.1:<port>``, optionally checks that the
scores and decisions equal those of a local-mode run, and stops the cluster by
the process ids it started (never by name)::

    python bench/standalone_cluster.py --input data/synth-xs/raw --out /tmp/cluster-out \\
        --date 2026-11-01 [--compare out/xs/runs/2026-11-01] [--config conf/default.yaml]

The same ``jobs/nightly.py`` command runs on YARN or Kubernetes by changing only
``--master`` (see README, "Running on a cluster").
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spark_home() -> Path:
    """The Spark distribution inside the pyspark package (holds ``bin/spark-class``, ``jars/``)."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def cluster_env(work: Path) -> dict[str, str]:
    """Environment for the cluster's JVMs and the submitted job (loopback only, this venv's Python)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYSPARK_GATEWAY", "MLFLOW_"))}
    env.update(
        SPARK_HOME=str(spark_home()),
        SPARK_LOCAL_IP="127.0.0.1",
        SPARK_LOG_DIR=str(work / "logs"),
        SPARK_WORKER_DIR=str(work / "worker"),
        PYSPARK_PYTHON=sys.executable,
        PYSPARK_DRIVER_PYTHON=sys.executable,
    )
    return env


@dataclass
class Cluster:
    """A running standalone cluster: its master URL and the processes this script started."""

    master_url: str
    ui_port: int
    work: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def alive_workers(self) -> int:
        """Workers the master reports as ALIVE (from its JSON status page)."""
        with contextlib.suppress(OSError, ValueError):
            with urllib.request.urlopen(f"http://127.0.0.1:{self.ui_port}/json/", timeout=2) as r:
                state = json.loads(r.read())
            return sum(1 for w in state.get("workers", []) if w.get("state") == "ALIVE")
        return 0

    def stop(self) -> None:
        """Stop every started process by its own id (workers first), waiting for each."""
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def start_cluster(work: Path, workers: int = 2, cores: int = 1, memory: str = "1g", timeout: float = 120) -> Cluster:
    """Start a master and ``workers`` workers on 127.0.0.1 and wait until all are registered.

    Raises:
        RuntimeError: the workers did not register within ``timeout`` seconds (cluster stopped).
    """
    work.mkdir(parents=True, exist_ok=True)
    (work / "logs").mkdir(exist_ok=True)
    env = cluster_env(work)
    spark_class = str(spark_home() / "bin" / "spark-class")
    port, ui = _free_port(), _free_port()
    cluster = Cluster(f"spark://127.0.0.1:{port}", ui, work)

    def launch(name: str, args: list[str]) -> None:
        log = (work / "logs" / f"{name}.log").open("wb")
        cluster.procs.append(subprocess.Popen([spark_class, *args], env=env, stdout=log, stderr=subprocess.STDOUT))

    launch("master", ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
                      "--webui-port", str(ui)])  # fmt: skip
    for i in range(workers):
        launch(
            f"worker-{i}",
            [
                "org.apache.spark.deploy.worker.Worker",
                "--host", "127.0.0.1",
                "--webui-port", str(_free_port()),
                "--cores", str(cores),
                "--memory", memory,
                "--work-dir", str(work / f"worker-{i}"),
                cluster.master_url,
            ],
        )  # fmt: skip
    deadline = time.monotonic() + timeout
    while cluster.alive_workers() < workers:
        if time.monotonic() > deadline or any(p.poll() is not None for p in cluster.procs):
            cluster.stop()
            raise RuntimeError(f"standalone cluster did not start; see the logs in {work / 'logs'}")
        time.sleep(0.5)
    return cluster


@contextlib.contextmanager
def standalone_cluster(work: Path, workers: int = 2) -> Iterator[Cluster]:
    """:func:`start_cluster` as a context manager that always stops what it started."""
    cluster = start_cluster(work, workers)
    try:
        yield cluster
    finally:
        cluster.stop()


def submit_nightly(
    cluster: Cluster, nightly_args: list[str], timeout: float = 1800
) -> subprocess.CompletedProcess[str]:
    """``spark-submit --master spark://... jobs/nightly.py <nightly_args>`` on ``cluster``."""
    quiet = REPO / "conf" / "log4j2-quiet.properties"
    cmd = [
        str(Path(sys.executable).parent / "spark-submit"),
        "--master", cluster.master_url,
        "--driver-memory", "1g",
        "--executor-memory", "1g",
        "--conf", "spark.executor.cores=1",
        "--conf", "spark.cores.max=2",
        "--conf", "spark.sql.shuffle.partitions=4",
        "--driver-java-options", f"-Dlog4j2.configurationFile={quiet.resolve().as_uri()}",
        str(REPO / "jobs" / "nightly.py"),
        *nightly_args,
    ]  # fmt: skip
    return subprocess.run(cmd, cwd=REPO, env=cluster_env(cluster.work), capture_output=True, text=True, timeout=timeout)


def _sorted(path: Path, key: str) -> pd.DataFrame:
    return pd.read_parquet(path).sort_values(key).reset_index(drop=True)


def compare_runs(local: Path, cluster: Path) -> list[str]:
    """Differences between two run folders' scores and decisions (empty list: equal).

    Scores are compared with a relative tolerance of 1e-9 on the risks (sums of doubles may
    be added in another order across partitions); everything else exactly.
    """
    diffs = []
    for name, key in (("scores", "entity_id"), ("decisions", "item_id")):
        a, b = _sorted(local / name, key), _sorted(cluster / name, key)
        risks = [c for c in ("fraud_risk", "low_quality_risk") if c in a.columns]
        try:
            pd.testing.assert_frame_equal(a.drop(columns=risks), b.drop(columns=risks))
            for c in risks:
                pd.testing.assert_series_equal(a[c], b[c], rtol=1e-9)
        except AssertionError as exc:
            diffs.append(f"{name}: {str(exc).splitlines()[0]}")
    return diffs


def main() -> int:
    """Start the cluster, run the nightly job on it, compare, stop."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--date", required=True)
    ap.add_argument("--config", type=Path)
    ap.add_argument("--compare", type=Path, help="a local-mode run folder to compare scores and decisions with")
    ap.add_argument("--work", type=Path, default=Path("/tmp") / f"fraudmine-standalone-{os.getpid()}")
    args = ap.parse_args()
    nightly = ["--input", str(args.input.resolve()), "--out", str(args.out.resolve()), "--date", args.date]
    if args.config:
        nightly += ["--config", str(args.config.resolve())]
    t0 = time.monotonic()
    with standalone_cluster(args.work) as cluster:
        print(
            f"cluster {cluster.master_url} up in {time.monotonic() - t0:.1f}s (pids {[p.pid for p in cluster.procs]})"
        )
        t1 = time.monotonic()
        done = submit_nightly(cluster, nightly)
        print(f"spark-submit exit {done.returncode} in {time.monotonic() - t1:.1f}s")
        sys.stdout.write(done.stdout)
        if done.returncode:
            sys.stderr.write(done.stderr[-3000:])
            return 1
    if args.compare:
        run_dir = (args.out / "runs" / args.date).resolve()
        diffs = compare_runs(args.compare, run_dir)
        print("outputs equal to local mode" if not diffs else "DIFFERENT: " + "; ".join(diffs))
        return 1 if diffs else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
