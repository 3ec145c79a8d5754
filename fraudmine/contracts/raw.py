"""The raw input contract: one :class:`TableSpec` per input table.

This module is the authority for what the nightly pipeline reads and what the
synthetic generator writes; ``docs/data-contract.md`` is the human-readable copy
(a test checks that the two agree).  Each spec declares column types, keys,
foreign keys and the row rules the validation stage enforces.

Identifier values (devices, payment instruments, bank accounts, addresses,
phones, IPs) never appear raw: ``identities.identifier_hash`` carries a keyed
hash (HMAC-SHA256, 64 lowercase hex characters).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DType = Literal["string", "long", "int", "double", "boolean", "timestamp"]

HASH_PATTERN = r"^[0-9a-f]{64}$"
PHASH_PATTERN = r"^[0-9a-f]{16}$"
ID_PATTERN = r"^[A-Za-z0-9_.\-]{1,64}$"

ENTITY_TYPES = ("merchant", "creator", "buyer")
IDENTIFIER_TYPES = ("device", "payment", "bank_account", "address", "phone", "ip")
CURRENCIES = ("USD", "EUR", "GBP", "IDR", "BRL", "JPY", "CNY", "INR")
CATEGORIES = (
    "electronics",
    "fashion",
    "beauty",
    "home",
    "toys",
    "sports",
    "grocery",
    "jewelry",
    "books",
    "automotive",
)
PROMOTION_CHANNELS = ("video", "live")
ORDER_STATUSES = ("placed", "completed", "refunded", "cancelled")
ORDER_EVENT_STATUSES = ("placed", "completed", "refunded", "cancelled")
REPORT_TARGET_TYPES = ("merchant", "creator", "product")
REPORT_REASONS = (
    "counterfeit",
    "fraud",
    "not_as_described",
    "prohibited_item",
    "spam",
    "harassment",
    "other",
)
REPORT_OUTCOMES = ("upheld", "rejected")
LABEL_ENTITY_TYPES = ("merchant", "creator")
LABEL_VALUES = ("fraud", "low_quality", "ok")
LABEL_SOURCES = ("manual_review", "chargeback", "brand_complaint", "appeal")
ITEM_TYPES = ("product_listing", "video", "live_session")
OUTCOME_VERDICTS = ("violation", "no_violation")
OUTCOME_ACTIONS = ("approve", "review", "reject", "escalate")
OUTCOME_SOURCES = ("moderator", "specialist", "appeal")
VIOLATION_TYPES = ("fraud", "low_quality", "counterfeit", "duplicate", "prohibited", "other")


@dataclass(frozen=True)
class ColumnSpec:
    """One declared column and the row rules that apply to it.

    Attributes:
        name: column name.
        dtype: logical type; readers cast CSV strings to it.
        nullable: whether null is allowed (null in a non-nullable column quarantines the row).
        enum: allowed values, if the column is categorical.
        max_length: longest allowed string.
        min_value / max_value: inclusive numeric bounds.
        pattern: regular expression a string value must match in full.
        not_future: for timestamps, must not be later than the run's ``as_of``.
    """

    name: str
    dtype: DType
    nullable: bool = False
    enum: tuple[str, ...] | None = None
    max_length: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    pattern: str | None = None
    not_future: bool = False
    description: str = ""


@dataclass(frozen=True)
class ForeignKey:
    """``column`` must exist in ``ref_table.ref_column`` (when not null).

    When ``type_column`` is set, the reference applies only to rows whose
    ``type_column`` equals ``type_value`` (polymorphic references such as
    ``reports.target_id``).
    """

    column: str
    ref_table: str
    ref_column: str
    type_column: str | None = None
    type_value: str | None = None


@dataclass(frozen=True)
class TableSpec:
    """A raw input table: columns, primary key, foreign keys.

    ``optional`` tables may be absent from the input folder; the pipeline then reads
    them as empty (and says so in the log).
    """

    name: str
    columns: tuple[ColumnSpec, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = field(default_factory=tuple)
    description: str = ""
    optional: bool = False

    @property
    def column_names(self) -> tuple[str, ...]:
        """Declared column names in order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnSpec:
        """Return the spec of column ``name``.

        Raises:
            KeyError: naming the table and its declared columns.
        """
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}; declared: {self.column_names}")


def _id(name: str, desc: str = "", nullable: bool = False) -> ColumnSpec:
    return ColumnSpec(name, "string", nullable=nullable, pattern=ID_PATTERN, description=desc)


def _ts(name: str, desc: str = "", nullable: bool = False) -> ColumnSpec:
    return ColumnSpec(name, "timestamp", nullable=nullable, not_future=True, description=desc)


MERCHANTS = TableSpec(
    "merchants",
    (
        _id("merchant_id", "shop account id"),
        ColumnSpec("shop_name", "string", max_length=200),
        ColumnSpec("country", "string", pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2"),
        ColumnSpec("primary_category", "string", enum=CATEGORIES),
        _ts("registered_at"),
    ),
    ("merchant_id",),
    description="one row per shop account",
)

CREATORS = TableSpec(
    "creators",
    (
        _id("creator_id"),
        ColumnSpec("handle", "string", max_length=100),
        ColumnSpec("country", "string", pattern=r"^[A-Z]{2}$"),
        ColumnSpec("follower_count", "long", min_value=0),
        _ts("registered_at"),
    ),
    ("creator_id",),
    description="short-video / live creators (affiliates)",
)

BRANDS = TableSpec(
    "brands",
    (
        _id("brand_id"),
        ColumnSpec("name", "string", max_length=100),
        ColumnSpec("aliases", "string", nullable=True, max_length=1000, description="'|'-separated"),
        ColumnSpec("protected", "boolean", description="brand is in the IP-protection programme"),
    ),
    ("brand_id",),
    description="brand library",
)

BRAND_AUTHORIZATIONS = TableSpec(
    "brand_authorizations",
    (
        _id("brand_id"),
        _id("merchant_id"),
        _ts("valid_from"),
        ColumnSpec("valid_to", "timestamp", nullable=True),
    ),
    ("brand_id", "merchant_id", "valid_from"),
    (ForeignKey("brand_id", "brands", "brand_id"), ForeignKey("merchant_id", "merchants", "merchant_id")),
    description="merchant is authorised to sell the brand in [valid_from, valid_to)",
)

PRODUCTS = TableSpec(
    "products",
    (
        _id("product_id", "listing id"),
        _id("merchant_id"),
        _id("brand_id", "claimed brand", nullable=True),
        ColumnSpec("title", "string", max_length=300),
        ColumnSpec("description", "string", nullable=True, max_length=5000),
        ColumnSpec("price", "double", min_value=0.0),
        ColumnSpec("currency", "string", enum=CURRENCIES),
        ColumnSpec("category", "string", enum=CATEGORIES),
        ColumnSpec("image_phash", "string", nullable=True, pattern=PHASH_PATTERN, description="64-bit pHash, hex"),
        _ts("created_at"),
    ),
    ("product_id",),
    (ForeignKey("merchant_id", "merchants", "merchant_id"), ForeignKey("brand_id", "brands", "brand_id")),
    description="product listings",
)

IDENTITIES = TableSpec(
    "identities",
    (
        ColumnSpec("entity_type", "string", enum=ENTITY_TYPES),
        _id("entity_id"),
        ColumnSpec("identifier_type", "string", enum=IDENTIFIER_TYPES),
        ColumnSpec("identifier_hash", "string", pattern=HASH_PATTERN, description="keyed hash, never raw"),
        _ts("first_seen"),
        _ts("last_seen"),
    ),
    ("entity_type", "entity_id", "identifier_type", "identifier_hash"),
    (
        ForeignKey("entity_id", "merchants", "merchant_id", "entity_type", "merchant"),
        ForeignKey("entity_id", "creators", "creator_id", "entity_type", "creator"),
    ),
    description="account-to-identifier observations (device, payment, bank account, address, phone, IP)",
)

PROMOTIONS = TableSpec(
    "promotions",
    (
        _id("promotion_id"),
        _id("creator_id"),
        _id("product_id"),
        ColumnSpec("channel", "string", enum=PROMOTION_CHANNELS),
        _ts("started_at"),
        ColumnSpec("views", "long", min_value=0),
        ColumnSpec("likes", "long", min_value=0),
        ColumnSpec("gmv", "double", min_value=0.0, description="attributed sales, in USD"),
    ),
    ("promotion_id",),
    (ForeignKey("creator_id", "creators", "creator_id"), ForeignKey("product_id", "products", "product_id")),
    description="a creator promotes a product in a short video or live session",
)

ORDERS = TableSpec(
    "orders",
    (
        _id("order_id"),
        _id("buyer_id"),
        _id("product_id"),
        _ts("ordered_at"),
        ColumnSpec("quantity", "int", min_value=1, max_value=10_000),
        ColumnSpec("amount", "double", min_value=0.0, description="order value in USD"),
        ColumnSpec(
            "status", "string", enum=ORDER_STATUSES, description="the order's status when the table was extracted"
        ),
    ),
    ("order_id",),
    (ForeignKey("product_id", "products", "product_id"),),
)

ORDER_EVENTS = TableSpec(
    "order_events",
    (
        _id("event_id"),
        _id("order_id"),
        ColumnSpec("status", "string", enum=ORDER_EVENT_STATUSES, description="the order's status from event_at on"),
        _ts("event_at", "when the order entered this status"),
    ),
    ("event_id",),
    (ForeignKey("order_id", "orders", "order_id"),),
    description="status history of each order (optional): a feature at D uses each order's last event before D, "
    "so refunds and cancellations after D stay invisible; orders.status is the status at the snapshot",
    optional=True,
)

REVIEWS = TableSpec(
    "reviews",
    (
        _id("review_id"),
        _id("buyer_id"),
        _id("product_id"),
        ColumnSpec("rating", "int", min_value=1, max_value=5),
        ColumnSpec("text", "string", nullable=True, max_length=2000),
        _ts("reviewed_at"),
    ),
    ("review_id",),
    (ForeignKey("product_id", "products", "product_id"),),
)

REPORTS = TableSpec(
    "reports",
    (
        _id("report_id"),
        _id("reporter_id", "buyer account that filed the report"),
        ColumnSpec("target_type", "string", enum=REPORT_TARGET_TYPES),
        _id("target_id"),
        ColumnSpec("reason", "string", enum=REPORT_REASONS),
        ColumnSpec("text", "string", nullable=True, max_length=2000),
        _ts("reported_at"),
        ColumnSpec("outcome", "string", nullable=True, enum=REPORT_OUTCOMES, description="null until reviewed"),
        ColumnSpec("reviewed_at", "timestamp", nullable=True),
    ),
    ("report_id",),
    (
        ForeignKey("target_id", "merchants", "merchant_id", "target_type", "merchant"),
        ForeignKey("target_id", "creators", "creator_id", "target_type", "creator"),
        ForeignKey("target_id", "products", "product_id", "target_type", "product"),
    ),
    description="user reports; outcome and reviewed_at are set when moderation reviewed the report",
)

LABELS = TableSpec(
    "labels",
    (
        ColumnSpec("entity_type", "string", enum=LABEL_ENTITY_TYPES),
        _id("entity_id"),
        ColumnSpec("label", "string", enum=LABEL_VALUES),
        ColumnSpec("source", "string", enum=LABEL_SOURCES),
        _ts("labelled_at"),
    ),
    ("entity_type", "entity_id", "labelled_at"),
    (
        ForeignKey("entity_id", "merchants", "merchant_id", "entity_type", "merchant"),
        ForeignKey("entity_id", "creators", "creator_id", "entity_type", "creator"),
    ),
    description="partial, delayed, noisy moderation labels; only labels before the run date are used",
)

MODERATION_QUEUE = TableSpec(
    "moderation_queue",
    (
        _id("item_id"),
        ColumnSpec("item_type", "string", enum=ITEM_TYPES),
        _id("merchant_id", nullable=True),
        _id("creator_id", nullable=True),
        _id("product_id", nullable=True),
        _ts("submitted_at"),
    ),
    ("item_id",),
    (
        ForeignKey("merchant_id", "merchants", "merchant_id"),
        ForeignKey("creator_id", "creators", "creator_id"),
        ForeignKey("product_id", "products", "product_id"),
    ),
    description="items waiting for a moderation decision",
)

MODERATION_OUTCOMES = TableSpec(
    "moderation_outcomes",
    (
        _id("outcome_id"),
        _id("item_id", "the moderation-queue item that was decided"),
        ColumnSpec("item_type", "string", enum=ITEM_TYPES),
        _id("merchant_id", "seller the item referenced", nullable=True),
        _id("creator_id", nullable=True),
        _id("product_id", nullable=True),
        ColumnSpec("verdict", "string", enum=OUTCOME_VERDICTS, description="what the human found"),
        ColumnSpec(
            "violation_type", "string", nullable=True, enum=VIOLATION_TYPES, description="null unless violation"
        ),
        ColumnSpec(
            "routed_action",
            "string",
            nullable=True,
            enum=OUTCOME_ACTIONS,
            description="the action fraudmine recommended for the item (null if it never passed through fraudmine)",
        ),
        ColumnSpec(
            "route",
            "string",
            nullable=True,
            enum=("policy", "exploration", "appeal"),
            description="why a human saw it: queued by the policy, an exploration sample, or an appeal",
        ),
        _id("decision_run_id", "run id of the decision that routed the item", nullable=True),
        ColumnSpec("source", "string", enum=OUTCOME_SOURCES),
        _ts("decided_at", "when the verdict was given; a run at D only sees verdicts before D"),
    ),
    ("outcome_id",),
    (
        ForeignKey("merchant_id", "merchants", "merchant_id"),
        ForeignKey("creator_id", "creators", "creator_id"),
        ForeignKey("product_id", "products", "product_id"),
    ),
    description="moderator verdicts on decided items (optional): realised precision per action, "
    "and labels for the next training (a violation labels the item's seller; only verdicts before D are used)",
    optional=True,
)

RAW_TABLES: tuple[TableSpec, ...] = (
    MERCHANTS,
    CREATORS,
    BRANDS,
    BRAND_AUTHORIZATIONS,
    PRODUCTS,
    IDENTITIES,
    PROMOTIONS,
    ORDERS,
    ORDER_EVENTS,
    REVIEWS,
    REPORTS,
    LABELS,
    MODERATION_QUEUE,
    MODERATION_OUTCOMES,
)

RAW_BY_NAME: dict[str, TableSpec] = {t.name: t for t in RAW_TABLES}


def event_time_column(spec: TableSpec) -> str | None:
    """The column saying when a row came into being: the table's first ``not_future`` timestamp.

    Rows whose event time is at or after a run's date belong to later runs (a backfill
    over a full snapshot leaves them out); later ``not_future`` columns (``last_seen``)
    record later knowledge about a row that already existed.
    """
    return next((c.name for c in spec.columns if c.not_future), None)


def table_spec(name: str) -> TableSpec:
    """Return the spec of raw table ``name``.

    Raises:
        KeyError: naming the known tables.
    """
    try:
        return RAW_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown raw table {name!r}; known: {sorted(RAW_BY_NAME)}") from None
