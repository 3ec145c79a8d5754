"""PageRank features: out of fold (a merchant's own label never moves its own feature) and time-safe."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from fraudmine.features.graph_rank import pagerank_features
from fraudmine.graph import schemas as S
from fraudmine.graph.cluster_features import fold_col

D = datetime(2026, 11, 1, tzinfo=UTC)
EARLY = datetime(2026, 6, 1, tzinfo=UTC)
N_FOLDS = 3

# two shops sharing buyers and a device, a third shop linked to them by one buyer, a fourth apart
_EDGES = [
    ("merchant:m1", "product:p1", "merchant__sells__product"),
    ("merchant:m2", "product:p2", "merchant__sells__product"),
    ("merchant:m3", "product:p3", "merchant__sells__product"),
    ("merchant:m4", "product:p4", "merchant__sells__product"),
    ("merchant:m5", "product:p5", "merchant__sells__product"),
    ("buyer:b1", "product:p1", "buyer__ordered__product"),
    ("buyer:b1", "product:p2", "buyer__ordered__product"),
    ("buyer:b2", "product:p2", "buyer__ordered__product"),
    ("buyer:b2", "product:p3", "buyer__ordered__product"),
    ("buyer:b3", "product:p4", "buyer__ordered__product"),
    ("buyer:b3", "product:p5", "buyer__ordered__product"),
    ("merchant:m1", "identifier:device:x", "merchant__uses__identifier"),
    ("merchant:m2", "identifier:device:x", "merchant__uses__identifier"),
    ("creator:c1", "product:p3", "creator__promotes__product"),
]


def _events(spark: Any, late: tuple[str, str, str] | None = None) -> Any:
    rows = [(s, d, t, datetime(2026, 3, 1, tzinfo=UTC), 1.0) for s, d, t in _EDGES]
    if late is not None:
        rows.append((*late, LATE, 1.0))
    return spark.createDataFrame(rows, S.EVENTS_SCHEMA)


def _labels(spark: Any, rows: list[tuple[str, str, datetime]]) -> Any:
    return spark.createDataFrame(
        [("merchant", m, lab, at) for m, lab, at in rows],
        "entity_type string, entity_id string, label string, labelled_at timestamp",
    )


def _feats(
    spark: Any, events: Any, labels: Any, as_of: datetime, n_folds: int = N_FOLDS
) -> dict[str, tuple[float, float]]:
    out = pagerank_features(events, labels, as_of, hub_min_degree=25, n_folds=n_folds)
    return {r["entity_id"]: (r["pagerank_rel"], r["ppr_bad_lift"]) for r in out.collect()}


def _folds(spark: Any) -> dict[str, int]:
    df = spark.createDataFrame([(f"merchant:m{i}",) for i in range(1, 6)], "node_id string")
    return {r[0].split(":")[1]: int(r[1]) for r in df.select("node_id", fold_col("node_id", N_FOLDS, 0)).collect()}


LATE = datetime(2026, 9, 1, tzinfo=UTC)  # after the training cut-off of the time-safety test, before D
LABELS = [("m1", "fraud", EARLY), ("m2", "ok", EARLY), ("m3", "fraud", LATE), ("m4", "ok", EARLY)]


@pytest.fixture(scope="module")
def at_d(spark: Any) -> dict[str, tuple[float, float]]:
    """Features as of D with :data:`LABELS` (shared by the tests: each call is several Spark jobs)."""
    return _feats(spark, _events(spark), _labels(spark, LABELS), D)


def test_own_label_never_moves_own_feature(spark: Any, at_d: dict[str, tuple[float, float]]) -> None:
    """Flip m2 from ok to fraud: m2's feature is unchanged, a neighbour's (m1/m3, other folds) may move."""
    folds = _folds(spark)
    # the guarantee bites only when m2's fold differs from a neighbour's: check the hash puts them apart
    assert len({folds["m1"], folds["m2"], folds["m3"]}) >= 2, folds
    ev, before = _events(spark), at_d
    flipped = [(m, "fraud" if m == "m2" else lab, at) for m, lab, at in LABELS]
    after = _feats(spark, ev, _labels(spark, flipped), D)
    assert after["m2"][1] == pytest.approx(before["m2"][1], rel=1e-9, abs=1e-12)
    moved = [m for m in ("m1", "m3") if folds[m] != folds["m2"] and after[m][1] != pytest.approx(before[m][1])]
    assert moved, "a neighbour in another fold must see m2 as a new seed"
    assert after["m2"][0] == pytest.approx(before["m2"][0])  # plain PageRank is label-free


def test_labels_and_edges_after_cutoff_do_not_move_training_features(
    spark: Any, at_d: dict[str, tuple[float, float]]
) -> None:
    """A label dated after the cut-off and an edge after it: features as of the cut-off are unchanged."""
    cut = datetime(2026, 8, 1, tzinfo=UTC)
    base = _feats(spark, _events(spark), _labels(spark, LABELS), cut)
    later = [
        *LABELS,
        ("m5", "fraud", datetime(2026, 9, 15, tzinfo=UTC)),
        ("m4", "fraud", datetime(2026, 9, 15, tzinfo=UTC)),
    ]
    ev = _events(spark, late=("merchant:m4", "identifier:device:x", "merchant__uses__identifier"))
    moved = _feats(spark, ev, _labels(spark, later), cut)
    assert moved.keys() == base.keys()
    for m, v in base.items():
        assert moved[m] == pytest.approx(v), m
    assert base["c1"][1] != pytest.approx(at_d["c1"][1])  # the cut-off matters: m3's label is after it


def test_unlabelled_accounts_take_every_seed_and_unreached_get_zero(at_d: dict[str, tuple[float, float]]) -> None:
    feats = at_d
    assert "c1" in feats  # creators get rows too
    assert feats["m5"][1] == pytest.approx(0.0)  # its component has no seed
    assert feats["c1"][1] > 0  # unlabelled, next to the fraud-labelled m3 through p3
    assert sum(v[0] for v in feats.values()) > 0


def test_local_pagerank_groups_equal_one_run_per_group(spark: Any) -> None:
    """The one-collect grouped run equals ``pagerank`` per group; a group without a graph seed gives no rows."""
    from fraudmine.graph.algorithms.engine import LocalEngine

    edges = spark.createDataFrame(
        [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a"), ("c", "e")], "src string, dst string"
    )
    seeds = spark.createDataFrame([("a", 0), ("c", 1), ("e", 1), ("zz", 2)], "node string, group long")
    eng = LocalEngine()
    got = {(r["group"], r["node"]): r["score"] for r in eng.pagerank_groups(edges, seeds).frame.collect()}
    assert {g for g, _ in got} == {0, 1}
    for g, names in ((0, ["a"]), (1, ["c", "e"])):
        one = eng.pagerank(edges, seeds=spark.createDataFrame([(n,) for n in names], "node string")).frame.collect()
        for r in one:
            assert got[(g, r["node"])] == pytest.approx(r["score"], abs=1e-12)
