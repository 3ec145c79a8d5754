"""Cluster-quality scoring and the community benchmark's parsing and scoring, on hand-made inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fraudmine.cli import main
from fraudmine.cluster_eval import best_match_f1, evaluate_clusters, partition_ari
from fraudmine.graph.community_bench import BenchInputError, read_edges, read_truth, score


def _write(tmp: Path) -> tuple[Path, Path]:
    truth, run = tmp / "truth", tmp / "run"
    truth.mkdir()
    (run / "clusters" / "members").mkdir(parents=True)
    (run / "graph" / "nodes").mkdir(parents=True)
    ent = pd.DataFrame(
        [
            ("merchant", "a", "collusion_ring", "ring-0", "shop"),
            ("merchant", "b", "collusion_ring", "ring-0", "shop"),
            ("merchant", "c", "collusion_ring", "ring-0", "shop"),
            ("creator", "k", "creator_collusion", "ring-0", "promoter"),
            ("buyer", "x1", "brushing", "brush-0", "fake_buyer"),
            ("buyer", "x2", "brushing", "brush-0", "fake_buyer"),
            ("product", "p1", "brushing", "brush-0", "target"),
            ("buyer", "r1", "malicious_reporting", "mrep-0", "reporter"),
            ("buyer", "r2", "malicious_reporting", "mrep-0", "reporter"),
            ("merchant", "v", "malicious_reporting", "mrep-0", "victim"),
        ],
        columns=["entity_type", "entity_id", "typology", "group_id", "role"],
    )
    ent.to_parquet(truth / "entities.parquet")
    nodes = pd.DataFrame({"node_id": [f"merchant:{c}" for c in "abcdefv"] + ["creator:k"]})
    nodes["node_type"] = nodes["node_id"].str.split(":").str[0]
    nodes.to_parquet(run / "graph" / "nodes" / "part-0.parquet")
    members = pd.DataFrame(
        [
            ("col-1", "collusion", "merchant:a", None),
            ("col-1", "collusion", "merchant:b", None),
            ("col-1", "collusion", "merchant:d", None),  # one honest shop in the cluster
            ("br-1", "brushing", "buyer:x1", "buyer"),
            ("br-1", "brushing", "buyer:x2", "buyer"),
            ("br-1", "brushing", "product:p1", "target"),
            ("rr-1", "reporter_rings", "buyer:r1", "reporter"),
        ],
        columns=["cluster_id", "cluster_type", "node_id", "role"],
    )
    members.to_parquet(run / "clusters" / "members" / "part-0.parquet")
    return truth, run


def test_evaluate_clusters_on_a_hand_made_run(tmp_path: Path) -> None:
    truth, run = _write(tmp_path)
    rows = {r["clusters"]: r for r in evaluate_clusters(truth, run)}
    col = rows["collusion"]
    assert col["precision"] == pytest.approx(2 / 3) and col["recall"] == pytest.approx(2 / 4)
    sellers = [*sorted(f"merchant:{c}" for c in "abcdefv"), "creator:k"]
    exp = partition_ari(
        sorted(sellers),
        {"merchant:a": "r", "merchant:b": "r", "merchant:c": "r", "creator:k": "r"},
        {"merchant:a": "c", "merchant:b": "c", "merchant:d": "c"},
    )
    assert col["ari"] == pytest.approx(exp) and 0 < exp < 1
    assert rows["brushing"]["f1"] == pytest.approx(1.0) and rows["brushing"]["block_f1"] == pytest.approx(1.0)
    rr = rows["reporter_rings"]
    assert rr["precision"] == 1.0 and rr["recall"] == 0.5 and rr["f1"] == pytest.approx(2 / 3)
    assert rows["identity"]["n_pred"] == 0


def test_best_match_f1_and_ari_edge_cases() -> None:
    assert best_match_f1({"t": {"a", "b"}}, {"p": {"a", "b"}, "q": {"c"}}) == 1.0
    assert best_match_f1({"t": {"a", "b"}}, {}) == 0.0
    assert partition_ari(["a", "b", "c"], {"a": "x", "b": "x"}, {"a": "y", "b": "y"}) == 1.0


def test_bench_parsers(tmp_path: Path) -> None:
    snap = tmp_path / "g.txt"
    snap.write_text("# comment\n1 2\n2 3\n3 1\n4 5\n")
    e = read_edges(snap, "snap")
    assert len(e) == 4 and set(e.columns) == {"src", "dst", "weight"} and (e["weight"] == 1.0).all()
    csvf = tmp_path / "g.csv"
    csvf.write_text("src,dst,weight\na,b,2.5\nb,c,1\n")
    assert read_edges(csvf).iloc[0].tolist() == ["a", "b", 2.5]
    bad = tmp_path / "bad.txt"
    bad.write_text("1\n")
    with pytest.raises(BenchInputError, match="line 1 has 1 field"):
        read_edges(bad, "snap")
    pairs = tmp_path / "t1.txt"
    pairs.write_text("1\tA\n2\tA\n3\tB\n")
    assert read_truth(pairs) == {"A": ["1", "2"], "B": ["3"]}
    lines = tmp_path / "t2.txt"
    lines.write_text("1 2 3\n3 4 5\n")
    assert read_truth(lines) == {"0": ["1", "2", "3"], "1": ["3", "4", "5"]}


def test_score_with_overlapping_truth() -> None:
    names = np.array(["1", "2", "3", "4", "5"])
    labels = np.array(["1", "1", "1", "4", "4"])
    s = score(names, labels, {"0": ["1", "2", "3"], "1": ["3", "4", "5"]})
    assert s.overlap_nodes == 1  # node 3 is in both
    assert s.nmi == pytest.approx(1.0) and s.ari == pytest.approx(1.0)  # node 3 keeps its first community
    assert 0.8 < s.f1 < 1.0  # F1 sees the overlap


def test_bench_communities_cli_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edges = tmp_path / "two_cliques.txt"
    lines = [f"{a} {b}" for a in range(5) for b in range(a + 1, 5)]
    lines += [f"{a} {b}" for a in range(5, 10) for b in range(a + 1, 10)] + ["4 5"]
    edges.write_text("\n".join(lines) + "\n")
    truth = tmp_path / "truth.txt"
    truth.write_text("0 1 2 3 4\n5 6 7 8 9\n")
    for method in ("leiden", "cc"):
        assert (
            main(["bench", "communities", "--edges", str(edges), "--truth", str(truth), "--method", method, "--json"])
            == 0
        )
        out = json.loads(capsys.readouterr().out)
        assert {"nmi", "ari", "f1", "seconds", "communities"} <= set(out)
        if method == "leiden":
            assert out["nmi"] == pytest.approx(1.0) and out["communities"] == 2
        else:
            assert out["communities"] == 1 and out["nmi"] == pytest.approx(0.0)
