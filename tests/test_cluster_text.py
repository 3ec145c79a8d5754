"""Human summaries of the cluster tables' JSON evidence (pure Python)."""

from __future__ import annotations

import json

from fraudmine.decisions.cluster_text import MAX_CHARS, cluster_evidence_text

COLLUSION = {
    "links": 92,
    "mean_link_score": 2.542,
    "channels": {
        "buyers": {"links": 91, "score": 89.18},
        "duplicate": {"links": 91, "score": 90.976},
        "identifier": {"links": 4, "score": 0.899},
        "promotion": {"links": 0, "score": 0.0},
        "timing": {"links": 92, "score": 30.656},
    },
    "engine": "local",
}


def test_collusion_lists_channels_by_link_count_and_drops_empty_ones() -> None:
    text = cluster_evidence_text("collusion", json.dumps(COLLUSION))
    assert text == (
        "linked on 92 seller pairs by co-timed activity 92, duplicate listings 91, shared buyers 91, "
        "shared identifiers 4"
    )


def test_each_kind_has_its_own_sentence() -> None:
    identity = {
        "links": 10467,
        "shared_identifiers": 830,
        "identifiers": [
            {"type": "address", "id": "identifier:address:1b", "accounts": 20},
            {"type": "device", "accounts": 7},
        ],
    }
    assert cluster_evidence_text("identity", json.dumps(identity)) == (
        "830 shared identifiers over 10,467 account links; most shared: address (20 accounts), device (7 accounts)"
    )
    brushing = {"buyers": 308, "core_buyers": 5, "products": 6, "density": 0.1912, "active_days": 17.9,
                "first_ts": "2026-10-13 09:15:02+00:00"}  # fmt: skip
    assert cluster_evidence_text("brushing", json.dumps(brushing)) == (
        "308 buyers (5 in the dense core) ordering 6 listings, density 0.19, active 18 days from 2026-10-13"
    )
    rings = {"targets": ["merchant:m1", "merchant:m2"], "reports_in_bursts": 25, "first_burst": "2026-06-07 04:01",
             "mean_reporter_credibility": 0.263}  # fmt: skip
    assert cluster_evidence_text("reporter_rings", json.dumps(rings)) == (
        "25 reports in bursts against 2 target(s) from 2026-06-07, mean reporter credibility 0.26"
    )


def test_text_passes_through_and_unknown_objects_list_their_scalars() -> None:
    assert cluster_evidence_text("collusion", "shared payment instrument; co-promotion") == (
        "shared payment instrument; co-promotion"
    )
    assert cluster_evidence_text("collusion", None) is None
    assert cluster_evidence_text("collusion", "{not json") == "{not json"
    assert cluster_evidence_text("new_kind", json.dumps({"pairs": 3, "members": ["a", "b"], "nested": {"x": 1}})) == (
        "pairs 3, members: 2"
    )
    # a known kind with an unexpected shape falls back to the scalar listing instead of failing the run
    assert cluster_evidence_text("collusion", json.dumps({"links": 3, "channels": ["x"]})) == "links 3, channels: 1"
    long = {f"field_{i}": "v" * 80 for i in range(6)}
    assert len(cluster_evidence_text("other", json.dumps(long)) or "") == MAX_CHARS


def test_counts_of_one_are_singular() -> None:
    one = {"links": 1, "shared_identifiers": 1, "identifiers": []}
    assert cluster_evidence_text("identity", json.dumps(one)) == "1 shared identifier over 1 account link"
    assert cluster_evidence_text("collusion", json.dumps({"links": 1, "channels": {}})) == "linked on 1 seller pair"
