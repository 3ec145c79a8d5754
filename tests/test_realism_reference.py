"""The realism benchmark's reference clustering: near-identical images and cohesion attachment."""

from __future__ import annotations

import numpy as np

from fraudmine.synth.realism.reference import attach_to_cores, near_image_pairs

H = np.uint64(0x0123_4567_89AB_CDEF)


def _flip(h: np.uint64, *bits: int) -> np.uint64:
    out = int(h)
    for b in bits:
        out ^= 1 << b
    return np.uint64(out)


def test_near_image_pairs_checks_the_hamming_distance_not_a_band_collision() -> None:
    phash = np.array(
        [
            H,  # merchant 0
            _flip(H, 1, 20, 40),  # merchant 1: 3 bits off -> near
            _flip(H, 0, 2, 4, 6, 8, 10, 12, 14, 16),  # merchant 2: 9 bits, one band equal -> not near
            _flip(H, 3),  # merchant 0 again: same shop -> not a pair
            _flip(H, 17, 18, 19, 21, 33, 34, 35, 36),  # merchant 3: 8 bits, low band equal -> near
        ],
        dtype=np.uint64,
    )
    merchant = np.array([0, 1, 2, 0, 3])
    got = near_image_pairs(phash, merchant, max_bits=8)
    pairs = set(zip(got["a"].tolist(), got["b"].tolist(), strict=True))
    assert pairs == {(0, 1), (0, 3)}  # 1 and 3 differ in 11 bits
    assert (got["a"] < got["b"]).all()


def test_attach_to_cores_needs_links_to_several_members_of_a_large_enough_core() -> None:
    # (a, b, votes)
    edges = [
        (0, 1, 3), (1, 2, 3), (0, 2, 4),  # core {0, 1, 2}
        (3, 0, 2), (3, 1, 2),  # 3: two-channel links to 2 of 3 core members -> attaches
        (4, 0, 2), (4, 5, 2),  # 4: one core member only -> stays alone
        (6, 0, 1), (6, 1, 1), (6, 2, 1),  # 6: one-channel links only -> stays alone
        (7, 8, 3), (9, 7, 2), (9, 8, 2),  # core {7, 8} is below min_core -> 9 stays alone
        (10, 3, 2), (10, 0, 2),  # 10: 3 is not a core member in the one pass -> stays alone
    ]  # fmt: skip
    a, b, v = (np.array(c) for c in zip(*edges, strict=True))
    lab = attach_to_cores(11, a, b, v)
    core = lab[0]
    assert lab[1] == lab[2] == lab[3] == core
    assert lab[7] == lab[8] != core
    alone = [4, 5, 6, 9, 10]
    assert all(np.sum(lab == lab[i]) == 1 for i in alone), lab


def test_attach_to_cores_requires_a_share_of_the_core() -> None:
    # core of 6 (a path of 3-channel links); node 6 has two-channel links to 2 of them: 2 < 0.5 * 6
    a = np.array([0, 1, 2, 3, 4, 6, 6])
    b = np.array([1, 2, 3, 4, 5, 0, 1])
    v = np.array([3, 3, 3, 3, 3, 2, 2])
    lab = attach_to_cores(7, a, b, v)
    assert np.sum(lab == lab[6]) == 1
    v[:] = 3
    assert attach_to_cores(7, a, b, v)[6] == lab[0]


def test_a_shared_photo_under_unrelated_titles_is_not_a_copied_listing() -> None:
    from fraudmine.synth.realism.reference import copied_listing_pairs, title_tokens

    phash = np.array([H, _flip(H, 1, 2), _flip(H, 5), _flip(H, 9, 30)], dtype=np.uint64)
    merchant = np.array([0, 1, 2, 3])
    titles = [
        "wireless earbuds bluetooth black",
        "bluetooth wireless earbuds black HOT",  # the copy: same words, one token added
        "sport headphones red model x",  # a reseller's own title over the supplier photo
        "蓝牙耳机黑色",  # no spaces: character bigrams
    ]
    img = near_image_pairs(phash, merchant, max_bits=8)
    assert len(img) == 6  # every pair shares the photo
    got = copied_listing_pairs(img, titles, min_sim=0.4)
    assert set(zip(got["a"].tolist(), got["b"].tolist(), strict=True)) == {(0, 1)}
    assert title_tokens("蓝牙耳机") == frozenset({"蓝牙", "牙耳", "耳机"})


def test_a_shared_identifier_and_a_registration_week_are_one_vote() -> None:
    import pandas as pd

    from fraudmine.synth.realism.reference import CHANNELS, pair_votes

    # an agency's shops 0-5: every pair shares its phone and was onboarded the same week; pairs (0, 1),
    # (1, 2) also show one supplier photo under colliding generic titles (a chance copied-listing vote).
    # A ring 10-13: registration burst, shared buyer pool and copied listings on every pair.
    rows = []
    for i in range(6):
        for j in range(i + 1, 6):
            rows.append({"a": i, "b": j, "identifier": 1, "registration": 1, "image": int((i, j) in {(0, 1), (1, 2)})})
    for i in range(10, 14):
        for j in range(i + 1, 14):
            rows.append({"a": i, "b": j, "registration": 1, "buyer": 1, "image": 1})
    ev = pd.DataFrame(rows).fillna(0).astype(int).reindex(columns=["a", "b", *CHANNELS], fill_value=0)
    votes = pair_votes(ev)
    agency = ev["b"].to_numpy() < 6
    assert votes[agency & (ev["image"].to_numpy() == 1)].tolist() == [2, 2]  # id + registration + copy: 2, not 3
    assert set(votes[agency & (ev["image"].to_numpy() == 0)].tolist()) == {1}
    lab = attach_to_cores(14, ev["a"].to_numpy(), ev["b"].to_numpy(), votes)
    assert all(np.sum(lab == lab[i]) == 1 for i in range(6)), lab  # the agency forms no core ...
    assert len({lab[i] for i in range(10, 14)}) == 1 and np.sum(lab == lab[10]) == 4  # ... the ring does
