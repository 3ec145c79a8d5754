"""Time slices: the marketplace as the warehouse held it at the start of each of N consecutive days.

A generated folder holds one full snapshot (every row strictly before the scenario's ``end_date``).
:func:`write_slices` cuts it into ``days/<YYYY-MM-DD>/raw/`` folders, one per run date ``D``, so the
nightly run can be exercised over a week of dates (``fraudmine nightly --input days/<D>/raw --date D``).

**Cut rule** (the same for every table, from the contract; documented in ``fraudmine/synth/README.md``):

* a row belongs to the slice of ``D`` when its event time (the table's first ``not_future`` timestamp,
  :func:`fraudmine.contracts.raw.event_time_column`: ``registered_at``, ``created_at``,
  ``ordered_at``, ``event_at``, ``reported_at``, ``labelled_at``, ``submitted_at``, ``decided_at`` …)
  is before ``D``; tables without one (``brands``) are copied whole;
* values that record something that happened at or after ``D`` are reset to what the warehouse held
  at ``D``: a report reviewed at or after ``D`` has no ``outcome`` / ``reviewed_at`` yet; an
  authorisation that lapsed at or after ``D`` has no ``valid_to`` yet; an order's ``status`` is its last
  ``order_events`` status before ``D`` (``placed`` while nothing else happened); an identifier's
  ``last_seen`` is capped just before ``D`` (it was in use up to then);
* moderation: the generator's full snapshot has a queue and no verdicts.  The slices add the human
  moderation process that runs beside fraudmine: a share of queue items gets a moderator verdict after
  a delay (``moderation_outcomes`` rows with ``route`` and ``routed_action`` null: they never passed
  through fraudmine), right or wrong at the scenario's error rate.  A slice's queue holds the
  items submitted before ``D`` and not decided before ``D``; its outcomes are the verdicts before ``D``,
  so the verdicts of day ``D`` arrive as labels in the runs of later days.

Every slice keeps the dataset id of the full snapshot (the truth applies to all of them).  The output
is a pure function of the full snapshot, the truth, the scenario and the seed.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fraudmine.contracts.physical import arrow_schema
from fraudmine.contracts.raw import RAW_TABLES, TableSpec, event_time_column, table_spec
from fraudmine.contracts.typologies import NON_MEMBER_ROLES
from fraudmine.synth.scenario import Scenario

SLICES_DIR = "days"
US = 1_000_000


def slice_dates(end: datetime, days: int) -> list[date]:
    """The ``days`` consecutive run dates ending at ``end``'s date (oldest first).

    Raises:
        ValueError: ``days`` is not positive.
    """
    if days < 1:
        raise ValueError(f"--days must be at least 1, got {days}")
    last = end.astimezone(UTC).date()
    return [last - timedelta(days=days - 1 - i) for i in range(days)]


def _start(d: date) -> pa.Scalar:
    return pa.scalar(datetime(d.year, d.month, d.day, tzinfo=UTC), type=pa.timestamp("us", tz="UTC"))


def _read(raw: Path, spec: TableSpec) -> pa.Table:
    return pq.read_table(raw / spec.name, schema=arrow_schema(spec))


def truth_bad_sets(truth: Path) -> tuple[set[str], set[str], set[str], set[str]]:
    """Fraud merchants, low-quality merchants, and fraud-member products and creators.

    Non-member roles (victims, honest re-listings: ``NON_MEMBER_ROLES``) are excluded.
    """
    m = pq.read_table(truth / "merchants.parquet").to_pandas()
    e = pq.read_table(truth / "entities.parquet").to_pandas()
    members = e[~e["role"].isin(NON_MEMBER_ROLES) & (e["typology"] != "low_quality")]
    return (
        set(m.loc[m["is_fraud"], "merchant_id"]),
        set(m.loc[m["is_low_quality"], "merchant_id"]),
        set(members.loc[members["entity_type"] == "product", "entity_id"]),
        set(members.loc[members["entity_type"] == "creator", "entity_id"]),
    )


def moderator_verdicts(queue: pa.Table, truth: Path, scenario: Scenario, seed: int) -> pa.Table:
    """Human verdicts on the queue items a moderator reviews (the process fraudmine runs beside).

    Each item is reviewed with probability ``scenario.moderation.review_prob`` after an exponential
    delay of mean ``scenario.moderation.delay_mean_days``; the verdict is wrong (a bad item cleared,
    a clean one upheld) with probability ``scenario.moderation.error_rate``.

    Returns:
        A ``moderation_outcomes`` table (contract schema), ordered by ``item_id``.
    """
    mod = scenario.moderation
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5C1CE]))
    q = queue.sort_by("item_id").to_pandas()
    n = len(q)
    reviewed = rng.random(n) < mod.review_prob
    delay_us = np.floor(rng.exponential(mod.delay_mean_days * 86400 * US, n)).astype(np.int64) + 60 * US
    wrong = rng.random(n) < mod.error_rate
    fraud_m, lq_m, prod, cre = truth_bad_sets(truth)
    bad_fraud = (q["merchant_id"].isin(fraud_m) | q["product_id"].isin(prod) | q["creator_id"].isin(cre)).to_numpy()
    bad = bad_fraud | q["merchant_id"].isin(lq_m).to_numpy()
    violation = bad ^ wrong
    vtype = np.where(bad_fraud, "fraud", "low_quality")
    submitted = q["submitted_at"].astype("datetime64[us, UTC]").astype("int64").to_numpy()
    o = q[reviewed]
    keep = np.flatnonzero(reviewed)
    decided = submitted[keep] + delay_us[keep]
    spec = table_spec("moderation_outcomes")
    cols = {
        "outcome_id": [f"oc{i:08d}" for i in range(len(o))],
        "item_id": o["item_id"].tolist(),
        "item_type": o["item_type"].tolist(),
        "merchant_id": o["merchant_id"].tolist(),
        "creator_id": o["creator_id"].tolist(),
        "product_id": o["product_id"].tolist(),
        "verdict": np.where(violation[keep], "violation", "no_violation").tolist(),
        "violation_type": [t if v else None for t, v in zip(vtype[keep], violation[keep], strict=True)],
        "routed_action": [None] * len(o),
        "route": [None] * len(o),
        "decision_run_id": [None] * len(o),
        "source": ["moderator"] * len(o),
        "decided_at": pa.array(decided, type=pa.timestamp("us", tz="UTC")),
    }
    schema = arrow_schema(spec)
    return pa.Table.from_arrays([pa.array(cols[f.name], type=f.type) for f in schema], schema=schema)


def _orders_as_of(orders: pa.Table, events: pa.Table | None, d: date) -> pa.Table:
    """``status`` replaced by each order's last event status before ``d`` (orders kept as they are without events)."""
    if events is None:
        return orders
    ev = events.filter(pc.less(events["event_at"], _start(d))).to_pandas()
    last = ev.sort_values(["order_id", "event_at", "event_id"]).groupby("order_id", sort=False)["status"].last()
    status = orders["status"].to_pandas()
    ids = orders["order_id"].to_pandas()
    now = ids.map(last)
    new = now.where(now.notna(), status).to_numpy()
    i = orders.schema.get_field_index("status")
    return orders.set_column(i, orders.schema.field(i), pa.array(new, type=pa.string()))


def _null_from(table: pa.Table, col: str, d: date, also: tuple[str, ...] = ()) -> pa.Table:
    """Null ``col`` (and the ``also`` columns) where ``col`` is at or after the start of ``d``."""
    later = pc.fill_null(pc.greater_equal(table[col], _start(d)), False)
    for c in (col, *also):
        i = table.schema.get_field_index(c)
        nulls = pa.nulls(len(table), type=table.schema.field(i).type)
        table = table.set_column(i, table.schema.field(i), pc.if_else(later, nulls, table[c]))
    return table


def _cap_before(table: pa.Table, col: str, d: date) -> pa.Table:
    """Cap ``col`` at one microsecond before the start of ``d``."""
    cap = pa.scalar(datetime(d.year, d.month, d.day, tzinfo=UTC) - timedelta(microseconds=1), type=table[col].type)
    i = table.schema.get_field_index(col)
    capped = pc.if_else(pc.fill_null(pc.greater(table[col], cap), False), cap, table[col])
    return table.set_column(i, table.schema.field(i), capped)


def cut_table(spec: TableSpec, table: pa.Table, d: date, events: pa.Table | None, decided: pa.Table | None) -> pa.Table:
    """The rows and values of one table as the warehouse held them at the start of ``d`` (module docstring)."""
    ev = event_time_column(spec)
    if ev is not None:
        table = table.filter(pc.fill_null(pc.less(table[ev], _start(d)), False))
    if spec.name == "reports":
        table = _null_from(table, "reviewed_at", d, also=("outcome",))
    elif spec.name == "brand_authorizations":
        table = _null_from(table, "valid_to", d)
    elif spec.name == "identities":
        table = _cap_before(table, "last_seen", d)
    elif spec.name == "orders":
        table = _orders_as_of(table, events, d)
    elif spec.name == "moderation_queue" and decided is not None:
        done = decided.filter(pc.less(decided["decided_at"], _start(d)))["item_id"]
        table = table.filter(pc.invert(pc.is_in(table["item_id"], value_set=done)))
    return table


def write_slices(out: Path, days: int, scenario: Scenario, seed: int) -> list[date]:
    """Write ``out/days/<D>/raw`` for the ``days`` run dates ending at the scenario's end date.

    Args:
        out: a generated folder (``raw/`` and ``truth/``).
        days: number of consecutive run dates.
        scenario: the scenario the folder was generated with (moderation and label-noise knobs).
        seed: the generation seed (moderator verdicts are drawn from it).

    Returns:
        The run dates written, oldest first.
    """
    raw, root = out / "raw", out / SLICES_DIR
    dates = slice_dates(scenario.timeline.end_date, days)
    if root.exists():
        shutil.rmtree(root)
    verdicts = moderator_verdicts(_read(raw, table_spec("moderation_queue")), out / "truth", scenario, seed)
    events = _read(raw, table_spec("order_events")) if (raw / "order_events").exists() else None
    for spec in RAW_TABLES:
        if spec.name == "moderation_outcomes":
            table = verdicts
        elif not (raw / spec.name).exists():
            continue
        else:
            table = events if spec.name == "order_events" and events is not None else _read(raw, spec)
        for d in dates:
            cut = cut_table(spec, table, d, events, verdicts)
            dst = root / d.isoformat() / "raw" / spec.name
            dst.mkdir(parents=True, exist_ok=True)
            pq.write_table(cut, dst / "part-00000.parquet", compression="snappy")
    dataset = (raw / "_dataset.json").read_text() if (raw / "_dataset.json").exists() else None
    for d in dates:
        if dataset is not None:
            (root / d.isoformat() / "raw" / "_dataset.json").write_text(dataset)
    summary = {"dates": [d.isoformat() for d in dates], "moderator_verdicts": verdicts.num_rows}
    (root / "slices.json").write_text(json.dumps(summary, indent=2) + "\n")
    return dates
