"""Dedup library: normalisation, blocking generators, threshold, clustering, benchmark on tiny tables."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from fraudmine.dedup.blocking import block, hamming, minhash_lsh, model_keys, phash_buckets, tfidf_knn
from fraudmine.dedup.cluster import CannotLink, canonical_member, cluster_pairs, unique_mapping
from fraudmine.dedup.corpus import build_corpus
from fraudmine.dedup.normalize import normalize, title_key
from fraudmine.dedup.pairs import BucketGuard
from fraudmine.dedup.threshold import image_confirmation, image_conflict_cut, mixture_threshold


def test_normalize_folds_width_case_accents_and_keeps_strong_tokens() -> None:
    n = normalize("ＳＯＮＹ Café KDL-40V4100 200 W 2.5in")
    assert n.tokens[:2] == ("sony", "cafe")
    assert "kdl40v4100" in n.models
    assert {"200w", "2.5in", "kdl40v4100"} <= set(n.strong)
    assert "2" not in n.tokens  # a unit is one token, not split at its decimal point


def test_normalize_splits_scripts_without_spaces_into_bigrams() -> None:
    assert normalize("索尼电视").tokens == ("索尼", "尼电", "电视")
    assert title_key("Sony Turntable - PSLX350H") == title_key("sony turntable pslx350h")


def _corpus(titles: list[str], side: list[int] | None = None, phash: list[str | None] | None = None):  # type: ignore[no-untyped-def]
    return build_corpus(list(range(len(titles))), titles, phashes=phash, side=side)


def test_knn_and_model_keys_find_the_reworded_duplicate_across_sides() -> None:
    c = _corpus(
        [
            "Sony turntable PS-LX350H belt drive",
            "Bose speaker AM53BK",
            "Sony PSLX350H turntable",
            "Bose AM-53BK speakers",
        ],
        side=[0, 0, 1, 1],
    )
    i, j = tfidf_knn(c, k=1)
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == {(0, 2), (1, 3)}
    mi, mj = model_keys(c, BucketGuard())
    assert (0, 2) in set(zip(mi.tolist(), mj.tolist(), strict=True))


def test_hot_buckets_are_skipped_and_reported() -> None:
    c = _corpus(["cheap case XYZ123"] * 6 + ["other thing ABC999", "other thing ABC999"])
    guard = BucketGuard(cap=5)
    i, _ = model_keys(c, guard)
    assert guard.skipped_buckets == 1 and guard.skipped_pairs == 15
    assert guard.skipped[0] == ("model", "xyz123", 6)
    assert len(i) == 1  # only the small bucket's pair


def test_phash_buckets_match_brute_force_within_radius() -> None:
    rng = np.random.default_rng(3)
    base = rng.integers(0, 2**63, size=30, dtype=np.uint64)
    flips = np.uint64(1) << rng.integers(0, 64, size=30).astype(np.uint64)
    hashes = np.r_[base, base ^ flips]
    c = _corpus(["x"] * 60, phash=[f"{int(h):016x}" for h in hashes])
    i, j = phash_buckets(c, BucketGuard(cap=1000), radius=3)
    a, b = np.triu_indices(60, k=1)
    d = hamming(c.phash[a], c.phash[b])
    expected = set(zip(a[d <= 3].tolist(), b[d <= 3].tolist(), strict=True))
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == expected


@pytest.mark.parametrize("radius", [4, 6, 8])
def test_phash_buckets_find_every_pair_within_radius_at_scale(radius: int) -> None:
    # 1,200 images: pieces of ~log2(n) + 2 bits; copies `radius` bits from their original must all be
    # found (exact lookups on such long pieces only guarantee pieces - 1 bits)
    rng = np.random.default_rng(radius)
    base = rng.integers(0, 2**63, size=1000, dtype=np.uint64)
    orig = base[:200]
    flips = np.zeros(200, dtype=np.uint64)
    for k in range(200):
        for bit in rng.choice(64, size=radius - k % 2, replace=False).tolist():
            flips[k] |= np.uint64(1) << np.uint64(bit)
    hashes = np.r_[base, orig ^ flips]
    c = _corpus(["x"] * len(hashes), phash=[f"{int(h):016x}" for h in hashes])
    i, j = phash_buckets(c, BucketGuard(cap=50), radius=radius)
    a, b = np.triu_indices(len(hashes), k=1)
    d = hamming(c.phash[a], c.phash[b])
    expected = set(zip(a[d <= radius].tolist(), b[d <= radius].tolist(), strict=True))
    assert len(expected) >= 200
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == expected


def test_minhash_lsh_catches_near_copies_and_block_measures_each_generator() -> None:
    titles = [f"vintage leather wallet brown model {k} slim card holder" for k in range(5)] + ["garden hose 20m green"]
    c = _corpus(titles)
    res = block(c, {"minhash": lambda cc, g: minhash_lsh(cc, g, bands=16), "model": model_keys})
    pairs = set(zip(res.i.tolist(), res.j.tolist(), strict=True))
    assert len(pairs) >= 6 and not any(5 in p for p in pairs)  # Jaccard 0.7: each pair found with p ≈ 0.99
    assert set(res.seconds) == {"minhash", "model"}


def test_mixture_threshold_separates_two_modes() -> None:
    rng = np.random.default_rng(0)
    s = np.r_[rng.normal(0.2, 0.05, 500), rng.normal(0.8, 0.05, 100)]
    assert 0.35 < mixture_threshold(s) < 0.65
    with pytest.raises(ValueError, match="at least 4"):
        mixture_threshold(np.array([0.1]))


def test_unique_mapping_keeps_one_partner_per_record() -> None:
    i, j = np.array([0, 0, 1]), np.array([2, 3, 3])
    keep = unique_mapping(i, j, np.array([0.9, 0.8, 0.85]), 0.5)
    assert keep.tolist() == [True, False, True]


@pytest.mark.parametrize("seed", range(10))
def test_cluster_pairs_equals_components_when_cohesive(seed: int) -> None:
    g = nx.gnp_random_graph(30, 0.08, seed=seed)
    edges = np.array(list(g.edges()) or [(0, 1)], dtype=np.int64)
    labels, _ = cluster_pairs(30, edges[:, 0], edges[:, 1], np.ones(len(edges)), 0.5, min_cohesion=0.0)
    for comp in nx.connected_components(g):
        assert len({labels[v] for v in comp}) == 1 and labels[min(comp)] == min(comp)


def test_chaining_is_split_by_centre_clustering() -> None:
    # a chain 0-1-2-3-4-5: one component of density 5/15, split into stars
    i, j = np.arange(5), np.arange(1, 6)
    score = np.array([0.9, 0.8, 0.95, 0.7, 0.85])
    labels, stats = cluster_pairs(6, i, j, score, 0.5, min_cohesion=0.5)
    assert stats["split_components"] == 1
    assert len(set(labels.tolist())) == 3
    canon = canonical_member(labels, np.array([5.0, 4, 3, 2, 1, 0]))
    assert canon[0] == canon[1] == 1


def test_cannot_link_keeps_listings_with_unrelated_images_apart() -> None:
    # 1 has no image and matches both 0 and 2 by text; 0 and 2 carry unrelated photos (32 bits
    # apart).  Components (density 2/3, no split) put all three together; the rule must not.
    phash = np.array([0, 0, 0xFFFFFFFF], dtype=np.uint64)
    known = np.array([True, False, True])
    i, j, score = np.array([0, 1]), np.array([1, 2]), np.array([0.9, 0.8])
    plain, _ = cluster_pairs(3, i, j, score, 0.5)
    assert len(set(plain.tolist())) == 1
    labels, stats = cluster_pairs(3, i, j, score, 0.5, cannot=CannotLink(phash, known, 12.0))
    assert labels.tolist() == [0, 0, 2]  # the image-less listing joins its best match only
    assert stats["refused_edges"] == 1
    # near images (copies, re-encodings) do not conflict: the three stay one cluster
    near = CannotLink(np.array([0, 0, 0b111], dtype=np.uint64), known, 12.0)
    assert len(set(cluster_pairs(3, i, j, score, 0.5, cannot=near)[0].tolist())) == 1


@pytest.mark.parametrize("seed", range(5))
def test_cannot_link_clusters_never_hold_a_conflict(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 40
    g = nx.gnp_random_graph(n, 0.15, seed=seed)
    e = np.array(list(g.edges()), dtype=np.int64)
    phash = rng.integers(0, 2**63, size=n, dtype=np.uint64)
    known = rng.random(n) < 0.7
    labels, _ = cluster_pairs(n, e[:, 0], e[:, 1], rng.random(len(e)), 0.0, 0.0, CannotLink(phash, known, 20.0))
    for a in range(n):
        for b in range(a + 1, n):
            if labels[a] == labels[b] and known[a] and known[b]:
                assert (int(phash[a]) ^ int(phash[b])).bit_count() < 20


def test_image_conflict_cut_separates_copies_from_unrelated_photos() -> None:
    rng = np.random.default_rng(0)
    copies = rng.integers(0, 9, size=300).astype(float)  # re-encoded copies: a few bits apart
    unrelated = rng.binomial(64, 0.5, size=2000).astype(float)  # independent 64-bit hashes
    cut = image_conflict_cut(copies, unrelated)
    assert cut is not None and 8 < cut < 20
    assert image_conflict_cut(np.array([np.nan, np.nan]), np.array([3.0])) is None


def test_text_only_pairs_are_trusted_as_far_as_images_confirm_text() -> None:
    import pandas as pd

    from fraudmine.dedup.features import FEATURES
    from fraudmine.dedup.listings import trusted_pairs

    rng = np.random.default_rng(0)
    n = 400
    text = np.r_[rng.uniform(0.0, 0.5, n // 2), np.full(n // 2, 1.0)]  # dissimilar, then equal titles
    bits = rng.binomial(64, 0.5, n).astype(float)  # unrelated photos ...
    bits[n // 2 : n // 2 + 20] = 2.0  # ... except a tenth of the equal-title pairs: copies
    bits[-10:] = np.nan  # the last equal-title pairs have an image missing
    feats = pd.DataFrame({c: np.nan for c in FEATURES}, index=range(n)).assign(
        tfidf_cos=text, emb_cos=text, model_agree=0.0, brand_agree=1.0, image_hamming=bits
    )
    p = image_confirmation(text, bits, 12.0)
    assert p is not None and p[-1] < 0.5  # equal titles are confirmed by the photos 1 time in 9
    use = trusted_pairs(feats, 12.0)
    assert use[:-10].all() and not use[-10:].any()
    # where equal titles mostly come with the same photo, text-only pairs are trusted
    bits2 = np.where(text == 1.0, 2.0, bits)
    bits2[-10:] = np.nan
    assert trusted_pairs(feats.assign(image_hamming=bits2), 12.0).all()
    assert image_confirmation(text, np.full(n, 3.0), 12.0) is None  # one label: nothing to learn
    assert trusted_pairs(feats, None).all()


def test_bench_dedup_cli_on_tiny_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from fraudmine.cli import main

    (tmp_path / "a.csv").write_bytes(
        "id,name,price\n1,Sony Turntable - PSLX350H,$99\n2,Bose Acoustimass AM53BK,$399\n3,Café grinder CG100,$20\n"
        "4,Panasonic Lumix DMC-FZ28 camera,$300\n".encode("latin-1")
    )
    (tmp_path / "b.csv").write_text(
        "pid|title|manufacturer|price\n10|sony pslx350h belt turntable|Sony|95\n"
        "11|bose am53bk speaker system|Bose|380\n"
        "12|kitchen knife set KS9|Acme|15\n13|panasonic dmc fz28 lumix|Panasonic|290\n",
        encoding="utf-8",
    )
    (tmp_path / "gold.csv").write_text("b;a\n10;1\n11;2\n13;4\n")
    rc = main(
        [
            "bench",
            "dedup",
            "--left",
            str(tmp_path / "a.csv"),
            "--right",
            str(tmp_path / "b.csv"),
            "--truth",
            str(tmp_path / "gold.csv"),
            "--no-embeddings",
            "--json",
        ]
    )
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert list(res) == ["f1", "precision", "recall", "pair_completeness", "candidates_per_record", "seconds"]
    assert res["pair_completeness"] == 1.0
    assert res["recall"] == 1.0


def test_find_duplicates_clusters_reworded_copies_across_shops_and_builds_merchant_features() -> None:
    import pandas as pd

    from fraudmine.config import DedupConfig
    from fraudmine.dedup.listings import find_duplicates, merchant_duplicate_features

    base = "ultra slim phone case for galaxy s21 shockproof black"
    titles = [base, base.replace("black", "noir"), "Ultra-slim PHONE case Galaxy S21 shockproof black", base + " new"]
    others = ["garden hose 20 m green", "wooden chess board set", "ceramic coffee mug 350ml", "yoga mat purple 6mm"]
    listings = pd.DataFrame(
        {
            "product_id": [f"p{k}" for k in range(8)],
            "merchant_id": ["m1", "m2", "m3", "m2", "m4", "m4", "m5", "m5"],
            "title": titles + others,
            "description": [None] * 8,
            "price": [10.0, 9.5, 10.2, 9.9, 20, 30, 8, 25],
            "brand_name": [None] * 8,
            "image_phash": ["00ff00ff00ff00ff", "00ff00ff00ff00fe", None, "00ff00ff00ff00ff",
                            "1234567890abcdef", "fedcba0987654321", "0f0f0f0f0f0f0f0f", "f0f0f0f0f0f0f0f0"],
            "created_at": pd.to_datetime([f"2026-10-0{k + 1}" for k in range(8)], utc=True),
        }
    )  # fmt: skip
    # one product copied once into each shop: shop-pair corroboration off (tests/test_dedup_marketplace.py)
    res = find_duplicates(listings, DedupConfig(minhash_bands=32, min_shop_pair_matches=1))
    by_cluster = res.members.groupby("cluster_id")["product_id"].apply(set).tolist()
    assert {"p0", "p1", "p2", "p3"} in by_cluster
    assert len(res.clusters) == 1 and res.clusters.loc[0, "canonical_product_id"] == "p0"
    feats = merchant_duplicate_features(res.members, listings, pd.Timestamp("2026-11-01", tz="UTC"))
    feats = feats.set_index("merchant_id")
    assert feats.loc["m2", "n_dup_listings"] == 2 and feats.loc["m2", "dup_cross_share"] == 1.0
    early = merchant_duplicate_features(res.members, listings, pd.Timestamp("2026-10-03", tz="UTC"))
    assert set(early["merchant_id"]) == {"m1", "m2"}  # only listings created before the cut-off count


def test_dedup_imports_neither_torch_nor_spark() -> None:
    import subprocess
    import sys

    code = (
        "import sys, fraudmine.dedup.benchmark, fraudmine.dedup.listings, fraudmine.dedup.violations, "
        "fraudmine.dedup.evaluation; "
        "bad = [m for m in ('torch', 'pyspark', 'sentence_transformers') if m in sys.modules]; assert not bad, bad"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr


def test_bench_dedup_rejects_a_truth_file_of_other_ids(tmp_path: Path) -> None:
    from fraudmine.dedup.benchmark import BenchOptions, run_benchmark

    (tmp_path / "a.csv").write_text("id,name\n1,red lamp LX100\n2,blue chair\n3,green mug\n4,old radio\n")
    (tmp_path / "b.csv").write_text("id,name\n7,red lamp lx100\n8,blue chair set\n9,green mug\n10,old radio\n")
    (tmp_path / "gold.csv").write_text("x,y\n1,1\n2,2\n")
    with pytest.raises(ValueError, match="not \\(left ids, right ids\\)"):
        run_benchmark(tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "gold.csv", BenchOptions(embeddings=False))


def test_given_pairs_quality_counts_a_classifier_over_given_pairs() -> None:
    from fraudmine.dedup.benchmark import given_pairs_quality

    q = given_pairs_quality(np.array([0.9, 0.8, 0.2, 0.7, 0.1]), np.array([1, 0, 1, 1, 0]))
    assert (q["pairs"], q["positives"]) == (5, 3)
    assert q["precision"] == pytest.approx(2 / 3) and q["recall"] == pytest.approx(2 / 3)
    assert q["f1"] == pytest.approx(2 / 3)
    assert given_pairs_quality(np.zeros(2), np.array([1, 0]))["f1"] == 0.0


def test_bench_dedup_scores_given_test_pairs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from fraudmine.cli import main

    lamps = ["red lamp LX100", "blue chair BC2", "green mug GM3", "old radio OR4", "steel kettle SK5", "oak desk OD6"]
    (tmp_path / "a.csv").write_text("id,name\n" + "".join(f"{k},{t}\n" for k, t in enumerate(lamps, 1)))
    (tmp_path / "b.csv").write_text(
        "id,name\n" + "".join(f"{k + 10},{t.lower()} new\n" for k, t in enumerate(lamps, 1))
    )
    (tmp_path / "gold.csv").write_text("a,b\n" + "".join(f"{k},{k + 10}\n" for k in range(1, 7)))
    (tmp_path / "train.csv").write_text("ltable_id,rtable_id,label\n1,11,1\n2,12,1\n3,13,1\n1,12,0\n2,13,0\n3,11,0\n")
    (tmp_path / "test.csv").write_text("ltable_id,rtable_id,label\n4,14,1\n5,15,1\n4,15,0\n6,14,0\n")
    args = ["bench", "dedup", "--left", str(tmp_path / "a.csv"), "--right", str(tmp_path / "b.csv")]
    args += ["--truth", str(tmp_path / "gold.csv"), "--no-embeddings", "--json"]
    with pytest.raises(SystemExit, match="--test needs --train"):
        main([*args, "--test", str(tmp_path / "test.csv")])
    assert main([*args, "--train", str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv")]) == 0
    res = json.loads(capsys.readouterr().out)
    given = res["given_test_pairs"]
    assert (given["pairs"], given["positives"]) == (4, 2)
    assert 0.0 <= given["f1"] <= 1.0


def test_best_f1_threshold_picks_the_cut_that_maximises_f1() -> None:
    from fraudmine.dedup.benchmark import best_f1_threshold

    label = np.array([1, 1, 1, 0, 0, 0])
    # cut 0.3 takes the tied pair too: P 3/4, R 1, F1 0.857 beats cut 0.8 (F1 0.8)
    assert best_f1_threshold(np.array([0.9, 0.8, 0.3, 0.3, 0.2, 0.1]), label) == 0.3
    # a cut inside a run of ties is not possible: 0.3 would take four pairs (F1 0.667), so 0.8
    assert best_f1_threshold(np.array([0.9, 0.8, 0.3, 0.3, 0.3, 0.3]), label) == 0.8
    assert best_f1_threshold(np.array([0.4, 0.2]), np.array([0, 0])) == 0.5  # no positive: the default


def test_merchant_violation_features_count_listings_created_before_the_cut_off() -> None:
    import pandas as pd

    from fraudmine.dedup.violations import merchant_violation_features

    violations = pd.DataFrame(
        {
            "product_id": ["p1", "p1", "p2", "p3", "p4"],
            "merchant_id": ["m1", "m1", "m1", "m2", "m2"],
            "n_evidence": [2, 3, 0, 1, 4],
            "level": ["counterfeit_pattern", "counterfeit_pattern", "unauthorised_claim", "counterfeit_pattern",
                      "counterfeit_pattern"],
        }
    )  # fmt: skip
    listings = pd.DataFrame(
        {
            "product_id": ["p1", "p2", "p3", "p4"],
            "created_at": pd.to_datetime(["2026-09-01", "2026-09-02", "2026-09-03", "2026-10-20"], utc=True),
        }
    )
    got = merchant_violation_features(violations, listings, pd.Timestamp("2026-10-01", tz="UTC")).set_index(
        "merchant_id"
    )
    assert got.loc["m1"].tolist() == [2, 1, 3]  # two listings (p1 twice counts once), one with a pattern
    assert got.loc["m2"].tolist() == [1, 1, 1]  # p4 was created after the cut-off


@pytest.mark.parametrize("noise", [4e-8, -4e-8])
def test_scores_equal_to_six_decimals_are_ties_taken_in_pair_order(noise: float) -> None:
    """A chain 0~1~2 below the cohesion bar is split by centre clustering, whose first edge decides the
    centre: float32 noise in the 7th decimal (the local and Spark paths' TF-IDF rows) must not decide it."""
    i, j = np.array([0, 1]), np.array([1, 2])
    exact, _ = cluster_pairs(3, i, j, np.array([0.9, 0.9]), threshold=0.5, min_cohesion=0.8)
    noisy, stats = cluster_pairs(3, i, j, np.array([0.9, 0.9 + noise]), threshold=0.5, min_cohesion=0.8)
    assert stats["split_components"] == 1
    assert exact.tolist() == noisy.tolist() == [0, 0, 2]  # pair (0, 1) comes first: 0 is the centre, 2 alone
    # a real difference (1e-5) still orders the edges by score
    clear, _ = cluster_pairs(3, i, j, np.array([0.9, 0.90001]), threshold=0.5, min_cohesion=0.8)
    assert clear.tolist() == [0, 0, 0]  # pair (1, 2) first: 1 is the centre and takes 0 and 2
