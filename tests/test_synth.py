"""Tests of the synthetic marketplace generator (no Spark)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from fraudmine.contracts.physical import arrow_schema
from fraudmine.contracts.raw import RAW_TABLES, table_spec
from fraudmine.contracts.typologies import TYPOLOGIES
from fraudmine.synth import SCALES, generate
from fraudmine.synth.scenario import ScenarioError, load_scenario

REPO = Path(__file__).resolve().parent.parent
EASY = REPO / "conf" / "scenarios" / "easy.yaml"


@pytest.fixture(scope="session")
def xs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One xs generation of the ``easy`` scenario (clear planted signals), shared by the read-only tests."""
    out = tmp_path_factory.mktemp("synth_xs")
    generate("xs", 11, out, EASY)
    return out


def _raw(out: Path, name: str) -> pd.DataFrame:
    return pq.read_table(out / "raw" / name).to_pandas()


def test_scales_exported() -> None:
    assert {"xs", "s", "m", "l"} <= set(SCALES)


def test_deterministic_by_seed(xs: Path, tmp_path: Path) -> None:
    same = tmp_path / "same"
    other = tmp_path / "other"
    generate("xs", 11, same, EASY)
    generate("xs", 12, other, EASY)
    for spec in RAW_TABLES:
        files = sorted((xs / "raw" / spec.name).glob("*.parquet"))
        assert [f.name for f in files] == sorted(p.name for p in (same / "raw" / spec.name).glob("*.parquet"))
        for f in files:
            assert f.read_bytes() == (same / "raw" / spec.name / f.name).read_bytes(), f
    assert not _raw(xs, "products").equals(_raw(other, "products"))


@pytest.fixture(scope="session")
def xs_default(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One xs generation of the realistic ``default`` scenario."""
    out = tmp_path_factory.mktemp("synth_xs_default")
    generate("xs", 11, out)
    return out


@pytest.mark.parametrize("which", ["xs", "xs_default"])
def test_contract_conformance(which: str, request: pytest.FixtureRequest) -> None:
    xs: Path = request.getfixturevalue(which)
    end = pd.Timestamp(json.loads((xs / "truth" / "summary.json").read_text())["end_date"])
    frames = {}
    for spec in RAW_TABLES:
        files = sorted((xs / "raw" / spec.name).glob("part-*.parquet"))
        assert files, spec.name
        for f in files:
            assert pq.read_schema(f).remove_metadata() == arrow_schema(spec), f
        df = _raw(xs, spec.name)
        frames[spec.name] = df
        assert not df.duplicated(list(spec.primary_key)).any(), spec.name
        for c in spec.columns:
            col = df[c.name]
            if not c.nullable:
                assert col.notna().all(), (spec.name, c.name)
            v = col.dropna()
            if c.enum:
                assert v.isin(c.enum).all(), (spec.name, c.name)
            if c.pattern:
                assert v.astype(str).str.fullmatch(c.pattern).all(), (spec.name, c.name)
            if c.max_length:
                assert (v.str.len() <= c.max_length).all(), (spec.name, c.name)
            if c.min_value is not None:
                assert (v >= c.min_value).all(), (spec.name, c.name)
            if c.max_value is not None:
                assert (v <= c.max_value).all(), (spec.name, c.name)
            if c.dtype == "timestamp":
                assert (v < end).all(), (spec.name, c.name)
    for spec in RAW_TABLES:
        df = frames[spec.name]
        for fk in spec.foreign_keys:
            sub = df if fk.type_column is None else df[df[fk.type_column] == fk.type_value]
            vals = sub[fk.column].dropna()
            assert vals.isin(set(frames[fk.ref_table][fk.ref_column])).all(), (spec.name, fk)
    rep = frames["reports"]
    assert (rep["outcome"].isna() == rep["reviewed_at"].isna()).all()
    done = rep.dropna(subset=["reviewed_at"])
    assert (done["reviewed_at"] > done["reported_at"]).all()


def test_every_typology_planted(xs: Path) -> None:
    ent = pd.read_parquet(xs / "truth" / "entities.parquet")
    merchants = pd.read_parquet(xs / "truth" / "merchants.parquet")
    for t in TYPOLOGIES:
        assert (ent["typology"] == t).sum() > 0, t
    assert 0.04 <= merchants["is_fraud"].mean() <= 0.09
    assert merchants["camouflaged"].any()
    assert set(ent.columns) == {"entity_type", "entity_id", "typology", "group_id", "role"}


def test_ring_members_share_identifiers(xs: Path) -> None:
    ent = pd.read_parquet(xs / "truth" / "entities.parquet")
    ids = _raw(xs, "identities")
    ring = ent[(ent["typology"] == "collusion_ring") & (ent["entity_type"] == "merchant")]
    mi = ids[ids["entity_type"] == "merchant"].merge(ring, on="entity_id")
    shared = mi.groupby(["group_id", "identifier_hash"])["entity_id"].nunique()
    per_ring = shared[shared >= 2].reset_index().groupby("group_id")["identifier_hash"].size()
    assert set(per_ring.index) == set(ring["group_id"])


def test_duplicates_near_identical_phash(xs: Path) -> None:
    ent = pd.read_parquet(xs / "truth" / "entities.parquet")
    prods = _raw(xs, "products").set_index("product_id")
    dup = ent[(ent["typology"] == "duplicate_listing") & (ent["entity_type"] == "product")]
    checked = 0
    for _, g in dup.groupby("group_id"):
        ph = [int(h, 16) for h in prods.loc[g["entity_id"], "image_phash"].dropna()]
        for h in ph[1:]:
            assert (h ^ ph[0]).bit_count() <= 4
            checked += 1
    assert checked > 10


def test_brushing_and_typo_squats_and_reports(xs: Path) -> None:
    ent = pd.read_parquet(xs / "truth" / "entities.parquet")
    orders = _raw(xs, "orders")
    fake = ent[(ent["typology"] == "brushing") & (ent["entity_type"] == "buyer")]
    targets = ent[(ent["typology"] == "brushing") & (ent["entity_type"] == "product")]
    for gid, g in fake.groupby("group_id"):
        tp = set(targets.loc[targets["group_id"] == gid, "entity_id"])
        o = orders[orders["buyer_id"].isin(g["entity_id"]) & orders["product_id"].isin(tp)]
        assert o["buyer_id"].nunique() == len(g)  # every listed fake buyer ordered a target of its block
    titles = _raw(xs, "products")
    squat = ent[ent["role"] == "typo_squat"]["entity_id"]
    sq = titles[titles["product_id"].isin(squat)]
    assert len(sq) > 0 and sq["brand_id"].isna().all()
    brands = set(_raw(xs, "brands")["name"])
    assert not sq["title"].apply(lambda t: any(re.search(rf"\b{re.escape(b)}\b", t) for b in brands)).any()
    reporters = ent[(ent["typology"] == "malicious_reporting") & (ent["role"] == "reporter")]["entity_id"]
    rep = _raw(xs, "reports")
    mal = rep[rep["reporter_id"].isin(reporters)].dropna(subset=["outcome"])
    assert (mal["outcome"] == "rejected").mean() > 0.6


def test_brushing_truth_lists_only_buyers_and_targets_the_block_used(xs_default: Path) -> None:
    """A fake account that never ordered a target left no trace: the truth must not list it."""
    ent = pd.read_parquet(xs_default / "truth" / "entities.parquet")
    orders = _raw(xs_default, "orders")
    brush = ent[ent["typology"] == "brushing"]
    assert len(brush)
    for _, g in brush.groupby("group_id"):
        buyers = set(g.loc[g["entity_type"] == "buyer", "entity_id"])
        targets = set(g.loc[g["entity_type"] == "product", "entity_id"])
        o = orders[orders["buyer_id"].isin(buyers) & orders["product_id"].isin(targets)]
        assert set(o["buyer_id"]) == buyers and set(o["product_id"]) == targets


def test_content_identical_listings_are_duplicates_in_truth(xs_default: Path) -> None:
    """A shop's listings with the same title and image hash cannot be told apart by any matcher: the
    truth must group them (role ``relisting``, honest: not fraud members for scores or verdicts)."""
    from fraudmine.synth.slices import truth_bad_sets

    ent = pd.read_parquet(xs_default / "truth" / "entities.parquet")
    prods = _raw(xs_default, "products").dropna(subset=["image_phash"])
    dup = ent[(ent["typology"] == "duplicate_listing") & (ent["entity_type"] == "product")]
    group = dict(zip(dup["entity_id"], dup["group_id"], strict=True))
    same = prods[prods.duplicated(["merchant_id", "title", "image_phash"], keep=False)]
    assert len(same) > 20
    for _, g in same.groupby(["merchant_id", "title", "image_phash"]):
        assert len({group.get(p) for p in g["product_id"]} - {None}) == 1, g["product_id"].tolist()
        assert all(p in group for p in g["product_id"])
    relist = set(dup.loc[dup["role"] == "relisting", "entity_id"])
    other = set(ent.loc[(ent["entity_type"] == "product") & (ent["role"] != "relisting"), "entity_id"])
    assert relist - other and not (relist - other) & truth_bad_sets(xs_default / "truth")[2]


def test_truth_files(xs: Path) -> None:
    summary = json.loads((xs / "truth" / "summary.json").read_text())
    assert summary["end_date"] == "2026-11-01T00:00:00Z" and summary["seed"] == 11
    assert load_scenario(xs / "truth" / "scenario.yaml").name == "easy"
    m = pd.read_parquet(xs / "truth" / "merchants.parquet")
    assert len(m) == summary["tables"]["merchants"] == 1000
    labels = _raw(xs, "labels")
    assert {"fraud", "ok", "low_quality"} <= set(labels["label"])


def test_scenario_typo_names_key_and_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("brushing:\n  merchant_rat: 0.1\n")
    with pytest.raises(ScenarioError, match=r"bad\.yaml.*brushing\.merchant_rat"):
        load_scenario(bad)


def test_scenario_files_load() -> None:
    assert load_scenario(REPO / "conf" / "scenarios" / "heavy_camouflage.yaml").camouflage.rate > 0.5
    assert load_scenario(REPO / "conf" / "scenarios" / "default.yaml").name == "default"
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(REPO / "nope.yaml")


def test_spec_lookup_used_by_tests() -> None:
    assert table_spec("orders").primary_key == ("order_id",)
