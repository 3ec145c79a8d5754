# %% [markdown]
# # Cluster review
# The clusters of a run (identity, collusion, brushing, reporter rings, duplicate listings — whichever
# the run wrote) ranked by exposure in the local analyst graph, then the riskiest cluster of each kind
# opened with its playbook query: members, risks, shared identifiers, evidence, canonical listing.
#
# Parameters (environment): `RUN_DIR` (default `out/s/current`), `DB_DIR` (local graph folder),
# `TOP` (clusters listed, default 20).

# %%
import os
from pathlib import Path

import pandas as pd

from fraudmine.analyst.local import LocalGraph, default_cache_dir
from fraudmine.analyst.model import CLUSTER_KINDS
from fraudmine.analyst.runs import ensure_bundle
from fraudmine.analyst.table import format_rows
from fraudmine.config import load_config

RUN_DIR = Path(os.environ.get("RUN_DIR", "out/s/current"))
DB_DIR = Path(os.environ.get("DB_DIR") or default_cache_dir(RUN_DIR))
TOP = int(os.environ.get("TOP", "20"))
present = [k for k in CLUSTER_KINDS if (RUN_DIR / "clusters" / k).exists()]
print(f"run {RUN_DIR}: cluster tables present: {present or 'none'}")

# %%
bundle = ensure_bundle(RUN_DIR, DB_DIR / "bundle", load_config().spark)
graph = LocalGraph(bundle, DB_DIR).open()
cols, rows = graph.run("clusters", limit=TOP)
ranked = pd.DataFrame(rows, columns=cols)
print(format_rows(cols, rows))

# %% [markdown]
# ## Size distribution per kind

# %%
if len(ranked):
    _c, sizes = graph.sink.query(  # type: ignore[union-attr]
        "MATCH (c:Cluster) RETURN c.kind AS kind, count(c) AS clusters, avg(c.size) AS mean_size, "
        "max(c.size) AS max_size ORDER BY kind",
        {},
    )
    print(format_rows(["kind", "clusters", "mean_size", "max_size"], sizes))

# %% [markdown]
# ## The riskiest cluster of each kind, opened

# %%
OPEN = {"collusion": "collusion", "duplicates": "duplicates"}
for kind in present:
    top = ranked[ranked["kind"] == kind]
    if not len(top):
        continue
    cluster_id = str(top.iloc[0]["cluster"]).split(":", 1)[1]
    if kind in OPEN:
        c, r = graph.run(OPEN[kind], cluster=cluster_id)
        print(f"## {kind} cluster {cluster_id}\n" + format_rows(c, r))
    else:
        _c, r = graph.sink.query(  # type: ignore[union-attr]
            "MATCH (c:Cluster {id: $key})<-[m:MEMBER_OF]-(x) "
            "RETURN x.node_id AS member, m.role AS role, x.fraud_risk AS fraud_risk, c.evidence AS evidence "
            "ORDER BY coalesce(fraud_risk, -1.0) DESC, member",
            {"key": f"{kind}:{cluster_id}"},
        )
        print(f"## {kind} cluster {cluster_id}\n" + format_rows(["member", "role", "fraud_risk", "evidence"], r))
if not present:
    print("this run has no cluster tables yet (the graph-mining and dedup stages write them)")
graph.close()
