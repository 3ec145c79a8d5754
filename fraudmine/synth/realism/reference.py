"""Reference multi-evidence clustering of merchants (what must still find the rings).

Unsupervised (it never reads ``truth/``): candidate merchant pairs are those
sharing a rare identifier, a rare creator, a rare buyer, a rare reporter
("rare": held by 2..``rare`` merchants) or a near-identical image.  Each pair is
scored on six independent evidence channels: a shared rare identifier,
registration within a week, ≥ 2 shared rare buyers, a shared rare creator, a
copied listing (a near-identical image — Hamming distance ≤ ``max_bits`` of the
64-bit perceptual hash, found through four 16-bit LSH bands as in Indyk & Motwani
1998 — whose two titles also agree, token Jaccard ≥ ``min_title_sim``: the same
photo under unrelated titles is what resellers of one supplier's product look
like), ≥ 2 shared rare reporters.  The number of agreeing channels is the
pair's vote, with the shared identifier and the registration week counted as
one (:func:`pair_votes`: both say "one operator set these shops up", which
agencies and households running several shops do as much as rings).

Clusters in two steps:

1. **cores**: connected components of pairs with at least ``strong`` votes;
2. **attachment**: a merchant left alone by step 1 joins the core (of at least
   ``min_core`` members) it has the most ``weak``-vote links to, if those links
   reach at least ``min_links`` members and at least ``min_share`` of the core.
   One pass, so attached merchants never pull in others.

Step 2 is a cohesion test: a merchant with two agreeing channels to half of a
group is part of it, while the same two channels to one member are common among
honest merchants.  Before the operator channels were merged, a benign operator
group (an agency's shops sharing its identifiers, onboarded the same week) had
two votes on every pair and needed one chance third (a generic title under a
supplier's photo, a shared small creator) to form a core its other shops then
attached to.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fraudmine.synth.realism.relational import US_PER_DAY, components, near_hash_pairs, pairs_from_groups

BAND_BUCKET_MAX = 50  # a band value held by more listings is a common pattern, not a lead


def near_image_pairs(phash: np.ndarray, merchant: np.ndarray, max_bits: int = 8) -> pd.DataFrame:
    """Merchant pairs with listings whose image hashes differ in at most ``max_bits`` bits.

    Args:
        phash: 64-bit perceptual hash per listing (``uint64``).
        merchant: merchant node id per listing (same length).
        max_bits: largest Hamming distance counted as near-identical.

    Returns:
        ``a < b`` merchant ids and ``k`` = a key per near-identical listing pair (one row each).
    """
    x, y = near_hash_pairs(phash, max_bits, BAND_BUCKET_MAX)
    ma, mb = merchant[x], merchant[y]
    keep = ma != mb
    return pd.DataFrame(
        {"a": np.minimum(ma, mb)[keep], "b": np.maximum(ma, mb)[keep], "k": x[keep] * phash.shape[0] + y[keep]}
    )


def attach_to_cores(
    n: int,
    a: np.ndarray,
    b: np.ndarray,
    votes: np.ndarray,
    strong: int = 3,
    weak: int = 2,
    min_links: int = 2,
    min_share: float = 0.5,
    min_core: int = 3,
) -> np.ndarray:
    """Components of ``strong``-vote pairs, then one attachment pass of lone nodes (module docstring).

    Args:
        n: number of nodes.
        a, b: candidate pairs (node ids).
        votes: agreeing channels per pair.
        strong: votes that link a pair directly.
        weak: votes a link needs to count towards attachment.
        min_links: fewest linked core members for an attachment.
        min_share: fewest linked core members as a share of the core's size.
        min_core: smallest core a node may attach to.

    Returns:
        A cluster label per node.
    """
    lab = components(n, a[votes >= strong], b[votes >= strong])
    size = np.bincount(lab, minlength=n)
    w = votes >= weak
    x = np.concatenate([a[w], b[w]])
    y = np.concatenate([b[w], a[w]])
    m = (size[lab[x]] == 1) & (size[lab[y]] >= min_core)
    links = pd.DataFrame({"x": x[m], "c": lab[y[m]], "y": y[m]}).drop_duplicates()
    cnt = links.groupby(["x", "c"]).size().rename("links").reset_index()
    cnt = cnt[(cnt["links"] >= min_links) & (cnt["links"] >= min_share * size[cnt["c"].to_numpy()])]
    best = cnt.sort_values(["x", "links", "c"], ascending=[True, False, True]).drop_duplicates("x")
    out = lab.copy()
    out[best["x"].to_numpy()] = best["c"].to_numpy()
    return out


def _listing_hashes(products: pd.DataFrame, pos: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(64-bit image hash, merchant node id) of every listing with an image hash."""
    p = products.dropna(subset=["image_phash"])
    ph = np.array([int(h, 16) for h in p["image_phash"]], dtype=np.uint64)
    return ph, p["merchant_id"].map(pos).to_numpy(dtype=np.int64)


def title_tokens(title: str) -> frozenset[str]:
    """Lower-cased words of a title; character bigrams for a title without spaces (CJK, Thai)."""
    t = title.lower()
    words = t.split()
    return frozenset(words if len(words) > 1 else (t[i : i + 2] for i in range(max(len(t) - 1, 1))))


def copied_listing_pairs(img: pd.DataFrame, titles: list[str], min_sim: float) -> pd.DataFrame:
    """The rows of :func:`near_image_pairs` whose two listings' titles also agree (token Jaccard ≥ ``min_sim``).

    A photo shown under unrelated titles is what resellers of one supplier's product (or of a brand's
    official images) look like; the same photo under the same words is a copied listing.
    ``titles`` is aligned with the listings of ``near_image_pairs`` (``k = x * len(titles) + y``).
    """
    n = len(titles)
    k = img["k"].to_numpy(dtype=np.int64)
    tok = {i: title_tokens(titles[i]) for i in np.unique(np.concatenate([k // n, k % n])).tolist()}
    sim = np.array(
        [
            len(tok[x] & tok[y]) / max(len(tok[x] | tok[y]), 1)
            for x, y in zip((k // n).tolist(), (k % n).tolist(), strict=True)
        ]
    )
    return img[sim >= min_sim] if sim.shape[0] else img


def image_only_clusters(merchant_ids: pd.Index, products: pd.DataFrame, max_bits: int = 8) -> np.ndarray:
    """Components of merchants sharing a near-identical listing image: the one-channel baseline.

    Reported beside the reference so that it is visible how much of the reference's ARI a single
    channel gives (``details.image_only_ari`` of the realism benchmark).
    """
    n = merchant_ids.shape[0]
    img = near_image_pairs(*_listing_hashes(products, pd.Series(np.arange(n), index=merchant_ids)), max_bits)
    return components(n, img["a"].to_numpy(), img["b"].to_numpy())


def copy_only_clusters(
    merchant_ids: pd.Index, products: pd.DataFrame, max_bits: int = 8, min_title_sim: float = 0.4
) -> np.ndarray:
    """Components of merchants sharing a copied listing (near-identical image and title): one channel.

    ``details.copy_only_ari`` of the realism benchmark: the reference's image channel on its own.
    """
    n = merchant_ids.shape[0]
    p = products.dropna(subset=["image_phash"])
    img = near_image_pairs(*_listing_hashes(p, pd.Series(np.arange(n), index=merchant_ids)), max_bits)
    img = copied_listing_pairs(img, p["title"].astype(str).tolist(), min_title_sim)
    return components(n, img["a"].to_numpy(), img["b"].to_numpy())


def _pair_key(pairs: pd.DataFrame, n: int) -> np.ndarray:
    """One int64 per ``a < b`` pair row: ``a * n + b``."""
    key: np.ndarray = pairs["a"].to_numpy(dtype=np.int64) * n + pairs["b"].to_numpy(dtype=np.int64)
    return key


def _bipartite(keys: pd.Series | np.ndarray, merchants: pd.Series | np.ndarray, max_deg: int) -> pd.DataFrame:
    """(key, merchant) rows of keys held by 2..``max_deg`` merchants."""
    df = pd.DataFrame({"k": np.asarray(keys), "m": np.asarray(merchants)}).dropna().drop_duplicates()
    df["m"] = df["m"].astype(np.int64)
    deg = df.groupby("k")["m"].transform("size")
    return df[(deg >= 2) & (deg <= max_deg)]


CHANNELS: tuple[str, ...] = ("identifier", "registration", "buyer", "creator", "image", "reporter")
OPERATOR: tuple[str, ...] = ("identifier", "registration")  # one vote together (:func:`pair_votes`)


def evidence_pairs(
    merchant_ids: pd.Index,
    tables: dict[str, pd.DataFrame],
    rare: int = 20,
    max_bits: int = 8,
    min_title_sim: float = 0.4,
) -> pd.DataFrame:
    """Candidate merchant pairs and which of the six evidence channels agree for each (module docstring).

    Args:
        merchant_ids: the merchants, in a fixed order (positions are node ids).
        tables: raw ``merchants``, ``products``, ``identities``, ``promotions``, ``orders``, ``reports``
            (timestamps as int64 microseconds).
        rare: most merchants a rare key (identifier, buyer, creator, reporter) may be shared by.
        max_bits: Hamming distance of near-identical image hashes.
        min_title_sim: title token Jaccard a near-identical image pair needs to count as a copy.

    Returns:
        One row per ``a < b`` candidate pair: ``a``, ``b`` (node ids) and one 0/1 ``int`` column per
        name of :data:`CHANNELS`.
    """
    n = merchant_ids.shape[0]
    pos = pd.Series(np.arange(n), index=merchant_ids)
    owner = tables["products"].set_index("product_id")["merchant_id"].map(pos)
    idn = tables["identities"]
    idn = idn[idn["entity_type"] == "merchant"]
    pr, o, r = tables["promotions"], tables["orders"], tables["reports"]
    tgt = np.where(r["target_type"] == "merchant", r["target_id"].map(pos), r["target_id"].map(owner))
    channels = {
        "identifier": _bipartite(idn["identifier_hash"], idn["entity_id"].map(pos), rare),
        "creator": _bipartite(pr["creator_id"], pr["product_id"].map(owner), rare),
        "buyer": _bipartite(o["buyer_id"], o["product_id"].map(owner), rare),
        "reporter": _bipartite(r["reporter_id"], tgt, rare),
    }
    listed = tables["products"].dropna(subset=["image_phash"])
    img = near_image_pairs(*_listing_hashes(listed, pos), max_bits)
    img = copied_listing_pairs(img, listed["title"].astype(str).tolist(), min_title_sim)
    # shared keys per pair, counted from each channel's pair rows (key = a * n + b)
    shared = {
        name: pd.Series(1, index=_pair_key(pairs_from_groups(c["k"].to_numpy(), c["m"].to_numpy(), rare), n))
        .groupby(level=0)
        .sum()
        for name, c in channels.items()
    }
    shared["image"] = pd.Series(1, index=_pair_key(img, n)).groupby(level=0).sum()
    key = np.sort(np.concatenate([s.index.to_numpy() for s in shared.values()]))
    key = key[np.r_[True, key[1:] != key[:-1]]]  # sort-based unique: np.unique's hash path is slow on these keys
    a, b = key // n, key % n

    def common(name: str) -> np.ndarray:
        out: np.ndarray = shared[name].reindex(key, fill_value=0).to_numpy()
        return out

    reg = tables["merchants"].set_index("merchant_id")["registered_at"].reindex(merchant_ids).to_numpy()
    votes = {
        "identifier": common("identifier") > 0,
        "registration": np.abs(reg[a] - reg[b]) <= 7 * US_PER_DAY,
        "buyer": common("buyer") >= 2,
        "creator": common("creator") > 0,
        "image": common("image") > 0,
        "reporter": common("reporter") >= 2,
    }
    return pd.DataFrame({"a": a, "b": b, **{k: votes[k].astype(int) for k in CHANNELS}})


def reference_clusters(merchant_ids: pd.Index, tables: dict[str, pd.DataFrame]) -> np.ndarray:
    """Multi-evidence merchant clustering (module docstring); returns a cluster label per merchant.

    ``merchant_ids`` and ``tables`` as :func:`evidence_pairs` (with its default parameters).
    """
    n = merchant_ids.shape[0]
    ev = evidence_pairs(merchant_ids, tables)
    if ev.shape[0] == 0:
        return np.arange(n)
    return attach_to_cores(n, ev["a"].to_numpy(), ev["b"].to_numpy(), pair_votes(ev))


def pair_votes(ev: pd.DataFrame) -> np.ndarray:
    """Votes per pair of :func:`evidence_pairs`: one per agreeing channel, :data:`OPERATOR` counted once.

    A shared identifier and registration within a week both say that one operator set the two
    shops up, which benign operators do too (agencies and households running several shops share
    a phone or a payout account and onboard their shops together): two views of one fact, so
    together they are one vote.  Coordinated *behaviour* (the same rare buyers, creators,
    reporters, a copied listing) is what rings add to a benign operator group.
    """
    other = [c for c in CHANNELS if c not in OPERATOR]
    votes: np.ndarray = ev[list(OPERATOR)].max(axis=1).to_numpy() + ev[other].sum(axis=1).to_numpy()
    return votes
