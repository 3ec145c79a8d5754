"""The Spark path of the nightly duplicates stage: :func:`.listings.find_duplicates` without collecting the listings.

Each step runs the numpy / scikit-learn functions of :mod:`fraudmine.dedup` per partition
(``mapInPandas`` / ``applyInPandas``), so both paths share their code, seeds and hash functions.
Every listing's text is normalised **once**, in one pass; later steps read its tokens, not its text:

1. **row ids** — ``rid`` = the listing's position in ``product_id`` order (the local path's row order):
   a range sort, ``monotonically_increasing_id`` and per-partition offsets;
2. **prepare** — one ``mapInPandas`` pass (:func:`prepare_batch`): :func:`.corpus.build_corpus` per Arrow
   batch gives each listing's title tokens, strong tokens, model numbers and the description tokens the
   title lacks, its MinHash band keys (one signature per distinct token sequence), parsed image hash,
   folded brand and a 63-bit description hash (each partition sorted by description and title first, so
   a batch holds equal texts together); written once as Parquet (``prepared``);
3. **blocking** — band keys and model-number keys exploded from ``prepared`` and grouped in Spark with the
   hot-bucket guard (:func:`.spark_lsh.bucket_pairs`; skipped buckets counted into the report); image
   hashes: the two columns ``rid, phash`` (16 bytes a listing) are collected and searched by the same
   multi-index hashing (:func:`.blocking.phash_pairs`); the union, de-duplicated;
4. **pair scoring** — document frequencies of the title features counted in Spark SQL from the prepared
   tokens (no Python pass) and broadcast as the corpus-wide idf; candidate pairs joined with both
   listings' prepared columns (tokens and ids, not raw title and description) and sorted by first
   listing, so an Arrow batch holds each first listing once; per batch the batch's listings become one
   :class:`.corpus.Corpus` without normalising (:func:`corpus_of`) and :func:`.features.pair_features`
   scores the pairs on it (:func:`score_batch`, with the same-shop stratum, the variants rule and the
   stock-photo flag from the shops per image hash, :func:`.spark_marketplace.with_stock_photos`);
5. **fits on the driver** — a sample of at most ``fit_sample`` scored pairs (all of them when fewer, in
   pair order, so the fits equal the local path's) and the seeded random pairs give the mixture
   threshold, the image-conflict cut and the image confirmation (:func:`.listings.fit_trust`), applied to
   every pair on the executors;
6. **clustering** — the cross-shop confident edges whose two shops share too few confident edges are
   dropped (:func:`.marketplace.corroborated`) and the untrusted text-only pairs between shops that share
   enough are added (:func:`.marketplace.vouched`), both in :func:`.spark_marketplace.shop_rule_edges`,
   then connected components
   of the confident edges by the caller's graph engine, then per component (``applyInPandas``)
   :func:`.cluster.cluster_pairs` (cannot-link, cohesion split) and :func:`.cluster.canonical_member`:
   within a component the same edges in the same order as the local path, so the same clusters.

Adding a pair feature: :func:`.features.pair_features` is the one place both paths compute features, so a
feature of the existing :class:`.corpus.Corpus` fields needs nothing here; a feature of a new listing
attribute also needs that attribute in :func:`prepare_batch` / :data:`PREPARED_SCHEMA`, :data:`SIDE` and
:func:`corpus_of`.  A scored column the driver fits on goes in :data:`FIT_COLS` and :data:`SCORED_SCHEMA`.

What may differ from the local path: above ``fit_sample`` candidate pairs the fits see a hash sample
instead of all pairs (the local path fits the threshold on ``threshold_sample`` seeded draws of all
pairs, the cut and confirmation on all pairs), so threshold and cut move by sampling error; TF-IDF rows
are built per batch with the global idf (float32 rounding); the per-record context features
(``rank_*``, ``gap_*``) are not computed (nothing in the unsupervised path reads them); embeddings are
not supported here (``dedup.embeddings`` needs the local path).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

from fraudmine.config import DedupConfig
from fraudmine.dedup.blocking import band_keys, minhash_signatures, phash_pairs, shingle_sets, title_features
from fraudmine.dedup.cluster import CannotLink, canonical_member, cluster_pairs
from fraudmine.dedup.corpus import Corpus, build_corpus, parse_phash
from fraudmine.dedup.features import pair_features
from fraudmine.dedup.listings import StepClock, fit_trust, random_pairs
from fraudmine.dedup.normalize import Normalized
from fraudmine.dedup.pairs import BucketGuard
from fraudmine.dedup.spark_lsh import bucket_pairs
from fraudmine.dedup.spark_marketplace import shop_rule_edges, with_stock_photos
from fraudmine.dedup.threshold import image_conflict_cut, mixture_threshold
from fraudmine.dedup.tokensets import TokenSets
from fraudmine.dedup.variants import variant_pairs

log = logging.getLogger(__name__)

FIT_COLS = ("tfidf_cos", "emb_cos", "model_agree", "brand_agree", "image_hamming")
SCORED_SCHEMA = (
    "i long, j long, unsup_score double, tfidf_cos double, emb_cos double, model_agree double, "
    "brand_agree double, image_hamming double, same_shop long, variant boolean"
)
MEMBER_SCHEMA = (
    "kind string, cluster_id string, product_id string, merchant_id string, created_at timestamp, "
    "is_canonical boolean, size long, n_merchants long, canonical_product_id string, mean_score double, "
    "evidence string, split long, refused long"
)

Components = Callable[[DataFrame], DataFrame]
"""``[src, dst]`` string edges → ``[node, component]`` (the graph engine's connected components)."""


@dataclass
class SparkDuplicates:
    """Outputs of :func:`find_duplicates_spark` (Spark frames over the work folder) and the report."""

    edges: DataFrame
    clusters: DataFrame
    members: DataFrame
    report: dict[str, Any] = field(default_factory=dict)


def with_row_ids(listings: DataFrame, work: Path) -> DataFrame:
    """``listings`` plus ``rid``, the row's position in ``product_id`` order (dense, from 0), under ``work``."""
    spark = listings.sparkSession
    ids = listings.select("product_id").orderBy("product_id").withColumn("_mid", F.monotonically_increasing_id())
    ids.write.mode("overwrite").parquet(str(work / "ids"))
    ids = spark.read.parquet(str(work / "ids")).withColumn("_part", F.shiftright("_mid", 33))
    counts = pd.DataFrame(ids.groupBy("_part").count().toPandas()).sort_values("_part")
    counts["_offset"] = counts["count"].cumsum() - counts["count"]
    offsets = spark.createDataFrame(counts[["_part", "_offset"]].astype("int64"), "_part long, _offset long")
    rid = ids.join(F.broadcast(offsets), "_part").select(
        "product_id", (F.col("_offset") + F.col("_mid").bitwiseAND(F.lit((1 << 33) - 1))).alias("rid")
    )
    listings.join(rid, "product_id").write.mode("overwrite").parquet(str(work / "listings"))
    return spark.read.parquet(str(work / "listings"))


PREPARED_SCHEMA = (
    "rid long, merchant_id string, title string, price double, brand string, phash long, has_phash boolean, "
    "desc_key long, tokens array<string>, strong array<string>, models array<string>, extra array<string>, "
    "bands array<long>"
)
"""One row per listing, normalised once (:func:`prepare_listings`): everything blocking and pair scoring read."""
SIDE = (
    *("tokens", "strong", "models", "extra", "price", "brand", "phash", "has_phash"),
    *("merchant_id", "desc_key", "title", "stock_photo"),
)
"""Prepared columns a pair carries per side into :func:`score_batch` (no description: ``desc_key`` stands for it)."""


def prepare_batch(pdf: pd.DataFrame, num_perm: int, bands: int, seed: int) -> pd.DataFrame:
    """:data:`PREPARED_SCHEMA` rows of listings ``rid, merchant_id, title, description, price, brand_name,
    image_phash``: :func:`.corpus.build_corpus` once (each distinct text of the batch normalised once), the
    MinHash band keys of :func:`.blocking.minhash_lsh` (one signature per distinct token sequence), the
    description's 63-bit hash (``desc_key``, -1 when missing: what :func:`.variants.variant_pairs` compares)
    and the description tokens that are not title tokens (``extra``: with ``tokens``, the record's full token set).
    """
    corpus = build_corpus(
        pdf["rid"].tolist(),
        pdf["title"].tolist(),
        pdf["description"].tolist(),
        pdf["price"].tolist(),
        pdf["brand_name"].tolist(),
        pdf["image_phash"].tolist(),
    )
    codes = pd.factorize(pd.Series([t.tokens for t in corpus.title], dtype=object))[0].astype(np.int64)
    first = np.unique(codes, return_index=True)[1]
    sig = minhash_signatures(shingle_sets([corpus.title[int(k)] for k in first]), num_perm, seed)
    keys = band_keys(sig, bands)[codes].view(np.int64)
    desc = pdf["description"].to_numpy(dtype=object)
    missing = pd.isna(desc)
    desc_key = np.full(len(pdf), -1, dtype=np.int64)
    if (~missing).any():
        hashed = pd.util.hash_array(desc[~missing].astype(str).astype(object), categorize=True)
        desc_key[~missing] = (hashed >> np.uint64(1)).astype(np.int64)
    title_sets = [set(n.tokens) for n in corpus.title]
    return pd.DataFrame(
        {
            "rid": pdf["rid"].to_numpy(dtype=np.int64),
            "merchant_id": pdf["merchant_id"],
            "title": pdf["title"],
            "price": corpus.price,
            "brand": corpus.brand,
            "phash": corpus.phash.view(np.int64),
            "has_phash": corpus.has_phash,
            "desc_key": desc_key,
            "tokens": [list(n.tokens) for n in corpus.title],
            "strong": [list(n.strong) for n in corpus.title],
            "models": [list(n.models) for n in corpus.title],
            "extra": [sorted(f - t) for f, t in zip(corpus.full_tokens, title_sets, strict=True)],
            "bands": list(keys),
        }
    )


def prepare_listings(listings: DataFrame, params: DedupConfig, work: Path) -> DataFrame:
    """Every listing normalised once (:func:`prepare_batch` per Arrow batch), written under ``work``."""

    def prepare(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            if len(pdf):
                yield prepare_batch(pdf, params.minhash_perm, params.minhash_bands, params.seed)

    cols = ["rid", "merchant_id", "title", "description", "price", "brand_name", "image_phash"]
    # equal texts next to each other: build_corpus normalises each distinct text once per batch, and a
    # marketplace repeats its descriptions (1% distinct at scale m) and titles (36%); no shuffle
    rows = listings.select(*cols).sortWithinPartitions("description", "title")
    rows.mapInPandas(prepare, PREPARED_SCHEMA).write.mode("overwrite").parquet(str(work / "prepared"))
    return listings.sparkSession.read.parquet(str(work / "prepared"))


def model_key_rows(prepared: DataFrame, min_len: int = 4) -> DataFrame:
    """``[rid, key]``: a row per model number (``min_len``+ characters) of each title (:func:`.blocking.model_keys`)."""
    return prepared.select("rid", F.explode("models").alias("key")).where(F.length("key") >= min_len)


def band_rows(prepared: DataFrame) -> DataFrame:
    """``[rid, band, key]``: one row per listing and MinHash band (the keys of :func:`.spark_lsh.band_key_rows`)."""
    return prepared.select("rid", F.posexplode("bands").alias("band", "key"))


def title_feature_column(tokens: Any) -> Any:
    """The distinct :func:`.blocking.title_features` of a ``tokens`` array column, in Spark SQL: each token and
    ``~`` + every character 3-gram of ``#token#`` (code points, as Python slices them)."""
    grams = F.transform(
        tokens,
        lambda t: F.transform(
            F.sequence(F.lit(1), F.length(t)),
            lambda k: F.concat(F.lit("~"), F.substring(F.concat(F.lit("#"), t, F.lit("#")), k, 3)),
        ),
    )
    return F.array_distinct(F.concat(tokens, F.flatten(grams)))


def document_frequencies(prepared: DataFrame) -> pd.Series:
    """TF-IDF document frequency of every title feature (:func:`.blocking.title_features`) over all listings
    (Spark SQL on the prepared tokens: no Python pass)."""
    feats = prepared.select(F.explode(title_feature_column(F.col("tokens"))).alias("f"))
    df = pd.DataFrame(feats.groupBy("f").count().toPandas())
    return pd.Series(df["count"].to_numpy(dtype=np.int64), index=pd.Index(df["f"].astype(object)))


def smooth_idf(df: pd.Series, n: int) -> pd.Series:
    """scikit-learn's smoothed idf ``ln((1 + n) / (1 + df)) + 1`` in float32, the way ``TfidfTransformer.fit`` does."""
    d = df.to_numpy().astype(np.float32)
    d += 1.0
    return pd.Series(np.log((n + 1) / d) + 1, index=df.index)


def _tfidf(titles: list[tuple[str, ...]], idf: pd.Series) -> Any:
    """Rows of the corpus-wide TF-IDF matrix (:func:`.blocking.tfidf_matrix`) for a batch: local columns, global idf."""
    # the analyser runs once per distinct title of the batch (copies repeat titles; fit then transform of
    # a TfidfVectorizer ran it twice per row): equal titles get equal rows
    codes, distinct = pd.factorize(pd.Series(titles, dtype=object))
    counts = CountVectorizer(analyzer=title_features, min_df=1, dtype=np.float32)
    tf = counts.fit_transform(list(distinct))
    weights = TfidfTransformer(sublinear_tf=True)
    weights.idf_ = idf.reindex(counts.get_feature_names_out()).to_numpy(dtype=np.float32)
    return weights.transform(tf).tocsr()[codes]


def corpus_of(recs: pd.DataFrame) -> Corpus:
    """The :class:`.corpus.Corpus` of prepared rows (:data:`SIDE` columns and ``rid``) without normalising again."""
    title = [
        Normalized("", tuple(t), tuple(s), tuple(m))
        for t, s, m in zip(recs["tokens"].tolist(), recs["strong"].tolist(), recs["models"].tolist(), strict=True)
    ]
    full = [frozenset(n.tokens).union(e) for n, e in zip(title, recs["extra"].tolist(), strict=True)]
    return Corpus(
        [str(r) for r in recs["rid"].tolist()],
        title,
        full,
        recs["price"].to_numpy(dtype=np.float64),
        recs["brand"].tolist(),
        recs["phash"].to_numpy(dtype=np.int64).view(np.uint64),
        recs["has_phash"].to_numpy(dtype=bool),
    )


def score_batch(pdf: pd.DataFrame, idf: pd.Series, variants: bool) -> pd.DataFrame:
    """Features, unsupervised score, same-shop stratum and variants flag of the pairs ``pdf`` (``i, j`` and
    ``a_*``/``b_*`` prepared columns :data:`SIDE`), through the local path's functions.

    The batch's listings become one small :class:`.corpus.Corpus` (:func:`corpus_of`, each listing once
    however many of the batch's pairs it is in) and :func:`.features.pair_features` scores the pairs on it:
    a feature added there is computed on both paths; one that needs another listing attribute needs it
    in :func:`prepare_batch`, :data:`SIDE` and :func:`corpus_of`.
    """
    sides = [
        pdf[["i", *(f"a_{c}" for c in SIDE)]].set_axis(["rid", *SIDE], axis=1),
        pdf[["j", *(f"b_{c}" for c in SIDE)]].set_axis(["rid", *SIDE], axis=1),
    ]
    recs = pd.concat(sides, ignore_index=True).drop_duplicates("rid").sort_values("rid").reset_index(drop=True)
    pos = pd.Index(recs["rid"])
    li = pos.get_indexer(pdf["i"]).astype(np.int64)
    lj = pos.get_indexer(pdf["j"]).astype(np.int64)
    corpus = corpus_of(recs)
    tfidf = _tfidf([n.tokens for n in corpus.title], idf)
    stock = recs["stock_photo"].fillna(False).to_numpy(dtype=bool)
    feats = pair_features(corpus, li, lj, tfidf, None, TokenSets.of(corpus), stock)
    shop = np.asarray(pd.factorize(recs["merchant_id"])[0], dtype=np.int64)
    same_shop = ((shop[li] == shop[lj]) & (shop[li] >= 0)).astype(np.int64)
    if variants:
        key = recs["desc_key"].to_numpy(dtype=np.int64)
        desc = key.astype(object)
        desc[key < 0] = None  # no description: unknown (as the local path's missing text)
        variant = variant_pairs(li, lj, recs["merchant_id"], recs["price"], desc, recs["title"])
    else:
        variant = np.zeros(len(li), dtype=bool)
    out = feats[["unsup_score", *FIT_COLS]].astype("float64")
    out.insert(0, "j", pdf["j"].to_numpy(dtype=np.int64))
    out.insert(0, "i", pdf["i"].to_numpy(dtype=np.int64))
    out["same_shop"] = same_shop
    out["variant"] = variant
    return out


SCORE_BATCH_ROWS = 50_000
"""Pairs per Arrow batch of :func:`score_pairs` (Spark's default 10,000): with the pairs sorted by first
listing, a larger batch builds each listing's corpus row fewer times."""


@contextmanager
def arrow_batch_rows(spark: Any, rows: int) -> Iterator[None]:
    """``spark.sql.execution.arrow.maxRecordsPerBatch`` set to ``rows`` for the block, restored after."""
    key = "spark.sql.execution.arrow.maxRecordsPerBatch"
    old = spark.conf.get(key, None)
    spark.conf.set(key, str(rows))
    try:
        yield
    finally:
        if old is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, old)


def score_pairs(pairs: DataFrame, prepared: DataFrame, idf: Any, variants: bool) -> DataFrame:
    """:data:`SCORED_SCHEMA` rows of ``pairs [i, j, …]`` (``idf``: a broadcast :func:`smooth_idf` series).

    Each pair carries both listings' prepared columns (normalised tokens, not raw text); within a
    partition the pairs are sorted by ``i`` so a batch holds each first listing once.
    """
    a = prepared.select(F.col("rid").alias("i"), *(F.col(c).alias(f"a_{c}") for c in SIDE))
    b = prepared.select(F.col("rid").alias("j"), *(F.col(c).alias(f"b_{c}") for c in SIDE))
    # join on j first: the second join leaves the rows partitioned by i, so sorting within partitions
    # brings each first listing's pairs together
    joined = pairs.select("i", "j").join(b, "j").join(a, "i").sortWithinPartitions("i", "j")

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        table = idf.value
        for pdf in batches:
            if len(pdf):
                yield score_batch(pdf, table, variants)

    return joined.mapInPandas(score, SCORED_SCHEMA)


def cluster_component(
    nodes: pd.DataFrame, edges: pd.DataFrame, threshold: float, min_cohesion: float, cut: float | None
) -> pd.DataFrame:
    """Clusters of whole connected components of confident edges, as the local path forms them.

    Args:
        nodes: ``rid, product_id, merchant_id, created_at, image_phash`` of the components' listings.
        edges: ``i, j, score``: every confident edge of those components (``rid`` ends).

    Returns:
        :data:`MEMBER_SCHEMA` rows: ``kind = "m"`` per member of a cluster of two or more, and one
        ``kind = "s"`` row with the split / refused counts.
    """
    nodes = nodes.sort_values("rid").reset_index(drop=True)
    edges = edges.sort_values(["i", "j"]).reset_index(drop=True)
    pos = pd.Index(nodes["rid"])
    li = pos.get_indexer(edges["i"]).astype(np.int64)
    lj = pos.get_indexer(edges["j"]).astype(np.int64)
    score = edges["score"].to_numpy(dtype=np.float64)
    hashes = [parse_phash(h) for h in nodes["image_phash"].tolist()]
    cannot = None
    if cut is not None:
        known = np.array([h is not None for h in hashes], dtype=bool)
        cannot = CannotLink(np.array([h or 0 for h in hashes], dtype=np.uint64), known, cut)
    labels, stats = cluster_pairs(len(nodes), li, lj, score, threshold, min_cohesion, cannot)
    created = pd.to_datetime(nodes["created_at"]).astype("int64").to_numpy().astype(np.float64)
    canon = canonical_member(labels, created)
    pid = nodes["product_id"].astype(str).to_numpy()
    merchant = nodes["merchant_id"].astype(str).to_numpy()
    sizes = np.bincount(labels, minlength=len(nodes))
    inside = sizes[labels] >= 2
    cid = np.array([f"dup:{pid[c]}" for c in canon], dtype=object)
    idx = np.flatnonzero(inside)
    same = labels[li] == labels[lj]
    mean = pd.Series(np.minimum(score[same], 1.0)).groupby(cid[li[same]]).mean()
    size = pd.Series(cid[idx]).map(pd.Series(cid[idx]).value_counts()).to_numpy(dtype=np.int64)
    shops = pd.Series(merchant[idx]).groupby(cid[idx]).nunique()
    n_shops = pd.Series(cid[idx]).map(shops).to_numpy(dtype=np.int64)
    mean_score = pd.Series(cid[idx]).map(mean).fillna(0.0).to_numpy(dtype=np.float64)
    evidence = [
        f"{int(s)} listings from {int(m)} shops, mean pair score {v:.2f}"
        for s, m, v in zip(size, n_shops, mean_score, strict=True)
    ]
    # one more row (kind "s"): the component's counts; every column typed explicitly for Arrow
    created = pd.Series([*pd.to_datetime(nodes["created_at"]).iloc[idx].tolist(), pd.NaT])

    def text(values: Any) -> npt.NDArray[np.object_]:
        return np.array([*values, None], dtype=object)

    return pd.DataFrame(
        {
            "kind": np.array(["m"] * len(idx) + ["s"], dtype=object),
            "cluster_id": text(cid[idx]),
            "product_id": text(pid[idx]),
            "merchant_id": text(merchant[idx]),
            "created_at": created,
            "is_canonical": np.r_[canon[idx] == idx, False],
            "size": np.r_[size, 0].astype(np.int64),
            "n_merchants": np.r_[n_shops, 0].astype(np.int64),
            "canonical_product_id": text(pid[canon[idx]]),
            "mean_score": np.r_[mean_score, 0.0].astype(np.float64),
            "evidence": text(evidence),
            "split": np.r_[np.zeros(len(idx), dtype=np.int64), stats["split_components"]].astype(np.int64),
            "refused": np.r_[np.zeros(len(idx), dtype=np.int64), stats["refused_edges"]].astype(np.int64),
        }
    )


def _fit_sample(scored: DataFrame, total: int, limit: int, seed: int) -> pd.DataFrame:
    """The scored pairs the driver fits on, in pair order: all of them up to ``limit``, else a seeded hash sample."""
    cols = ["i", "j", "unsup_score", *FIT_COLS, "same_shop"]
    part = scored.select(*cols)
    if total > limit:
        rate = limit / total
        h = F.pmod(F.xxhash64("i", "j", F.lit(seed)), F.lit(1_000_000))
        part = part.where(h < F.lit(int(rate * 1_000_000)))
    return pd.DataFrame(part.toPandas()).sort_values(["i", "j"], kind="stable").reset_index(drop=True)


def find_duplicates_spark(
    products: DataFrame, params: DedupConfig, components: Components, work: Path
) -> SparkDuplicates:
    """Block, score and cluster listings on Spark (see the module docstring).

    Args:
        products: ``product_id, merchant_id, brand_name, title, description, price, image_phash, created_at``.
        params: the ``dedup`` config section.
        components: connected components of a ``[src, dst]`` edge frame (the graph engine's).
        work: a scratch folder for intermediate Parquet (the caller removes it).

    Raises:
        ValueError: ``dedup.embeddings`` is on (the embedding generator runs on the local path only).
    """
    if params.embeddings:
        raise ValueError(
            "dedup.embeddings is not supported by the Spark path of the duplicates stage; "
            "set dedup.engine: local (or dedup.embeddings: false)"
        )
    spark = products.sparkSession
    t0 = time.perf_counter()
    lap = StepClock("dedup (spark)")
    steps = lap.steps

    listings = with_row_ids(products, work)
    n = listings.count()
    lap("row ids", n)
    report: dict[str, Any] = {"engine": "spark", "listings": n, "generators": {}}
    if n < 2:
        return _empty(spark, report)

    # blocking: MinHash bands and model keys grouped in Spark, image hashes by multi-index hashing
    guard = BucketGuard(cap=params.bucket_cap)
    gens: dict[str, DataFrame] = {}
    skipped_frames: list[tuple[str, DataFrame]] = []
    prepared = prepare_listings(listings, params, work)
    lap("prepare", n)
    g0 = time.perf_counter()
    gens["minhash_lsh"], sk = bucket_pairs(band_rows(prepared), ["band", "key"], params.bucket_cap)
    skipped_frames.append(("minhash", sk.select(F.col("key").cast("string").alias("key"), "size")))
    gens["model_keys"], sk = bucket_pairs(model_key_rows(prepared), ["key"], params.bucket_cap)
    skipped_frames.append(("model", sk.select("key", "size")))
    hashes = pd.DataFrame(prepared.where("has_phash").select("rid", "phash").toPandas())
    ph = np.zeros(n, dtype=np.uint64)
    known = np.zeros(n, dtype=bool)
    rid = hashes["rid"].to_numpy(dtype=np.int64)
    ph[rid] = hashes["phash"].to_numpy(dtype=np.int64).view(np.uint64)
    known[rid] = True
    pi, pj = phash_pairs(ph, known, guard, params.phash_radius)
    gens["phash"] = spark.createDataFrame(pd.DataFrame({"i": pi, "j": pj}), "i long, j long")
    pairs = None
    for name, frame in gens.items():
        s0 = time.perf_counter()
        frame.write.mode("overwrite").parquet(str(work / f"pairs_{name}"))
        gens[name] = spark.read.parquet(str(work / f"pairs_{name}"))
        report["generators"][name] = {
            "pairs": gens[name].count(),
            "seconds": round(time.perf_counter() - s0 + (s0 - g0 if name == "minhash_lsh" else 0.0), 2),
        }
        pairs = gens[name] if pairs is None else pairs.unionByName(gens[name])
    assert pairs is not None
    pairs.distinct().write.mode("overwrite").parquet(str(work / "pairs"))
    pairs = spark.read.parquet(str(work / "pairs"))
    n_pairs = pairs.count()
    examples: list[list[Any]] = []
    for gen, sk in skipped_frames:
        agg = sk.agg(F.count(F.lit(1)).alias("b"), F.sum(F.col("size") * (F.col("size") - 1) / 2).alias("p")).first()
        assert agg is not None
        guard.skipped_buckets += int(agg["b"] or 0)
        guard.skipped_pairs += int(agg["p"] or 0)
        examples += [[gen, str(r["key"]), int(r["size"])] for r in sk.orderBy("key").limit(10).collect()]
    report["candidate_pairs"] = n_pairs
    report["guard"] = {
        "skipped_buckets": guard.skipped_buckets,
        "skipped_pairs": guard.skipped_pairs,
        "examples": (examples + [list(x) for x in guard.skipped])[:10],
    }
    lap("blocking", n_pairs)
    report["step_seconds"] = steps
    if n_pairs < 4:
        return _empty(spark, report)

    # pair scoring with the corpus-wide idf
    idf = spark.sparkContext.broadcast(smooth_idf(document_frequencies(prepared), n))
    lap("document frequencies", len(idf.value))
    # the flags are read three times (the count, the candidate and the random pairs' scoring): written once
    stock = with_stock_photos(listings.select("rid", "image_phash", "merchant_id"), params.stock_photo_shops)
    stock.select("rid", "stock_photo").write.mode("overwrite").parquet(str(work / "stock"))
    stock = spark.read.parquet(str(work / "stock"))
    scoring = prepared.join(stock, "rid")
    report["stock_photo_listings"] = stock.where("stock_photo").count()
    with arrow_batch_rows(spark, SCORE_BATCH_ROWS):
        score_pairs(pairs, scoring, idf, params.variants).write.mode("overwrite").parquet(str(work / "scored"))
    scored = spark.read.parquet(str(work / "scored"))
    lap("pair features", n_pairs)

    # fits on the driver: threshold mixture, image-conflict cut, image confirmation
    sample = _fit_sample(scored, n_pairs, params.fit_sample, params.seed)
    n_fit = min(n_pairs, params.threshold_sample)
    ri, rj = random_pairs(n, n_fit, params.seed)
    rnd = spark.createDataFrame(pd.DataFrame({"k": np.arange(n_fit), "i": ri, "j": rj}), "k long, i long, j long")
    null = pd.DataFrame(score_pairs(rnd, scoring, idf, False).join(rnd, ["i", "j"]).dropDuplicates(["k"]).toPandas())
    null = null.set_index("k").reindex(np.arange(n_fit)).reset_index(drop=True)
    score = sample["unsup_score"].to_numpy()
    fit = np.random.default_rng(params.seed).choice(len(score), size=min(n_fit, len(score)), replace=False)
    threshold = mixture_threshold(np.r_[score[np.sort(fit)], null["unsup_score"].to_numpy()], params.seed, 3)
    report["threshold"] = threshold
    report["threshold_fit_pairs"] = {"candidate": len(fit), "random": n_fit}
    report["fit_sample_pairs"] = len(sample)
    cut = image_conflict_cut(sample["image_hamming"].to_numpy(), null["image_hamming"].to_numpy(), params.seed)
    report["image_conflict_bits"] = cut
    trust = fit_trust(sample, cut, sample["same_shop"].to_numpy(dtype=np.int64))
    lap("threshold", len(sample) + n_fit)

    def decide(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            trusted = trust.apply(pdf, pdf["same_shop"].to_numpy(dtype=np.int64))
            yield pd.DataFrame(
                {
                    "i": pdf["i"],
                    "j": pdf["j"],
                    "score": pdf["unsup_score"],
                    "untrusted": ~trusted & (pdf["unsup_score"] >= threshold),
                    "variant": pdf["variant"],
                    "confident": trusted & ~pdf["variant"] & (pdf["unsup_score"] >= threshold),
                }
            )

    decided = scored.mapInPandas(
        decide, "i long, j long, score double, untrusted boolean, variant boolean, confident boolean"
    )
    decided.where(F.col("confident") | F.col("untrusted") | F.col("variant")).write.mode("overwrite").parquet(
        str(work / "decided")
    )
    decided = spark.read.parquet(str(work / "decided"))
    counts = decided.agg(
        F.sum(F.col("untrusted").cast("long")).alias("u"),
        F.sum(F.col("variant").cast("long")).alias("v"),
        F.sum(F.col("confident").cast("long")).alias("c"),
    ).first()
    assert counts is not None
    report["text_only_pairs_untrusted"] = int(counts["u"] or 0)
    if params.variants:
        report["variant_pairs"] = int(counts["v"] or 0)

    # confident edges → components (graph engine) → clusters per component
    conf = decided.where("confident").select("i", "j", "score")
    # text-only matches (untrusted: no image confirmation) between two shops the confident pairs show copying
    text_only = decided.where(F.col("untrusted") & ~F.col("variant")).select("i", "j", "score")
    edges_in = shop_rule_edges(conf, text_only, listings, params.min_shop_pair_matches)
    # written once: the edges and the per-component clustering both read it
    edges_in.write.mode("overwrite").parquet(str(work / "confident"))
    conf = spark.read.parquet(str(work / "confident"))
    n_vouched = conf.where("vouched").count()
    report["text_only_pairs_vouched"] = n_vouched
    conf = conf.select("i", "j", "score")
    ids = listings.select("rid", "product_id", "merchant_id")
    named = conf.join(
        ids.select(F.col("rid").alias("i"), F.col("product_id").alias("src"), F.col("merchant_id").alias("ms")), "i"
    ).join(ids.select(F.col("rid").alias("j"), F.col("product_id").alias("dst"), F.col("merchant_id").alias("md")), "j")
    edges = named.select(
        "i",
        "j",
        "src",
        "dst",
        F.least(F.col("score"), F.lit(1.0)).alias("score"),
        (F.col("ms") != F.col("md")).alias("cross_merchant"),
    )
    edges.write.mode("overwrite").parquet(str(work / "edges"))
    edges = spark.read.parquet(str(work / "edges"))
    n_edges = edges.count()
    report["uncorroborated_cross_shop_pairs"] = int(counts["c"] or 0) - (n_edges - n_vouched)
    comp = components(edges.select("src", "dst"))
    comp.write.mode("overwrite").parquet(str(work / "components"))
    comp = spark.read.parquet(str(work / "components"))
    lap("components", n_edges)
    # components in buckets: one pandas call clusters a bucket's components together (each on its own,
    # as cluster_pairs never merges across components), not one call per component
    buckets = max(1, spark.sparkContext.defaultParallelism * 4)
    bucket = F.pmod(F.xxhash64("component"), F.lit(buckets))
    nodes = listings.join(comp.withColumnRenamed("node", "product_id"), "product_id").select(
        "rid", "product_id", "merchant_id", "created_at", "image_phash", bucket.alias("bucket")
    )
    by_comp = conf.join(nodes.select(F.col("rid").alias("i"), F.col("bucket").alias("edge_bucket")), "i")
    thr, coh = threshold, params.min_cohesion

    def per_bucket(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
        return cluster_component(left, right, thr, coh, cut)

    out = nodes.groupBy("bucket").cogroup(by_comp.groupBy("edge_bucket")).applyInPandas(per_bucket, MEMBER_SCHEMA)
    out.write.mode("overwrite").parquet(str(work / "clustered"))
    out = spark.read.parquet(str(work / "clustered"))
    stats = out.where(F.col("kind") == "s").agg(F.sum("split").alias("s"), F.sum("refused").alias("r")).first()
    assert stats is not None
    report["split_components"] = int(stats["s"] or 0)
    report["confident_edges"] = n_edges
    report["refused_edges"] = int(stats["r"] or 0)
    m = out.where(F.col("kind") == "m")
    members = m.select("cluster_id", "product_id", "merchant_id", "created_at", "is_canonical")
    clusters = m.where("is_canonical").select(
        "cluster_id", "size", "n_merchants", "canonical_product_id", "mean_score", "evidence"
    )
    report["clusters"] = clusters.count()
    lap("clustering", n_edges)
    report["seconds"] = round(time.perf_counter() - t0, 2)
    return SparkDuplicates(
        edges.orderBy("i", "j").select("src", "dst", "score", "cross_merchant"),
        clusters.orderBy(F.col("size").desc(), F.col("cluster_id")),
        members.orderBy("cluster_id", "product_id"),
        report,
    )


def _empty(spark: Any, report: dict[str, Any]) -> SparkDuplicates:
    return SparkDuplicates(
        spark.createDataFrame([], "src string, dst string, score double, cross_merchant boolean"),
        spark.createDataFrame(
            [],
            "cluster_id string, size long, n_merchants long, canonical_product_id string, mean_score double, "
            "evidence string",
        ),
        spark.createDataFrame(
            [], "cluster_id string, product_id string, merchant_id string, created_at timestamp, is_canonical boolean"
        ),
        report,
    )
