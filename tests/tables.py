"""Tiny in-memory contract tables for Spark tests (test helper, not a fixture module)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fraudmine.contracts.physical import spark_schema
from fraudmine.contracts.raw import RAW_TABLES, table_spec


def ts(day: int, month: int = 10) -> datetime:
    """A UTC instant in 2026."""
    return datetime(2026, month, day, tzinfo=UTC)


def H(c: str) -> str:
    """A 64-hex fake keyed hash made from one character."""
    return c * 64


def make_tables(spark: Any, rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """All twelve contract tables; tables not in ``rows`` are empty. Missing columns are null."""
    out = {}
    for spec in RAW_TABLES:
        data = [tuple(r.get(c) for c in spec.column_names) for r in rows.get(spec.name, [])]
        out[spec.name] = spark.createDataFrame(data, spark_schema(table_spec(spec.name)))
    return out


def small_marketplace(spark: Any) -> dict[str, Any]:
    """Three merchants; m1 and m2 share a device (ring), m3 uses only a hub Wi-Fi."""
    m = [
        {
            "merchant_id": f"m{i}",
            "shop_name": f"shop {i}",
            "country": "US",
            "primary_category": "fashion",
            "registered_at": ts(1, 6),
        }
        for i in (1, 2, 3)
    ]
    products = [
        {
            "product_id": "p1",
            "merchant_id": "m1",
            "brand_id": "br1",
            "title": "Red Shoe",
            "price": 10.0,
            "currency": "USD",
            "category": "fashion",
            "image_phash": "0" * 16,
            "created_at": ts(1, 7),
        },
        {
            "product_id": "p2",
            "merchant_id": "m2",
            "brand_id": None,
            "title": "red shoe!",
            "price": 12.0,
            "currency": "USD",
            "category": "fashion",
            "image_phash": "0" * 16,
            "created_at": ts(2, 7),
        },
        {
            "product_id": "p3",
            "merchant_id": "m3",
            "brand_id": "br1",
            "title": "Blue Hat",
            "price": 30.0,
            "currency": "USD",
            "category": "fashion",
            "image_phash": "f" * 16,
            "created_at": ts(3, 7),
        },
        {
            "product_id": "p4",
            "merchant_id": "m3",
            "brand_id": None,
            "title": "Late listing",
            "price": 5.0,
            "currency": "USD",
            "category": "fashion",
            "image_phash": None,
            "created_at": ts(20),
        },
    ]
    identities = [
        {
            "entity_type": "merchant",
            "entity_id": "m1",
            "identifier_type": "device",
            "identifier_hash": H("a"),
            "first_seen": ts(1, 7),
            "last_seen": ts(1, 9),
        },
        {
            "entity_type": "merchant",
            "entity_id": "m2",
            "identifier_type": "device",
            "identifier_hash": H("a"),
            "first_seen": ts(1, 7),
            "last_seen": ts(1, 9),
        },
        *[
            {
                "entity_type": et,
                "entity_id": eid,
                "identifier_type": "ip",
                "identifier_hash": H("h"),
                "first_seen": ts(1, 7),
                "last_seen": ts(1, 9),
            }
            for et, eid in (("merchant", "m1"), ("merchant", "m3"), ("buyer", "u1"))
        ],
    ]
    orders = [
        {
            "order_id": "o1",
            "buyer_id": "u1",
            "product_id": "p1",
            "ordered_at": ts(5),
            "quantity": 1,
            "amount": 10.0,
            "status": "completed",
        },
        {
            "order_id": "o2",
            "buyer_id": "u1",
            "product_id": "p1",
            "ordered_at": ts(6),
            "quantity": 1,
            "amount": 10.0,
            "status": "refunded",
        },
        {
            "order_id": "o3",
            "buyer_id": "u2",
            "product_id": "p3",
            "ordered_at": ts(7),
            "quantity": 2,
            "amount": 60.0,
            "status": "completed",
        },
    ]
    reviews = [
        {"review_id": "r1", "buyer_id": "u1", "product_id": "p1", "rating": 5, "reviewed_at": ts(8)},
        {"review_id": "r2", "buyer_id": "u2", "product_id": "p3", "rating": 2, "reviewed_at": ts(9)},
    ]
    reports = [
        {
            "report_id": "rp1",
            "reporter_id": "u2",
            "target_type": "merchant",
            "target_id": "m1",
            "reason": "fraud",
            "reported_at": ts(10),
            "outcome": "upheld",
            "reviewed_at": ts(12),
        },
        {
            "report_id": "rp2",
            "reporter_id": "u2",
            "target_type": "product",
            "target_id": "p1",
            "reason": "counterfeit",
            "reported_at": ts(11),
            "outcome": None,
            "reviewed_at": None,
        },
    ]
    brands = [{"brand_id": "br1", "name": "Acme", "aliases": "ACME", "protected": True}]
    auth = [{"brand_id": "br1", "merchant_id": "m3", "valid_from": ts(1, 6), "valid_to": None}]
    labels = [
        {
            "entity_type": "merchant",
            "entity_id": "m1",
            "label": "ok",
            "source": "manual_review",
            "labelled_at": ts(1),
        },
        {
            "entity_type": "merchant",
            "entity_id": "m1",
            "label": "fraud",
            "source": "manual_review",
            "labelled_at": ts(15),
        },
        {
            "entity_type": "merchant",
            "entity_id": "m2",
            "label": "fraud",
            "source": "chargeback",
            "labelled_at": ts(25),
        },
    ]
    queue = [
        {
            "item_id": "q1",
            "item_type": "product_listing",
            "merchant_id": None,
            "product_id": "p1",
            "submitted_at": ts(14),
        },
        {
            "item_id": "q2",
            "item_type": "live_session",
            "merchant_id": "m1",
            "creator_id": "c1",
            "submitted_at": ts(14),
        },
        {"item_id": "q3", "item_type": "video", "merchant_id": "m9", "submitted_at": ts(14)},
        {"item_id": "q4", "item_type": "video", "merchant_id": "m3", "submitted_at": ts(21)},
    ]
    return make_tables(
        spark,
        {
            "merchants": m,
            "products": products,
            "identities": identities,
            "orders": orders,
            "reviews": reviews,
            "reports": reports,
            "brands": brands,
            "brand_authorizations": auth,
            "labels": labels,
            "moderation_queue": queue,
        },
    )
