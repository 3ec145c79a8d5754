"""Tabular vs graph-feature LightGBM vs heterogeneous GNN vs hybrid, per typology of the synthetic truth.

Reads a finished nightly run folder (``graph/``, ``features/``) and the generator's ``truth/``
folder.  For every scored entity type with a truth typology (merchant fraud typologies and low
quality, creator collusion, listing duplicate / counterfeit / brushing target, buyer brushing,
reporter malicious reporting; labels as ``fraudmine evaluate`` defines them) it draws ``--seeds``
stratified 40/20/40 splits of the type's whole population and, on the same splits, fits
(``fraudmine.models.compare.run``):

- ``baseline``: ``evaluate``'s one-count baseline (no fit);
- ``tabular``: LightGBM on the entity's own-history features;
- ``graph``: LightGBM on every feature of the run's table;
- ``gnn``: to_hetero GraphSAGE (or HGT) over the typed graph, node features = the tabular features
  where the node type has them + log degrees, one network for the type's typologies, out-of-fold bag;
- ``hybrid``: ``graph`` + the out-of-fold GNN score (no node's score from a model that saw its label).

Prints, per typology, test AUPRC and recall at the review budget (top 1% of the test population)
as mean ± std over the splits, the best model and the lift of the hybrid over tabular-only, then
seconds per model per entity type.

    nice -n 19 .venv/bin/python bench/bench_models_synth.py --run OUT/runs/D --truth SYNTH/truth --seeds 3
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from fraudmine.evaluate import (
    BASELINES,
    LOW_QUALITY_BASELINE,
    NON_MEMBER_ROLES,
    SCORED_AS,
    TRUTH_TYPE,
    TYPOLOGY_ORDER,
    check_dataset,
)
from fraudmine.models.compare.run import MODELS, EntityInputs, compare
from fraudmine.models.compare.targets import GRAPH_NODE_TYPE, tabular_columns, typology_labels
from fraudmine.models.hetero.data import TypedHeteroGraph, build_hetero, read_graph_stage
from fraudmine.models.hetero.train import HeteroConfig
from fraudmine.models.nodes.lgbm import GRID

log = logging.getLogger("bench_models_synth")
ID_COLUMNS = {"merchant": "merchant_id", "creator": "creator_id", "product": "product_id", "buyer": "buyer_id"}
ID_COLUMNS["reporter"] = "reporter_id"


def _table(run: Path, etype: str) -> pd.DataFrame | None:
    path = run / "features" / f"{etype}_score"
    if not path.exists():
        return None
    df = pq.read_table(path).to_pandas()
    key = ID_COLUMNS[etype]
    if key not in df.columns:
        raise SystemExit(f"{path}: no id column {key!r}; columns: {list(df.columns)}")
    return df.drop_duplicates(key).sort_values(key).reset_index(drop=True)


def _feature_cols(df: pd.DataFrame, etype: str) -> list[str]:
    return [c for c in df.columns if c not in (ID_COLUMNS[etype], "as_of") and pd.api.types.is_numeric_dtype(df[c])]


def _signed_log_z(df: pd.DataFrame) -> pd.DataFrame:
    """``sign(x)·log1p(|x|)`` then z-scored per column over every row (label-free), NaN → 0."""
    v = df.astype(float)
    v = np.sign(v) * np.log1p(v.abs())
    sd = v.std().replace(0.0, 1.0).fillna(1.0)
    return ((v - v.mean()) / sd).fillna(0.0)


def _node_features(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Graph node type → tabular features indexed by typed node id (reporters join their buyer node)."""
    by_node: dict[str, list[pd.DataFrame]] = {}
    for etype, df in tables.items():
        cols = tabular_columns(etype, _feature_cols(df, etype))
        if not cols:
            continue
        ntype = GRAPH_NODE_TYPE.get(etype, etype)
        f = _signed_log_z(df[cols])
        f.columns = [f"{etype}:{c}" for c in cols]
        f.index = ntype + ":" + df[ID_COLUMNS[etype]].astype(str)
        by_node.setdefault(ntype, []).append(f)
    return {t: pd.concat(fs, axis=1).fillna(0.0) for t, fs in by_node.items()}


def _truth(truth: Path) -> tuple[pd.DataFrame, set[str], set[str]]:
    """(members with the scored entity type, fraud merchants, low-quality ids) as ``evaluate`` reads them."""
    merchants = pd.read_parquet(truth / "merchants.parquet")
    entities = pd.read_parquet(truth / "entities.parquet")
    members = entities[~entities["role"].isin(NON_MEMBER_ROLES)].copy()
    members["scored_type"] = [
        SCORED_AS.get((t, e), e) for t, e in zip(members["typology"], members["entity_type"], strict=True)
    ]
    lq = set(merchants.loc[merchants["is_low_quality"], "merchant_id"]) | set(
        members.loc[members["typology"] == "low_quality", "entity_id"]
    )
    return members, set(merchants.loc[merchants["is_fraud"], "merchant_id"]), lq


def _inputs(
    etype: str, df: pd.DataFrame, members: pd.DataFrame, fraud_m: set[str], lq: set[str], graph: TypedHeteroGraph | None
) -> EntityInputs:
    """One entity type's features, per-typology labels, baselines and graph rows."""
    ids = df[ID_COLUMNS[etype]].astype(str)
    mine = members[members["scored_type"] == etype]
    order = {t: i for i, t in enumerate(TYPOLOGY_ORDER)}
    positives = {
        t: set(g["entity_id"]) for t, g in sorted(mine.groupby("typology"), key=lambda kv: order.get(str(kv[0]), 99))
    }
    truth_type = TRUTH_TYPE.get(etype, etype)
    fraud = members[(members["typology"] != "low_quality") & (members["entity_type"] == truth_type)]
    bad = set(fraud["entity_id"]) | (fraud_m if etype == "merchant" else set())
    labels = typology_labels(ids, positives, bad, lq)
    cols = _feature_cols(df, etype)
    tab = tabular_columns(etype, cols)
    base_col = BASELINES.get(etype, ("", ""))[1]
    baselines = {}
    for typ in labels:
        col = LOW_QUALITY_BASELINE if typ == "low_quality" else base_col
        if col in df.columns:
            baselines[typ] = df[col].fillna(0.0).to_numpy(dtype=float)
    ntype = GRAPH_NODE_TYPE.get(etype, etype)
    rows = np.full(len(df), -1, dtype=np.int64)
    if graph is not None and ntype in graph.ids:
        rows = pd.Index(graph.ids[ntype]).get_indexer(ntype + ":" + ids).astype(np.int64)
    missing = int((rows < 0).sum())
    if graph is not None and missing:
        log.info("%s: %d of %d entities not in the graph (GNN score 0 for them)", etype, missing, len(df))
    return EntityInputs(
        entity_type=etype,
        x_tabular=df[tab].to_numpy(dtype=np.float32),
        x_graph=df[cols].to_numpy(dtype=np.float32),
        labels=labels,
        baselines=baselines,
        graph_target=ntype,
        graph_rows=rows,
    )


def _fmt(s: dict[str, float] | None) -> str:
    return "–" if s is None else f"{100 * s['mean']:.1f} ± {100 * s['std']:.1f}"


def markdown(result: dict[str, Any], models: list[str]) -> str:
    """Per-typology table (AUPRC and recall at the budget, percent), best model, hybrid lift over tabular."""
    budget = result["budget"]
    r_at = f"R@{100 * budget:g}%"
    head = "| typology | entity | pos / neg / population | " + " | ".join(f"{m} AUPRC" for m in models)
    head += (
        " | "
        + " | ".join(f"{m} {r_at}" for m in models)
        + " | best (AUPRC) | hybrid − tabular AUPRC | hybrid − tabular "
        + r_at
        + " |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for etype, er in result["entities"].items():
        for typ, tr in er["typologies"].items():
            ms = tr["models"]
            cells = [_fmt(ms.get(m, {}).get("auprc")) for m in models]
            cells += [_fmt(ms.get(m, {}).get("recall_at_budget")) for m in models]
            fitted = [m for m in models if m in ms and m != "baseline"]
            best = max(fitted, key=lambda m: ms[m]["auprc"]["mean"]) if fitted else "–"
            lift_a = lift_r = "–"
            if "hybrid" in ms and "tabular" in ms:
                lift_a = f"{100 * (ms['hybrid']['auprc']['mean'] - ms['tabular']['auprc']['mean']):+.1f}"
                lift_r = f"{100 * (ms['hybrid']['recall_at_budget']['mean'] - ms['tabular']['recall_at_budget']['mean']):+.1f}"
            lines.append(
                f"| {typ} | {etype} | {tr['n_pos']} / {tr['n_neg']} / {tr['n_population']} | "
                + " | ".join(cells)
                + f" | {best} | {lift_a} | {lift_r} |"
            )
    lines += [
        "",
        f"Seconds over {result['seeds']} splits (LightGBM fits per type; the GNN is one multi-task bag for every "
        f"type: {result.get('gnn_seconds', 0):.1f} s in all, part of gnn and hybrid):",
        "",
        "| entity | " + " | ".join(f"{m} s" for m in models if m != "baseline") + " | skipped |",
    ]
    lines.append("|" + "---|" * (len([m for m in models if m != "baseline"]) + 2))
    for etype, er in result["entities"].items():
        secs = " | ".join(
            f"{er['seconds'].get(m, 0):.1f}" if m != "gnn" else "(bag)" for m in models if m != "baseline"
        )
        skipped = "; ".join(f"{t}: {r}" for t, r in er["skipped"].items()) or "–"
        lines.append(f"| {etype} | {secs} | {skipped} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; print the Markdown tables (and write JSON with ``--json``)."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="a run folder <out>/runs/<date> (graph/, features/)")
    ap.add_argument("--truth", type=Path, required=True, help="the generator's truth/ folder")
    ap.add_argument("--seeds", type=int, default=3, help="number of split seeds")
    ap.add_argument("--first-seed", type=int, default=0, help="first split seed (seeds FIRST..FIRST+N-1)")
    ap.add_argument("--models", default=",".join(MODELS), help=f"comma list of {','.join(MODELS)}")
    ap.add_argument("--types", default="merchant,creator,product,buyer,reporter", help="scored entity types")
    ap.add_argument("--budget", type=float, default=0.01, help="review budget (fraction of the test population)")
    ap.add_argument("--folds", type=int, default=2, help="GNN out-of-fold folds")
    ap.add_argument("--net", default="sage", choices=["sage", "hgt"])
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--patience", type=int, default=15)
    ap.add_argument("--embeddings", action="store_true", help="hybrid also takes the out-of-fold GNN embeddings")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--grid", default=",".join(str(i) for i in range(len(GRID))), help="LightGBM grid points searched (indices)"
    )
    ap.add_argument("--json", type=Path, help="also write the full result here")
    ap.add_argument("--force", action="store_true", help="skip the check that the truth is the run's dataset")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    bad = sorted(set(models) - set(MODELS))
    if bad:
        ap.error(f"--models: unknown {bad}; choose from {list(MODELS)}")
    for need in ("graph", "features"):
        if not (args.run / need).is_dir():
            ap.error(f"--run {args.run}: no {need}/ folder (pass a finished run folder <out>/runs/<date>)")
    if not args.force:
        check_dataset(args.truth, args.run)
    import torch

    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    tables = {t: df for t in args.types.split(",") if (df := _table(args.run, t.strip())) is not None}
    graph = None
    if {"gnn", "hybrid"} & set(models):
        t = time.perf_counter()
        nodes, edges = read_graph_stage(args.run / "graph")
        graph = build_hetero(nodes, edges, _node_features(tables), degrees=True)
        log.info("graph: %d nodes, %d edges, built in %.1fs", len(nodes), len(edges), time.perf_counter() - t)
    members, fraud_m, lq = _truth(args.truth)
    cfg = HeteroConfig(net=args.net, hidden=args.hidden, epochs=args.epochs, patience=args.patience)
    inputs = {}
    for etype, df in tables.items():
        inp = _inputs(etype, df, members, fraud_m, lq, graph)
        if inp.labels:
            inputs[etype] = inp
        else:
            log.info("%s: no truth typology, skipped", etype)
    result: dict[str, Any] = {"budget": args.budget, "seeds": args.seeds, "run": str(args.run)}
    result["config"] = {"net": args.net, "hidden": args.hidden, "epochs": args.epochs, "folds": args.folds}
    grid = tuple(GRID[int(i)] for i in args.grid.split(","))
    result["config"]["grid"] = list(grid)

    def partial(r: dict[str, Any]) -> None:
        if args.json:
            args.json.with_suffix(".partial.json").write_text(json.dumps({**result, **r}, indent=2))
            args.json.with_suffix(".partial.md").write_text(markdown({**result, **r}, models) + "\n")

    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    r = compare(
        inputs, graph, seeds, models, args.budget, args.folds, cfg, args.threads, args.embeddings, grid, partial
    )
    result.update(r)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    result["loadavg_before"], result["loadavg_after"] = list(load_before), list(os.getloadavg())
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    sys.stdout.write(markdown(result, models) + "\n")
    sys.stdout.write(
        f"\ntotal {result['seconds']}s; load average before {load_before[0]:.2f} / after {result['loadavg_after'][0]:.2f}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
