# %% [markdown]
# # Explore a nightly run
# Reads the published run (`RUN_DIR`, default `out/s/current`) with pandas only: scores, the typed
# graph, and one risky merchant's neighbourhood through shared (non-hub) identifiers.

# %%
import os
from pathlib import Path

import networkx as nx
import pandas as pd

RUN_DIR = Path(os.environ.get("RUN_DIR", "out/s/current"))
scores = pd.read_parquet(RUN_DIR / "scores")
print(scores["risk_band"].value_counts())

# %% [markdown]
# ## Top risky merchants and their reasons

# %%
top = scores.sort_values("fraud_risk", ascending=False).head(10)
print(top[["entity_id", "fraud_risk", "risk_band", "top_reasons"]].to_string(index=False))

# %% [markdown]
# ## Identity neighbourhood of the riskiest merchant
# Edges `merchant -uses_identifier-> identifier`; hub identifiers (shared Wi-Fi, warehouses) are dropped.

# %%
nodes = pd.read_parquet(RUN_DIR / "graph" / "nodes", filters=[("node_type", "=", "identifier")])
hubs = set(nodes.loc[nodes["is_hub"].astype(bool), "node_id"])
uses = pd.read_parquet(RUN_DIR / "graph" / "edges", filters=[("edge_type", "=", "merchant__uses__identifier")])
uses = uses[~uses["dst"].isin(hubs)]
g = nx.from_pandas_edgelist(uses, "src", "dst")
seed = f"merchant:{top['entity_id'].iloc[0]}"
ego = nx.ego_graph(g, seed, radius=2) if seed in g else nx.Graph([(seed, seed)])
linked = sorted(n for n in ego if n.startswith("merchant:") and n != seed)
print(f"{seed} shares identifiers with {len(linked)} merchants: {linked[:20]}")
print(scores[scores["entity_id"].isin([n.split(":", 1)[1] for n in linked])][["entity_id", "fraud_risk"]])
