"""Heterogeneous networks: ``to_hetero`` GraphSAGE and HGT, over a per-type input projection.

- :class:`HeteroSAGE`: a homogeneous two-layer GraphSAGE (ego and neighbour weights apart,
  Hamilton et al., 2017) converted by :func:`torch_geometric.nn.to_hetero` into one convolution
  per edge type, summed per destination type (the R-GCN style of Schlichtkrull et al., 2018).
- :class:`HeteroHGT`: Heterogeneous Graph Transformer layers (Hu et al., WWW 2020), type-specific
  attention per edge type.

Both map every node type's features to ``hidden`` with their own linear layer first, and return
``{node_type: (n, hidden)}`` embeddings; a linear head scores the target type.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch_geometric.nn import HGTConv, SAGEConv, to_hetero

Metadata = tuple[list[str], list[tuple[str, str, str]]]


class _SAGE(nn.Module):
    def __init__(self, hidden: int, layers: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList(SAGEConv(hidden, hidden, root_weight=True) for _ in range(layers))

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = torch.relu(conv(x, edge_index) + x)
        return x


class _Proj(nn.Module):
    def __init__(self, in_dims: dict[str, int], hidden: int) -> None:
        super().__init__()
        self.lin = nn.ModuleDict({t: nn.Linear(d, hidden) for t, d in in_dims.items()})

    def forward(self, x_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {t: torch.relu(self.lin[t](x)) for t, x in x_dict.items()}


class HeteroSAGE(nn.Module):
    """``to_hetero(GraphSAGE)`` over the metadata of the graph (``sum`` across edge types)."""

    def __init__(self, metadata: Metadata, in_dims: dict[str, int], hidden: int = 32, layers: int = 2) -> None:
        super().__init__()
        self.proj = _Proj(in_dims, hidden)
        self.gnn: Any = to_hetero(_SAGE(hidden, layers), metadata, aggr="sum")

    def forward(self, x_dict: dict[str, torch.Tensor], edge_index_dict: dict[Any, torch.Tensor]) -> dict[str, Any]:
        """Embeddings per node type."""
        out: dict[str, Any] = self.gnn(self.proj(x_dict), edge_index_dict)
        return out


class HeteroHGT(nn.Module):
    """``layers`` :class:`HGTConv` layers with residual connections."""

    def __init__(
        self, metadata: Metadata, in_dims: dict[str, int], hidden: int = 32, layers: int = 2, heads: int = 2
    ) -> None:
        super().__init__()
        self.proj = _Proj(in_dims, hidden)
        self.convs = nn.ModuleList(HGTConv(hidden, hidden, metadata, heads=heads) for _ in range(layers))

    def forward(self, x_dict: dict[str, torch.Tensor], edge_index_dict: dict[Any, torch.Tensor]) -> dict[str, Any]:
        """Embeddings per node type."""
        h: dict[str, Any] = self.proj(x_dict)
        for conv in self.convs:
            out = conv(h, edge_index_dict)
            h = {t: torch.relu(out[t] + h[t]) if out.get(t) is not None else h[t] for t in h}
        return h


NETS: dict[str, type[nn.Module]] = {"sage": HeteroSAGE, "hgt": HeteroHGT}
