"""Brand library: keys, de-duplication, authorisation as of a date, typo-squats, counterfeit evidence."""

from __future__ import annotations

import pandas as pd
import pytest

from fraudmine.dedup.brands import BrandMatcher, authorised_as_of, brand_key, brand_keys, dedupe_brands, is_squat
from fraudmine.dedup.violations import brand_violations

BRANDS = pd.DataFrame(
    {
        "brand_id": ["b1", "b2", "b3", "b4", "b5"],
        "name": ["Nike", "NIKE, Inc.", "Adidas Official Store", "Louis Vuitton", "Acme"],
        "aliases": [None, None, None, "LV", None],
        "protected": [True, False, True, True, False],
    }
)


@pytest.mark.parametrize(
    ("raw", "key"),
    [("NIKE, Inc.", "nike"), ("Nike Official Store", "nike"), ("N I K E", "nike"), ("Ｎｉｋｅ", "nike"),
     ("Adidas GmbH", "adidas"), ("Louis Vuitton", "louisvuitton"), ("Citroën Ltd.", "citroen")],
)  # fmt: skip
def test_brand_key_normalises_case_suffixes_spacing_width_accents(raw: str, key: str) -> None:
    assert brand_key(raw) == key


def test_dedupe_brands_maps_variants_to_one_protected_canonical_id() -> None:
    d = dedupe_brands(BRANDS).set_index("brand_id")
    assert d.loc["b2", "canonical_brand_id"] == "b1"
    assert bool(d.loc["b2", "protected"])


@pytest.mark.parametrize(
    ("title", "kind"),
    [("Nike air max", "exact"), ("Nlke running shoes", "typo_squat"), ("N1ke air", "typo_squat"),
     ("Nkie trainers", "typo_squat"), ("Adidsa top", "typo_squat"), ("Аdidas sneakers", "homoglyph"),
     ("louis vuiton bag", "typo_squat")],
)  # fmt: skip
def test_mentions_find_exact_typo_squat_and_homoglyph(title: str, kind: str) -> None:
    found = BrandMatcher(brand_keys(BRANDS)).mentions(title)
    assert [m.kind for m in found] == [kind]


@pytest.mark.parametrize(
    ("title", "kind"),
    [("Nike经典运动鞋红色", "exact"), ("Louis Vuittonクラシックパーカーレッド", "exact"),
     ("Nіke经典运动鞋", "homoglyph"), ("Nlke经典运动鞋", "typo_squat")],
)  # fmt: skip
def test_a_brand_run_into_another_script_is_no_homoglyph(title: str, kind: str) -> None:
    # CJK titles write the brand in Latin letters with no space before the next word
    assert [m.kind for m in BrandMatcher(brand_keys(BRANDS)).mentions(title)] == [kind]


@pytest.mark.parametrize("title", ["like a bike, nice mug", "Nikon camera", "unrelated acne cream"])
def test_ordinary_words_are_not_brand_squats(title: str) -> None:
    assert [m for m in BrandMatcher(brand_keys(BRANDS)).mentions(title) if m.brand_id != "b5"] == []


def test_is_squat_rejects_arbitrary_edits_of_short_keys() -> None:
    assert is_squat("nlke", "nike") and not is_squat("nice", "nike") and is_squat("adidsa", "adidas")
    assert not is_squat("phone", "iphone")


def test_authorisation_is_joined_as_of_the_run_date() -> None:
    auth = pd.DataFrame(
        {"brand_id": ["b1", "b1"], "merchant_id": ["m1", "m2"],
         "valid_from": pd.to_datetime(["2026-01-01", "2026-01-01"]), "valid_to": pd.to_datetime([None, "2026-06-01"])}
    )  # fmt: skip
    assert authorised_as_of(auth, pd.Timestamp("2026-11-01")) == {("b1", "m1")}
    assert authorised_as_of(auth, pd.Timestamp("2026-03-01")) == {("b1", "m1"), ("b1", "m2")}


def test_violations_separate_sloppy_claims_from_counterfeit_patterns() -> None:
    run = pd.Timestamp("2026-11-01")
    products = pd.DataFrame(
        {
            "product_id": ["p1", "p2", "p3", "p4", "p5", "p6"],
            "merchant_id": ["auth", "auth", "honest", "fake", "fake", "honest"],
            "brand_id": ["b1", "b1", "b2", None, "b1", None],
            "title": ["Nike air", "Nike run", "Nike tee", "Nlke air", "Nike air copy", "garden hose"],
            "price": [100.0, 120.0, 95.0, 30.0, 35.0, 20.0],
        }
    )
    merchants = pd.DataFrame(
        {"merchant_id": ["auth", "honest", "fake"],
         "registered_at": pd.to_datetime(["2020-01-01", "2021-01-01", "2026-10-20"])}
    )  # fmt: skip
    auth = pd.DataFrame({"brand_id": ["b1"], "merchant_id": ["auth"], "valid_from": [pd.Timestamp("2020-01-01")],
                         "valid_to": [pd.NaT]})  # fmt: skip
    v = brand_violations(products, merchants, BRANDS, auth, run, copied={"p5"}).set_index("product_id")
    assert set(v.index) == {"p3", "p4", "p5"}  # the authorised seller and the unbranded listing are clean
    assert v.loc["p3", "level"] == "unauthorised_claim"  # honest shop, market price: the claim alone
    assert v.loc["p4", "level"] == "counterfeit_pattern" and v.loc["p4", "kind"] == "typo_squat"
    assert "nlke" in v.loc["p4", "evidence"] and "new" not in v.loc["p4", "evidence"]
    assert "registered 12 days" in v.loc["p4", "evidence"]
    assert "copies another merchant" in v.loc["p5", "evidence"] and "market median" in v.loc["p5", "evidence"]
    assert v.index[-1] == "p3" and v.loc["p5", "n_evidence"] == 3  # most evidence first


def test_a_typo_of_the_declared_brand_is_the_claim_not_a_squat() -> None:
    products = pd.DataFrame(
        {
            "product_id": ["p1", "p2", "p3"],
            "merchant_id": ["honest", "fake", "honest"],
            "brand_id": ["b1", None, "b3"],
            "title": ["Nkie running shoes", "Nkie running shoes", "Nkie sneakers"],
            "price": [100.0, 100.0, 100.0],
        }
    )
    merchants = pd.DataFrame({"merchant_id": ["honest", "fake"], "registered_at": pd.to_datetime(["2020-01-01"] * 2)})
    auth = pd.DataFrame(columns=["brand_id", "merchant_id", "valid_from", "valid_to"])
    v = brand_violations(products, merchants, BRANDS, auth, pd.Timestamp("2026-11-01"))
    kinds = {(p, b): k for p, b, k in zip(v["product_id"], v["brand_id"], v["kind"], strict=True)}
    # p1 declares Nike: its misspelt title is a typo of the claim; p2 declares nothing: the squat evades the
    # brand field; p3 declares Adidas: its "Nkie" is still a squat of another protected brand
    want = {("p1", "b1"): "exact", ("p2", "b1"): "typo_squat", ("p3", "b3"): "exact", ("p3", "b1"): "typo_squat"}
    assert kinds == want
    assert v.set_index("product_id").loc["p1", "level"] == "unauthorised_claim"
