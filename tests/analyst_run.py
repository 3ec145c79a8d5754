"""A tiny hand-built run with planted rings, for the analyst-graph tests.

Planted (ids are raw; identifiers are keyed-hash-like hex):

* identity ring around merchant m1: m1 —device d1— m2 and creator c1 (hop 1);
  m2 —payment pay1— m3 (hop 2); m3 —address addr1— m4 (hop 3); m4 —phone ph1— m5
  (hop 4, outside the 3-hop ring); m1 —hub wifi— m7 (hub: never followed); m8 alone.
* collusion cluster ``7`` = {m1, m2, m3}, risk 0.9, evidence text.
* identity cluster ``1`` = {m1, m2, c1} (written as one row with a ``members`` array, no risk).
* duplicate-listing cluster ``d1`` = {p1 (canonical), p2}, risk 0.6.
* brand B1: claimed by p1 (m1), p2 (m2), p3 (m3); only m3 is authorised.
* reporters of m8: b1 (2 reports on m8) and b2 (1 on its listing p8) share device d9 and
  form reporter ring ``r1``; b3 reports m8 once, alone.
* orders: b3 buys p1 (100.0) and p2 (50.0).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fraudmine.contracts import ids
from fraudmine.contracts.outputs import SCORES_DDL
from fraudmine.graph import schemas as S

T0 = datetime(2026, 10, 1, tzinfo=UTC)
T1 = datetime(2026, 10, 15, 12, 30, tzinfo=UTC)


def ident(kind: str, name: str) -> str:
    """Raw id of an identifier node: ``<type>:<keyed hash>``."""
    return f"{kind}:{hashlib.sha256(name.encode()).hexdigest()}"


IDS = {
    "d1": ident("device", "d1"),
    "pay1": ident("payment", "pay1"),
    "addr1": ident("address", "addr1"),
    "ph1": ident("phone", "ph1"),
    "wifi": ident("ip", "wifi"),
    "d9": ident("device", "d9"),
}
USES = [
    ("merchant", "m1", "d1"),
    ("merchant", "m2", "d1"),
    ("creator", "c1", "d1"),
    ("merchant", "m2", "pay1"),
    ("merchant", "m3", "pay1"),
    ("merchant", "m3", "addr1"),
    ("merchant", "m4", "addr1"),
    ("merchant", "m4", "ph1"),
    ("merchant", "m5", "ph1"),
    ("merchant", "m1", "wifi"),
    ("merchant", "m7", "wifi"),
    ("buyer", "b1", "d9"),
    ("buyer", "b2", "d9"),
]
MERCHANT_RISK = {"m1": 0.95, "m2": 0.8, "m3": 0.7, "m4": 0.3, "m5": 0.2, "m7": 0.1, "m8": 0.05}


def _node(nt: str, raw: str, degree: int | None = None, hub: bool | None = None) -> tuple[Any, ...]:
    return (ids.typed_id(nt, raw), nt, raw, T0, degree, hub)


def _edge(et: ids.EdgeType, s: str, d: str, w: float = 1.0, n: int = 1) -> tuple[Any, ...]:
    return (ids.typed_id(et.src, s), ids.typed_id(et.dst, d), et.key, w, n, T0, T1)


def nodes() -> list[tuple[Any, ...]]:
    """Rows of ``graph/nodes``."""
    out = [_node("merchant", m) for m in ("m1", "m2", "m3", "m4", "m5", "m7", "m8")]
    out += [_node("creator", "c1")]
    out += [_node("product", p) for p in ("p1", "p2", "p3", "p8")]
    out += [_node("brand", "B1")]
    out += [_node("buyer", b) for b in ("b1", "b2", "b3")]
    for key, raw in IDS.items():
        degree = sum(1 for *_x, i in USES if i == key)
        out.append(_node("identifier", raw, 30 if key == "wifi" else degree, key == "wifi"))
    return out


def edges() -> list[tuple[Any, ...]]:
    """Rows of ``graph/edges``."""
    uses = {"merchant": ids.MERCHANT_USES, "creator": ids.CREATOR_USES, "buyer": ids.BUYER_USES}
    out = [_edge(uses[t], a, IDS[i]) for t, a, i in USES]
    out += [_edge(ids.SELLS, m, p) for m, p in (("m1", "p1"), ("m2", "p2"), ("m3", "p3"), ("m8", "p8"))]
    out += [_edge(ids.CLAIMS_BRAND, p, "B1") for p in ("p1", "p2", "p3")]
    out += [_edge(ids.AUTHORIZED_FOR, "m3", "B1")]
    out += [_edge(ids.ORDERED, "b3", "p1", 100.0), _edge(ids.ORDERED, "b3", "p2", 50.0)]
    out += [
        _edge(ids.REPORTED_MERCHANT, "b1", "m8", 2.0, 2),
        _edge(ids.REPORTED_PRODUCT, "b2", "p8"),
        _edge(ids.REPORTED_MERCHANT, "b3", "m8"),
    ]
    return out


def write_planted_run(spark: Any, run_dir: Path) -> Path:
    """Write the planted run (graph, scores, clusters, clean attribute tables) under ``run_dir``."""
    from pyspark.sql import types as T

    spark.createDataFrame(nodes(), S.NODES_SCHEMA).write.partitionBy(S.NODE_TYPE).parquet(
        str(run_dir / "graph" / "nodes")
    )
    spark.createDataFrame(edges(), S.EDGES_SCHEMA).write.partitionBy(S.EDGE_TYPE).parquet(
        str(run_dir / "graph" / "edges")
    )
    scores = [
        ("merchant", m, r, 0.1, True, "critical" if r >= 0.8 else "low", ["SHARED_IDENTIFIERS"] if r >= 0.5 else [],
         "fraudmine-merchant-risk/1", "run-planted", T1)
        for m, r in MERCHANT_RISK.items()
    ]  # fmt: skip
    spark.createDataFrame(scores, SCORES_DDL).write.parquet(str(run_dir / "scores"))
    clusters = run_dir / "clusters"
    spark.createDataFrame(
        [("7", ids.typed_id("merchant", m), 0.9, "shared device and payment") for m in ("m1", "m2", "m3")],
        "cluster_id string, node_id string, risk double, evidence string",
    ).write.parquet(str(clusters / "collusion"))
    spark.createDataFrame(
        [("1", ["merchant:m1", "merchant:m2", "creator:c1"], ["device d1 shared by 3 accounts"])],
        "cluster_id string, members array<string>, evidence array<string>",
    ).write.parquet(str(clusters / "identity"))
    spark.createDataFrame(
        [("d1", "product", "p1", "p1", 0.6), ("d1", "product", "p2", "p1", 0.6)],
        "cluster_id string, entity_type string, entity_id string, canonical_id string, cluster_risk double",
    ).write.parquet(str(clusters / "duplicates"))
    spark.createDataFrame(
        [("r1", "buyer", "b1", 0.7), ("r1", "buyer", "b2", 0.7)],
        "cluster_id string, member_type string, entity_id string, risk double",
    ).write.parquet(str(clusters / "reporter_rings"))
    clean = run_dir / "validate" / "clean"
    spark.createDataFrame(
        [(m, f"Shop {m}", "DE", "fashion") for m in MERCHANT_RISK],
        "merchant_id string, shop_name string, country string, primary_category string",
    ).write.parquet(str(clean / "merchants"))
    spark.createDataFrame(
        [
            ("p1", 'Nike Air, "original"', 20.0, "USD", "shoes", "a1b2"),
            ("p2", "Nike Air original;\nnew", 21.5, "USD", "shoes", None),
            ("p3", "Nike Air", 120.0, "USD", "shoes", None),
            ("p8", "Plain tee", 9.99, "EUR", "fashion", None),
        ],
        "product_id string, title string, price double, currency string, category string, image_phash string",
    ).write.parquet(str(clean / "products"))
    spark.createDataFrame(
        [("B1", "Nike", True, "")], "brand_id string, name string, protected boolean, aliases string"
    ).write.parquet(str(clean / "brands"))
    spark.createDataFrame(
        [("c1", "@c1", "DE", 1200)],
        T.StructType(
            [
                T.StructField("creator_id", T.StringType()),
                T.StructField("handle", T.StringType()),
                T.StructField("country", T.StringType()),
                T.StructField("follower_count", T.LongType()),
            ]
        ),
    ).write.parquet(str(clean / "creators"))
    (run_dir / "manifest.json").write_text('{"run_id": "run-planted"}\n')
    return run_dir
