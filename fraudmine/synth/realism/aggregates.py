"""Plain per-account aggregates of every raw column: what a trivial tabular method sees.

The realism benchmark asks how far these simple numbers alone separate fraud
from honest accounts.  The set is deliberately broad and generic (nothing here
knows how the generator plants fraud): for each account type it takes counts,
shares, means, extremes and burstiness of every raw table that references the
account, the account's own columns (ids by rank and trailing digits, timestamps,
one-hot categorical values) and identifier degrees.

Every function returns a float DataFrame indexed by the account id; missing
values stay NaN (the scorers decide how to treat them).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

US_PER_DAY = 86_400_000_000
_ASCII = re.compile(r"^[\x00-\x7f]*$")


def read_raw(raw: Path, table: str) -> pd.DataFrame:
    """Read raw table ``table`` (one folder of Parquet parts) with timestamps as int64 microseconds."""
    df = pd.read_parquet(raw / table)
    for c in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[c]):
            ts = df[c].dt.tz_localize(None) if getattr(df[c].dt, "tz", None) is not None else df[c]
            df[c] = ts.astype("datetime64[us]").astype("int64").where(df[c].notna())
    return df


def id_features(ids: pd.Series, prefix: str) -> pd.DataFrame:
    """Rank of the id string (0..1) and its trailing digits as a number (ids leak creation order)."""
    digits = pd.to_numeric(ids.str.extract(r"(\d+)$")[0], errors="coerce")
    return pd.DataFrame(
        {f"{prefix}.id_rank": ids.rank(pct=True).to_numpy(), f"{prefix}.id_digits": digits.to_numpy()},
        index=ids.to_numpy(),
    )


def one_hot(values: pd.Series, index: pd.Index, prefix: str, max_levels: int = 30) -> pd.DataFrame:
    """Indicator columns of the ``max_levels`` most frequent values."""
    top = values.value_counts().index[:max_levels]
    return pd.DataFrame({f"{prefix}={v}": (values == v).to_numpy(dtype=float) for v in top}, index=index)


def _burst(times: pd.Series, keys: pd.Series, days: int) -> pd.Series:
    """Share of an account's events that fall in its busiest ``days``-day bucket."""
    bucket = times // (days * US_PER_DAY)
    per = pd.DataFrame({"k": keys.to_numpy(), "b": bucket.to_numpy()}).groupby(["k", "b"]).size()
    return per.groupby(level=0).max() / per.groupby(level=0).sum()


def _stats(df: pd.DataFrame, key: str, cols: list[str], prefix: str) -> pd.DataFrame:
    """count plus mean / min / max / std of ``cols`` per ``key``."""
    g = df.groupby(key)
    out = g[cols].agg(["mean", "min", "max", "std"])
    out.columns = [f"{prefix}.{c}_{s}" for c, s in out.columns]
    out[f"{prefix}.n"] = g.size()
    return out


def identity_degrees(identities: pd.DataFrame) -> pd.DataFrame:
    """Identity rows with ``deg`` = distinct entities (any type) holding the same identifier."""
    ids = identities.copy()
    ids["deg"] = ids.groupby("identifier_hash")["entity_id"].transform("nunique").astype(float)
    return ids


def identity_features(ids: pd.DataFrame, etype: str, reg: pd.Series) -> pd.DataFrame:
    """Identifier counts per type, degree statistics and first-seen lag of accounts of ``etype``."""
    d = ids[ids["entity_type"] == etype].copy()
    d["lag_days"] = (d["first_seen"] - d["entity_id"].map(reg)) / US_PER_DAY
    d["shared"] = (d["deg"] > 1).astype(float)
    out = _stats(d, "entity_id", ["deg", "lag_days", "shared"], "ident")
    per_type = d.pivot_table(index="entity_id", columns="identifier_type", values="deg", aggfunc="size", fill_value=0)
    per_type.columns = [f"ident.n_{c}" for c in per_type.columns]
    return out.join(per_type)


def merchant_aggregates(raw: Path) -> pd.DataFrame:
    """Per-merchant aggregates of every raw table (index ``merchant_id``)."""
    m = read_raw(raw, "merchants")
    idx = pd.Index(m["merchant_id"])
    reg = m.set_index("merchant_id")["registered_at"]
    parts = [
        id_features(m["merchant_id"], "merchant"),
        pd.DataFrame({"merchant.registered_at": reg.to_numpy(), "merchant.name_len": m["shop_name"].str.len()}, idx),
        one_hot(m["country"], idx, "merchant.country"),
        one_hot(m["primary_category"], idx, "merchant.category"),
    ]
    p = read_raw(raw, "products")
    p["primary"] = p["merchant_id"].map(m.set_index("merchant_id")["primary_category"])
    p["logp"] = np.log1p(p["price"].astype(float))
    p["rel_price"] = p["logp"] - p.groupby(["currency", "category"])["logp"].transform("median")
    p["pid_rank"] = p["product_id"].rank(pct=True)
    p["title_len"] = p["title"].str.len()
    p["ascii"] = p["title"].map(lambda s: float(bool(_ASCII.match(s))))
    p["upper_tok"] = p["title"].str.count(r"\b[A-Z]{2,}\b")
    p["punct"] = p["title"].str.count(r"[!★🔥]")
    p["off_cat"] = (p["category"] != p["primary"]).astype(float)
    p["has_brand"] = p["brand_id"].notna().astype(float)
    p["no_desc"] = p["description"].isna().astype(float)
    p["no_img"] = p["image_phash"].isna().astype(float)
    p["img_dup"] = (p.groupby("image_phash")["product_id"].transform("size").fillna(1) > 1).astype(float)
    p["title_dup"] = (p.groupby(["merchant_id", "title"])["product_id"].transform("size") > 1).astype(float)
    p["age_days"] = (p["created_at"] - p["merchant_id"].map(reg)) / US_PER_DAY
    tok = p["title"].str.lower().str.split()
    df_tok = tok.explode().value_counts()
    rare = set(df_tok.index[df_tok < max(3, len(p) // 2000)])
    p["rare_tok"] = tok.map(lambda ts: sum(t in rare for t in ts) / max(len(ts), 1))
    brands = read_raw(raw, "brands").set_index("brand_id")
    auth = read_raw(raw, "brand_authorizations")
    p["protected"] = p["brand_id"].map(brands["protected"].astype(float)).fillna(0.0)
    held = auth.merge(p[["product_id", "merchant_id", "brand_id", "created_at"]], on=["merchant_id", "brand_id"])
    ok = held[
        (held["valid_from"] <= held["created_at"]) & (held["valid_to"].isna() | (held["created_at"] < held["valid_to"]))
    ]
    p["unauth_protected"] = ((p["protected"] > 0) & ~p["product_id"].isin(ok["product_id"])).astype(float)
    names = [str(n).lower() for n in brands.loc[brands["protected"], "name"]]
    low = p["title"].str.lower()
    p["mentions_protected"] = low.map(lambda s: float(any(n in s for n in names)))
    pcols = ["rel_price", "pid_rank", "title_len", "ascii", "upper_tok", "punct", "off_cat", "has_brand", "no_desc"]
    pcols += ["no_img", "img_dup", "title_dup", "age_days", "rare_tok", "protected", "unauth_protected"]
    pcols += ["mentions_protected", "created_at"]
    parts.append(_stats(p, "merchant_id", pcols, "products"))
    parts.append(_burst(p["created_at"], p["merchant_id"], 7).rename("products.burst7").to_frame())
    a = auth.groupby("merchant_id").agg(n=("brand_id", "size"), expired=("valid_to", lambda s: s.notna().mean()))
    a.columns = ["auth.n", "auth.expired_share"]
    parts.append(a)

    owner = p.set_index("product_id")["merchant_id"]
    o = read_raw(raw, "orders")
    o["merchant_id"] = o["product_id"].map(owner)
    o["buyer_rank"] = o["buyer_id"].rank(pct=True)
    o["oid_rank"] = o["order_id"].rank(pct=True)
    for s in ("completed", "refunded", "cancelled"):
        o[s] = (o["status"] == s).astype(float)
    o["bdeg"] = o.groupby("buyer_id")["merchant_id"].transform("nunique").astype(float)
    o["hour"] = (o["ordered_at"] // 3_600_000_000) % 24
    ocols = ["amount", "quantity", "buyer_rank", "oid_rank", "completed", "refunded", "cancelled", "bdeg", "hour"]
    parts.append(_stats(o, "merchant_id", [*ocols, "ordered_at"], "orders"))
    parts.append(o.groupby("merchant_id")["buyer_id"].nunique().rename("orders.buyers").to_frame())
    parts.append(_burst(o["ordered_at"], o["merchant_id"], 7).rename("orders.burst7").to_frame())
    rv = read_raw(raw, "reviews")
    rv["merchant_id"] = rv["product_id"].map(owner)
    rv["five"] = (rv["rating"] == 5).astype(float)
    rv["no_text"] = rv["text"].isna().astype(float)
    rv["buyer_rank"] = rv["buyer_id"].rank(pct=True)
    parts.append(_stats(rv, "merchant_id", ["rating", "five", "no_text", "buyer_rank", "reviewed_at"], "reviews"))
    parts.append(_burst(rv["reviewed_at"], rv["merchant_id"], 7).rename("reviews.burst7").to_frame())
    parts.append(_report_features(raw, owner))
    ids = identity_degrees(read_raw(raw, "identities"))
    parts.append(identity_features(ids, "merchant", reg))
    pr = read_raw(raw, "promotions")
    pr["merchant_id"] = pr["product_id"].map(owner)
    pr["like_rate"] = pr["likes"] / pr["views"].clip(lower=1)
    pr["gmv_per_view"] = pr["gmv"] / pr["views"].clip(lower=1)
    pr["live"] = (pr["channel"] == "live").astype(float)
    pr["cdeg"] = pr.groupby("creator_id")["merchant_id"].transform("nunique").astype(float)
    parts.append(
        _stats(pr, "merchant_id", ["views", "likes", "like_rate", "gmv", "gmv_per_view", "live", "cdeg"], "promo")
    )
    q = read_raw(raw, "moderation_queue")
    qq = q.pivot_table(index="merchant_id", columns="item_type", values="item_id", aggfunc="size", fill_value=0)
    qq.columns = [f"queue.n_{c}" for c in qq.columns]
    parts.append(qq)
    out = pd.concat(parts, axis=1).reindex(idx)
    count_cols = [c for c in out.columns if c.endswith(".n") or ".n_" in c or c in ("orders.buyers", "auth.n")]
    out[count_cols] = out[count_cols].fillna(0.0)
    return out.astype(float)


def _report_features(raw: Path, owner: pd.Series) -> pd.DataFrame:
    """Reports against a merchant or its products: volume, outcomes, reasons, reporters, burstiness."""
    r = read_raw(raw, "reports")
    r["merchant_id"] = np.where(r["target_type"] == "merchant", r["target_id"], r["target_id"].map(owner))
    r = r[r["merchant_id"].notna()].copy()
    r["upheld"] = (r["outcome"] == "upheld").astype(float)
    r["rejected"] = (r["outcome"] == "rejected").astype(float)
    r["reviewed"] = r["outcome"].notna().astype(float)
    r["reporter_rank"] = r["reporter_id"].rank(pct=True)
    r["no_text"] = r["text"].isna().astype(float)
    out = _stats(r, "merchant_id", ["upheld", "rejected", "reviewed", "reporter_rank", "no_text", "reported_at"], "rep")
    reasons = r.pivot_table(index="merchant_id", columns="reason", values="report_id", aggfunc="size", fill_value=0)
    reasons = reasons.div(reasons.sum(axis=1), axis=0)
    reasons.columns = [f"rep.reason_{c}" for c in reasons.columns]
    out = out.join(reasons)
    out["rep.reporters"] = r.groupby("merchant_id")["reporter_id"].nunique()
    return out.join(_burst(r["reported_at"], r["merchant_id"], 7).rename("rep.burst7"))


def buyer_aggregates(raw: Path) -> pd.DataFrame:
    """Per-buyer aggregates of orders, reviews, reports filed and identities (index ``buyer_id``)."""
    owner = read_raw(raw, "products").set_index("product_id")["merchant_id"]
    o = read_raw(raw, "orders")
    o["merchant_id"] = o["product_id"].map(owner)
    for s in ("completed", "refunded", "cancelled"):
        o[s] = (o["status"] == s).astype(float)
    o["pdeg"] = o.groupby("product_id")["buyer_id"].transform("nunique").astype(float)
    parts = [
        _stats(
            o, "buyer_id", ["amount", "quantity", "completed", "refunded", "cancelled", "pdeg", "ordered_at"], "orders"
        )
    ]
    parts.append(o.groupby("buyer_id")["merchant_id"].nunique().rename("orders.merchants").to_frame())
    parts.append(_burst(o["ordered_at"], o["buyer_id"], 7).rename("orders.burst7").to_frame())
    rv = read_raw(raw, "reviews")
    rv["five"] = (rv["rating"] == 5).astype(float)
    rv["no_text"] = rv["text"].isna().astype(float)
    parts.append(_stats(rv, "buyer_id", ["rating", "five", "no_text", "reviewed_at"], "reviews"))
    r = read_raw(raw, "reports")
    r["upheld"] = (r["outcome"] == "upheld").astype(float)
    r["reviewed"] = r["outcome"].notna().astype(float)
    r["on_merchant"] = (r["target_type"] == "merchant").astype(float)
    parts.append(
        _stats(
            r.rename(columns={"reporter_id": "buyer_id"}),
            "buyer_id",
            ["upheld", "reviewed", "on_merchant", "reported_at"],
            "filed",
        )
    )
    ids = identity_degrees(read_raw(raw, "identities"))
    first = o.groupby("buyer_id")["ordered_at"].min()
    parts.append(identity_features(ids, "buyer", first))
    out = pd.concat(parts, axis=1)
    out = out.join(id_features(pd.Series(out.index, dtype=str), "buyer"))
    count_cols = [c for c in out.columns if c.endswith(".n") or ".n_" in c or c == "orders.merchants"]
    out[count_cols] = out[count_cols].fillna(0.0)
    return out.astype(float)


def creator_aggregates(raw: Path) -> pd.DataFrame:
    """Per-creator aggregates of the creators table, promotions, reports and identities."""
    c = read_raw(raw, "creators")
    idx = pd.Index(c["creator_id"])
    reg = c.set_index("creator_id")["registered_at"]
    parts = [
        id_features(c["creator_id"], "creator"),
        pd.DataFrame(
            {"creator.followers": c["follower_count"].to_numpy(dtype=float), "creator.registered_at": reg.to_numpy()},
            idx,
        ),
        one_hot(c["country"], idx, "creator.country"),
    ]
    owner = read_raw(raw, "products").set_index("product_id")["merchant_id"]
    pr = read_raw(raw, "promotions")
    pr["merchant_id"] = pr["product_id"].map(owner)
    pr["like_rate"] = pr["likes"] / pr["views"].clip(lower=1)
    pr["gmv_per_view"] = pr["gmv"] / pr["views"].clip(lower=1)
    pr["views_per_follower"] = pr["views"] / pr["creator_id"].map(c.set_index("creator_id")["follower_count"]).clip(
        lower=1
    )
    pr["live"] = (pr["channel"] == "live").astype(float)
    cols = ["views", "likes", "like_rate", "gmv", "gmv_per_view", "views_per_follower", "live", "started_at"]
    parts.append(_stats(pr, "creator_id", cols, "promo"))
    parts.append(pr.groupby("creator_id")["merchant_id"].nunique().rename("promo.merchants").to_frame())
    r = read_raw(raw, "reports")
    r = r[r["target_type"] == "creator"]
    parts.append(r.groupby("target_id").size().rename("rep.n").to_frame())
    ids = identity_degrees(read_raw(raw, "identities"))
    parts.append(identity_features(ids, "creator", reg))
    out = pd.concat(parts, axis=1).reindex(idx)
    count_cols = [x for x in out.columns if x.endswith(".n") or ".n_" in x or x == "promo.merchants"]
    out[count_cols] = out[count_cols].fillna(0.0)
    return out.astype(float)
