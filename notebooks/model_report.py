# %% [markdown]
# # Model report
# The scoring model of a run: training metrics recorded in `model/model.json`, the score and band
# distribution, calibration of `fraud_risk` against the labels known before the run date (a reliability
# table and the Brier score beside the constant base-rate baseline), and the reasons given.
#
# Parameters (environment): `RUN_DIR` (default `out/s/current`), `FIG_DIR` (default
# `RUN_DIR/../../notebook-figures`).
#
# Caveat: the labels known before the run date were the training targets, so the calibration table is
# in-sample for those merchants (the model's out-of-fold AUROC is printed from `model.json`).

# %%
import json
import os
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

RUN_DIR = Path(os.environ.get("RUN_DIR", "out/s/current"))
FIG_DIR = Path(os.environ.get("FIG_DIR") or RUN_DIR.resolve().parent.parent / "notebook-figures")
scores = pd.read_parquet(RUN_DIR / "scores")
meta = json.loads((RUN_DIR / "model" / "model.json").read_text())
print(f"model {meta['model_version']}, trained as of {meta['train_as_of']}")
for head, info in meta["heads"].items():
    n_pos, n_neg, auroc = info["n_pos"], info["n_neg"], info["val_auroc"]
    print(f"  {head:<12} positives {n_pos:>5}  negatives {n_neg:>5}  validation AUROC {auroc:.3f}")

# %% [markdown]
# ## Scores and bands per entity type

# %%
print(scores.groupby(["entity_type", "risk_band"]).size().unstack(fill_value=0))
print(scores.groupby("entity_type")["fraud_risk"].describe())

# %% [markdown]
# ## Calibration against the labels known before the run date

# %%
labels = pd.read_parquet(RUN_DIR / "validate" / "clean" / "labels")
as_of = pd.Timestamp(scores["as_of"].iloc[0])
known = labels[labels["labelled_at"] < as_of].sort_values("labelled_at").groupby(["entity_type", "entity_id"]).tail(1)
known = known[known["label"].isin(["fraud", "ok"])]
joined = scores.merge(known, on=["entity_type", "entity_id"])
y = (joined["label"] == "fraud").astype(float).to_numpy()
p = joined["fraud_risk"].to_numpy()
if len(joined):
    bins = np.clip((p * 10).astype(int), 0, 9)
    table = (
        pd.DataFrame({"bin": bins, "p": p, "y": y})
        .groupby("bin")
        .agg(n=("y", "size"), mean_risk=("p", "mean"), fraud_rate=("y", "mean"))
    )
    print(table.round(3))
    brier = float(np.mean((p - y) ** 2))
    base = float(np.mean((y.mean() - y) ** 2))
    print(f"Brier score {brier:.4f} vs constant base rate {base:.4f} on {len(y)} labelled entities")
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect")
    ax.plot(table["mean_risk"], table["fraud_rate"], "o-", label="fraud_risk")
    ax.set_xlabel("mean predicted fraud risk")
    ax.set_ylabel("observed fraud rate")
    ax.legend()
    FIG_DIR.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIG_DIR / "calibration.png", dpi=100)
    print(f"reliability curve: {FIG_DIR / 'calibration.png'}")
else:
    print("no labelled entities before the run date: no calibration table")

# %% [markdown]
# ## Reasons given (medium band and above)

# %%
reasons = Counter(r for rs in scores["top_reasons"] if rs is not None for r in rs)
for reason, n in reasons.most_common(15):
    print(f"{n:>7}  {reason}")
print(f"{len(reasons)} distinct reasons over {int((scores['top_reasons'].str.len() > 0).sum())} scored entities")
