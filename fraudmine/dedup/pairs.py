"""Candidate pairs as sorted, unique ``(i, j)`` index arrays with ``i < j``.

Records are rows ``0..n-1`` of one table; in clean-clean matching (two sources)
a ``side`` array (0 = left, 1 = right) says which source each row came from and
only cross-source pairs are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


def sorted_unique(x: IntArray) -> IntArray:
    """Sorted distinct values of an integer array, by sorting.

    ``np.unique`` without ``return_*`` takes a hash-based path for integers in numpy 2.4 that
    measured 6.4 s on 5M distinct int64 codes against 0.1 s for a sort (docs/benchmarks.md,
    "m after the scale fixes"); the pair sets here reach tens of millions of codes.
    """
    s = np.sort(np.asarray(x, dtype=np.int64), kind="stable")
    if len(s) == 0:
        return s
    return s[np.r_[True, s[1:] != s[:-1]]]


def canonical(i: IntArray, j: IntArray, n: int, side: npt.NDArray[np.int8] | None = None) -> tuple[IntArray, IntArray]:
    """Order each pair as ``(min, max)``, drop self pairs (and same-side pairs), deduplicate, sort."""
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    keep = lo != hi
    if side is not None:
        keep &= side[lo] != side[hi]
    code = sorted_unique(lo[keep] * n + hi[keep])
    return code // n, code % n


def union(parts: list[tuple[IntArray, IntArray]], n: int) -> tuple[IntArray, IntArray]:
    """Union of several canonical pair sets."""
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    code = sorted_unique(np.concatenate([a * n + b for a, b in parts]))
    return code // n, code % n


@dataclass
class BucketGuard:
    """Hot-bucket guard: buckets with more than ``cap`` members are skipped and counted.

    Attributes:
        cap: largest bucket expanded into pairs.
        skipped: ``(generator, key, size)`` of each skipped bucket (first 50 kept; ``skipped_buckets`` counts all).
        skipped_buckets: number of skipped buckets.
        skipped_pairs: pairs those buckets would have produced.
    """

    cap: int = 50
    skipped: list[tuple[str, str, int]] = field(default_factory=list)
    skipped_buckets: int = 0
    skipped_pairs: int = 0

    def skip(self, generator: str, key: str, size: int) -> None:
        """Record one skipped bucket of ``size`` members."""
        self.skipped_buckets += 1
        self.skipped_pairs += size * (size - 1) // 2
        if len(self.skipped) < 50:
            self.skipped.append((generator, key, size))

    def pairs(
        self,
        generator: str,
        keys: list[str] | npt.NDArray[np.generic],
        members: IntArray,
        n: int,
        side: npt.NDArray[np.int8] | None = None,
    ) -> tuple[IntArray, IntArray]:
        """All pairs of members sharing a key, skipping (and recording) hot buckets.

        Args:
            generator: name recorded for skipped buckets.
            keys: one key per entry (same length as ``members``).
            members: record index of each entry.
            n: number of records.
            side: optional source of each record (clean-clean).
        """
        keys_arr = np.asarray(keys)
        if len(keys_arr) == 0:
            return canonical(members[:0], members[:0], n, side)
        order = np.argsort(keys_arr, kind="stable")
        sk, sm = keys_arr[order], members[order]
        starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
        ends = np.r_[starts[1:], len(sk)]
        sizes = ends - starts
        for k in np.flatnonzero(sizes > self.cap).tolist():
            self.skip(generator, str(sk[starts[k]]), int(sizes[k]))
        out_i: list[IntArray] = []
        out_j: list[IntArray] = []
        # buckets of one size at a time: a (buckets × size) member matrix and its upper triangle,
        # instead of a Python step per bucket (millions of small LSH buckets at scale m)
        for size in np.unique(sizes[(sizes >= 2) & (sizes <= self.cap)]).tolist():
            first = starts[sizes == size]
            m = sm[first[:, None] + np.arange(size, dtype=np.int64)[None, :]]
            a, b = np.triu_indices(size, k=1)
            out_i.append(m[:, a].ravel())
            out_j.append(m[:, b].ravel())
        if not out_i:
            return canonical(members[:0], members[:0], n, side)
        return canonical(np.concatenate(out_i), np.concatenate(out_j), n, side)
