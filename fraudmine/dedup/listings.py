"""Near-duplicate listings of one marketplace (dirty matching, one table): the nightly path.

``find_duplicates`` takes listings as a pandas frame (the products table as of the run date) and
returns candidate pairs with scores, duplicate clusters (chaining-controlled, with a canonical
listing) and their members. Two marketplace rules (:mod:`fraudmine.dedup.marketplace`) keep honest
resellers of one supplier's product apart: a photo shown by many shops is no evidence (the pair is
scored as text-only), and a cross-shop match joins clusters only when its two shops share other
confident matches. ``merchant_duplicate_features`` turns them into per-merchant features
as of any date (only listings created before it count, so training features stay time-safe).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from fraudmine.config import DedupConfig
from fraudmine.dedup.blocking import block, embedding_knn, minhash_lsh, model_keys, phash_buckets, tfidf_matrix
from fraudmine.dedup.cluster import CannotLink, canonical_member, cluster_pairs
from fraudmine.dedup.corpus import build_corpus
from fraudmine.dedup.features import pair_features, unsupervised_score
from fraudmine.dedup.marketplace import corroborated, stock_photos, vouched
from fraudmine.dedup.pairs import BucketGuard, IntArray
from fraudmine.dedup.threshold import fit_image_confirmation, image_conflict_cut, mixture_threshold
from fraudmine.dedup.tokensets import TokenSets
from fraudmine.dedup.variants import variant_pairs

log = logging.getLogger(__name__)


class StepClock:
    """Seconds per step of a long computation, logged as each step ends (one line with its rows).

    Call the clock with a step name and row count when the step ends; ``steps`` maps each name to its
    seconds (rounded to 0.01), in the order the steps ended.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.steps: dict[str, float] = {}
        self._last = time.perf_counter()

    def __call__(self, step: str, rows: int) -> None:
        now = time.perf_counter()
        self.steps[step] = round(now - self._last, 2)
        self._last = now
        log.info("%s %s: %d rows (%.1fs)", self.prefix, step, rows, self.steps[step])


@dataclass
class DuplicateResult:
    """Outputs of :func:`find_duplicates`.

    Attributes:
        edges: ``src, dst, score, cross_merchant`` candidate pairs at or above the threshold.
        clusters: ``cluster_id, size, n_merchants, canonical_product_id, mean_score, evidence``.
        members: ``cluster_id, product_id, merchant_id, created_at, is_canonical``.
        report: blocking measurements, guard skips, threshold.
    """

    edges: pd.DataFrame
    clusters: pd.DataFrame
    members: pd.DataFrame
    report: dict[str, Any] = field(default_factory=dict)


def find_duplicates(listings: pd.DataFrame, params: DedupConfig) -> DuplicateResult:
    """Block, score and cluster listings.

    Args:
        listings: ``product_id, merchant_id, title, description, price, brand_name, image_phash, created_at``.
        params: the ``dedup`` section of the config (:class:`fraudmine.config.DedupConfig`).
    """
    t0 = time.perf_counter()
    lap = StepClock("dedup")
    steps = lap.steps

    # one canonical row order: the seeded samples below (threshold fit) depend on it, and a Spark
    # collect returns rows in an order that depends on the partitioning (so on the machine's cores)
    listings = listings.sort_values("product_id", kind="stable").reset_index(drop=True)
    corpus = build_corpus(
        listings["product_id"].tolist(),
        listings["title"].tolist(),
        listings["description"].tolist(),
        listings["price"].tolist(),
        listings["brand_name"].tolist(),
        listings["image_phash"].tolist(),
    )
    lap("normalise", len(corpus))
    emb = None
    gens: dict[str, Any] = {
        "minhash_lsh": lambda c, g: minhash_lsh(c, g, params.minhash_perm, params.minhash_bands, params.seed),
        "model_keys": lambda c, g: model_keys(c, g),
        "phash": lambda c, g: phash_buckets(c, g, params.phash_radius),
    }
    if params.embeddings:
        from fraudmine.dedup import embed

        emb = embed.encode([n.text for n in corpus.title])
        gens["embedding_knn"] = lambda c, g: embedding_knn(c, emb, params.knn_k)
    res = block(corpus, gens, BucketGuard(cap=params.bucket_cap))
    report: dict[str, Any] = {
        "listings": len(corpus),
        "generators": {
            k: {"pairs": len(v[0]), "seconds": round(res.seconds[k], 2)} for k, v in res.by_generator.items()
        },
        "candidate_pairs": len(res.i),
        "guard": {
            "skipped_buckets": res.guard.skipped_buckets,
            "skipped_pairs": res.guard.skipped_pairs,
            "examples": [list(x) for x in res.guard.skipped[:10]],
        },
    }
    lap("blocking", len(res.i))  # candidate pairs; what the guard skipped is in the report
    report["step_seconds"] = steps
    if len(res.i) < 4:
        return _empty(report)
    tfidf = tfidf_matrix(corpus)
    sets = TokenSets.of(corpus)
    stock = stock_photos(listings["image_phash"].tolist(), listings["merchant_id"].tolist(), params.stock_photo_shops)
    report["stock_photo_listings"] = int(stock.sum())
    feats = pair_features(corpus, res.i, res.j, tfidf, emb, sets, stock)
    score = feats["unsup_score"].to_numpy()
    lap("pair features", len(feats))
    # the mixture sees as many random pairs as candidate pairs, both capped: a 1-d fit needs no
    # more than ~10^5 draws per side, and the full 16M scores of scale m took minutes
    n_fit = min(len(res.i), params.threshold_sample)
    ri, rj = random_pairs(len(corpus), n_fit, params.seed)
    null_feats = pair_features(corpus, ri, rj, tfidf, emb, sets, stock)
    null = null_feats["unsup_score"].to_numpy()
    fit = np.random.default_rng(params.seed).choice(len(score), size=n_fit, replace=False)
    threshold = mixture_threshold(np.r_[score[np.sort(fit)], null], params.seed, max_components=3)
    report["threshold"] = threshold
    report["threshold_fit_pairs"] = {"candidate": n_fit, "random": n_fit}
    lap("threshold", 2 * n_fit)
    cut = image_conflict_cut(feats["image_hamming"].to_numpy(), null_feats["image_hamming"].to_numpy(), params.seed)
    report["image_conflict_bits"] = cut
    cannot = CannotLink(corpus.phash, corpus.has_phash, cut) if cut is not None else None
    shop = pd.factorize(listings["merchant_id"])[0]
    same_shop = ((shop[res.i] == shop[res.j]) & (shop[res.i] >= 0)).astype(np.int64)
    trusted = trusted_pairs(feats, cut, same_shop)
    report["text_only_pairs_untrusted"] = int((~trusted & (score >= threshold)).sum())
    use = trusted.copy()
    if params.variants:
        variant = variant_pairs(
            res.i, res.j, listings["merchant_id"], listings["price"], listings["description"], listings["title"]
        )
        report["variant_pairs"] = int(variant.sum())  # set aside: a shop's colour/size variants
        use &= ~variant
    # seller-level repetition: a cross-shop match needs other matches between the same two shops
    confident = use & (score >= threshold)
    backed = corroborated(shop[res.i], shop[res.j], confident, params.min_shop_pair_matches)
    report["uncorroborated_cross_shop_pairs"] = int((confident & ~backed).sum())
    # ... and two shops known to copy each other vouch for their text-only matches
    rescued = vouched(shop[res.i], shop[res.j], confident, params.min_shop_pair_matches)
    rescued &= ~trusted & (score >= threshold)
    if params.variants:
        rescued &= ~variant
    report["text_only_pairs_vouched"] = int(rescued.sum())
    use = (use & backed) | rescued
    labels, stats = cluster_pairs(
        len(corpus), res.i[use], res.j[use], score[use], threshold, params.min_cohesion, cannot
    )
    report.update(stats)
    lap("clustering", int(use.sum()))
    created = pd.to_datetime(listings["created_at"]).astype("int64").to_numpy().astype(np.float64)
    canon = canonical_member(labels, created)
    keep = (score >= threshold) & use
    merchant = listings["merchant_id"].astype(str).to_numpy()
    pid = listings["product_id"].astype(str).to_numpy()
    edges = pd.DataFrame(
        {
            "src": pid[res.i[keep]],
            "dst": pid[res.j[keep]],
            "score": np.minimum(score[keep], 1.0),
            "cross_merchant": merchant[res.i[keep]] != merchant[res.j[keep]],
        }
    )
    sizes = np.bincount(labels, minlength=len(corpus))
    in_cluster = sizes[labels] >= 2
    members = pd.DataFrame(
        {
            "cluster_id": [f"dup:{pid[c]}" for c in canon[in_cluster]],
            "product_id": pid[in_cluster],
            "merchant_id": merchant[in_cluster],
            "created_at": listings["created_at"].to_numpy()[in_cluster],
            "is_canonical": canon[in_cluster] == np.flatnonzero(in_cluster),
        }
    )
    edge_cluster = dict(zip(members["product_id"], members["cluster_id"], strict=True))
    e = edges.assign(cluster_id=edges["src"].map(edge_cluster))
    e = e[e["cluster_id"] == edges["dst"].map(edge_cluster)]
    mean_score = e.groupby("cluster_id")["score"].mean()
    clusters = members.groupby("cluster_id").agg(size=("product_id", "size"), n_merchants=("merchant_id", "nunique"))
    clusters["canonical_product_id"] = members[members["is_canonical"]].set_index("cluster_id")["product_id"]
    clusters["mean_score"] = mean_score.reindex(clusters.index).fillna(0.0)
    clusters["evidence"] = [
        f"{int(r.size)} listings from {int(r.n_merchants)} shops, mean pair score {r.mean_score:.2f}"
        for r in clusters.itertuples()
    ]
    clusters = (
        clusters.reset_index().sort_values(["size", "cluster_id"], ascending=[False, True]).reset_index(drop=True)
    )
    report["clusters"] = len(clusters)
    lap("outputs", len(members))
    report["seconds"] = round(time.perf_counter() - t0, 2)
    return DuplicateResult(
        edges, clusters, members.sort_values(["cluster_id", "product_id"]).reset_index(drop=True), report
    )


def trusted_pairs(
    feats: pd.DataFrame,
    cut: float | None,
    strata: npt.NDArray[np.int64] | None = None,
    min_stratum_images: int = 20,
) -> npt.NDArray[np.bool_]:
    """Pairs whose evidence may form clusters: every pair with two images; a text-only pair (an image
    missing) where text agreement at its level is confirmed by the images of the other pairs
    (:func:`fraudmine.dedup.threshold.image_confirmation` reaching one half), or all of them when
    the images cannot tell (no cut, or one label only).

    ``strata`` (e.g. 1 for two listings of one shop, 0 for two shops) learns the confirmation per
    stratum: an equal title means little across shops whose generic titles collide, and much
    within one shop, where it is the shop re-posting its own listing. A stratum with fewer than
    ``min_stratum_images`` image pairs uses the pooled confirmation; one whose image pairs all
    agree (or all conflict) confirms all (or none) of its text-only pairs.

    The same as :func:`fit_trust` on ``feats`` then :meth:`TrustModel.apply` to them (the Spark path
    fits on a driver sample and applies on the executors).
    """
    return fit_trust(feats, cut, strata, min_stratum_images).apply(feats, strata)


def _text_only_score(feats: pd.DataFrame) -> npt.NDArray[np.float64]:
    text_only = feats[["tfidf_cos", "emb_cos", "model_agree", "brand_agree"]].assign(image_hamming=np.nan)
    return unsupervised_score(text_only)


@dataclass(frozen=True)
class TrustModel:
    """The image confirmation of text-only pairs, fitted (see :func:`trusted_pairs`).

    Attributes:
        cut: the image-conflict cut (``None``: every pair is trusted).
        pooled: isotonic confirmation over all strata (``None``: the images cannot tell, all trusted).
        strata: per stratum its own isotonic model, or a constant confirmation (0 or 1) when its image
            pairs all conflict or all agree; strata absent here use ``pooled``.
    """

    cut: float | None
    pooled: IsotonicRegression | None
    strata: dict[int, IsotonicRegression | float] = field(default_factory=dict)

    def apply(self, feats: pd.DataFrame, strata: npt.NDArray[np.int64] | None = None) -> npt.NDArray[np.bool_]:
        """Trusted-pair mask of ``feats`` (columns ``tfidf_cos, emb_cos, model_agree, brand_agree, image_hamming``)."""
        if self.cut is None or self.pooled is None:
            return np.ones(len(feats), dtype=bool)
        bits = feats["image_hamming"].to_numpy(dtype=np.float64)
        text_score = _text_only_score(feats)
        confirmed = np.asarray(self.pooled.predict(text_score), dtype=np.float64)
        if strata is not None:
            for s, own in self.strata.items():
                part = strata == s
                if not part.any():
                    continue
                confirmed[part] = own if isinstance(own, float) else own.predict(text_score[part])
        return np.asarray(np.isfinite(bits) | (confirmed >= 0.5), dtype=bool)


def fit_trust(
    feats: pd.DataFrame,
    cut: float | None,
    strata: npt.NDArray[np.int64] | None = None,
    min_stratum_images: int = 20,
) -> TrustModel:
    """Fit the :class:`TrustModel` of :func:`trusted_pairs` on ``feats`` (all candidate pairs, or a sample)."""
    if cut is None:
        return TrustModel(None, None)
    bits = feats["image_hamming"].to_numpy(dtype=np.float64)
    text_score = _text_only_score(feats)
    pooled = fit_image_confirmation(text_score, bits, cut)
    if pooled is None:
        return TrustModel(cut, None)
    own_models: dict[int, IsotonicRegression | float] = {}
    if strata is not None:
        for s in np.unique(strata).tolist():
            part = strata == s
            if np.isfinite(bits[part]).sum() < min_stratum_images:
                continue  # too few image pairs to learn from: the pooled confirmation
            own = fit_image_confirmation(text_score[part], bits[part], cut)
            if own is None:  # every image pair of the stratum agrees: confirmed, or never
                own_models[int(s)] = float((bits[part][np.isfinite(bits[part])] < cut).all())
            else:
                own_models[int(s)] = own
    return TrustModel(cut, pooled, own_models)


def random_pairs(n: int, size: int, seed: int) -> tuple[IntArray, IntArray]:
    """``size`` random distinct-record pairs: the non-match reference of the mixture threshold.

    Random pairs of a marketplace are almost never duplicates (Splink estimates its ``u``
    probabilities the same way), so they anchor the lower mixture component even when nearly every
    blocked candidate is a true duplicate.
    """
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, size=size, dtype=np.int64)
    j = (i + rng.integers(1, n, size=size, dtype=np.int64)) % n
    return np.minimum(i, j), np.maximum(i, j)


def _empty(report: dict[str, Any]) -> DuplicateResult:
    return DuplicateResult(
        pd.DataFrame(
            {
                "src": pd.Series(dtype=str),
                "dst": pd.Series(dtype=str),
                "score": pd.Series(dtype=float),
                "cross_merchant": pd.Series(dtype=bool),
            }
        ),
        pd.DataFrame(
            {
                "cluster_id": pd.Series(dtype=str),
                "size": pd.Series(dtype="int64"),
                "n_merchants": pd.Series(dtype="int64"),
                "canonical_product_id": pd.Series(dtype=str),
                "mean_score": pd.Series(dtype=float),
                "evidence": pd.Series(dtype=str),
            }
        ),
        pd.DataFrame(
            {
                "cluster_id": pd.Series(dtype=str),
                "product_id": pd.Series(dtype=str),
                "merchant_id": pd.Series(dtype=str),
                "created_at": pd.Series(dtype="datetime64[us, UTC]"),
                "is_canonical": pd.Series(dtype=bool),
            }
        ),
        report,
    )


def merchant_duplicate_features(members: pd.DataFrame, listings: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per-merchant duplicate features from listings created before ``as_of``.

    Returns:
        ``merchant_id, dup_cross_share`` (share of the merchant's listings in a cluster that holds
        another merchant's listing), ``n_dup_listings``, ``dup_max_cluster_size``, ``n_dup_clusters``.
    """
    created = pd.to_datetime(members["created_at"], utc=True)
    m = members[created < as_of]
    size = m.groupby("cluster_id")["product_id"].transform("size")
    m = m[size >= 2].assign(size=size[size >= 2])
    shops = m.groupby("cluster_id")["merchant_id"].transform("nunique")
    m = m.assign(cross=shops >= 2)
    total = listings[pd.to_datetime(listings["created_at"], utc=True) < as_of].groupby("merchant_id").size()
    agg = m.groupby("merchant_id").agg(
        n_dup_listings=("product_id", "size"),
        cross=("cross", "sum"),
        dup_max_cluster_size=("size", "max"),
        n_dup_clusters=("cluster_id", "nunique"),
    )
    agg["dup_cross_share"] = agg["cross"] / total.reindex(agg.index).clip(lower=1)
    out = agg.drop(columns="cross").reset_index()
    cols = {"merchant_id": "string", "dup_cross_share": "float64", "n_dup_listings": "int64",
            "dup_max_cluster_size": "int64", "n_dup_clusters": "int64"}  # fmt: skip
    return out[list(cols)].astype(cols)
