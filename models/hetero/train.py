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
    if target not in graph.ids:
        raise ValueError(f"target node type {target!r} not in the graph; node types: {sorted(graph.ids)}")
    res = fit_hetero_tasks(graph, [NodeTask(target, labels, train, val)], cfg, seed)  # one task: the same network
    return HeteroResult(res.scores[0], res.embeddings, res.val_auprc)


@dataclass(frozen=True)
class NodeTask:
    """One binary task on one node type: labels of every node of the type and its train / val rows.

    Attributes:
        node_type: node type of the graph.
        labels: ``(n_type,)`` 1 / 0 / -1 (unlabelled), in ``graph.ids[node_type]`` order.
        train, val: row indices of labelled nodes used to fit and to pick the epoch.
    """

    node_type: str
    labels: NDArray[np.int8]
    train: NDArray[np.int64]
    val: NDArray[np.int64]


@dataclass(frozen=True)
class MultiTaskResult:
    """Scores ``(n_type,)`` per task (task order), embeddings per node type, mean validation AUPRC."""

    scores: list[NDArray[np.float64]]
    embeddings: dict[str, NDArray[np.float32]]
    val_auprc: float


def fit_hetero_tasks(graph: TypedHeteroGraph, tasks: list[NodeTask], cfg: HeteroConfig, seed: int) -> MultiTaskResult:
    """Train one ``cfg.net`` full-batch on several binary tasks, possibly of several node types, at once.

    One network, one linear head per task on the embeddings of its node type; the loss is the sum
    over tasks of each task's mean binary cross-entropy on its labelled ``train`` rows.  The epoch
    kept is the one with the best mean validation AUPRC over the tasks whose ``val`` rows hold both
    classes.  Same seed, same graph → same scores.

    Raises:
        ValueError: unknown ``cfg.net``, a task's node type not in the graph, or no task.
    """
    if cfg.net not in NETS:
        raise ValueError(f"unknown heterogeneous net {cfg.net!r}; choose from {sorted(NETS)}")
    if not tasks:
        raise ValueError("no task to train")
    for task in tasks:
        if task.node_type not in graph.ids:
            raise ValueError(f"task node type {task.node_type!r} not in the graph; node types: {sorted(graph.ids)}")
    torch.manual_seed(seed)
    data = graph.data
    x_dict = {t: data[t].x for t in data.node_types}
    ei_dict = {et: data[et].edge_index for et in data.edge_types}
    in_dims = {t: int(x.shape[1]) for t, x in x_dict.items()}
    net = NETS[cfg.net](data.metadata(), in_dims, hidden=cfg.hidden, layers=cfg.layers)
    heads = nn.ModuleList(nn.Linear(cfg.hidden, 1) for _ in tasks)
    opt = torch.optim.Adam([*net.parameters(), *heads.parameters()], lr=cfg.lr)
    fit_rows = [torch.from_numpy(t.train[t.labels[t.train] >= 0]) for t in tasks]
    fit_y = [torch.from_numpy(t.labels[r.numpy()].astype(np.float32)) for t, r in zip(tasks, fit_rows, strict=True)]
    val_rows = [t.val[t.labels[t.val] >= 0] for t in tasks]
    scored = [j for j, (t, v) in enumerate(zip(tasks, val_rows, strict=True)) if len(np.unique(t.labels[v])) == 2]
    best = MultiTaskResult([np.zeros(len(t.labels)) for t in tasks], {}, -1.0)
    since = 0
    for _ in range(cfg.epochs):
        net.train()
        opt.zero_grad()
        emb = net(x_dict, ei_dict)
        loss = sum(
            nn.functional.binary_cross_entropy_with_logits(head(emb[t.node_type][r]).squeeze(-1), y)
            for head, t, r, y in zip(heads, tasks, fit_rows, fit_y, strict=True)
            if len(r)
        )
        loss.backward()  # type: ignore[union-attr]
        opt.step()
        net.eval()
        with torch.no_grad():
            emb = net(x_dict, ei_dict)
            scores = [
                torch.sigmoid(head(emb[t.node_type]).squeeze(-1)).numpy().astype(np.float64)
                for head, t in zip(heads, tasks, strict=True)
            ]
        aps = [float(average_precision_score(tasks[j].labels[val_rows[j]], scores[j][val_rows[j]])) for j in scored]
        ap = float(np.mean(aps)) if aps else 0.0
        if ap > best.val_auprc:
            best = MultiTaskResult(scores, {t: e.numpy() for t, e in emb.items()}, ap)
            since = 0
        else:
            since += 1
            if since >= cfg.patience:
                break
    return best
