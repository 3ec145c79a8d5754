"""Counterfeit-risk flags: unauthorised protected-brand claims and mentions, with evidence.

A claim alone is not the signal (honest shops are sloppy with brand fields); the flag level comes
from evidence:

* ``evasion`` — the title writes the brand as a typo-squat or with look-alike letters (a misspelling
  of the brand the listing declares in its brand field is a typo, not evasion: the claim is kept);
* ``price`` — the price is far under the brand's market (median price of its listings by
  authorised sellers, or of all its listings when none is authorised);
* ``copied_image`` — the listing's image is a near copy of another merchant's listing;
* ``new_shop`` — the shop registered shortly before the run date.

``level`` is ``counterfeit_pattern`` when any evidence holds, else ``unauthorised_claim`` (the
sloppy-but-maybe-honest case); ``evidence`` is a readable sentence per item.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fraudmine.dedup.brands import (
    BrandMatcher,
    authorised_as_of,
    brand_keys,
    dedupe_brands,
    mention_table,
    utc,
    utc_series,
)

VIOLATION_COLUMNS = (
    "product_id",
    "merchant_id",
    "brand_id",
    "source",
    "kind",
    "seen",
    "price_ratio",
    "copied_image",
    "shop_age_days",
    "level",
    "n_evidence",
    "evidence",
)


@dataclass(frozen=True)
class ViolationParams:
    """Evidence thresholds.

    Attributes:
        price_ratio: price / brand market price under this is "far under the market".
        new_shop_days: shops registered fewer days than this before the run date are new.
    """

    price_ratio: float = 0.5
    new_shop_days: int = 60


def brand_violations(
    products: pd.DataFrame,
    merchants: pd.DataFrame,
    brands: pd.DataFrame,
    authorizations: pd.DataFrame,
    run_date: pd.Timestamp,
    copied: set[str] | None = None,
    params: ViolationParams | None = None,
    market: pd.Series | None = None,
) -> pd.DataFrame:
    """One row per (listing, protected brand) claimed or mentioned by an unauthorised seller.

    Args:
        products: ``product_id, merchant_id, brand_id, title, price``.
        merchants: ``merchant_id, registered_at``.
        brands: ``brand_id, name, aliases, protected``.
        authorizations: ``brand_id, merchant_id, valid_from, valid_to``.
        run_date: the as-of date of the authorisation join and shop age.
        copied: product ids whose image nearly copies another merchant's listing.
        params: evidence thresholds.
        market: the brands' market prices (canonical brand id → price, see :func:`brand_market`) when
            ``products`` holds only the listings that claim or mention a protected brand (the Spark
            path); computed from ``products`` otherwise.

    Returns:
        Columns :data:`VIOLATION_COLUMNS`, sorted by evidence count (descending) then product id.
    """
    p = params or ViolationParams()
    canon = dedupe_brands(brands)
    to_canon = dict(zip(canon["brand_id"].astype(str), canon["canonical_brand_id"].astype(str), strict=True))
    protected = set(canon.loc[canon["protected"], "canonical_brand_id"].astype(str))
    auth = {(to_canon.get(b, b), m) for b, m in authorised_as_of(authorizations, run_date)}
    names = dict(zip(brands["brand_id"].astype(str), brands["name"], strict=True))

    claims = products.loc[products["brand_id"].notna(), ["product_id", "brand_id"]].copy()
    claims["brand_id"] = claims["brand_id"].astype(str).map(lambda b: to_canon.get(b, b))
    claims["kind"], claims["seen"], claims["source"] = "exact", None, "claim"
    matcher = BrandMatcher(brand_keys(brands))
    ment = mention_table(zip(products["product_id"], products["title"], strict=True), matcher)
    ment["source"] = "title"
    # a typo of a brand the listing declares in its brand field evades nothing: the claim stands (exact)
    declared = set(zip(claims["product_id"], claims["brand_id"], strict=True))
    typo = ment["kind"].eq("typo_squat").to_numpy() & np.array(
        [(pid, b) in declared for pid, b in zip(ment["product_id"], ment["brand_id"], strict=True)], dtype=bool
    )
    allm = pd.concat([ment[~typo], claims], ignore_index=True)
    allm = allm[allm["brand_id"].isin(protected)]
    rank = allm["kind"].map({"exact": 0, "homoglyph": 1, "typo_squat": 2})
    # keep the evasive form when both a claim and an evasive mention exist
    allm = (
        allm.assign(_r=-rank).sort_values(["product_id", "brand_id", "_r"]).drop_duplicates(["product_id", "brand_id"])
    )
    rows = allm.merge(products[["product_id", "merchant_id", "price"]], on="product_id")
    unauthorised = np.array(
        [(b, m) not in auth for b, m in zip(rows["brand_id"], rows["merchant_id"], strict=True)], dtype=bool
    )
    rows = rows[unauthorised].copy()

    if market is None:
        market = brand_market(products, to_canon, auth)
    rows["price_ratio"] = rows["price"] / rows["brand_id"].map(market)
    reg = utc_series(merchants.set_index("merchant_id")["registered_at"])
    rows["shop_age_days"] = (utc(run_date) - utc_series(rows["merchant_id"].map(reg))).dt.days
    rows["copied_image"] = rows["product_id"].isin(copied or set())

    def evidence(r: pd.Series) -> list[str]:
        out: list[str] = []
        brand = names.get(r["brand_id"], r["brand_id"])
        if r["kind"] != "exact":
            out.append(f"title writes '{r['seen']}' for protected brand {brand} ({r['kind'].replace('_', '-')})")
        if pd.notna(r["price_ratio"]) and r["price_ratio"] < p.price_ratio:
            out.append(f"price {r['price_ratio']:.0%} of {brand}'s market median")
        if r["copied_image"]:
            out.append("image nearly copies another merchant's listing")
        if pd.notna(r["shop_age_days"]) and r["shop_age_days"] < p.new_shop_days:
            out.append(f"shop registered {int(r['shop_age_days'])} days before the run")
        return out

    ev = [evidence(r) for _, r in rows.iterrows()]
    rows["n_evidence"] = np.array([len(e) for e in ev], dtype=np.int64)
    claim_text = [
        f"unauthorised seller {'claims' if s == 'claim' else 'names'} protected brand {names.get(b, b)}"
        for s, b in zip(rows["source"], rows["brand_id"], strict=True)
    ]
    rows["evidence"] = ["; ".join([c, *e]) for c, e in zip(claim_text, ev, strict=True)]
    rows["level"] = np.where(rows["n_evidence"] > 0, "counterfeit_pattern", "unauthorised_claim")
    rows = rows.sort_values(["n_evidence", "product_id"], ascending=[False, True])
    text = ("product_id", "merchant_id", "brand_id", "source", "kind", "seen", "level", "evidence")
    out = rows[list(VIOLATION_COLUMNS)].reset_index(drop=True)
    return out.astype({c: "string" for c in text} | {"price_ratio": "float64", "shop_age_days": "float64"})


def brand_market(products: pd.DataFrame, to_canon: dict[str, str], auth: set[tuple[str, str]]) -> pd.Series:
    """Market price per canonical brand: the median price of its listings by authorised sellers, or of
    all its listings when none is authorised (``products``: ``brand_id, merchant_id, price``)."""
    prod = products.assign(canon=products["brand_id"].astype(str).map(lambda b: to_canon.get(b, b)))
    is_auth = np.array([(b, m) in auth for b, m in zip(prod["canon"], prod["merchant_id"], strict=True)], dtype=bool)
    market = prod[is_auth].groupby("canon")["price"].median()
    return market.combine_first(prod[prod["brand_id"].notna()].groupby("canon")["price"].median())


def brand_context(
    brands: pd.DataFrame, authorizations: pd.DataFrame, run_date: pd.Timestamp
) -> tuple[dict[str, str], set[str], set[tuple[str, str]]]:
    """``(to_canon, protected, auth)`` of :func:`brand_violations`: brand id → canonical id, the protected
    canonical ids, and the authorised ``(canonical brand, merchant)`` pairs as of ``run_date``."""
    canon = dedupe_brands(brands)
    to_canon = dict(zip(canon["brand_id"].astype(str), canon["canonical_brand_id"].astype(str), strict=True))
    protected = set(canon.loc[canon["protected"], "canonical_brand_id"].astype(str))
    auth = {(to_canon.get(b, b), m) for b, m in authorised_as_of(authorizations, run_date)}
    return to_canon, protected, auth


VIOLATION_FEATURES: tuple[str, ...] = ("n_brand_violations", "n_counterfeit_patterns", "max_violation_evidence")
"""Per-merchant columns of :func:`merchant_violation_features` (joined into the merchant features)."""


def merchant_violation_features(violations: pd.DataFrame, listings: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per-merchant brand-violation counts over listings created before ``as_of``.

    Args:
        violations: output of :func:`brand_violations` (found as of the run date).
        listings: ``product_id, created_at`` of the listings the violations were found on.
        as_of: only listings created before it count (the training table's cut-off keeps later listings out).

    Returns:
        ``merchant_id, n_brand_violations`` (listings with any violation), ``n_counterfeit_patterns`` (with
        counterfeit evidence beyond the claim), ``max_violation_evidence`` (most evidence on one listing).
    """
    created = listings.set_index("product_id")["created_at"]
    when = pd.to_datetime(violations["product_id"].map(created), utc=True)
    v = violations[when < as_of]
    per_listing = (
        v.assign(pat=v["level"] == "counterfeit_pattern")
        .groupby(["merchant_id", "product_id"])
        .agg(ev=("n_evidence", "max"), pat=("pat", "any"))
    )
    agg = per_listing.groupby("merchant_id").agg(
        n_brand_violations=("ev", "size"), n_counterfeit_patterns=("pat", "sum"), max_violation_evidence=("ev", "max")
    )
    cols = {"merchant_id": "string", **{c: "int64" for c in VIOLATION_FEATURES}}
    return agg.reset_index()[list(cols)].astype(cols)
