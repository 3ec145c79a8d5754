"""Full-batch GraphSAGE for node classification over one or several relations (CPU).

Per layer and relation a GraphSAGE convolution with the ego and the neighbourhood kept apart
(``W_self·h_v + W_neigh·mean(h_u, u ∈ N(v))``, Hamilton et al., NeurIPS 2017; the "-sep"
models of Platonov et al., ICLR 2023), summed over relations, then a residual connection, layer
norm, ReLU and dropout.  The layers are :class:`torch_geometric.nn.SAGEConv` modules (their
``lin_l`` / ``lin_r`` weights); only the neighbour mean is computed differently: by a scipy CSR
product wrapped as an autograd function, 3-5 times faster on CPU than PyG's scatter path on graphs with
a million edges.  The first layer's mean of the raw features is computed once.

Trained with binary cross-entropy; the epoch kept is the one with the best validation AUPRC.
Returns scores and last-layer embeddings of every node.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import scipy.sparse as sp
import torch
from numpy.typing import NDArray
from sklearn.metrics import average_precision_score
from torch import nn
from torch_geometric.nn import SAGEConv

from fraudmine.models.nodes.features import row_normalise


@dataclass(frozen=True)
class GNNConfig:
    """Hyperparameters of :class:`MultiRelationSAGE` training."""

    hidden: int = 64
    layers: int = 2
    dropout: float = 0.2
    lr: float = 0.01
    weight_decay: float = 0.0
    max_epochs: int = 150
    patience: int = 25


class MeanAggregator:
    """``h ↦ D⁻¹A·h`` for one relation, differentiable (backward: ``(D⁻¹A)ᵀ·g``).

    Args:
        adjacency: ``(n, n)`` 0/1 CSR adjacency (row = target node).
    """

    def __init__(self, adjacency: sp.csr_matrix) -> None:
        self.fwd = row_normalise(adjacency)
        self.bwd = self.fwd.T.tocsr()

    def __call__(self, h: torch.Tensor) -> torch.Tensor:
        """Neighbour mean of ``h`` (``(n, d)``)."""
        out: torch.Tensor = _SparseMean.apply(h, self)  # type: ignore[no-untyped-call]
        return out


class _SparseMean(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, h: torch.Tensor, agg: MeanAggregator) -> torch.Tensor:
        ctx.agg = agg
        return torch.from_numpy(np.asarray(agg.fwd @ h.detach().numpy(), dtype=np.float32))

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor, None]:
        return torch.from_numpy(np.asarray(ctx.agg.bwd @ g.numpy(), dtype=np.float32)), None


class MultiRelationSAGE(nn.Module):
    """``layers`` rounds of per-relation SAGE convolutions, summed, with residual and layer norm.

    Args:
        in_dim: input feature width.
        relations: number of relations.
        cfg: widths, depth and dropout.
    """

    def __init__(self, in_dim: int, relations: int, cfg: GNNConfig) -> None:
        super().__init__()
        dims = [in_dim] + [cfg.hidden] * cfg.layers
        self.convs = nn.ModuleList(
            nn.ModuleList(SAGEConv(dims[i], dims[i + 1], aggr="mean", root_weight=True) for _ in range(relations))
            for i in range(cfg.layers)
        )
        self.norms = nn.ModuleList(nn.LayerNorm(cfg.hidden) for _ in range(cfg.layers))
        self.out = nn.Linear(cfg.hidden, 1)
        self.dropout = cfg.dropout

    def embed(self, x: torch.Tensor, x_mean: Sequence[torch.Tensor], aggs: Sequence[MeanAggregator]) -> torch.Tensor:
        """Last-layer embeddings ``(n, hidden)``; ``x_mean[r]`` is relation ``r``'s mean of ``x``."""
        h = x
        for i, (convs, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            h_in = nn.functional.dropout(h, self.dropout, self.training)
            means = x_mean if i == 0 else [agg(h_in) for agg in aggs]
            rel = cast(list[SAGEConv], convs)
            msg = rel[0].lin_r(h_in)  # one ego term, one neighbour term per relation
            for r, m in enumerate(means):
                msg = msg + rel[r].lin_l(m)
            h = torch.relu(norm(msg if i == 0 else h + msg))
        return h

    def forward(self, x: torch.Tensor, x_mean: Sequence[torch.Tensor], aggs: Sequence[MeanAggregator]) -> torch.Tensor:
        """Logits ``(n,)``."""
        h = nn.functional.dropout(self.embed(x, x_mean, aggs), self.dropout, self.training)
        out: torch.Tensor = self.out(h).squeeze(-1)
        return out


def standardise(x: NDArray[np.float32], rows: NDArray[np.int64]) -> NDArray[np.float32]:
    """Z-score columns with the mean and std of ``rows`` (the training nodes)."""
    mu = x[rows].mean(axis=0)
    sd = x[rows].std(axis=0)
    return np.asarray((x - mu) / np.where(sd > 0, sd, 1.0), dtype=np.float32)


def train_gnn(
    x: NDArray[np.float32],
    aggs: Sequence[MeanAggregator],
    y: NDArray[np.int8],
    train: NDArray[np.int64],
    val: NDArray[np.int64],
    cfg: GNNConfig,
    seed: int,
) -> tuple[NDArray[np.float64], NDArray[np.float32], float]:
    """Train on ``train``, keep the epoch with the best AUPRC on ``val``.

    Returns:
        ``(scores, embeddings, best_val_auprc)``: positive-class probability of every node ``(n,)``,
        embeddings ``(n, hidden)`` of the kept epoch, and its validation AUPRC.
    """
    torch.manual_seed(seed)
    xt = torch.from_numpy(standardise(x, train))
    with torch.no_grad():
        x_mean = [agg(xt) for agg in aggs]
    model = MultiRelationSAGE(x.shape[1], len(aggs), cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    yt = torch.from_numpy(y.astype(np.float32))
    tr = torch.from_numpy(train)
    best: tuple[float, NDArray[np.float64], NDArray[np.float32]] = (
        -1.0,
        np.zeros(len(y)),
        np.zeros((0, 0), np.float32),
    )
    since = 0
    for _ in range(cfg.max_epochs):
        model.train()
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(model(xt, x_mean, aggs)[tr], yt[tr])
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
        model.eval()
        with torch.no_grad():
            emb = model.embed(xt, x_mean, aggs)
            score = torch.sigmoid(model.out(emb).squeeze(-1)).numpy().astype(np.float64)
        ap = float(average_precision_score(y[val], score[val]))
        if ap > best[0]:
            best, since = (ap, score, emb.numpy()), 0
        else:
            since += 1
            if since >= cfg.patience:
                break
    return best[1], best[2], best[0]
