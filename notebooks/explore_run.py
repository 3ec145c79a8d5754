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
print(scores.groupby("entity_type")["risk_band"].value_counts().unstack(fill_value=0))
# every entity type is scored; this notebook follows merchants
merchants = scores[scores["entity_type"] == "merchant"]

# %% [markdown]
# ## Top risky merchants and their reasons

# %%
top = merchants.sort_values(["fraud_risk", "entity_id"], ascending=[False, True]).head(10)
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


def linked_merchants(node: str) -> list[str]:
    """Merchants two hops away (through a shared non-hub identifier)."""
    ego = nx.ego_graph(g, node, radius=2) if node in g else nx.Graph()
    return sorted(n for n in ego if n.startswith("merchant:") and n != node)


# the riskiest merchant that shares an identifier with another shop (else the riskiest)
ranked = [
    f"merchant:{m}"
    for m in merchants.sort_values(["fraud_risk", "entity_id"], ascending=[False, True])["entity_id"].head(200)
]
seed = next((m for m in ranked if linked_merchants(m)), ranked[0])
linked = linked_merchants(seed)
print(f"{seed} shares identifiers with {len(linked)} merchants: {linked[:20]}")
print(merchants[merchants["entity_id"].isin([n.split(":", 1)[1] for n in linked])][["entity_id", "fraud_risk"]])
