"""Pairwise quality of matches and of blocking against a gold set of pairs."""

from __future__ import annotations

from collections.abc import Iterable


def prf(predicted: set[tuple[int, int]], gold: set[tuple[int, int]]) -> dict[str, float]:
    """Pairwise precision, recall and F1 (percent-free fractions in [0, 1])."""
    tp = len(predicted & gold)
    precision = tp / len(predicted) if predicted else 0.0
    recall = tp / len(gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def pair_completeness(candidates: set[tuple[int, int]], gold: set[tuple[int, int]]) -> float:
    """Share of gold pairs among the candidates (blocking recall)."""
    return len(candidates & gold) / len(gold) if gold else 0.0


def as_pairs(i: Iterable[int], j: Iterable[int]) -> set[tuple[int, int]]:
    """Canonical ``(min, max)`` pair set."""
    return {(min(a, b), max(a, b)) for a, b in zip(i, j, strict=True)}


def cluster_pairs_of(labels: dict[str, str]) -> set[tuple[str, str]]:
    """All within-cluster record pairs of a record → cluster mapping (for pairwise cluster F1)."""
    groups: dict[str, list[str]] = {}
    for rec, lab in labels.items():
        groups.setdefault(lab, []).append(rec)
    out: set[tuple[str, str]] = set()
    for members in groups.values():
        members.sort()
        out.update((a, b) for x, a in enumerate(members) for b in members[x + 1 :])
    return out
