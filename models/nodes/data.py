"""Read a node-classification bundle (``.npz``) into one typed, validated object.

Format (the generic one ``fraudmine bench nodes`` accepts):

- ``node_features``: ``(n, f)`` numeric;
- ``node_labels``: ``(n,)`` with 1 = positive, 0 = negative, -1 = unlabelled;
- edges, either one relation as ``edges`` ``(m, 2)`` or ``edge_index`` ``(2, m)``, or several
  as ``edges__<relation>`` / ``edge_index__<relation>`` (each relation one edge set);
- optional ``train_masks`` / ``val_masks`` / ``test_masks``: ``(k, n)`` boolean (or ``(n,)``
  for one split).

Edges are read as undirected: each relation is symmetrised, self-loops and duplicates dropped
(bundles differ in whether they store each edge once, both ways, or with self-loops; the models
add the ego term themselves).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

EDGE_KEYS = ("edges", "edge_index")
MASK_KEYS = ("train_masks", "val_masks", "test_masks")


class BundleError(ValueError):
    """A node bundle is missing a key or has a key of the wrong shape."""


@dataclass(frozen=True)
class NodeBundle:
    """A labelled graph.

    Attributes:
        x: ``(n, f)`` float32 node features.
        y: ``(n,)`` int8 labels (1, 0, -1 = unlabelled).
        adjacency: relation name → symmetric ``(n, n)`` CSR matrix of 0/1 (no self-loops).
        masks: ``(train, val, test)`` each ``(k, n)`` bool, or ``None`` when the bundle has none.
    """

    x: NDArray[np.float32]
    y: NDArray[np.int8]
    adjacency: dict[str, sp.csr_matrix]
    masks: tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]] | None

    @property
    def n(self) -> int:
        """Number of nodes."""
        return int(self.x.shape[0])


def _edge_pairs(key: str, arr: NDArray[np.generic], n: int) -> NDArray[np.int64]:
    """``(m, 2)`` int64 pairs from an ``edges`` ``(m, 2)`` or ``edge_index`` ``(2, m)`` array."""
    a = np.asarray(arr)
    is_index = key.startswith("edge_index")
    want = "(2, m)" if is_index else "(m, 2)"
    if a.ndim != 2 or (a.shape[0] != 2 if is_index else a.shape[1] != 2):
        raise BundleError(f"key {key!r} has shape {a.shape}; expected {want}")
    if not np.issubdtype(a.dtype, np.integer):
        raise BundleError(f"key {key!r} has dtype {a.dtype}; expected integer node indices")
    pairs = (a.T if is_index else a).astype(np.int64)
    if pairs.size and (pairs.min() < 0 or pairs.max() >= n):
        raise BundleError(f"key {key!r} has node indices outside [0, {n}) (min {pairs.min()}, max {pairs.max()})")
    return pairs


def symmetric_adjacency(pairs: NDArray[np.int64], n: int) -> sp.csr_matrix:
    """Symmetric 0/1 CSR adjacency of an edge list, without self-loops or duplicates."""
    keep = pairs[:, 0] != pairs[:, 1]
    src = np.concatenate([pairs[keep, 0], pairs[keep, 1]])
    dst = np.concatenate([pairs[keep, 1], pairs[keep, 0]])
    a = sp.csr_matrix((np.ones(len(src), dtype=np.float32), (src, dst)), shape=(n, n))
    a.sum_duplicates()
    a.data[:] = 1.0
    return a


def _masks(
    arrays: dict[str, NDArray[np.generic]], n: int
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]] | None:
    present = [k for k in MASK_KEYS if k in arrays]
    if not present:
        return None
    if len(present) != 3:
        raise BundleError(f"bundle has {present} but not all of {list(MASK_KEYS)}; give all three or none")
    out = []
    for k in MASK_KEYS:
        m = np.asarray(arrays[k])
        m = m[None, :] if m.ndim == 1 else m
        if m.ndim != 2 or m.shape[1] != n:
            raise BundleError(f"key {k!r} has shape {np.asarray(arrays[k]).shape}; expected (k, {n}) or ({n},)")
        out.append(m.astype(bool))
    if len({o.shape[0] for o in out}) != 1:
        raise BundleError(f"mask keys disagree on the number of splits: {[o.shape[0] for o in out]}")
    return out[0], out[1], out[2]


def from_arrays(arrays: dict[str, NDArray[np.generic]]) -> NodeBundle:
    """Validate a bundle's arrays (the keys of the module docstring) into a :class:`NodeBundle`.

    Raises:
        BundleError: naming the key, its shape and what was expected; listing the keys present.
    """
    keys = sorted(arrays)
    for k in ("node_features", "node_labels"):
        if k not in arrays:
            raise BundleError(f"bundle has no {k!r}; keys present: {keys}")
    x = np.asarray(arrays["node_features"])
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise BundleError(f"'node_features' has shape {x.shape}; expected (n, f)")
    n = x.shape[0]
    y = np.asarray(arrays["node_labels"]).reshape(-1)
    if y.shape[0] != n:
        raise BundleError(f"'node_labels' has {y.shape[0]} entries; 'node_features' has {n} rows")
    bad = set(np.unique(y).tolist()) - {-1, 0, 1}
    if bad:
        raise BundleError(f"'node_labels' has values {sorted(bad)}; expected 1, 0 or -1 (unlabelled)")
    adjacency: dict[str, sp.csr_matrix] = {}
    for k in keys:
        base, _, rel = k.partition("__")
        if base in EDGE_KEYS:
            name = rel or "edge"
            if name in adjacency:
                raise BundleError(f"relation {name!r} is given twice (as edges and edge_index); keep one")
            adjacency[name] = symmetric_adjacency(_edge_pairs(k, arrays[k], n), n)
    if not adjacency:
        raise BundleError(f"bundle has no edges: expected 'edges', 'edge_index' or 'edges__<relation>'; keys: {keys}")
    return NodeBundle(
        x=np.nan_to_num(x.astype(np.float32)), y=y.astype(np.int8), adjacency=adjacency, masks=_masks(arrays, n)
    )


def load_npz(path: Path) -> NodeBundle:
    """Read and validate a ``.npz`` node bundle.

    Raises:
        BundleError: the file is missing, not an npz archive, or a key is wrong (see :func:`from_arrays`).
    """
    if not path.exists():
        raise BundleError(f"node bundle not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise BundleError(f"{path} is not a readable .npz archive ({exc})") from None
    return from_arrays(arrays)
