"""Unsupervised match probabilities: a Fellegi-Sunter latent-class mixture fitted by EM.

Each pair feature is cut into comparison levels (``nan`` is its own level); matches and non-matches
are the two latent classes, with level probabilities ``m`` (matches) and ``u`` (non-matches),
conditionally independent given the class (Fellegi & Sunter, *JASA* 1969; EM estimation after
Winkler 1988, as Splink does).  EM starts from "higher levels are likelier for matches" and a
small prior; the match probability of a pair is the posterior of the match class, and 0.5 is the
decision point — the threshold comes from the fitted mixture, not from a tuned constant.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

# Level cut points per feature (ascending); values at or above a cut fall in the higher level.
LEVELS: dict[str, tuple[float, ...]] = {
    "tfidf_cos": (0.2, 0.35, 0.5, 0.65, 0.8, 0.9),
    "emb_cos": (0.5, 0.65, 0.75, 0.85, 0.92),
    "jaccard": (0.2, 0.35, 0.5, 0.7),
    "model_agree": (-0.5, 0.25, 0.75),
    "price_ratio": (0.5, 0.75, 0.9),
    "brand_agree": (0.5,),
    "image_hamming_inv": (48.0, 56.0, 60.0),
}


def comparison_levels(feats: pd.DataFrame) -> npt.NDArray[np.int64]:
    """Integer level per pair and feature (0 = missing, 1.. ascending similarity)."""
    cols = []
    for name, cuts in LEVELS.items():
        if name == "image_hamming_inv":
            values = 64.0 - feats["image_hamming"].to_numpy(dtype=np.float64)
        else:
            values = feats[name].to_numpy(dtype=np.float64)
        level = np.searchsorted(np.asarray(cuts), values, side="right") + 1
        cols.append(np.where(np.isnan(values), 0, level))
    return np.stack(cols, axis=1).astype(np.int64)


def fit_em(
    levels: npt.NDArray[np.int64], prior: float = 0.05, iters: int = 100, tol: float = 1e-6, fix_u: bool = True
) -> npt.NDArray[np.float64]:
    """Posterior match probability per pair from a two-class latent model fitted by EM.

    With ``fix_u`` the non-match level frequencies ``u`` are the frequencies over all pairs given
    (candidate pairs are overwhelmingly non-matches, as Splink estimates ``u`` from random pairs)
    and EM fits only ``m`` and the prior; otherwise both classes are free.
    """
    n, f = levels.shape
    sizes = [int(levels[:, c].max()) + 1 for c in range(f)]
    m = [np.linspace(0.2, 1.0, s) ** 3 for s in sizes]
    u = [np.linspace(1.0, 0.2, s) ** 3 for s in sizes]
    for c in range(f):
        m[c][0] = u[c][0] = 1.0  # "missing" is equally likely either way to start with
        m[c] /= m[c].sum()
        u[c] /= u[c].sum()
        if fix_u:
            u[c] = (np.bincount(levels[:, c], minlength=sizes[c]) + 1e-3) / (n + 1e-3 * sizes[c])
    lam = prior
    post = np.full(n, prior)
    for _ in range(iters):
        log_m = np.log(lam) + sum(np.log(m[c][levels[:, c]]) for c in range(f))
        log_u = np.log(1 - lam) + sum(np.log(u[c][levels[:, c]]) for c in range(f))
        new = 1.0 / (1.0 + np.exp(np.clip(log_u - log_m, -50, 50)))
        lam = float(np.clip(new.mean(), 1e-6, 1 - 1e-6))
        for c in range(f):
            m[c] = np.bincount(levels[:, c], weights=new, minlength=sizes[c]) + 1e-3
            m[c] /= m[c].sum()
            if not fix_u:
                u[c] = np.bincount(levels[:, c], weights=1 - new, minlength=sizes[c]) + 1e-3
                u[c] /= u[c].sum()
        if np.abs(new - post).max() < tol:
            post = new
            break
        post = new
    return post
