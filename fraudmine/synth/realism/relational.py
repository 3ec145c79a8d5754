"""Trivial relational baselines on raw tables (the reference clustering is in :mod:`.reference`).

*Trivial* (what the realism benchmark wants to fail): the merchant graph of
shared identifiers after dropping identifiers held by more than ``cut``
merchants; per merchant the number of merchants it shares with, the number of
shared identifiers and its connected-component size (AUROC), and connected
components / Louvain (igraph ``community_multilevel``, Blondel et al. 2008) as
ring clusterings (ARI).  Fraud edge homophily per identifier type follows the
"label similarity" of CARE-GNN (Dou et al. 2020): among merchant pairs sharing an
identifier of that type where at least one is fraud, the share where both are.

Near-identical listing images are a shared key like an identifier (:func:`image_keys`):
the same baselines run on them and on the union of both, so a single channel that
recovers the rings shows in the maxima (issue 7: "none sufficient alone").
"""

from __future__ import annotations

import random
from typing import Any

import igraph as ig
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.metrics import adjusted_rand_score, roc_auc_score

US_PER_DAY = 86_400_000_000


def pairs_from_groups(keys: np.ndarray, members: np.ndarray, max_size: int) -> pd.DataFrame:
    """All unordered member pairs ``(a < b)`` of groups with 2..``max_size`` members (with the group key)."""
    df = pd.DataFrame({"k": keys, "m": members}).drop_duplicates()
    size = df.groupby("k")["m"].transform("size")
    df = df[(size >= 2) & (size <= max_size)]
    pairs = df.merge(df, on="k")
    pairs = pairs[pairs["m_x"] < pairs["m_y"]]
    return pd.DataFrame({"a": pairs["m_x"].to_numpy(), "b": pairs["m_y"].to_numpy(), "k": pairs["k"].to_numpy()})


def truth_partition(n: int, ring: np.ndarray) -> np.ndarray:
    """Ring id for ring members, a fresh singleton id for everyone else."""
    out = np.where(ring >= 0, ring, 0).astype(np.int64)
    single = np.flatnonzero(ring < 0)
    out[single] = ring.max(initial=-1) + 1 + np.arange(single.shape[0])
    return out


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label of ``n`` nodes given undirected edges ``a``-``b``."""
    g = sp.coo_matrix((np.ones(a.shape[0]), (a, b)), shape=(n, n))
    return np.asarray(connected_components(g, directed=False)[1], dtype=np.int64)


def _auroc(y: np.ndarray, s: np.ndarray) -> float:
    return float(roc_auc_score(y, s)) if 0 < y.sum() < y.shape[0] else float("nan")


def trivial_graph(
    merchant_ids: pd.Index,
    identities: pd.DataFrame,
    fraud: np.ndarray,
    ring: np.ndarray,
    cuts: tuple[int, ...],
    homophily_cut: int,
    seed: int,
    products: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Shared-identifier counts, component size AUROC, CC / Louvain ARI and homophily per cut.

    With ``products``, the same baselines on near-identical listing images (:func:`image_keys`:
    an image held by more than ``cut`` merchants is dropped like an identifier) and on the union
    of identifiers and images: their AUROCs are added to each cut's scores as ``image_*`` and
    ``combined_*``, their ARIs as ``image:<cut>`` and ``combined:<cut>``, so every maximum over
    the trivial baselines includes them; ``homophily["image"]`` is the image relation's.

    Args:
        merchant_ids: the merchants, in a fixed order (positions are node ids).
        identities: raw identities (all entity types; merchant rows are used).
        fraud: bool per merchant (any fraud typology).
        ring: collusion ring index per merchant, ``-1`` if none.
        cuts: identifier degree cuts (max merchants per identifier kept).
        homophily_cut: the cut at which homophily is measured.
        seed: Louvain seed.
        products: raw products (``merchant_id``, ``image_phash``), or ``None`` for identifiers only.

    Returns:
        ``{"auroc": {cut: {...}}, "cc_ari": {cut: x}, "louvain_ari": {cut: x}, "homophily": {type: x}}``.
    """
    n = merchant_ids.shape[0]
    pos = pd.Series(np.arange(n), index=merchant_ids)
    d = identities[identities["entity_type"] == "merchant"]
    node = pos.reindex(d["entity_id"]).to_numpy()
    keep = ~np.isnan(node)
    d = pd.DataFrame(
        {
            "m": node[keep].astype(np.int64),
            "h": d["identifier_hash"].to_numpy()[keep],
            "t": d["identifier_type"].to_numpy()[keep],
        }
    )
    d = d.drop_duplicates(["m", "h"])
    d["deg"] = d.groupby("h")["m"].transform("size")
    truth = truth_partition(n, ring)
    out: dict[str, Any] = {"auroc": {}, "cc_ari": {}, "louvain_ari": {}}
    graphs: list[tuple[str, pd.DataFrame]] = [("", d)]
    if products is not None:
        img = image_keys(products, pos)
        both = pd.concat([d[["m", "h"]].assign(h=d["h"].astype(str)), img.assign(h="img:" + img["h"].astype(str))])
        graphs += [("image", img), ("combined", both.assign(deg=both.groupby("h")["m"].transform("size")))]
    for name, frame in graphs:
        res = _cut_baselines(n, frame, fraud, ring, truth, cuts, seed)
        for cut, scores in res["auroc"].items():
            out["auroc"].setdefault(cut, {}).update({f"{name}_{k}" if name else k: v for k, v in scores.items()})
        for key in ("cc_ari", "louvain_ari"):
            out[key].update({f"{name}:{cut}" if name else cut: v for cut, v in res[key].items()})
    hom: dict[str, float] = {}
    kept = d[(d["deg"] >= 2) & (d["deg"] <= homophily_cut)]
    pairs = pairs_from_groups(kept["h"].to_numpy(), kept["m"].to_numpy(), homophily_cut)
    pairs["t"] = pairs["k"].map(kept.drop_duplicates("h").set_index("h")["t"])
    pairs = pairs.drop_duplicates(["a", "b", "t"])
    groups = [("all", pairs.drop_duplicates(["a", "b"])), *pairs.groupby("t")]
    if products is not None:
        ik = graphs[1][1]
        ik = ik[(ik["deg"] >= 2) & (ik["deg"] <= homophily_cut)]
        groups.append(("image", pairs_from_groups(ik["h"].to_numpy(), ik["m"].to_numpy(), homophily_cut)))
    for t, grp in groups:
        fa, fb = fraud[grp["a"].to_numpy()], fraud[grp["b"].to_numpy()]
        touch = fa | fb
        hom[str(t)] = float((fa & fb).sum() / touch.sum()) if touch.any() else float("nan")
    out["homophily"] = hom
    return out


def _cut_baselines(
    n: int,
    d: pd.DataFrame,
    fraud: np.ndarray,
    ring: np.ndarray,
    truth: np.ndarray,
    cuts: tuple[int, ...],
    seed: int,
) -> dict[str, Any]:
    """Per cut: AUROCs of shared-key counts, neighbours, component size; CC and Louvain ARI.

    ``d`` holds one row per (merchant ``m``, shared key ``h``) with the key's merchant count ``deg``.
    """
    in_ring = ring >= 0
    ring_pop = in_ring | ~fraud
    out: dict[str, Any] = {"auroc": {}, "cc_ari": {}, "louvain_ari": {}}
    for cut in cuts:
        kept = d[(d["deg"] >= 2) & (d["deg"] <= cut)]
        hk = pd.factorize(kept["h"])[0]
        bip = sp.coo_matrix(
            (np.ones(kept.shape[0]), (kept["m"].to_numpy(), hk)), shape=(n, max(hk.max(initial=-1) + 1, 1))
        ).tocsr()
        cc = np.asarray(connected_components(sp.bmat([[None, bip], [bip.T, None]]), directed=False)[1][:n])
        size = np.bincount(cc)[cc].astype(float)
        shared = np.asarray(bip.sum(axis=1)).ravel()
        proj = (bip @ bip.T).tocoo()
        m = proj.row < proj.col
        a, b, w = proj.row[m], proj.col[m], proj.data[m]
        neigh = np.bincount(np.concatenate([a, b]), minlength=n).astype(float)
        scores = {"shared_identifiers": shared, "neighbours": neigh, "component_size": size}
        out["auroc"][str(cut)] = {
            name: {
                "fraud": _auroc(fraud, s),
                "collusion_ring": _auroc(in_ring[ring_pop], s[ring_pop]),
            }
            for name, s in scores.items()
        }
        out["cc_ari"][str(cut)] = float(adjusted_rand_score(truth, cc))
        g = ig.Graph(n=n, edges=np.column_stack([a, b]).tolist(), edge_attrs={"weight": w.astype(float).tolist()})
        ig.set_random_number_generator(random.Random(seed))
        lv = np.asarray(g.community_multilevel(weights="weight").membership)
        out["louvain_ari"][str(cut)] = float(adjusted_rand_score(truth, lv))
    return out


IMAGE_BANDS = 4  # 16-bit bands of the 64-bit hash: two hashes within 3 bits always share one
IMAGE_BUCKET_MAX = 5_000  # band buckets larger than this are skipped (cost bound only; far above any image's reuse)


def near_hash_pairs(phash: np.ndarray, max_bits: int, bucket_max: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(x, y)`` of 64-bit hashes that differ in at most ``max_bits`` bits.

    Candidates share one of four 16-bit bands (LSH, Indyk & Motwani 1998: two hashes within 3 bits always
    share one); band buckets of more than ``bucket_max`` hashes are skipped; each candidate is then
    checked by its Hamming distance.
    """
    frames = []
    for i in range(IMAGE_BANDS):
        key = (phash >> np.uint64(16 * i)) & np.uint64(0xFFFF)
        frames.append(pairs_from_groups(key, np.arange(phash.shape[0]), bucket_max)[["a", "b"]])
    lp = pd.concat(frames).drop_duplicates()
    x, y = lp["a"].to_numpy(), lp["b"].to_numpy()
    near = np.bitwise_count(np.bitwise_xor(phash[x], phash[y])) <= max_bits
    return x[near], y[near]


def image_keys(products: pd.DataFrame, pos: pd.Series, max_bits: int = 8) -> pd.DataFrame:
    """Near-identical images as shared keys: one row per (merchant ``m``, image ``h``) with ``deg``.

    An *image* is a connected component of listings whose 64-bit perceptual hashes differ in at
    most ``max_bits`` bits (candidates from four 16-bit LSH bands, as the reference clustering);
    ``deg`` is the number of merchants showing it, so an image is cut by degree like an identifier.
    """
    p = products.dropna(subset=["image_phash"])
    ph = np.array([int(h, 16) for h in p["image_phash"]], dtype=np.uint64)
    merchant = p["merchant_id"].map(pos).to_numpy()
    keep = ~np.isnan(merchant)
    ph, merchant = ph[keep], merchant[keep].astype(np.int64)
    x, y = near_hash_pairs(ph, max_bits, IMAGE_BUCKET_MAX)
    img = components(ph.shape[0], x, y)
    d = pd.DataFrame({"m": merchant, "h": img}).drop_duplicates()
    d["deg"] = d.groupby("h")["m"].transform("size")
    return d
