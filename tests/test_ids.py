"""Typed ids and edge types."""

from __future__ import annotations

import pytest

from fraudmine.contracts.ids import (
    ALL_EDGE_TYPES,
    SELLS,
    NodeType,
    edge_type_from_key,
    split_typed_id,
    typed_id,
)


def test_typed_ids_do_not_collide_across_types() -> None:
    assert typed_id("merchant", "42") != typed_id("product", "42")
    assert split_typed_id(typed_id(NodeType.PRODUCT, "42")) == (NodeType.PRODUCT, "42")


def test_identifier_raw_ids_keep_their_colons() -> None:
    tid = typed_id("identifier", "device:" + "a" * 64)
    assert split_typed_id(tid) == (NodeType.IDENTIFIER, "device:" + "a" * 64)


@pytest.mark.parametrize("bad", ["merchant", "merchant:", "shop:1", ""])
def test_bad_typed_ids_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        split_typed_id(bad)


def test_edge_type_keys_roundtrip_and_are_unique() -> None:
    assert SELLS.key == "merchant__sells__product"
    keys = [e.key for e in ALL_EDGE_TYPES]
    assert len(keys) == len(set(keys))
    assert all(edge_type_from_key(k) == e for k, e in zip(keys, ALL_EDGE_TYPES, strict=True))
