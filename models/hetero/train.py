"""Fit a heterogeneous GNN for one target node type; scores and embeddings out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray
from sklearn.metrics import average_precision_score
from torch import nn

from fraudmine.models.hetero.data import TypedHeteroGraph
from fraudmine.models.hetero.nets import NETS


@dataclass(frozen=True)
class HeteroConfig:
    """Network and training hyperparameters."""

    net: str = "sage"
    hidden: int = 32
    layers: int = 2
    lr: float = 0.01
    epochs: int = 100
    patience: int = 20


@dataclass(frozen=True)
class HeteroResult:
    """Target-type scores ``(n_target,)`` (probabilities), embeddings per node type and validation AUPRC."""

    scores: NDArray[np.float64]
    embeddings: dict[str, NDArray[np.float32]]
    val_auprc: float


def fit_hetero(
    graph: TypedHeteroGraph,
    target: str,
    labels: NDArray[np.int8],
    train: NDArray[np.int64],
    val: NDArray[np.int64],
    cfg: HeteroConfig,
    seed: int,
) -> HeteroResult:
    """Train ``cfg.net`` full-batch on the ``train`` rows of node type ``target``.

    Args:
        graph: the typed heterogeneous graph.
        target: node type scored (e.g. ``"merchant"``).
        labels: ``(n_target,)`` 1 / 0 / -1 (unlabelled), in ``graph.ids[target]`` order.
        train, val: row indices of ``target`` nodes; the epoch with the best validation AUPRC is kept.
        cfg: hyperparameters.
        seed: torch seed (same seed, same graph → same scores).

    Raises:
        ValueError: unknown ``cfg.net`` or ``target`` not a node type of the graph.
    """
    if cfg.net not in NETS:
        raise ValueError(f"unknown heterogeneous net {cfg.net!r}; choose from {sorted(NETS)}")
    if target not in graph.ids:
        raise ValueError(f"target node type {target!r} not in the graph; node types: {sorted(graph.ids)}")
    torch.manual_seed(seed)
    data = graph.data
    x_dict = {t: data[t].x for t in data.node_types}
    ei_dict = {et: data[et].edge_index for et in data.edge_types}
    in_dims = {t: int(x.shape[1]) for t, x in x_dict.items()}
    net = NETS[cfg.net](data.metadata(), in_dims, hidden=cfg.hidden, layers=cfg.layers)
    head = nn.Linear(cfg.hidden, 1)
    opt = torch.optim.Adam([*net.parameters(), *head.parameters()], lr=cfg.lr)
    y = torch.from_numpy(labels.astype(np.float32))
    tr = torch.from_numpy(train)
    best = HeteroResult(np.zeros(len(labels)), {}, -1.0)
    since = 0
    for _ in range(cfg.epochs):
        net.train()
        opt.zero_grad()
        logits = head(net(x_dict, ei_dict)[target]).squeeze(-1)
        nn.functional.binary_cross_entropy_with_logits(logits[tr], y[tr]).backward()  # type: ignore[no-untyped-call]
        opt.step()
        net.eval()
        with torch.no_grad():
            emb = net(x_dict, ei_dict)
            score = torch.sigmoid(head(emb[target]).squeeze(-1)).numpy().astype(np.float64)
        ap = float(average_precision_score(labels[val], score[val])) if len(val) else 0.0
        if ap > best.val_auprc:
            best = HeteroResult(score, {t: e.numpy() for t, e in emb.items()}, ap)
            since = 0
        else:
            since += 1
            if since >= cfg.patience:
                break
    return best


def fit_hetero_multi(
    graph: TypedHeteroGraph,
    target: str,
    labels: NDArray[np.int8],
    train: NDArray[np.int64],
    val: NDArray[np.int64],
    cfg: HeteroConfig,
    seed: int,
) -> HeteroResult:
    """Train ``cfg.net`` full-batch on several binary tasks of node type ``target`` at once.

    One network, one linear head with a logit per task; the loss is the binary cross-entropy averaged
    over the (``train`` row, task) pairs that carry a label (``labels[i, j] >= 0``).  The
    epoch kept is the one with the best mean validation AUPRC over the tasks whose ``val`` rows
    hold both classes.

    Args:
        graph: the typed heterogeneous graph.
        target: node type scored.
        labels: ``(n_target, tasks)`` of 1 / 0 / -1 (unlabelled), in ``graph.ids[target]`` order.
        train, val: row indices of ``target`` nodes.
        cfg: hyperparameters.
        seed: torch seed.

    Returns:
        :class:`HeteroResult` with ``scores`` of shape ``(n_target, tasks)``.

    Raises:
        ValueError: unknown ``cfg.net``, unknown ``target`` or ``labels`` not 2-d.
    """
    if cfg.net not in NETS:
        raise ValueError(f"unknown heterogeneous net {cfg.net!r}; choose from {sorted(NETS)}")
    if target not in graph.ids:
        raise ValueError(f"target node type {target!r} not in the graph; node types: {sorted(graph.ids)}")
    if labels.ndim != 2:
        raise ValueError(f"labels must be (n_target, tasks); got shape {labels.shape}")
    torch.manual_seed(seed)
    data = graph.data
    x_dict = {t: data[t].x for t in data.node_types}
    ei_dict = {et: data[et].edge_index for et in data.edge_types}
    in_dims = {t: int(x.shape[1]) for t, x in x_dict.items()}
    tasks = labels.shape[1]
    net = NETS[cfg.net](data.metadata(), in_dims, hidden=cfg.hidden, layers=cfg.layers)
    head = nn.Linear(cfg.hidden, tasks)
    opt = torch.optim.Adam([*net.parameters(), *head.parameters()], lr=cfg.lr)
    y_tr = torch.from_numpy(labels[train].astype(np.float32))
    m_tr = torch.from_numpy(labels[train] >= 0)
    tr = torch.from_numpy(train)
    scored = [j for j in range(tasks) if len(np.unique(labels[val, j][labels[val, j] >= 0])) == 2]
    best = HeteroResult(np.zeros(labels.shape), {}, -1.0)
    since = 0
    for _ in range(cfg.epochs):
        net.train()
        opt.zero_grad()
        logits = head(net(x_dict, ei_dict)[target])[tr]
        loss = nn.functional.binary_cross_entropy_with_logits(logits[m_tr], y_tr[m_tr])
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
        net.eval()
        with torch.no_grad():
            emb = net(x_dict, ei_dict)
            score = torch.sigmoid(head(emb[target])).numpy().astype(np.float64)
        aps = []
        for j in scored:
            lab = val[labels[val, j] >= 0]
            aps.append(float(average_precision_score(labels[lab, j], score[lab, j])))
        ap = float(np.mean(aps)) if aps else 0.0
        if ap > best.val_auprc:
            best = HeteroResult(score, {t: e.numpy() for t, e in emb.items()}, ap)
            since = 0
        else:
            since += 1
            if since >= cfg.patience:
                break
    return best
