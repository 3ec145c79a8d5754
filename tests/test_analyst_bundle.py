"""The Neo4j bulk-import bundle: golden files on the planted run, header validation, refusals, nightly stage.

Regenerate the golden bundle after an intended change with
``FRAUDMINE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_analyst_bundle.py`` and review the diff.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from fraudmine.analyst import headers, reader
from fraudmine.analyst.bundle import RawIdentifierError
from fraudmine.analyst.export import export_run
from fraudmine.analyst.model import AllowListError
from tests.analyst_run import write_planted_run

pytestmark = pytest.mark.spark

GOLDEN = Path(__file__).parent / "golden" / "neo4j_bundle"


@pytest.fixture(scope="module")
def planted(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_planted_run(spark, tmp_path_factory.mktemp("planted") / "run")


@pytest.fixture(scope="module")
def bundle(spark: Any, planted: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The planted run exported by the command line (in-process: it reuses the shared Spark session)."""
    from fraudmine.cli import main

    out = tmp_path_factory.mktemp("bundle") / "neo4j"
    assert main(["export", "neo4j", "--run", str(planted), "--out", str(out)]) == 0
    return out


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_bundle_matches_golden(bundle: Path) -> None:
    if os.environ.get("FRAUDMINE_UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(bundle, GOLDEN)
    assert _files(bundle) == _files(GOLDEN)
    for rel in _files(GOLDEN):
        assert (bundle / rel).read_text() == (GOLDEN / rel).read_text(), f"{rel} differs from the golden bundle"


def test_headers_are_typed_and_validate(bundle: Path) -> None:
    b = reader.open_bundle(bundle)
    merchant = next(g for g in b.nodes if g.name == "Merchant")
    texts = [f.text for f in merchant.fields]
    assert texts[:2] == ["id:ID(Merchant)", ":LABEL"]
    assert {"fraud_risk:float", "reasons:string[]", "cluster_ids:string[]", "created_at:datetime"} <= set(texts)
    uses = next(g for g in b.relationships if g.name == "merchant__uses__identifier")
    assert [f.text for f in uses.fields][:3] == [":START_ID(Merchant)", ":END_ID(Identifier)", ":TYPE"]
    # every data row has the header's width and converts by type
    for group in (*b.nodes, *b.relationships):
        assert sum(1 for _ in reader.iter_rows(group)) == group.rows
    rows = {r[0]: v for r, v in reader.iter_rows(merchant)}
    assert rows["m1"][texts.index("reasons:string[]")] == ["SHARED_IDENTIFIERS"]
    assert rows["m1"][texts.index("cluster_ids:string[]")] == ["collusion:7", "identity:1"]
    assert rows["m4"][texts.index("reasons:string[]")] is None  # empty array -> empty field -> null


def test_import_script_lists_every_file_and_schema_has_constraints(bundle: Path) -> None:
    script = (bundle / "import.sh").read_text()
    assert "database import full neo4j" in script.replace(" \\\n  ", " ")
    for part in bundle.rglob("part-*.csv"):
        assert str(part.relative_to(bundle)) in script
    assert "--array-delimiter=';'" in script  # quoted: a bare ; would end the shell command
    schema = (bundle / "schema.cypher").read_text()
    for space in ("Merchant", "Identifier", "Cluster"):
        assert f"FOR (n:{space}) REQUIRE n.id IS UNIQUE" in schema


def test_no_raw_identifier_value_is_exported(bundle: Path) -> None:
    b = reader.open_bundle(bundle)
    ident = next(g for g in b.nodes if g.name == "Identifier")
    for raw, _v in reader.iter_rows(ident):
        _kind, _, digest = raw[0].partition(":")
        assert len(digest) == 64 and int(digest, 16) >= 0, raw[0]


def test_refuses_raw_identifiers_and_unregistered_edges(spark: Any, planted: Path, tmp_path: Path) -> None:
    from pyspark.sql import functions as F

    run = tmp_path / "run"
    shutil.copytree(planted, run)
    nodes = spark.read.parquet(str(planted / "graph" / "nodes"))
    raw = nodes.withColumn(
        "raw_id", F.when(F.col("node_type") == "identifier", F.lit("phone:+49 170 1234567")).otherwise(F.col("raw_id"))
    )
    shutil.rmtree(run / "graph" / "nodes")
    raw.write.partitionBy("node_type").parquet(str(run / "graph" / "nodes"))
    with pytest.raises(RawIdentifierError, match="keyed hash"):
        export_run(spark, run, tmp_path / "b1")
    shutil.rmtree(run / "graph" / "nodes")
    nodes.write.partitionBy("node_type").parquet(str(run / "graph" / "nodes"))
    edges = spark.read.parquet(str(planted / "graph" / "edges"))
    bad = edges.limit(1).withColumn("edge_type", F.lit("merchant__knows__merchant"))
    bad.write.mode("append").partitionBy("edge_type").parquet(str(run / "graph" / "edges"))
    with pytest.raises(AllowListError, match="merchant__knows__merchant"):
        export_run(spark, run, tmp_path / "b2")


def test_corrupt_bundles_are_rejected(bundle: Path, tmp_path: Path) -> None:
    broken = tmp_path / "b"
    shutil.copytree(bundle, broken)
    (broken / "nodes" / "Merchant" / "header.csv").write_text("id:ID,:LABEL,fraud_risk:float\n")
    with pytest.raises(headers.HeaderError, match=r"ID space|:ID"):
        reader.open_bundle(broken)
    shutil.copytree(bundle, tmp_path / "c")
    part = tmp_path / "c" / "nodes" / "Merchant" / "part-00000.csv"
    part.write_text(part.read_text() + "m99,Merchant\n")
    group = next(g for g in reader.open_bundle(tmp_path / "c").nodes if g.name == "Merchant")
    with pytest.raises(reader.BundleError, match=r"part-00000.csv:8: 2 fields"):
        list(reader.iter_rows(group))
