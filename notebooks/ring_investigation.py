# %% [markdown]
# # Ring investigation
# Loads a run into the local analyst graph (embedded FalkorDB, the same Cypher playbook as Neo4j) and
# investigates one merchant: its identity ring, who reports it, the path to its riskiest ring member,
# the counterfeit network of a brand its listings claim. Draws the ring to a PNG.
#
# Parameters (environment): `RUN_DIR` (default `out/s/current`), `MERCHANT` (default: the riskiest
# merchant), `FIG_DIR` (default `RUN_DIR/../../notebook-figures`), `DB_DIR` (local graph folder).

# %%
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import networkx as nx
import pandas as pd

from fraudmine.analyst import playbook
from fraudmine.analyst.local import LocalGraph, default_cache_dir
from fraudmine.analyst.runs import ensure_bundle
from fraudmine.analyst.table import format_rows
from fraudmine.config import load_config

RUN_DIR = Path(os.environ.get("RUN_DIR", "out/s/current"))
DB_DIR = Path(os.environ.get("DB_DIR") or default_cache_dir(RUN_DIR))
FIG_DIR = Path(os.environ.get("FIG_DIR") or RUN_DIR.resolve().parent.parent / "notebook-figures")
scores = pd.read_parquet(RUN_DIR / "scores")
merchants = scores[scores["entity_type"] == "merchant"].sort_values(
    ["fraud_risk", "entity_id"], ascending=[False, True]
)
MERCHANT = os.environ.get("MERCHANT") or str(merchants["entity_id"].iloc[0])
print(f"run {RUN_DIR}, merchant {MERCHANT}")

# %%
bundle = ensure_bundle(RUN_DIR, DB_DIR / "bundle", load_config().spark)
graph = LocalGraph(bundle, DB_DIR).open()


def show(name: str, **params: object) -> pd.DataFrame:
    """Run a playbook query, print it as a table and return it as a DataFrame."""
    cols, rows = graph.run(name, **params)
    print(f"## {name} {params}\n" + format_rows(cols, rows))
    return pd.DataFrame(rows, columns=cols)


# %% [markdown]
# ## The ring: accounts sharing non-hub identifiers, up to 3 hops

# %%
ring = show("ring", merchant=MERCHANT, limit=50)

# %% [markdown]
# ## Who reports this merchant, and are the reporters a ring themselves?

# %%
reporters = show("reporters", merchant=MERCHANT, limit=20)

# %% [markdown]
# ## Shortest path to the riskiest ring member

# %%
if len(ring):
    scored = ring.dropna(subset=["fraud_risk"])
    target = str((scored if len(scored) else ring).iloc[0]["account"])
    path = show("shortest_path", source=f"merchant:{MERCHANT}", target=target)
else:
    print("no ring around this merchant")

# %% [markdown]
# ## Counterfeit network of a brand this merchant's listings claim

# %%
_c, brands = graph.sink.query(  # type: ignore[union-attr]
    f"MATCH (:Merchant {{id: $m}})-[:{playbook.SELLS}]->(:Product)-[:{playbook.CLAIMS}]->(b:Brand) "
    "RETURN b.id, count(*) AS n ORDER BY n DESC, b.id LIMIT 1",
    {"m": MERCHANT},
)
if brands:
    show("counterfeit", brand=brands[0][0], limit=20)
else:
    print("the merchant's listings claim no brand")

# %% [markdown]
# ## Draw the ring

# %%
g = nx.Graph()
g.add_node(f"merchant:{MERCHANT}")
for _, row in ring.iterrows():
    g.add_edge(f"merchant:{MERCHANT}", row["account"], hops=int(row["hops"]))
colors = [
    "crimson" if n == f"merchant:{MERCHANT}" else "orange" if n.startswith("merchant:") else "steelblue" for n in g
]
fig, ax = plt.subplots(figsize=(7, 6))
pos = nx.spring_layout(g, seed=7)
nx.draw_networkx(g, pos, node_color=colors, node_size=300, font_size=7, ax=ax)
nx.draw_networkx_edge_labels(g, pos, edge_labels=nx.get_edge_attributes(g, "hops"), font_size=6, ax=ax)
ax.set_title(f"Identity ring of merchant {MERCHANT} (edge label: hops)")
FIG_DIR.mkdir(parents=True, exist_ok=True)
fig.savefig(FIG_DIR / f"ring_{MERCHANT}.png", dpi=100)
print(f"ring drawn: {FIG_DIR / f'ring_{MERCHANT}.png'} ({g.number_of_nodes()} accounts)")
graph.close()
