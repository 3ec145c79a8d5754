"""Run mechanics that keep results honest: fingerprints, stage plans, crash recovery, the output lock,
publish as one step, table gates.  Pure logic and real files; no Spark."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fraudmine.audit import table_gates
from fraudmine.config import Config, PublishConfig
from fraudmine.jobs import fingerprint as fp
from fraudmine.jobs import publish, runtime
from fraudmine.jobs.context import StageContext
from fraudmine.jobs.lock import OutputLock, RunLocked
from fraudmine.jobs.plan import StaleUpstream, make_plan
from fraudmine.serving import build_snapshot, current_snapshot
from tests.serving_runs import write_run

ORDER = ["validate", "graph", "train", "publish"]


def _rec(key: str) -> dict[str, str]:
    return {"status": "committed", "key": key}


def test_plan_recomputes_from_the_first_stale_stage_in_a_new_attempt_when_published() -> None:
    keys = {s: s + "-new" for s in ORDER} | {"validate": "validate-old"}
    records = {s: _rec(s + "-old") for s in ORDER}
    on_disk = dict.fromkeys(ORDER, True)
    # only train's slice changed: validate keeps its key, graph too (keys chain, so train on is new)
    keys = {"validate": "v", "graph": "g", "train": "t2", "publish": "p2"}
    records = {"validate": _rec("v"), "graph": _rec("g"), "train": _rec("t1"), "publish": _rec("p1")}
    plan = make_plan(ORDER, keys, records, on_disk, ORDER, [], sealed=True, changes=["config model.seed: 7 -> 8"])
    assert plan.run == ["train", "publish"] and plan.new_attempt and plan.reuse == ["validate", "graph"]
    assert plan.stale["train"] == "config model.seed: 7 -> 8"
    in_place = make_plan(ORDER, keys, records, on_disk, ORDER, [], sealed=False)
    assert in_place.run == ["train", "publish"] and not in_place.new_attempt and in_place.reuse == []


def test_plan_nothing_to_do_and_forced_recompute() -> None:
    keys = {s: s for s in ORDER}
    records = {s: _rec(s) for s in ORDER}
    on_disk = dict.fromkeys(ORDER, True)
    assert make_plan(ORDER, keys, records, on_disk, ORDER, [], sealed=True).run == []
    forced = make_plan(ORDER, keys, records, on_disk, ["train", "publish"], ["train", "publish"], sealed=True)
    assert forced.run == ["train", "publish"] and forced.new_attempt
    gone = make_plan(ORDER, keys, records, {**on_disk, "graph": False}, ORDER, [], sealed=False)
    assert gone.run == ["graph", "train", "publish"]


def test_only_refuses_to_build_on_a_stale_upstream_stage() -> None:
    keys = {"validate": "v2", "graph": "g2", "train": "t2", "publish": "p2"}
    records = {s: _rec(s[0] + "1") for s in ORDER}
    with pytest.raises(StaleUpstream, match=r"'train' needs stage 'validate'.*input table 'orders' changed.*--from"):
        make_plan(
            ORDER, keys, records, dict.fromkeys(ORDER, True), ["train"], [], True, ["input table 'orders' changed"]
        )


def test_stage_keys_chain_and_describe_changes() -> None:
    stages = [("validate", ("validation",)), ("train", ("model",)), ("publish", ("publish",))]
    cfg = fp.effective_config(Config())
    base = fp.stage_keys(stages, cfg, {"orders": "a"}, "code1", {})
    model = fp.effective_config(Config.model_validate({"model": {"seed": 8}}))
    changed = fp.stage_keys(stages, model, {"orders": "a"}, "code1", {})
    assert changed["validate"] == base["validate"] and changed["train"] != base["train"]
    assert changed["publish"] != base["publish"]  # everything after the first change
    spark_only = fp.effective_config(Config.model_validate({"spark": {"driver_memory": "9g"}}))
    assert fp.stage_keys(stages, spark_only, {"orders": "a"}, "code1", {})["validate"] == base["validate"]
    assert fp.stage_keys(stages, cfg, {"orders": "b"}, "code1", {})["validate"] != base["validate"]
    assert fp.stage_keys(stages, cfg, {"orders": "a"}, "code2", {})["validate"] != base["validate"]
    old = {"fingerprints": {"inputs": {"orders": "a"}, "code": "c"}, "config": cfg}
    new = {"fingerprints": {"inputs": {"orders": "b"}, "code": "c"}, "config": model}
    assert fp.describe_changes(old, new) == ["input table 'orders' changed", "config model.seed: 7 -> 8"]
    edited = {"fingerprints": {"inputs": {"orders": "a"}, "code": "d" * 16}, "config": cfg, "code_version": "0.1.0+x"}
    same = {**old, "code_version": "0.1.0+x"}
    assert fp.describe_changes(same, edited) == [
        "code changed (version 0.1.0+x, source hash c -> dddddddddddd: edited files)"
    ]
    assert fp.describe_changes({**same, "code_version": "0.1.0+w"}, edited) == ["code changed (0.1.0+w -> 0.1.0+x)"]


def test_input_fingerprint_sees_content_not_just_sizes(tmp_path: Path) -> None:
    table = tmp_path / "labels"
    table.mkdir()
    pq.write_table(pa.table({"label": ["ok", "ok", "fraud"]}), table / "part-0.parquet")
    a = fp.table_fingerprint(table)
    assert a == fp.table_fingerprint(table)
    pq.write_table(pa.table({"label": ["ok", "ok", "fraud"]}), table / "part-0.parquet")  # rewritten: new mtime
    assert fp.table_fingerprint(table) != a
    csv = tmp_path / "orders"
    csv.mkdir()
    (csv / "a.csv").write_text("id,label\n1,ok\n")
    before = fp.table_fingerprint(csv)
    st = (csv / "a.csv").stat()
    (csv / "a.csv").write_text("id,label\n1,no\n")  # same size, mtime restored: only the content differs
    os.utime(csv / "a.csv", ns=(st.st_atime_ns, st.st_mtime_ns))
    assert fp.table_fingerprint(csv) != before
    (csv / "_SUCCESS").write_text("")  # files Spark ignores are ignored
    assert fp.table_fingerprint(csv) == fp.table_fingerprint(csv)
    assert fp.table_fingerprint(tmp_path / "nowhere") == "missing"


def test_crash_between_commit_rename_and_manifest_write_is_recovered(tmp_path: Path) -> None:
    manifest = runtime.Manifest(tmp_path, {"run_id": "r"})
    manifest.set_stage("report", runtime.StageRecord(status="running", output="reports", key="k"))
    staging = runtime.staging_dir(tmp_path, "reports")
    (staging / "report.html").write_text("<html/>")
    runtime.commit(tmp_path, "reports", runtime.StageRecord(status="committed", output="reports", key="k"))
    # the process dies here: the manifest still says "running"
    again = runtime.Manifest(tmp_path)
    assert "recovered" in str(runtime.recover(tmp_path, again, "report", "reports"))
    assert runtime.Manifest(tmp_path).stages["report"]["status"] == "committed"
    # an output folder without a commit record (an older crash) is removed, never trusted
    (tmp_path / "scores").mkdir()
    assert "removed" in str(runtime.recover(tmp_path, runtime.Manifest(tmp_path), "score", "scores"))
    assert not (tmp_path / "scores").exists()


def test_clone_shares_files_and_never_writes_through(tmp_path: Path) -> None:
    src, dst = tmp_path / "a", tmp_path / "b"
    staging = runtime.staging_dir(src, "graph")
    (staging / "nodes.parquet").write_text("x")
    runtime.commit(src, "graph", runtime.StageRecord(status="committed", output="graph", key="k"))
    runtime.clone_output(src, dst, "graph")
    runtime.commit(dst, "graph", runtime.StageRecord(status="committed", output="graph", key="k", reused_from="a"))
    assert (src / "graph" / "nodes.parquet").stat().st_ino == (dst / "graph" / "nodes.parquet").stat().st_ino
    assert runtime.committed_record(src, "graph").reused_from is None  # type: ignore[union-attr]
    assert runtime.committed_record(dst, "graph").reused_from == "a"  # type: ignore[union-attr]


def test_attempt_folders(tmp_path: Path) -> None:
    d = date(2026, 11, 1)
    assert runtime.attempt_dir(tmp_path, d, 1).name == "2026-11-01"
    for n in (1, 2, 10):
        runtime.attempt_dir(tmp_path, d, n).mkdir(parents=True)
    (tmp_path / "runs" / "2026-11-02").mkdir()
    assert [n for n, _ in runtime.attempts(tmp_path, d)] == [1, 2, 10]


def test_second_run_fails_at_once_while_the_lock_is_held(tmp_path: Path) -> None:
    with OutputLock(tmp_path, "2026-11-01") as held:
        assert held.taken_over is None
        with pytest.raises(RunLocked, match=rf"pid {os.getpid()} on host .*run date 2026-11-01"):
            OutputLock(tmp_path, "2026-11-02").__enter__()
    with OutputLock(tmp_path, "2026-11-03") as again:  # released on exit, nothing to take over
        assert again.taken_over is None


def test_lock_of_a_killed_run_is_taken_over(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from fraudmine.jobs.lock import OutputLock\n"
            f"with OutputLock(Path({str(tmp_path)!r}), '2026-11-01'):\n"
            "    print('locked', flush=True); time.sleep(120)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunLocked, match=f"pid {holder.pid}"):
            OutputLock(tmp_path, "2026-11-01").__enter__()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
    finally:
        if holder.poll() is None:
            holder.kill()
    with OutputLock(tmp_path, "2026-11-01") as lock:
        assert lock.taken_over is not None and lock.taken_over["pid"] == holder.pid
        assert json.loads((tmp_path / ".fraudmine.lock").read_text())["pid"] == os.getpid()


class _Registry:
    """A registry whose alias move can be made to fail (pure publish logic under test)."""

    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.alias: str | None = "m/1"

    def alias_version(self, alias: str) -> str | None:
        return self.alias

    def promote(self, version: str, alias: str) -> None:
        if self.fail:
            raise ConnectionError("tracking server unreachable")
        self.alias = version


def _published_pair(tmp_path: Path, run_date: date, attempt: int = 1) -> StageContext:
    out = tmp_path / "out"
    run_dir = runtime.attempt_dir(out, run_date, attempt)
    # a run as the publish stage leaves it: outputs, its serving snapshot built and named in publish/audit.json
    written = write_run(out, run_date.isoformat(), f"r-{run_date.isoformat()}")
    assert written == run_dir
    snapshot = build_snapshot(run_dir, out)
    (run_dir / "publish").mkdir()
    (run_dir / "publish" / "audit.json").write_text(json.dumps({"snapshot": snapshot.name}))
    (run_dir / "model").mkdir(parents=True)
    (run_dir / "model" / "model.json").write_text(json.dumps({"model_version": "m/2"}))
    runtime.Manifest(run_dir, {"run_date": run_date.isoformat()}).save()
    return StageContext(Config(), None, run_date, tmp_path, out, "r", "v", tmp_path, attempt_dir=run_dir)  # type: ignore[arg-type]


def test_publish_moves_alias_after_current_and_undoes_the_swap_if_the_alias_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _published_pair(tmp_path, date(2026, 10, 31))
    publish.point_current(old.out_dir, old.run_dir)
    new = _published_pair(tmp_path, date(2026, 11, 1))
    failing = _Registry(fail=True)
    monkeypatch.setattr(publish, "make_registry", lambda cfg, out: failing)
    with pytest.raises(publish.PublishFailed, match=r"'champion' failed.*undone: \['current'\]"):
        publish.release(new)
    assert runtime.current_target(new.out_dir) == old.run_dir.resolve() and failing.alias == "m/1"
    working = _Registry(fail=False)
    monkeypatch.setattr(publish, "make_registry", lambda cfg, out: working)
    assert publish.release(new)["steps"] == ["current", "champion", "serving"]
    assert runtime.current_target(new.out_dir) == new.run_dir.resolve() and working.alias == "m/2"
    assert (current_snapshot(new.out_dir) or Path()).name.startswith("r-2026-11-01")


def test_an_older_run_does_not_move_current_unless_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(publish, "make_registry", lambda cfg, out: _Registry(fail=False))
    newer = _published_pair(tmp_path, date(2026, 11, 1))
    publish.point_current(newer.out_dir, newer.run_dir)
    older = _published_pair(tmp_path, date(2026, 6, 30))
    result = publish.release(older)
    assert not result["published"] and "--publish-older" in result["reason"]
    assert runtime.current_target(older.out_dir) == newer.run_dir.resolve()
    assert publish.release(older, allow_older=True)["published"]
    assert runtime.current_target(older.out_dir) == older.run_dir.resolve()


def test_empty_table_fails_the_audit_naming_it_unless_allowed() -> None:
    def failed(rows: dict[str, int], cfg: PublishConfig, optional: frozenset[str] = frozenset()) -> list[str]:
        return [g.message for g in table_gates(rows, cfg, optional) if not g.passed]

    rows = {"reviews": 0, "orders": 10, "brand_authorizations": 0}
    fails = failed(rows, PublishConfig())
    assert len(fails) == 2 and "table 'reviews': 0 clean rows < 1" in fails[1]
    allowed = PublishConfig(min_table_rows={"brand_authorizations": 0, "reviews": 0})
    assert failed(rows, allowed) == []
    assert failed({"orders": 10}, PublishConfig(min_table_rows={"orders": 11})) != []
    # a table the contract marks optional may be empty, unless the config asks for rows
    assert failed({"moderation_outcomes": 0}, PublishConfig(), frozenset({"moderation_outcomes"})) == []
    strict = PublishConfig(min_table_rows={"moderation_outcomes": 1})
    assert failed({"moderation_outcomes": 0}, strict, frozenset({"moderation_outcomes"})) != []


def test_code_fingerprint_ignores_cli_and_follows_linked_subpackages(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "cli").mkdir(parents=True)
    (tmp_path / "graph").mkdir()
    (pkg / "graph").symlink_to(tmp_path / "graph")
    (pkg / "a.py").write_text("x = 1\n")
    (tmp_path / "graph" / "b.py").write_text("y = 1\n")
    (pkg / "cli" / "c.py").write_text("z = 1\n")
    base = fp.code_fingerprint(pkg)
    (pkg / "cli" / "c.py").write_text("z = 2\n")
    assert fp.code_fingerprint(pkg) == base
    time.sleep(0.01)
    (tmp_path / "graph" / "b.py").write_text("y = 2\n")
    assert fp.code_fingerprint(pkg) != base
