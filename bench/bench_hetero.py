"""Heterogeneous GNNs on a nightly run's typed graph: to_hetero GraphSAGE vs HGT vs a features-only baseline.

Reads the ``graph`` stage (nodes, edges as of the run date) of a run folder and a per-merchant truth
table (``merchant_id``, ``is_fraud``: the generator's ``truth/merchants.parquet``), draws stratified
40/20/40 splits of the merchants (one per seed), fits each network on the training merchants (the
epoch with the best validation AUPRC kept) and prints test AUROC / AUPRC per model as a Markdown
table.  Node features are the structural defaults of ``fraudmine.models.hetero.data`` (log degree
per edge type); the baseline is a logistic regression on the merchant's own such features.

    .venv/bin/python bench/bench_hetero.py --graph OUT/runs/D/graph --truth SYNTH/truth/merchants.parquet --seeds 3
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split

from fraudmine.models.hetero.data import build_hetero, read_graph_stage
from fraudmine.models.hetero.train import HeteroConfig, fit_hetero


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--graph", type=Path, required=True, help="a run's graph stage folder")
    ap.add_argument("--truth", type=Path, required=True, help="parquet with merchant_id, is_fraud")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    nodes, edges = read_graph_stage(args.graph)
    g = build_hetero(nodes, edges)
    print(
        f"graph: {len(nodes):,} nodes, {len(edges):,} edges, {len(g.data.edge_types)} edge types "
        f"(with reverses), built in {time.perf_counter() - t0:.1f}s"
    )
    truth = pd.read_parquet(args.truth, columns=["merchant_id", "is_fraud"])
    y_map = dict(zip("merchant:" + truth["merchant_id"].astype(str), truth["is_fraud"].astype(int), strict=True))
    ids = g.ids["merchant"]
    y = np.array([y_map.get(i, -1) for i in ids], dtype=np.int8)
    labelled = np.flatnonzero(y >= 0)
    print(f"merchants: {len(ids):,}, labelled {len(labelled):,}, fraud {int((y == 1).sum()):,}")
    res: dict[str, list[tuple[float, float, float]]] = {"features-only (logistic)": [], "sage": [], "hgt": []}
    x_m = g.data["merchant"].x.numpy()
    for seed in range(args.seeds):
        train, rest = train_test_split(labelled, train_size=0.4, stratify=y[labelled], random_state=seed)
        val, test = train_test_split(rest, train_size=1 / 3, stratify=y[rest], random_state=seed)
        t = time.perf_counter()
        lr = LogisticRegression(max_iter=2000).fit(x_m[train], y[train])
        p = lr.predict_proba(x_m)[:, 1]
        res["features-only (logistic)"].append(_metrics(y, p, test, time.perf_counter() - t))
        for net in ("sage", "hgt"):
            t = time.perf_counter()
            cfg = HeteroConfig(net=net, epochs=args.epochs, patience=20)
            out = fit_hetero(g, "merchant", y, np.sort(train), np.sort(val), cfg, seed)
            res[net].append(_metrics(y, out.scores, test, time.perf_counter() - t))
            print(
                f"seed {seed} {net}: AUROC {res[net][-1][0]:.2f} AUPRC {res[net][-1][1]:.2f} ({res[net][-1][2]:.1f}s)",
                flush=True,
            )
    print("\n| model | test AUROC | test AUPRC | seconds / fit |\n|---|---|---|---|")
    for name, rows in res.items():
        a = np.array(rows)
        print(
            f"| {name} | {a[:, 0].mean():.2f} ± {a[:, 0].std():.2f} | {a[:, 1].mean():.2f} ± {a[:, 1].std():.2f} "
            f"| {a[:, 2].mean():.1f} |"
        )


def _metrics(y: np.ndarray, p: np.ndarray, test: np.ndarray, seconds: float) -> tuple[float, float, float]:
    return 100 * roc_auc_score(y[test], p[test]), 100 * average_precision_score(y[test], p[test]), seconds


if __name__ == "__main__":
    main()
