"""Pure logic of the analyst graph: the allow-list, statements, headers, parameters, config secrets."""

from __future__ import annotations

import pytest

from fraudmine.analyst import headers, model, playbook, statements
from fraudmine.analyst.bolt import target_name
from fraudmine.analyst.dialect import Engine, neo4j_schema
from fraudmine.analyst.headers import HeaderError
from fraudmine.analyst.model import AllowListError
from fraudmine.analyst.table import format_rows
from fraudmine.config import load_config
from fraudmine.contracts import ids
from fraudmine.contracts.ids import EdgeType, NodeType


def test_labels_and_types_derive_from_the_registry() -> None:
    assert model.label_for(NodeType.MERCHANT) == "Merchant"
    assert model.rel_type_for(ids.SELLS) == "SELLS"
    assert {model.rel_type_for(et) for et in ids.ALL_EDGE_TYPES} <= set(model.rel_types())
    assert all(model.label_for(nt) in model.node_labels() for nt in NodeType)
    # a renamed relation flows through the derivation: no table to edit
    renamed = EdgeType(NodeType.MERCHANT, "uses_identifier", NodeType.IDENTIFIER)
    assert model.rel_type_for(renamed) == "USES_IDENTIFIER"


@pytest.mark.parametrize(
    "bad", ["Merchant) DETACH DELETE n //", "Merchant`", "merchant", "Order", "Account:Merchant", ""]
)
def test_labels_outside_the_allow_list_never_reach_cypher(bad: str) -> None:
    with pytest.raises(AllowListError):
        statements.node_upsert(bad)
    with pytest.raises(AllowListError):
        statements.rel_upsert("SELLS", bad, "Product")


def test_relationship_types_outside_the_allow_list_are_refused() -> None:
    with pytest.raises(AllowListError, match="KNOWS"):
        statements.rel_upsert("KNOWS", "Merchant", "Merchant")
    with pytest.raises(AllowListError):
        statements.rel_delete("SELLS]->() DETACH DELETE a //", "Merchant", "Product")


def test_statements_carry_values_only_as_parameters() -> None:
    q = statements.node_upsert("Merchant", ["Account"])
    assert q == "UNWIND $rows AS row MERGE (n:Merchant:Account {id: row.id}) SET n += row.props"
    r = statements.rel_upsert("USES", "Merchant", "Identifier")
    assert "row.start" in r and "row.end" in r and "'" not in r and '"' not in r


def test_header_round_trip_and_validation() -> None:
    props = [model.Prop("fraud_risk", "float"), model.Prop("reasons", "string[]")]
    line = headers.format_header(headers.node_header("Merchant", props))
    assert line == "id:ID(Merchant),:LABEL,fraud_risk:float,reasons:string[]"
    assert headers.validate_node_header(headers.parse_header(line), "h") == "Merchant"
    rel = headers.format_header(headers.rel_header("Merchant", "Identifier", []))
    assert headers.validate_rel_header(headers.parse_header(rel), "h") == ("Merchant", "Identifier")
    with pytest.raises(HeaderError, match="type 'decimal'"):
        headers.parse_header("id:ID(Merchant),x:decimal")
    with pytest.raises(HeaderError, match="exactly one ':ID"):
        headers.validate_node_header(headers.parse_header("id:ID(A),other:ID(B)"), "h")
    with pytest.raises(HeaderError, match="START_ID"):
        headers.validate_rel_header(headers.parse_header(":END_ID(A),:TYPE"), "h")
    with pytest.raises(HeaderError, match="duplicate"):
        headers.validate_node_header(headers.parse_header("id:ID(A),x:long,x:float"), "h")
    with pytest.raises(HeaderError, match="'Brand'"):
        headers.check_id_spaces(["Merchant"], [("merchant__authorized_for__brand", "Merchant", "Brand")])


def test_property_types_are_checked() -> None:
    with pytest.raises(AllowListError, match="decimal"):
        model.Prop("price", "decimal")
    with pytest.raises(AllowListError):
        model.Prop("price; DROP", "float")


def test_parameters_are_bound_and_checked() -> None:
    q = playbook.QUERIES["ring"]
    assert q.bind({"merchant": "m1"}) == {"merchant": "m1", "limit": 50}
    assert q.bind({"merchant": "m1", "limit": "5"})["limit"] == 5
    with pytest.raises(ValueError, match="unknown parameters"):
        q.bind({"merchant": "m1", "hops": 9})
    assert playbook.QUERIES["clusters"].bind({}) == {"kind": None, "limit": 50}
    for query in playbook.QUERIES.values():  # values are never spliced in: every parameter appears as $name
        text = query.text(Engine.NEO4J)
        assert all(f"${p.name}" in text for p in query.params), query.name


def test_neo4j_schema_and_playbook_file() -> None:
    schema = neo4j_schema(["Merchant", "Cluster"])
    assert schema[0] == "CREATE CONSTRAINT merchant_id IF NOT EXISTS FOR (n:Merchant) REQUIRE n.id IS UNIQUE"
    text = playbook.render_neo4j_playbook()
    assert text.count(";\n") == len(playbook.QUERIES) and "shortestPath" in text


def test_password_is_never_in_config_output_and_target_has_no_credentials(tmp_path: object) -> None:
    cfg = load_config(env={"NEO4J_URI": "bolt://u:pw@db.example:7687", "NEO4J_PASSWORD": "s3cret"})
    assert cfg.neo4j.resolved_password() == "s3cret"
    assert "s3cret" not in repr(cfg) and "s3cret" not in str(cfg.model_dump(mode="json"))
    assert target_name(cfg.neo4j.uri or "", "neo4j") == "bolt://db.example:7687/neo4j"


def test_password_file(tmp_path: object) -> None:
    from pathlib import Path

    f = Path(str(tmp_path)) / "pw"
    f.write_text("from-file\n")
    cfg = load_config(env={"NEO4J_PASSWORD_FILE": str(f)})
    assert cfg.neo4j.resolved_password() == "from-file"


def test_table_formats() -> None:
    out = format_rows(["a", "b"], [["x", 0.5], [None, [1, 2]]])
    assert out.splitlines()[0].split() == ["a", "b"] and out.endswith("(2 rows)\n")
    assert format_rows(["a"], [[1]], "json") == '{"a": 1}\n'
    assert format_rows(["a", "b"], [["x,y", None]], "csv") == 'a,b\n"x,y",\n'
