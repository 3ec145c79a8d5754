"""End-to-end entity-resolution benchmark on two full CSV tables and a gold mapping.

``run_benchmark`` reads both tables (roles detected, see :mod:`.tables`), blocks with the union
of generators, scores the candidates (unsupervised, or supervised when training pairs are given)
and measures against the gold pairs.  ``candidates_per_record`` is candidate pairs per record of
the smaller table.  Training pairs may use the ids of tables of their own (DeepMatcher ships
``tableA.csv``/``tableB.csv`` beside ``train.csv`` with row numbers as ids): when such tables sit
beside the training file, their records are mapped onto the benchmark tables by normalised title,
and pairs whose records do not map are dropped and counted.  Supervised figures are measured on
the gold pairs outside the training pairs (held out) so the training labels do not count.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fraudmine.dedup import embed as embed_mod
from fraudmine.dedup.blocking import (
    Pairs,
    block,
    embedding_knn,
    minhash_lsh,
    model_keys,
    phash_buckets,
    tfidf_knn,
    tfidf_matrix,
)
from fraudmine.dedup.cluster import unique_mapping
from fraudmine.dedup.corpus import Corpus, build_corpus
from fraudmine.dedup.features import pair_features, unsupervised_score
from fraudmine.dedup.matcher import PairMatcher
from fraudmine.dedup.metrics import as_pairs, pair_completeness, prf
from fraudmine.dedup.normalize import title_key
from fraudmine.dedup.pairs import BucketGuard, canonical, union
from fraudmine.dedup.tables import Roles, detect_roles, read_table
from fraudmine.dedup.threshold import assignment_threshold

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BenchOptions:
    """Options of ``fraudmine bench dedup`` (see its ``--help``)."""

    sep: str | None = None
    truth_sep: str | None = None
    encoding: str | None = None
    left_id: str | None = None
    right_id: str | None = None
    text_cols: tuple[str, ...] = ()
    train: Path | None = None
    test: Path | None = None
    valid: Path | None = None
    k: int = 5
    bucket_cap: int = 20
    embeddings: bool = True
    seed: int = 0
    cache_dir: Path | None = None


def _text(frame: pd.DataFrame, cols: list[str]) -> list[str]:
    return (
        [" ".join(str(v) for v in row if v) for row in frame[cols].itertuples(index=False)]
        if cols
        else [""] * len(frame)
    )


def _columns(frame: pd.DataFrame, roles: Roles) -> dict[str, list[Any]]:
    title_cols = [roles.title] + [c for c in (roles.brand, roles.model) if c and c != roles.title]
    desc_cols = [c for c in roles.text if c not in title_cols]
    return {
        "ids": frame[roles.id].astype(str).tolist(),
        "titles": _text(frame, title_cols),
        "descriptions": _text(frame, desc_cols),
        "prices": frame[roles.price].tolist() if roles.price else [None] * len(frame),
        "brands": frame[roles.brand].tolist() if roles.brand else [None] * len(frame),
        "phashes": frame[roles.image].tolist() if roles.image else [None] * len(frame),
    }


def load_pair_of_tables(
    left: Path, right: Path, opts: BenchOptions
) -> tuple[Corpus, int, list[pd.DataFrame], list[Roles]]:
    """Both tables as one corpus (left rows first, ``side`` 0/1); returns corpus, left size, frames, roles."""
    frames, roles = [], []
    for path, id_col, name in ((left, opts.left_id, "left"), (right, opts.right_id, "right")):
        frame = read_table(path, opts.sep, opts.encoding)
        frames.append(frame)
        roles.append(detect_roles(frame, id_col, list(opts.text_cols) or None, f"{name} table {path.name}"))
    cols = [_columns(f, r) for f, r in zip(frames, roles, strict=True)]
    merged = {key: cols[0][key] + cols[1][key] for key in cols[0]}
    side = [0] * len(frames[0]) + [1] * len(frames[1])
    corpus = build_corpus(side=side, **merged)
    return corpus, len(frames[0]), frames, roles


def _index(ids: list[str], offset: int = 0) -> dict[str, int]:
    return {v: k + offset for k, v in enumerate(ids)}


def read_gold(path: Path, corpus: Corpus, n_left: int, sep: str | None) -> set[tuple[int, int]]:
    """Gold pairs as corpus index pairs; the column holding left ids is found by overlap.

    Raises:
        ValueError: fewer than two columns, or the ids match neither table.
    """
    gold = read_table(path, sep)
    if gold.shape[1] < 2:
        raise ValueError(f"truth {path}: needs two id columns, found {list(gold.columns)}")
    a, b = gold.columns[:2]
    left_ix, right_ix = _index(corpus.ids[:n_left]), _index(corpus.ids[n_left:], n_left)
    direct = min(gold[a].isin(left_ix.keys()).mean(), gold[b].isin(right_ix.keys()).mean())
    swapped = min(gold[b].isin(left_ix.keys()).mean(), gold[a].isin(right_ix.keys()).mean())
    if max(direct, swapped) < 0.5:
        raise ValueError(
            f"truth {path}: columns {a!r}, {b!r} are not (left ids, right ids) in either order: under half of "
            "their values are ids of the tables (check --truth, --left-id/--right-id, --truth-sep)"
        )
    lc, rc = (a, b) if direct >= swapped else (b, a)
    pairs = {
        (left_ix[x], right_ix[y]) for x, y in zip(gold[lc], gold[rc], strict=True) if x in left_ix and y in right_ix
    }
    log.info("truth: %d gold pairs (%d rows; %d with unknown ids)", len(pairs), len(gold), len(gold) - len(pairs))
    return pairs


def _foreign_map(own: Path, frame: pd.DataFrame, roles: Roles, offset: int) -> dict[str, int]:
    """Ids of a foreign copy of a table → our row index, by normalised title (ties by row position)."""
    foreign = read_table(own)
    froles = detect_roles(foreign, None, None, f"training table {own.name}")
    ours: dict[str, list[int]] = {}
    for pos, t in enumerate(frame[roles.title].tolist()):
        ours.setdefault(title_key(t), []).append(pos)
    out: dict[str, int] = {}
    for pos, (fid, t) in enumerate(zip(foreign[froles.id], foreign[froles.title], strict=True)):
        hits = ours.get(title_key(t), [])
        if hits:
            out[str(fid)] = offset + (pos if pos in hits else min(hits, key=lambda h: abs(h - pos)))
    return out


def read_training_pairs(
    path: Path, corpus: Corpus, n_left: int, frames: list[pd.DataFrame], roles: list[Roles]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labelled pairs ``(i, j, label)`` from a ``ltable_id,rtable_id,label`` file (see module docstring).

    Raises:
        ValueError: the file lacks the three columns, or no pair maps onto the tables.
    """
    pairs = read_table(path)
    cols = list(pairs.columns)
    lcol = next((c for c in cols if c.lower().startswith(("ltable", "left"))), cols[0])
    rcol = next((c for c in cols if c.lower().startswith(("rtable", "right"))), cols[1] if len(cols) > 1 else cols[0])
    ycol = next((c for c in cols if c.lower() in ("label", "gold", "is_match", "match")), cols[-1])
    if len({lcol, rcol, ycol}) < 3:
        raise ValueError(f"training pairs {path}: need left id, right id and label columns; found {cols}")
    sib_a, sib_b = path.parent / "tableA.csv", path.parent / "tableB.csv"
    if sib_a.exists() and sib_b.exists():
        lmap = _foreign_map(sib_a, frames[0], roles[0], 0)
        rmap = _foreign_map(sib_b, frames[1], roles[1], n_left)
        log.info(
            "training ids mapped through %s: %d/%d left, %d/%d right records",
            path.parent,
            len(lmap),
            len(frames[0]),
            len(rmap),
            len(frames[1]),
        )
    else:
        lmap, rmap = _index(corpus.ids[:n_left]), _index(corpus.ids[n_left:], n_left)
    keep = pairs[lcol].isin(lmap.keys()) & pairs[rcol].isin(rmap.keys())
    if not keep.any():
        raise ValueError(f"training pairs {path}: no pair's ids map onto the benchmark tables")
    log.info(
        "training pairs: %d of %d mapped (%d positive)",
        int(keep.sum()),
        len(pairs),
        int(pairs.loc[keep, ycol].astype(int).sum()),
    )
    sub = pairs[keep]
    return (
        sub[lcol].map(lmap).to_numpy(dtype=np.int64),
        sub[rcol].map(rmap).to_numpy(dtype=np.int64),
        sub[ycol].astype(int).to_numpy(),
    )


def _generators(corpus: Corpus, emb: np.ndarray | None, k: int) -> dict[str, Callable[[Corpus, BucketGuard], Pairs]]:
    tfidf = tfidf_matrix(corpus)
    gens: dict[str, Callable[[Corpus, BucketGuard], Pairs]] = {
        "tfidf_knn": lambda c, g: tfidf_knn(c, k, tfidf),
        "minhash_lsh": lambda c, g: minhash_lsh(c, g, num_perm=64, bands=8),
        "model_keys": lambda c, g: model_keys(c, g),
    }
    if emb is not None:
        gens["embedding_knn"] = lambda c, g: embedding_knn(c, emb, k)
    if corpus.has_phash.any():
        gens["phash"] = lambda c, g: phash_buckets(c, g)
    return gens


def run_benchmark(left: Path, right: Path, truth: Path, opts: BenchOptions) -> dict[str, Any]:
    """Run blocking + matching and measure; returns the six headline figures plus ``details``."""
    start = time.perf_counter()
    corpus, n_left, frames, roles = load_pair_of_tables(left, right, opts)
    gold = read_gold(truth, corpus, n_left, opts.truth_sep)
    log.info("tables: %d left, %d right; roles %s / %s", n_left, len(corpus) - n_left, roles[0], roles[1])
    emb = None
    if opts.embeddings:
        t = time.perf_counter()
        emb = embed_mod.encode([n.text for n in corpus.title], cache_dir=opts.cache_dir)
        log.info("embeddings: %d texts in %.1f s", len(corpus), time.perf_counter() - t)
    tfidf = tfidf_matrix(corpus)
    blocking = block(corpus, _generators(corpus, emb, opts.k), BucketGuard(cap=opts.bucket_cap))
    cand = as_pairs(blocking.i, blocking.j)
    per = len(cand) / min(n_left, len(corpus) - n_left)
    generators = {
        name: {
            "pairs": len(p[0]),
            "pair_completeness": pair_completeness(as_pairs(*p), gold),
            "seconds": blocking.seconds[name],
        }
        for name, p in blocking.by_generator.items()
    }
    for name, g in generators.items():
        log.info(
            "blocking %s: %d pairs, completeness %.4f, %.1f s", name, g["pairs"], g["pair_completeness"], g["seconds"]
        )
    log.info(
        "blocking union: %d pairs (%.1f per record), completeness %.4f; guard skipped %d buckets (%d pairs)",
        len(cand),
        per,
        pair_completeness(cand, gold),
        blocking.guard.skipped_buckets,
        blocking.guard.skipped_pairs,
    )
    feats = pair_features(corpus, blocking.i, blocking.j, tfidf, emb)
    details: dict[str, Any] = {"generators": generators, "guard_skipped": blocking.guard.skipped[:10]}
    held_out: set[tuple[int, int]] = set()
    if opts.train is not None:
        ti, tj, ty = read_training_pairs(opts.train, corpus, n_left, frames, roles)
        held_out = as_pairs(ti, tj)  # the labelled pairs themselves are not scored
        ti, tj, ty = implied_negatives(ti, tj, ty, blocking.i, blocking.j)
        # features of training pairs are computed together with the candidates, so the context
        # features (rank and gap among a record's candidates) mean the same at fit and predict time
        base = [(blocking.i, blocking.j), canonical(ti, tj, len(corpus), corpus.side)]
        rows = _pair_rows(corpus, base, tfidf, emb)
        model = PairMatcher(random_state=opts.seed).fit(rows(ti, tj), ty)
        score = model.predict_proba(rows(blocking.i, blocking.j))
        threshold = 0.5
        details["mode"] = "supervised"
        if opts.test is not None:
            # the given pairs are featurised in a union of their own, so they never change the candidates'
            # context features (rank and gap among a record's candidates) and the headline figures
            test = read_training_pairs(opts.test, corpus, n_left, frames, roles)
            valid = read_training_pairs(opts.valid, corpus, n_left, frames, roles) if opts.valid else None
            extra = [canonical(p[0], p[1], len(corpus), corpus.side) for p in (test, valid) if p is not None]
            grows = _pair_rows(corpus, base + extra, tfidf, emb)
            cut = 0.5 if valid is None else best_f1_threshold(model.predict_proba(grows(valid[0], valid[1])), valid[2])
            details["given_test_pairs"] = given_pairs_quality(
                model.predict_proba(grows(test[0], test[1])), test[2], cut
            )
            log.info("given test pairs %s: %s", opts.test, details["given_test_pairs"])
    else:
        score = unsupervised_score(feats)
        small_is_left = n_left <= len(corpus) - n_left
        assigned = unique_mapping(blocking.i, blocking.j, score, -np.inf)
        threshold = assignment_threshold(blocking.i if small_is_left else blocking.j, assigned, score, opts.seed)
        details["mode"] = "unsupervised"
    keep = unique_mapping(blocking.i, blocking.j, score, threshold)
    predicted = as_pairs(blocking.i[keep], blocking.j[keep])
    details["threshold"] = threshold
    details["all_gold"] = prf(predicted, gold)
    quality = prf(predicted - held_out, gold - held_out)
    baseline = _baseline(corpus, n_left)
    details["baseline_exact_title"] = prf(baseline - held_out, gold - held_out)
    log.info(
        "%s: threshold %.3f, %d matches; P %.4f R %.4f F1 %.4f (baseline exact title F1 %.4f)",
        details["mode"],
        threshold,
        len(predicted),
        quality["precision"],
        quality["recall"],
        quality["f1"],
        details["baseline_exact_title"]["f1"],
    )
    return {
        "f1": quality["f1"],
        "precision": quality["precision"],
        "recall": quality["recall"],
        "pair_completeness": pair_completeness(cand, gold),
        "candidates_per_record": per,
        "seconds": time.perf_counter() - start,
        "details": details,
    }


def _pair_rows(
    corpus: Corpus, pairs: list[tuple[np.ndarray, np.ndarray]], tfidf: Any, emb: np.ndarray | None
) -> Callable[[np.ndarray, np.ndarray], pd.DataFrame]:
    """Features of the union of ``pairs`` (context features computed over that union) and a row picker."""
    ui, uj = union(pairs, len(corpus))
    feats = pair_features(corpus, ui, uj, tfidf, emb)
    code = pd.Series(np.arange(len(ui)), index=ui * len(corpus) + uj)

    def rows(a: np.ndarray, b: np.ndarray) -> pd.DataFrame:
        return feats.iloc[code[np.minimum(a, b) * len(corpus) + np.maximum(a, b)].to_numpy()]

    return rows


def given_pairs_quality(score: np.ndarray, label: np.ndarray, threshold: float = 0.5) -> dict[str, float | int]:
    """Pairwise precision, recall and F1 (fractions) of ``score >= threshold`` on labelled pairs someone else
    blocked (the DeepMatcher protocol: a classifier over given candidate pairs, no one-to-one assignment)."""
    pred = score >= threshold
    tp = int((pred & (label == 1)).sum())
    p = tp / max(int(pred.sum()), 1)
    r = tp / max(int((label == 1).sum()), 1)
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "pairs": len(label),
        "positives": int((label == 1).sum()),
        "threshold": float(threshold),
        "precision": p,
        "recall": r,
        "f1": f1,
    }


def best_f1_threshold(score: np.ndarray, label: np.ndarray) -> float:
    """The score cut that maximises pairwise F1 on labelled validation pairs (ties: the highest cut)."""
    order = np.argsort(-score, kind="stable")
    s, y = score[order], label[order] == 1
    tp = np.cumsum(y)
    k = np.arange(1, len(s) + 1)
    f1 = 2 * tp / (k + max(int(y.sum()), 1))
    last = np.r_[s[1:] != s[:-1], True]  # a cut can only fall after the last of a run of equal scores
    if not last.any() or not y.any():
        return 0.5
    best = int(np.flatnonzero(last)[np.argmax(f1[last])])
    return float(s[best])


def implied_negatives(
    ti: np.ndarray, tj: np.ndarray, ty: np.ndarray, ci: np.ndarray, cj: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training pairs plus the negatives they imply among the candidates.

    In two-source matching a record has (nearly always) one partner, so the other candidate pairs of
    a record with a labelled positive are negatives.  They come from our own blocking, so the matcher
    also sees the candidate distribution it will score (the given pairs come from someone else's
    blocking).  Only training labels are used.
    """
    pos_left = set(ti[ty == 1].tolist())
    pos_right = set(tj[ty == 1].tolist())
    known = {(int(a), int(b)) for a, b in zip(ti, tj, strict=True)}
    extra = [
        (int(a), int(b))
        for a, b in zip(ci, cj, strict=True)
        if (int(a) in pos_left or int(b) in pos_right) and (int(a), int(b)) not in known
    ]
    if not extra:
        return ti, tj, ty
    ei, ej = np.array(extra, dtype=np.int64).T
    return np.r_[ti, ei], np.r_[tj, ej], np.r_[ty, np.zeros(len(ei), dtype=ty.dtype)]


def _baseline(corpus: Corpus, n_left: int) -> set[tuple[int, int]]:
    """Trivial baseline: pairs whose normalised titles are exactly equal."""
    keys: dict[str, list[int]] = {}
    for r, n in enumerate(corpus.title):
        keys.setdefault(title_key(n.text), []).append(r)
    return {(a, b) for rows in keys.values() for a in rows if a < n_left for b in rows if b >= n_left}
