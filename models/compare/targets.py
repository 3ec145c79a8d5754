"""Per-typology label vectors of one entity type, and its tabular (non-graph) feature subset.

Labels follow ``fraudmine evaluate``: positives are the typology's members (victims excluded),
negatives the entities of the type in no fraud typology and not low quality; every other entity
(a member of another typology) is unlabelled (-1) for that typology.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from fraudmine.features.buyer import BUYER_TABULAR_FEATURES
from fraudmine.features.columns import TABULAR_FEATURES
from fraudmine.features.creator import CREATOR_TABULAR_FEATURES
from fraudmine.features.product import PRODUCT_TABULAR_FEATURES
from fraudmine.features.reporter import REPORTER_TABULAR_FEATURES

TABULAR_BY_TYPE: dict[str, tuple[str, ...]] = {
    "merchant": TABULAR_FEATURES,
    "creator": CREATOR_TABULAR_FEATURES,
    "product": PRODUCT_TABULAR_FEATURES,
    "buyer": BUYER_TABULAR_FEATURES,
    "reporter": REPORTER_TABULAR_FEATURES,
}
"""Scored entity type → features computed from the entity's own history alone (no relation to other
accounts: no shared identifiers, clusters, duplicates, brushing blocks, co-reporters).  Every other
column of the run's feature table counts as a graph feature."""

GRAPH_NODE_TYPE: dict[str, str] = {"reporter": "buyer"}
"""Scored entity type → node type of the typed graph (default: the same)."""


def tabular_columns(entity_type: str, columns: Iterable[str]) -> list[str]:
    """The tabular subset of ``columns`` (in table order) for ``entity_type``.

    Raises:
        ValueError: an entity type without a declared tabular subset.
    """
    if entity_type not in TABULAR_BY_TYPE:
        raise ValueError(f"no tabular feature subset for entity type {entity_type!r}; known: {sorted(TABULAR_BY_TYPE)}")
    keep = set(TABULAR_BY_TYPE[entity_type])
    return [c for c in columns if c in keep]


def typology_labels(
    ids: pd.Series, positives: Mapping[str, Iterable[str]], bad: Iterable[str], low_quality: Iterable[str]
) -> dict[str, NDArray[np.int8]]:
    """Per typology, ``1`` / ``0`` / ``-1`` for each of ``ids``.

    Args:
        ids: raw ids of the entity type (the rows of its feature table).
        positives: typology → member ids (victims already removed).
        bad: ids of every fraud typology's members of the type (never negatives).
        low_quality: low-quality ids (never negatives).
    """
    not_neg = ids.isin(set(bad)) | ids.isin(set(low_quality))
    out: dict[str, NDArray[np.int8]] = {}
    for typ, members in positives.items():
        pos = ids.isin(set(members)).to_numpy()
        out[typ] = np.where(pos, 1, np.where(not_neg.to_numpy(), -1, 0)).astype(np.int8)
    return out
