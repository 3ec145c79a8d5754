"""The generic community benchmark behind ``fraudmine bench communities``.

Edge list in (SNAP: whitespace-separated ``u v [w]`` lines, ``#`` comments; CSV: ``src,dst[,weight]``
with or without a header), communities out; with a truth file, scored against it.

Truth formats (detected per file): one community per line (whitespace-separated node ids), or
``node<TAB or space>community`` pairs (a file whose every line has exactly two fields is read as
pairs).  **Overlapping truth** (a node in several communities) is allowed: the F1 uses every truth
community as given (average best-match F1, symmetric: the mean of truth→detected and
detected→truth averages, Yang & Leskovec 2013); NMI and ARI need one label per node, so each
node keeps its *first* truth community (lowest line / first pair) and the JSON reports how many
nodes had more than one (``overlap_nodes``).  NMI and ARI are computed over the nodes present in
the truth; detected singletons count as their own communities; truth nodes absent from the edge
list are singletons.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from fraudmine.graph.algorithms import local

Method = Literal["leiden", "lpa", "cc", "infomap", "auto"]


class BenchInputError(ValueError):
    """An edge or truth file cannot be read in the stated format."""


def read_edges(path: Path, fmt: Literal["snap", "csv", "auto"] = "auto") -> pd.DataFrame:
    """Read an edge list into ``[src, dst, weight]`` (string ids, weight 1.0 when absent).

    Raises:
        BenchInputError: naming the file, the line and what was expected.
    """
    if not path.exists():
        raise BenchInputError(f"edge file not found: {path}")
    if fmt == "auto":
        fmt = "csv" if path.suffix.lower() == ".csv" else "snap"
    rows: list[list[str]] = []
    if fmt == "csv":
        with path.open(newline="") as fh:
            rows = [r for r in csv.reader(fh) if r and not r[0].startswith("#")]
        if rows and not _numeric_or_id_row(rows[0]):
            rows = rows[1:]
    else:
        for line in path.read_text().splitlines():
            s = line.strip()
            if s and not s.startswith(("#", "%")):
                rows.append(s.split())
    for i, r in enumerate(rows[:1000]):
        if len(r) < 2:
            raise BenchInputError(f"{path}: line {i + 1} has {len(r)} field(s); expected 'src dst [weight]'")
    df = pd.DataFrame({"src": [r[0] for r in rows], "dst": [r[1] for r in rows]})
    if rows and all(len(r) >= 3 for r in rows):
        try:
            df["weight"] = [float(r[2]) for r in rows]
        except ValueError as exc:
            raise BenchInputError(f"{path}: third column must be a numeric weight ({exc})") from None
    else:
        df["weight"] = 1.0
    return df


def _numeric_or_id_row(row: list[str]) -> bool:
    header_words = {"src", "dst", "source", "target", "from", "to", "u", "v", "node1", "node2", "weight"}
    return not any(c.strip().lower() in header_words for c in row)


def read_truth(path: Path) -> dict[str, list[str]]:
    """Truth communities as ``community id → member list`` (see the module docstring for formats).

    Raises:
        BenchInputError: the file is missing or empty.
    """
    if not path.exists():
        raise BenchInputError(f"truth file not found: {path}")
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    if not lines:
        raise BenchInputError(f"{path}: no communities found")
    comms: dict[str, list[str]] = {}
    if all(len(ln) == 2 for ln in lines):
        for node, c in lines:
            comms.setdefault(c, []).append(node)
    else:
        for i, ln in enumerate(lines):
            comms[str(i)] = ln
    return comms


def detect(
    edges: pd.DataFrame, method: Method, seed: int = 0, resolution: float = 1.0
) -> tuple[np.ndarray, np.ndarray, str]:
    """Run a community method on the local engine.

    Returns:
        ``(node names, labels, method used)``; ``auto`` is Leiden.
    """
    g = local.from_pandas(edges)
    m = "leiden" if method == "auto" else method
    if m == "leiden":
        labels = local.leiden(g, resolution=resolution, seed=seed)
    elif m == "lpa":
        labels = local.label_propagation(g, seed=seed)
    elif m == "infomap":
        labels = local.infomap(g, seed=seed)
    elif m == "cc":
        labels = local.connected_components(g)
    else:
        raise BenchInputError(f"unknown method {method!r}; use leiden, lpa, cc, infomap or auto")
    return g.names, labels, m


def _avg_best_f1(a: list[set[str]], b: list[set[str]]) -> float:
    owner: dict[str, list[int]] = {}
    for j, s in enumerate(b):
        for n in s:
            owner.setdefault(n, []).append(j)
    out = []
    for s in a:
        best = 0.0
        for j in {j for n in s for j in owner.get(n, [])}:
            tp = len(s & b[j])
            best = max(best, 2 * tp / (len(s) + len(b[j])))
        out.append(best)
    return float(np.mean(out)) if out else 0.0


@dataclass(frozen=True)
class Scores:
    """Agreement between detected and truth communities."""

    nmi: float
    ari: float
    f1: float
    overlap_nodes: int


def score(names: np.ndarray, labels: np.ndarray, truth: dict[str, list[str]]) -> Scores:
    """NMI, ARI and average best-match F1 (see the module docstring for overlapping truth)."""
    first: dict[str, str] = {}
    count: dict[str, int] = {}
    for c, ms in truth.items():
        for n in ms:
            count[n] = count.get(n, 0) + 1
            first.setdefault(n, c)
    det = dict(zip(names.tolist(), labels.tolist(), strict=True))
    nodes = sorted(first)
    t = [first[n] for n in nodes]
    p = [det.get(n, f"_single_{n}") for n in nodes]
    det_sets: dict[str, set[str]] = {}
    for n, c in det.items():
        det_sets.setdefault(c, set()).add(n)
    truth_sets = [set(ms) for ms in truth.values()]
    covered = set(first)
    det_list = [s & covered for s in det_sets.values() if s & covered]
    f1 = 0.5 * (_avg_best_f1(truth_sets, det_list) + _avg_best_f1(det_list, truth_sets))
    return Scores(
        float(normalized_mutual_info_score(t, p)),
        float(adjusted_rand_score(t, p)),
        f1,
        sum(1 for v in count.values() if v > 1),
    )


def run_benchmark(
    edges_path: Path,
    truth_path: Path | None,
    fmt: Literal["snap", "csv", "auto"] = "auto",
    method: Method = "auto",
    seed: int = 0,
    resolution: float = 1.0,
) -> dict[str, Any]:
    """Read, detect, score.  Returns the JSON object of ``fraudmine bench communities --json``.

    Keys: ``nmi``, ``ari``, ``f1`` (``None`` without truth), ``seconds`` (detection only),
    ``communities`` (count, singletons included), plus ``method``, ``nodes``, ``edges``,
    ``overlap_nodes``, ``truth_communities``.
    """
    edges = read_edges(edges_path, fmt)
    truth = read_truth(truth_path) if truth_path is not None else None
    t0 = time.perf_counter()
    names, labels, used = detect(edges, method, seed, resolution)
    seconds = time.perf_counter() - t0
    out: dict[str, Any] = {
        "method": used,
        "nodes": int(names.shape[0]),
        "edges": len(edges),
        "communities": len(set(labels.tolist())),
        "seconds": round(seconds, 4),
        "nmi": None,
        "ari": None,
        "f1": None,
    }
    if truth is not None:
        s = score(names, labels, truth)
        out.update(nmi=s.nmi, ari=s.ari, f1=s.f1, overlap_nodes=s.overlap_nodes, truth_communities=len(truth))
    return out
