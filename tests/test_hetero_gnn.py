"""Heterogeneous GNNs: node-id permutation invariance within a type, determinism by seed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from fraudmine.models.hetero.data import HeteroInputError, build_hetero
from fraudmine.models.hetero.train import HeteroConfig, fit_hetero


def _graph(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    rng = np.random.default_rng(seed)
    n = {"merchant": 30, "product": 40, "buyer": 80, "identifier": 12}
    nodes = pd.DataFrame(
        [(f"{t}:{t[0]}{i}", t) for t, k in n.items() for i in range(k)], columns=["node_id", "node_type"]
    )
    bad = {i for i in range(n["merchant"]) if i % 4 == 0}
    rows = []
    for p in range(n["product"]):
        rows.append((f"merchant:m{p % n['merchant']}", f"product:p{p}", "merchant__sells__product"))
    for m in range(n["merchant"]):
        ident = m % 3 if m in bad else 3 + int(rng.integers(0, n["identifier"] - 3))
        rows.append((f"merchant:m{m}", f"identifier:i{ident}", "merchant__uses__identifier"))
    for _ in range(120):
        rows.append(
            (
                f"buyer:b{rng.integers(0, n['buyer'])}",
                f"product:p{rng.integers(0, n['product'])}",
                "buyer__ordered__product",
            )
        )
    edges = pd.DataFrame(rows, columns=["src", "dst", "edge_type"]).drop_duplicates()
    labels = {f"merchant:m{i}": int(i in bad) for i in range(n["merchant"])}
    return nodes, edges, labels


def _rename(df: pd.DataFrame, cols: list[str], mapping: dict[str, str]) -> pd.DataFrame:
    out = df.copy()
    for c in cols:
        out[c] = out[c].map(lambda v: mapping.get(v, v))
    return out


def _fit(nodes: pd.DataFrame, edges: pd.DataFrame, labels: dict[str, int], net: str, seed: int) -> dict[str, float]:
    g = build_hetero(nodes, edges)
    ids = g.ids["merchant"]
    y = np.array([labels[i] for i in ids], dtype=np.int8)
    # the same merchants train and validate whatever their row order (ids renamed 'mz<99-i>')
    orig = np.array([99 - int(i[11:]) if i.startswith("merchant:mz") else int(i[10:]) for i in ids])
    train, val = np.flatnonzero(orig % 8 < 4), np.flatnonzero(orig % 8 >= 4)
    res = fit_hetero(g, "merchant", y, train, val, HeteroConfig(net=net, hidden=16, epochs=6, patience=6), seed)
    return dict(zip(ids, res.scores, strict=True))


@pytest.mark.parametrize("net", ["sage", "hgt"])
def test_scores_invariant_to_node_id_permutation_and_fixed_by_seed(net: str) -> None:
    nodes, edges, labels = _graph()
    base = _fit(nodes, edges, labels, net, seed=3)
    # A bijection of merchant and buyer ids that reverses their sort order: rows are permuted within type.
    mapping = {f"merchant:m{i}": f"merchant:mz{99 - i}" for i in range(30)}
    mapping |= {f"buyer:b{i}": f"buyer:bz{99 - i}" for i in range(80)}
    perm = _fit(
        _rename(nodes, ["node_id"], mapping),
        _rename(edges, ["src", "dst"], mapping),
        {mapping[k]: v for k, v in labels.items()},
        net,
        seed=3,
    )
    back = np.array([perm[mapping[k]] for k in base])
    np.testing.assert_allclose(back, np.array(list(base.values())), atol=1e-5)
    again = _fit(nodes, edges, labels, net, seed=3)
    assert list(again.values()) == list(base.values())
    assert len(set(np.round(list(base.values()), 6))) > 1  # not a constant output


def test_build_hetero_names_missing_nodes() -> None:
    nodes, edges, _ = _graph()
    edges = pd.concat(
        [edges, pd.DataFrame([("merchant:ghost", "product:p1", "merchant__sells__product")], columns=edges.columns)]
    )
    with pytest.raises(HeteroInputError, match=r"merchant__sells__product.*not among the nodes"):
        build_hetero(nodes, edges)


def test_build_hetero_same_graph_from_categorical_type_columns() -> None:
    """Parquet gives categorical type columns: same types, order, ids and tensors as from strings."""
    nodes, edges, _ = _graph()
    want = build_hetero(nodes, edges, degrees=True)
    cat_nodes, cat_edges = nodes.copy(), edges.copy()
    # categories in reverse order, plus one no row uses: order and groups must still follow the strings
    cat_nodes["node_type"] = pd.Categorical(
        nodes["node_type"], categories=["zzz", *sorted(set(nodes["node_type"]))[::-1]]
    )
    cat_edges["edge_type"] = pd.Categorical(edges["edge_type"], categories=sorted(set(edges["edge_type"]))[::-1])
    got = build_hetero(cat_nodes, cat_edges, degrees=True)
    assert got.data.node_types == want.data.node_types
    assert got.data.edge_types == want.data.edge_types
    for t in want.data.node_types:
        np.testing.assert_array_equal(got.ids[t], want.ids[t])
        assert torch.equal(got.data[t].x, want.data[t].x)
    for et in want.data.edge_types:
        assert torch.equal(got.data[et].edge_index, want.data[et].edge_index)
