"""Variation families (a shop's colour/size variants) are kept out of the duplicate clusters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fraudmine.config import DedupConfig
from fraudmine.dedup.listings import find_duplicates
from fraudmine.dedup.variants import one_word_edit, variant_pairs


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        ("waterproof smart watch blue 2024", "waterproof smart watch blue 2024 red", True),  # a colour added
        ("denim jacket red", "denim jacket blue", True),  # a colour replaced
        ("leicht Jeansjacke weiß weiß", "leicht Jeansjacke weiß", True),
        ("防水行车记录仪黑色", "防水行车记录仪", True),  # unspaced: a short run added
        ("🔥 ポータブルイヤホンピンク2019ホワイト", "🔥 ポータブルイヤホンピンク2019", True),
        ("denim jacket red", "Denim  Jacket RED", False),  # equal after folding: a re-post, a duplicate
        ("防水行车记录仪", "牛仔夹克白色", False),  # unspaced: a different phrase
        ("🔥 防水行车记录仪", "🔥 牛仔夹克白色", False),
        ("denim jacket red", "jacket denim red", False),  # word order
        ("a b c", "a x y c", False),  # two words for one
        ("waterrpoof denim jacket white", "waterproof denim jacket white red", False),  # two edits
        ("phone case", "phone case extraordinarilylongword", False),  # longer than a colour/size word
    ],
)
def test_one_word_edit(a: str, b: str, want: bool) -> None:
    assert one_word_edit(a, b) is want
    assert one_word_edit(b, a) is want


def test_variant_pairs_needs_same_shop_price_and_description() -> None:
    titles = ["denim jacket red", "denim jacket blue"] * 5
    i, j = np.arange(0, 10, 2), np.arange(1, 10, 2)
    merchant = ["m1", "m1", "m1", "m2", "m1", "m1", "m1", "m1", None, None]
    price = [10.0, 10.0, 10.0, 10.0, 10.0, 12.0, 10.0, 10.0, 10.0, 10.0]
    desc = ["d", "d", "d", "d", "d", "d", "d", "other", "d", "d"]
    got = variant_pairs(i, j, merchant, price, desc, titles)
    # pair 0: a variant; 1: two shops; 2: two prices; 3: two descriptions; 4: no shop known
    assert got.tolist() == [True, False, False, False, False]
    assert variant_pairs(i[:0], j[:0], merchant, price, desc, titles).shape == (0,)


def test_a_missing_description_is_unknown_not_a_difference() -> None:
    titles = ["denim jacket red", "denim jacket red blue"] * 4
    i, j = np.arange(0, 8, 2), np.arange(1, 8, 2)
    merchant = ["m1"] * 8
    price = [10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 12.0]
    desc = ["d", None, None, None, None, "d", None, None]
    got = variant_pairs(i, j, merchant, price, desc, titles)
    # pairs 0-2: one or both descriptions missing, same shop, price and a one-word edit; 3: two prices
    assert got.tolist() == [True, True, True, False]


def _listings(merchants: list[str], prices: list[float]) -> pd.DataFrame:
    base = "ultra slim phone case for galaxy s21 shockproof"
    colours = ["black", "red", "blue", "green"]
    others = ["garden hose 20 m green", "wooden chess board set", "ceramic coffee mug 350ml", "yoga mat purple 6mm"]
    return pd.DataFrame(
        {
            "product_id": [f"p{k}" for k in range(8)],
            "merchant_id": [*merchants, "m4", "m4", "m5", "m5"],
            "title": [f"{base} {c}" for c in colours] + others,
            "description": ["slim case, fits s21"] * 4 + [None] * 4,
            "price": [*prices, 20, 30, 8, 25],
            "brand_name": [None] * 8,
            "image_phash": ["00ff00ff00ff00ff", "00ff00ff00ff00fe", "00ff00ff00ff00fc", "00ff00ff00ff00f8",
                            "1234567890abcdef", "fedcba0987654321", "0f0f0f0f0f0f0f0f", "f0f0f0f0f0f0f0f0"],
            "created_at": pd.to_datetime([f"2026-10-0{k + 1}" for k in range(8)], utc=True),
        }
    )  # fmt: skip


def test_a_shops_colour_variants_are_not_duplicates_but_copies_are() -> None:
    params = DedupConfig(minhash_bands=32, min_shop_pair_matches=1)  # one copy per shop pair: no corroboration
    one_shop = find_duplicates(_listings(["m1"] * 4, [10.0] * 4), params)
    assert one_shop.members.empty
    assert one_shop.report["variant_pairs"] >= 3
    # the same listings in four shops, or at four prices, are copies: one cluster
    for merchants, prices in ((["m1", "m2", "m3", "m6"], [10.0] * 4), (["m1"] * 4, [10.0, 9.5, 11.0, 10.4])):
        res = find_duplicates(_listings(merchants, prices), params)
        assert {"p0", "p1", "p2", "p3"} in res.members.groupby("cluster_id")["product_id"].apply(set).tolist()
    # the rule can be switched off
    off = find_duplicates(_listings(["m1"] * 4, [10.0] * 4), DedupConfig(minhash_bands=32, variants=False))
    assert {"p0", "p1", "p2", "p3"} in off.members.groupby("cluster_id")["product_id"].apply(set).tolist()


def test_text_only_pairs_are_trusted_by_the_confirmation_of_their_own_stratum() -> None:
    from fraudmine.dedup.listings import trusted_pairs

    # 40 cross-shop pairs with equal generic titles and different pictures, 25 same-shop pairs with equal
    # titles and the same picture, then one text-only pair (image missing) in each stratum
    n_cross, n_same = 40, 25
    text = np.r_[np.ones(n_cross + n_same + 2), np.full(30, 0.1)]
    bits = np.r_[np.full(n_cross, 30.0), np.zeros(n_same), np.nan, np.nan, np.full(15, 30.0), np.zeros(15)]
    feats = pd.DataFrame(
        {"tfidf_cos": text, "emb_cos": np.nan, "model_agree": np.nan, "brand_agree": np.nan, "image_hamming": bits}
    )
    strata = np.r_[np.zeros(n_cross), np.ones(n_same), 0, 1, np.zeros(30)].astype(np.int64)
    pooled = trusted_pairs(feats, 10.0)
    assert not pooled[n_cross + n_same] and not pooled[n_cross + n_same + 1]  # 25 / 65 confirm: untrusted
    own = trusted_pairs(feats, 10.0, strata)
    assert not own[n_cross + n_same]  # cross-shop: equal titles are not confirmed by the pictures
    assert own[n_cross + n_same + 1]  # one shop: they are
    assert own[: n_cross + n_same].all()  # pairs with two images are always trusted


def test_find_duplicates_does_not_depend_on_the_row_order() -> None:
    rng = np.random.default_rng(3)
    base = ["ultra slim phone case galaxy s21", "garden hose 20 m", "wooden chess board", "ceramic mug 350ml"]
    rows = []
    for k in range(120):
        t = base[k % 4] + " " + ["black", "red", "blue", "green", "pro", "new"][int(rng.integers(6))]
        ph = f"{(k % 4) * 0x1111111111111111 ^ int(rng.integers(0, 4)):016x}"
        rows.append((f"p{k:03d}", f"m{k % 9}", t, None, float(10 + k % 7), None, ph, f"2026-10-{1 + k % 28:02d}"))
    listings = pd.DataFrame(
        rows,
        columns=[
            "product_id",
            "merchant_id",
            "title",
            "description",
            "price",
            "brand_name",
            "image_phash",
            "created_at",
        ],
    )
    listings["created_at"] = pd.to_datetime(listings["created_at"], utc=True)
    params = DedupConfig(minhash_bands=32, threshold_sample=1_000)
    a = find_duplicates(listings, params)
    b = find_duplicates(listings.sample(frac=1.0, random_state=1), params)
    assert a.report["threshold"] == b.report["threshold"]
    assert not a.members.empty
    pd.testing.assert_frame_equal(a.members, b.members)
    key = ["src", "dst"]
    pd.testing.assert_frame_equal(
        a.edges.sort_values(key).reset_index(drop=True), b.edges.sort_values(key).reset_index(drop=True)
    )


def test_a_shared_photo_adds_to_the_score_only_when_the_texts_agree() -> None:
    """Resellers show one supplier's photo under their own titles: the photo alone is not a copy."""
    import pandas as pd

    from fraudmine.dedup.features import unsupervised_score

    feats = pd.DataFrame(
        {
            "tfidf_cos": [0.3, 0.3, 0.8, 0.8],
            "emb_cos": [float("nan")] * 4,
            "model_agree": [0.0] * 4,
            "image_hamming": [2.0, float("nan"), 2.0, float("nan")],
            "brand_agree": [float("nan")] * 4,
        }
    )
    s = unsupervised_score(feats)
    assert s[0] == s[1] == 0.3  # same photo, unrelated titles: as if no photo
    assert s[2] > s[3] + 0.2  # same photo confirming agreeing titles
