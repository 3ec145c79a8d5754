"""Expected playbook answers on the planted run (tests/analyst_run.py), shared by the FalkorDB and Neo4j tests."""

from __future__ import annotations

from typing import Any

from tests.analyst_run import IDS

# query name -> (parameters, columns to compare, expected rows of those columns, in order)
EXPECTED: dict[str, tuple[dict[str, Any], list[str], list[list[Any]]]] = {
    "ring": (
        {"merchant": "m1"},
        ["account", "hops", "via"],
        [
            ["merchant:m2", 1, ["device"]],
            ["creator:c1", 1, ["device"]],
            ["merchant:m3", 2, ["device", "payment"]],
            ["merchant:m4", 3, ["device", "payment", "address"]],
        ],
    ),
    "collusion": (
        {"cluster": "7"},
        ["member", "cluster_risk", "fraud_risk", "linked_members", "evidence"],
        [
            ["merchant:m1", 0.9, 0.95, 1, "shared device and payment"],
            ["merchant:m2", 0.9, 0.8, 2, "shared device and payment"],
            ["merchant:m3", 0.9, 0.7, 1, "shared device and payment"],
        ],
    ),
    "duplicates": (
        {"cluster": "d1"},
        ["role", "listing", "merchant"],
        [["canonical", "p1", "m1"], ["member", "p2", "m2"]],
    ),
    "counterfeit": (
        {"brand": "B1"},
        ["merchant", "listings", "linked_sellers"],
        [["m1", 1, ["m2"]], ["m2", 1, ["m1"]]],
    ),
    "reporters": (
        {"merchant": "m8"},
        ["reporter", "rings", "reports", "linked_reporters"],
        [
            ["buyer:b1", ["reporter_rings:r1"], 2, ["buyer:b2"]],
            ["buyer:b2", ["reporter_rings:r1"], 1, ["buyer:b1"]],
            ["buyer:b3", [], 1, []],
        ],
    ),
    "shortest_path": (
        {"source": "merchant:m1", "target": "merchant:m4"},
        ["path", "hops"],
        [
            [
                [
                    "merchant:m1",
                    f"identifier:{IDS['d1']}",
                    "merchant:m2",
                    f"identifier:{IDS['pay1']}",
                    "merchant:m3",
                    f"identifier:{IDS['addr1']}",
                    "merchant:m4",
                ],
                6,
            ]
        ],
    ),
    "clusters": (
        {},
        ["cluster", "members", "order_value", "exposure"],
        [
            ["collusion:7", 3, 150.0, 135.0],
            ["identity:1", 3, 150.0, 131.25],  # no cluster risk: mean member risk (0.95 + 0.8) / 2
            ["duplicates:d1", 2, 150.0, 90.0],
            ["reporter_rings:r1", 2, 0.0, 0.0],
        ],
    ),
}


def check_answer(name: str, columns: list[str], rows: list[list[Any]]) -> None:
    """Assert that a playbook answer has the expected rows (selected columns, in order; floats to 1e-9)."""
    _params, cols, expected = EXPECTED[name]
    idx = [columns.index(c) for c in cols]
    got = [[r[i] for i in idx] for r in rows]
    assert len(got) == len(expected), f"{name}: {got}"
    for g, e in zip(got, expected, strict=True):
        for gv, ev in zip(g, e, strict=True):
            if isinstance(ev, float):
                assert gv is not None and abs(gv - ev) < 1e-9, f"{name}: {g} != {e}"
            else:
                assert gv == ev, f"{name}: {g} != {e}"
