"""Unsupervised match threshold from the score distribution.

A two-component Gaussian mixture is fitted to the scores (candidate pairs'
best-match scores carry a "non-match" mode and a "match" mode); the threshold is
the score between the two means where the posterior of the upper component
reaches one half.  No constant is tuned to a data set.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from sklearn.mixture import GaussianMixture


def mixture_threshold(scores: npt.NDArray[np.float64], seed: int = 0) -> float:
    """Score at which the upper mixture component becomes more likely than the lower.

    Raises:
        ValueError: fewer than 4 finite scores.
    """
    s = np.asarray(scores, dtype=np.float64)
    s = s[np.isfinite(s)]
    if len(s) < 4:
        raise ValueError(f"mixture_threshold needs at least 4 finite scores, got {len(s)}")
    gm = GaussianMixture(n_components=2, random_state=seed, n_init=3).fit(s.reshape(-1, 1))
    means = gm.means_.ravel()
    hi = int(np.argmax(means))
    lo_mean, hi_mean = float(means.min()), float(means.max())
    grid = np.linspace(lo_mean, hi_mean, 512)
    post = gm.predict_proba(grid.reshape(-1, 1))[:, hi]
    above = np.flatnonzero(post >= 0.5)
    return float(grid[above[0]]) if len(above) else float((lo_mean + hi_mean) / 2)
