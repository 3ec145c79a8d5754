"""Unsupervised match threshold from the score distribution.

A two-component Gaussian mixture is fitted to the scores (candidate pairs'
best-match scores carry a "non-match" mode and a "match" mode); the threshold is
the score between the two means where the posterior of the upper component
reaches one half.  No constant is tuned to a data set.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from sklearn.isotonic import IsotonicRegression
from sklearn.mixture import GaussianMixture


def mixture_threshold(scores: npt.NDArray[np.float64], seed: int = 0, max_components: int = 2) -> float:
    """Score at which the upper mixture component becomes the likeliest.

    With ``max_components`` > 2 the number of components (2..max) is chosen by BIC, so a middle
    mode (similar but distinct listings) gets its own component instead of dragging the cut down.

    Raises:
        ValueError: fewer than 4 finite scores.
    """
    s = np.asarray(scores, dtype=np.float64)
    s = s[np.isfinite(s)]
    if len(s) < 4:
        raise ValueError(f"mixture_threshold needs at least 4 finite scores, got {len(s)}")
    x = s.reshape(-1, 1)
    fits = [GaussianMixture(n_components=k, random_state=seed, n_init=3).fit(x) for k in range(2, max_components + 1)]
    gm = min(fits, key=lambda g: g.bic(x))
    means = gm.means_.ravel()
    hi = int(np.argmax(means))
    lo_mean, hi_mean = float(np.sort(means)[-2]), float(means.max())
    grid = np.linspace(lo_mean, hi_mean, 512)
    proba = gm.predict_proba(grid.reshape(-1, 1))
    above = np.flatnonzero(proba.argmax(axis=1) == hi)
    return float(grid[above[0]]) if len(above) else float((lo_mean + hi_mean) / 2)


def best_and_runner_up(
    query: npt.NDArray[np.int64], score: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Each query record's best candidate score and its runner-up (records with one candidate give no runner-up)."""
    order = np.lexsort((-score, query))
    q, s = query[order], score[order]
    first = np.r_[True, q[1:] != q[:-1]]
    second = np.r_[False, first[:-1]] & ~first
    return s[first], s[second]


def assignment_threshold(
    query: npt.NDArray[np.int64], assigned: npt.NDArray[np.bool_], score: npt.NDArray[np.float64], seed: int = 0
) -> float:
    """Threshold for best-match (one-to-one) decisions from a mixture over best and runner-up scores.

    ``assigned`` marks the pairs a one-to-one assignment keeps with no threshold.  A record's
    assigned score is a match score when it has a partner and a non-match score when not;
    its runner-up is (nearly always) a non-match.  Fitting the two-component mixture to both
    anchors the non-match component on the runner-ups, so the cut adapts to how many records have
    a partner at all (almost all in one benchmark, a third in another) without a tuned constant.
    """
    _, runner = best_and_runner_up(query, score)
    return mixture_threshold(np.r_[score[assigned], runner], seed)


def image_conflict_cut(
    candidate_bits: npt.NDArray[np.float64], random_bits: npt.NDArray[np.float64], seed: int = 0, sample: int = 20_000
) -> float | None:
    """Image-hash Hamming distance from which two images are different pictures, from the data.

    A two-component mixture over the distances of candidate pairs (copies and re-encodings near 0,
    look-alike listings with their own photos far) and of random pairs (unrelated photos, which
    anchor the far component even when nearly every candidate is a copy); the cut is where the far
    component becomes the likelier one, fitted on at most ``sample`` seeded draws from each side.  ``None``
    (no rule) when fewer than 4 pairs carry two images.
    """
    rng = np.random.default_rng(seed)
    parts = []
    for x in (candidate_bits, random_bits):
        x = np.asarray(x, dtype=np.float64)
        x = x[np.isfinite(x)]
        # a 1-d two-component fit needs no more than a few thousand draws per side (integer bits)
        parts.append(rng.choice(x, size=sample, replace=False) if len(x) > sample else x)
    bits = np.concatenate(parts)
    if len(bits) < 4 or np.ptp(bits) == 0:
        return None
    return mixture_threshold(bits, seed)


def image_confirmation(
    text_score: npt.NDArray[np.float64], image_bits: npt.NDArray[np.float64], cut: float
) -> npt.NDArray[np.float64] | None:
    """How often a text match is a duplicate, learnt from the pairs whose images can tell.

    Pairs carrying two images are labelled by their images (same picture when fewer than ``cut``
    bits apart); an isotonic regression of that label on the text-only score gives, for every
    pair, the probability that text agreement at its level is confirmed by the pictures.  A
    text-only pair (an image missing) is trusted where this reaches one half — on a marketplace whose
    generic titles ("vintage face serum black") are shared by unrelated products it stays low, on
    one where equal titles mean equal products it is high.  ``None`` when the image pairs hold one
    label only (nothing to learn from).
    """
    iso = fit_image_confirmation(text_score, image_bits, cut)
    return None if iso is None else np.asarray(iso.predict(text_score), dtype=np.float64)


def fit_image_confirmation(
    text_score: npt.NDArray[np.float64], image_bits: npt.NDArray[np.float64], cut: float
) -> IsotonicRegression | None:
    """The isotonic model behind :func:`image_confirmation` (``None`` when the image pairs hold one label):
    fitted on the driver, it can be applied to pairs elsewhere (the Spark path's executors)."""
    both = np.isfinite(image_bits)
    y = image_bits[both] < cut
    if y.all() or not y.any():
        return None
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    iso.fit(text_score[both], y.astype(np.float64))
    return iso
