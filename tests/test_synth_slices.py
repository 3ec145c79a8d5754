"""Time slices of a generated marketplace (``fraudmine generate --days N``; no Spark)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from fraudmine.contracts.raw import RAW_TABLES, event_time_column
from fraudmine.synth import generate
from fraudmine.synth.scenario import load_scenario
from fraudmine.synth.slices import SLICES_DIR, slice_dates, write_slices

DAYS = 3


@pytest.fixture(scope="module")
def sliced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("slices")
    generate("xs", 5, out)
    write_slices(out, DAYS, load_scenario(), 5)
    return out


def _day(out: Path, d: date, table: str) -> pd.DataFrame:
    return pd.read_parquet(out / SLICES_DIR / d.isoformat() / "raw" / table)


def _dates(out: Path) -> list[date]:
    return [date.fromisoformat(d) for d in json.loads((out / SLICES_DIR / "slices.json").read_text())["dates"]]


def test_slice_dates_end_at_the_end_date() -> None:
    end = datetime(2026, 11, 1, tzinfo=UTC)
    assert slice_dates(end, 3) == [date(2026, 10, 30), date(2026, 10, 31), date(2026, 11, 1)]
    with pytest.raises(ValueError, match="at least 1"):
        slice_dates(end, 0)


def test_every_slice_holds_only_rows_before_its_date_and_grows(sliced: Path) -> None:
    dates = _dates(sliced)
    assert len(dates) == DAYS
    for spec in RAW_TABLES:
        ev = event_time_column(spec)
        sizes = []
        for d in dates:
            df = _day(sliced, d, spec.name)
            sizes.append(len(df))
            if ev is not None and len(df):
                assert (df[ev] < pd.Timestamp(d, tz="UTC")).all(), (spec.name, d)
        assert sizes == sorted(sizes), spec.name  # a later day never knows fewer rows
    # the last slice is the full snapshot, row for row, for tables no later event changes
    full = pd.read_parquet(sliced / "raw" / "products")
    assert len(_day(sliced, dates[-1], "products")) == len(full)
    assert len(_day(sliced, dates[0], "orders")) < len(pd.read_parquet(sliced / "raw" / "orders"))


def test_values_are_those_known_at_the_start_of_the_day(sliced: Path) -> None:
    d = _dates(sliced)[0]
    start = pd.Timestamp(d, tz="UTC")
    reports = _day(sliced, d, "reports")
    assert not (reports["reviewed_at"] >= start).any()
    assert (reports["outcome"].isna() == reports["reviewed_at"].isna()).all()
    full = pd.read_parquet(sliced / "raw" / "reports").set_index("report_id")
    later = full.loc[reports["report_id"]]["reviewed_at"] >= start
    assert later.any()  # some reports known at D were reviewed later: their outcome was hidden
    ids = _day(sliced, d, "identities")
    assert (ids["last_seen"] < start).all() and (ids["first_seen"] <= ids["last_seen"]).all()
    orders = _day(sliced, d, "orders").set_index("order_id")
    events = pd.read_parquet(sliced / "raw" / "order_events")
    known = events[events["event_at"] < start].sort_values(["order_id", "event_at", "event_id"])
    last = known.groupby("order_id")["status"].last()
    assert (orders.loc[last.index, "status"] == last).all()
    assert (orders["status"] == "placed").any()  # completions after D are not known at D


def test_moderator_verdicts_arrive_on_later_days(sliced: Path) -> None:
    dates = _dates(sliced)
    seen: set[str] = set()
    for d in dates:
        queue, outcomes = _day(sliced, d, "moderation_queue"), _day(sliced, d, "moderation_outcomes")
        assert not set(queue["item_id"]) & set(outcomes["item_id"])  # decided items left the queue
        assert (outcomes["decided_at"] < pd.Timestamp(d, tz="UTC")).all()
        assert outcomes["routed_action"].isna().all() and (outcomes["source"] == "moderator").all()
        assert seen <= set(outcomes["item_id"])
        seen = set(outcomes["item_id"])
    assert len(_day(sliced, dates[-1], "moderation_outcomes")) > len(_day(sliced, dates[0], "moderation_outcomes"))
    last = _day(sliced, dates[-1], "moderation_outcomes")
    assert set(last["verdict"]) == {"violation", "no_violation"}


def test_slices_are_deterministic(sliced: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    shutil.copytree(sliced / "raw", again / "raw")
    shutil.copytree(sliced / "truth", again / "truth")
    write_slices(again, DAYS, load_scenario(), 5)
    for d in _dates(sliced):
        for table in ("orders", "moderation_outcomes", "moderation_queue", "reports"):
            pd.testing.assert_frame_equal(_day(sliced, d, table), _day(again, d, table))
