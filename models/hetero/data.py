"""Typed graph (the ``graph`` stage's ``nodes`` / ``edges``) → :class:`HeteroData`.

Input shapes (pandas; the stage's parquet read back, or any frame with these columns):

- nodes ``[node_id, node_type]``: typed ids (``merchant:m1``), one row per node;
- edges ``[src, dst, edge_type]`` (+ optional ``weight``): ``edge_type`` is the flat key
  ``<src_type>__<relation>__<dst_type>`` of :class:`fraudmine.contracts.ids.EdgeType`;
- optional features: node type → frame indexed by ``node_id`` with numeric columns.

Nodes of a type are indexed in ascending ``node_id`` order, so the same graph gives the same
tensors whatever order Spark wrote its rows in.  Node types without features get structural
ones: ``log1p`` of the degree over each edge type they touch, and a constant 1.  Every edge type
also gets its reverse (``rev_<relation>``), so every node type receives messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch_geometric.transforms as T
from torch_geometric.data import HeteroData

from fraudmine.contracts.ids import edge_type_from_key

NODE_COLUMNS = ("node_id", "node_type")
EDGE_COLUMNS = ("src", "dst", "edge_type")


class HeteroInputError(ValueError):
    """A nodes/edges frame lacks a column or names a node that does not exist."""


@dataclass(frozen=True)
class TypedHeteroGraph:
    """A :class:`HeteroData` and, per node type, the typed id of each row (row ``i`` ↔ ``ids[type][i]``)."""

    data: HeteroData
    ids: dict[str, np.ndarray]


def _check(df: pd.DataFrame, cols: tuple[str, ...], table: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise HeteroInputError(f"{table} frame lacks {missing}; columns present: {list(df.columns)}")


def _type_key(col: pd.Series) -> pd.Series:
    """The type column as a grouping key whose sorted groups are the types' strings in ascending order.

    A categorical column (Parquet dictionary columns read back) keeps its codes and only its
    categories become strings, in sorted order: ``astype(str)`` would build one string per row
    (more than half of the build's time at s).  Any other column is cast with ``astype(str)``.
    """
    if isinstance(col.dtype, pd.CategoricalDtype) and not col.isna().any():
        cats = col.cat.categories.astype(str)
        if cats.is_unique:
            return col.cat.rename_categories(cats).cat.reorder_categories(sorted(cats))
    return col.astype(str)


def build_hetero(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    features: Mapping[str, pd.DataFrame] | None = None,
    reverse: bool = True,
    degrees: bool = False,
) -> TypedHeteroGraph:
    """Build the heterogeneous graph (see the module docstring for the shapes).

    With ``degrees``, node types that have features also get the structural columns (``log1p`` of
    the degree per edge type they touch) appended to them.

    Raises:
        HeteroInputError: a missing column, an unknown edge type key, or an edge endpoint that is
            not among the nodes.
    """
    _check(nodes, NODE_COLUMNS, "nodes")
    _check(edges, EDGE_COLUMNS, "edges")
    features = features or {}
    data = HeteroData()
    ids: dict[str, np.ndarray] = {}
    index: dict[str, pd.Series] = {}
    for ntype, grp in nodes.groupby(_type_key(nodes["node_type"]), sort=True, observed=True):
        tids = np.sort(grp["node_id"].astype(str).unique())
        ids[str(ntype)] = tids
        index[str(ntype)] = pd.Series(np.arange(len(tids)), index=tids)
    degree: dict[str, list[np.ndarray]] = {t: [] for t in ids}
    for key, grp in edges.groupby(_type_key(edges["edge_type"]), sort=True, observed=True):
        try:
            et = edge_type_from_key(str(key))
        except ValueError as exc:
            raise HeteroInputError(str(exc)) from None
        s, d = str(et.src), str(et.dst)
        if s not in index or d not in index:
            raise HeteroInputError(f"edge type {key!r} joins node types {s!r}/{d!r}; node types present: {sorted(ids)}")
        src = index[s].reindex(grp["src"].astype(str)).to_numpy()
        dst = index[d].reindex(grp["dst"].astype(str)).to_numpy()
        bad = np.isnan(src.astype(float)) | np.isnan(dst.astype(float))
        if bad.any():
            raise HeteroInputError(f"edges of type {key!r}: {int(bad.sum())} endpoint(s) not among the nodes")
        ei = np.unique(np.vstack([src, dst]).astype(np.int64), axis=1)
        data[s, et.relation, d].edge_index = torch.from_numpy(ei)
        degree[s].append(np.bincount(ei[0], minlength=len(ids[s])))
        degree[d].append(np.bincount(ei[1], minlength=len(ids[d])))
    for ntype, tids in ids.items():
        if ntype in features:
            f = features[ntype].reindex(tids).fillna(0.0).to_numpy(dtype=np.float32)
            if degrees and degree[ntype]:
                f = np.column_stack([f, *[np.log1p(d) for d in degree[ntype]]]).astype(np.float32)
        else:
            cols = [np.log1p(d) for d in degree[ntype]] + [np.ones(len(tids))]
            f = np.column_stack(cols).astype(np.float32)
        data[ntype].x = torch.from_numpy(f)
    if reverse:
        data = T.ToUndirected(merge=False)(data)
    return TypedHeteroGraph(data=data, ids=ids)


def read_graph_stage(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the ``graph`` stage's ``nodes`` and ``edges`` (as of D) parquet folders with pandas."""
    nodes = pd.read_parquet(folder / "nodes", columns=list(NODE_COLUMNS))
    edges = pd.read_parquet(folder / "edges", columns=list(EDGE_COLUMNS))
    return nodes, edges
