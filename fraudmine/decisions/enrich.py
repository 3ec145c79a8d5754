"""The per-item facts table: every pending queue item joined to the facts of its seller, listing and creator.

:func:`item_facts` is a pure Spark transform.  For each fact of
:data:`~fraudmine.decisions.facts.FACTS` it adds the fact column (``seller__fraud_band``)
and an evidence column (``ev__seller__fraud_band``: one human sentence, or null).
Facts whose input is missing from the run are null literals, so rules testing them
cannot fire.  It also adds the queue columns ``p_violation`` and ``exposure_usd``
(:mod:`fraudmine.decisions.exposure`).

Only data strictly before ``as_of`` is used (labels, outcomes, reports, orders,
identities, authorisations).  The items table is materialised (local checkpoints) a few
times on the way: it is one day of queue, and the cuts keep Spark's plan analysis from
growing with every join.
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from fraudmine.config import DecisionsConfig
from fraudmine.decisions.exposure import exposure_usd, p_violation
from fraudmine.decisions.facts import CLUSTER_KINDS, FACTS, PEER_IDENTIFIERS, ROLE_ENTITY, Role
from fraudmine.decisions.inputs import DecisionInputs, cluster_members
from fraudmine.decisions.outcomes import labels_with_outcomes, latest_label

ROLE_KEY: dict[Role, str] = {"seller": "merchant_id", "item": "product_id", "creator": "creator_id"}
ROLE_NOUN: dict[Role, str] = {"seller": "seller", "item": "listing", "creator": "creator"}
LABELLED_ROLES: tuple[Role, ...] = ("seller", "creator")
IDENT_NOUN: dict[str, str] = {
    "payment": "a payment instrument",
    "bank_account": "a bank account",
    "device": "a device",
    "phone": "a phone number",
    "address": "an address",
    "ip": "an IP address",
}


def _day(col: str | Column) -> Column:
    return F.date_format(col, "yyyy-MM-dd")


def _num(col: str | Column) -> Column:
    return F.format_number(col if isinstance(col, Column) else F.col(col), 2)


def _cut(df: DataFrame) -> DataFrame:
    """Materialise ``df`` and truncate its lineage (a local checkpoint: small, per-run data)."""
    return df.localCheckpoint(eager=True)


def pending_items(inputs: DecisionInputs, as_of: datetime) -> DataFrame:
    """Queue items submitted before ``as_of`` without a moderator outcome before ``as_of``.

    Returns:
        ``[item_id, item_type, merchant_id, creator_id, product_id, submitted_at, market]``; the seller is
        the item's ``merchant_id`` or, if null, its listing's merchant; the market is the seller's country.
    """
    t = inputs.tables
    q = t["moderation_queue"].where(F.col("submitted_at") < F.lit(as_of))
    if inputs.outcomes is not None:
        done = inputs.outcomes.where(F.col("decided_at") < F.lit(as_of)).select("item_id").distinct()
        q = q.join(done, "item_id", "left_anti")
    q = q.join(t["products"].select("product_id", F.col("merchant_id").alias("_pm")), "product_id", "left")
    q = q.withColumn("merchant_id", F.coalesce("merchant_id", "_pm")).drop("_pm")
    q = q.join(t["merchants"].select("merchant_id", F.col("country").alias("market")), "merchant_id", "left")
    return q.select("item_id", "item_type", "merchant_id", "creator_id", "product_id", "submitted_at", "market")


def _null_facts(df: DataFrame, names: list[str]) -> DataFrame:
    cols = []
    for n in names:
        kind = FACTS[n].kind
        dtype = {"band": "string", "probability": "double", "count": "long", "bool": "boolean"}[kind]
        col = FACTS[n].column
        cols += [F.lit(None).cast(dtype).alias(col), F.lit(None).cast("string").alias(f"ev__{col}")]
    return df.select("*", *cols)


def _scores(df: DataFrame, inputs: DecisionInputs, role: Role, present: bool) -> DataFrame:
    names = [f"{role}.fraud_risk", f"{role}.low_quality_risk", f"{role}.fraud_band", f"{role}.scored"]
    if not present:
        return _null_facts(df, names).withColumn(f"{role}__calibrated", F.lit(None).cast("boolean"))
    key, p = ROLE_KEY[role], role
    # rank-rule risks (calibrated = false) are percentiles, not probabilities (see exposure.p_violation)
    calibrated = F.col("calibrated") if "calibrated" in inputs.scores.columns else F.lit(True)
    s = inputs.scores.where(F.col("entity_type") == F.lit(ROLE_ENTITY[role])).select(
        F.col("entity_id").alias(key),
        calibrated.alias(f"{p}__calibrated"),
        F.col("fraud_risk").alias(f"{p}__fraud_risk"),
        F.col("low_quality_risk").alias(f"{p}__low_quality_risk"),
        F.col("risk_band").alias(f"{p}__fraud_band"),
        (F.col("top_reasons") if "top_reasons" in inputs.scores.columns else F.array()).alias("_reasons"),
    )
    s = s.dropDuplicates([key])
    df = df.join(s, key, "left")
    who = F.concat(F.lit(f"{ROLE_NOUN[role]} "), F.col(key))
    reasons = F.when(F.size("_reasons") > 0, F.concat(F.lit(": "), F.array_join(F.slice("_reasons", 1, 3), ", ")))
    risk_word = F.when(F.col(f"{p}__calibrated"), F.lit(" fraud risk ")).otherwise(F.lit(" fraud risk rank "))
    fraud_ev = F.concat(who, risk_word, _num(f"{p}__fraud_risk"), F.lit(" ("), F.col(f"{p}__fraud_band"), F.lit(")"))
    fraud_ev = F.concat(fraud_ev, F.coalesce(reasons, F.lit("")))
    lq_ev = F.concat(who, F.lit(" low-quality risk "), _num(f"{p}__low_quality_risk"))
    scored = F.when(F.col(key).isNotNull(), F.col(f"{p}__fraud_risk").isNotNull())
    return df.select(
        "*",
        scored.alias(f"{p}__scored"),
        fraud_ev.alias(f"ev__{p}__fraud_risk"),
        fraud_ev.alias(f"ev__{p}__fraud_band"),
        lq_ev.alias(f"ev__{p}__low_quality_risk"),
        F.when(scored == F.lit(False), F.concat(who, F.lit(" has no score in this run"))).alias(f"ev__{p}__scored"),
    ).drop("_reasons")


def _labels(df: DataFrame, latest: DataFrame, role: Role) -> DataFrame:
    key, col = ROLE_KEY[role], f"{role}__labelled_fraud"
    lab = latest.where(F.col("entity_type") == F.lit(ROLE_ENTITY[role])).select(
        F.col("entity_id").alias(key), F.col("label").alias("_l"), F.col("labelled_at").alias("_la"), "source"
    )
    df = df.join(lab, key, "left")
    fact = F.when(F.col(key).isNotNull(), F.coalesce(F.col("_l") == "fraud", F.lit(False)))
    ev = F.when(
        F.col("_l") == "fraud",
        F.concat(
            F.lit(f"{ROLE_NOUN[role]} "),
            F.col(key),
            F.lit(" labelled fraud on "),
            _day("_la"),
            F.lit(" ("),
            F.col("source"),
            F.lit(")"),
        ),
    )
    return df.select("*", fact.alias(col), ev.alias(f"ev__{col}")).drop("_l", "_la", "source")


def _clusters(df: DataFrame, inputs: DecisionInputs, kind: str, role: Role) -> DataFrame:
    names = [f"{role}.cluster.{kind}.size", f"{role}.cluster.{kind}.risk"]
    if kind not in inputs.clusters:
        return _null_facts(df, names)
    key, p = ROLE_KEY[role], f"{role}__cluster__{kind}"
    m = cluster_members(inputs.clusters[kind], kind).where(F.col("entity_type") == F.lit(ROLE_ENTITY[role]))
    w = Window.partitionBy("entity_id").orderBy(F.desc_nulls_last("risk"), F.desc("size"), "cluster_id")
    m = m.withColumn("_rk", F.row_number().over(w)).where("_rk = 1")
    m = m.select(
        F.col("entity_id").alias(key),
        F.col("cluster_id").alias("_cid"),
        F.col("size").alias(f"{p}__size"),
        F.col("risk").alias(f"{p}__risk"),
        F.col("evidence").alias("_cev"),
    )
    df = df.join(m, key, "left")
    ev = F.concat(
        F.lit(f"member of {kind} cluster "),
        F.col("_cid"),
        F.lit(", "),
        F.col(f"{p}__size").cast("string"),
        F.lit(" members"),
        F.coalesce(F.concat(F.lit(", cluster risk "), _num(f"{p}__risk")), F.lit("")),
        F.coalesce(F.concat(F.lit(": "), F.col("_cev")), F.lit("")),
    )
    ev = F.when(F.col("_cid").isNotNull(), ev)
    return df.select("*", ev.alias(f"ev__{p}__size"), ev.alias(f"ev__{p}__risk")).drop("_cid", "_cev")


def _peers(df: DataFrame, inputs: DecisionInputs, rejected: DataFrame, as_of: datetime, hub_min: int) -> DataFrame:
    ids = inputs.tables["identities"].where(F.col("first_seen") < F.lit(as_of))
    hubs = (
        ids.groupBy("identifier_type", "identifier_hash")
        .agg(F.countDistinct("entity_type", "entity_id").alias("_deg"))
        .where(F.col("_deg") >= hub_min)
    )
    mid = ids.where(F.col("entity_type") == "merchant").join(hubs, ["identifier_type", "identifier_hash"], "left_anti")
    sellers = df.select("merchant_id").distinct()
    mine = mid.join(sellers, mid.entity_id == sellers.merchant_id).select(
        "merchant_id", "identifier_type", "identifier_hash"
    )
    peers = mid.join(rejected.select(F.col("merchant_id").alias("entity_id")), "entity_id").select(
        F.col("entity_id").alias("peer"), "identifier_type", "identifier_hash"
    )
    pairs = mine.join(peers, ["identifier_type", "identifier_hash"]).where(F.col("peer") != F.col("merchant_id"))
    pivoted = pairs.groupBy("merchant_id").pivot("identifier_type", list(PEER_IDENTIFIERS))
    agg = pivoted.agg(
        F.countDistinct("peer").alias("n"), F.slice(F.sort_array(F.collect_set("peer")), 1, 3).alias("ex")
    )
    df = df.join(agg, "merchant_id", "left")
    cols: list[Column] = []
    for t in PEER_IDENTIFIERS:
        n, ex, col = F.col(f"{t}_n"), F.col(f"{t}_ex"), f"seller__rejected_peers__{t}"
        ev = F.when(
            n > 0,
            F.concat(
                F.lit(f"shares {IDENT_NOUN[t]} with "),
                n.cast("string"),
                F.lit(" rejected merchant"),
                F.when(n > 1, F.lit("s")).otherwise(F.lit("")),
                F.lit(" ("),
                F.array_join(ex, ", "),
                F.when(n > 3, F.lit(", ...")).otherwise(F.lit("")),
                F.lit(")"),
            ),
        )
        cols += [F.coalesce(n, F.lit(0)).cast("long").alias(col), ev.alias(f"ev__{col}")]
    drop = [f"{t}_{s}" for t in PEER_IDENTIFIERS for s in ("n", "ex")]
    return df.select("*", *cols).drop(*drop)


def _upheld(df: DataFrame, inputs: DecisionInputs, as_of: datetime) -> DataFrame:
    r = inputs.tables["reports"].where(
        (F.col("target_type") == "merchant") & (F.col("outcome") == "upheld") & (F.col("reviewed_at") < F.lit(as_of))
    )
    n = r.groupBy(F.col("target_id").alias("merchant_id")).agg(F.count(F.lit(1)).alias("_up"))
    df = df.join(n, "merchant_id", "left")
    up = F.coalesce(F.col("_up"), F.lit(0)).cast("long")
    ev = F.when(
        up > 0, F.concat(up.cast("string"), F.lit(" upheld user report(s) against seller "), F.col("merchant_id"))
    )
    return df.select("*", up.alias("seller__upheld_reports"), ev.alias("ev__seller__upheld_reports")).drop("_up")


def _duplicates(df: DataFrame, inputs: DecisionInputs, rejected: DataFrame, outcomes: DataFrame | None,
                as_of: datetime, hub_min: int) -> DataFrame:  # fmt: skip
    products = inputs.tables["products"].where(F.col("created_at") < F.lit(as_of))
    if "duplicates" in inputs.clusters:
        members = cluster_members(inputs.clusters["duplicates"], "duplicates").where(F.col("entity_type") == "product")
        groups = members.select(F.col("entity_id").alias("product_id"), F.col("cluster_id").alias("_g"))
        phrase = "near-duplicate of listing "
    else:  # fallback: exact image hash, ignoring stock images used by many listings
        ph = products.where(F.col("image_phash").isNotNull()).select("product_id", F.col("image_phash").alias("_g"))
        big = ph.groupBy("_g").count().where(F.col("count") > hub_min).select("_g")
        groups = ph.join(big, "_g", "left_anti")
        phrase = "same image as listing "
    by_seller = products.join(rejected, "merchant_id").select(
        "product_id",
        F.col("rejected_at").alias("_rat"),
        F.concat(F.lit(", removed with its seller "), F.col("merchant_id"), F.lit(" (labelled fraud on "),
                 _day("rejected_at"), F.lit(")")).alias("_how"),
    )  # fmt: skip
    rej = by_seller
    if outcomes is not None:
        by_outcome = outcomes.where(
            (F.col("verdict") == "violation") & F.col("product_id").isNotNull() & (F.col("decided_at") < F.lit(as_of))
        ).select("product_id", F.col("decided_at").alias("_rat"), F.concat(F.lit(" rejected on "), _day("decided_at")))
        rej = by_outcome.toDF("product_id", "_rat", "_how").unionByName(by_seller)
    rej = rej.groupBy("product_id").agg(F.min_by(F.struct("_rat", "_how"), "_rat").alias("_r"))
    rej_g = rej.join(groups, "product_id").select(F.col("product_id").alias("_rp"), "_g", "_r")
    mine = df.select("item_id", "product_id").where(F.col("product_id").isNotNull()).join(groups, "product_id")
    hits = mine.join(rej_g, "_g").where(F.col("_rp") != F.col("product_id"))
    agg = hits.groupBy("item_id").agg(
        F.countDistinct("_rp").alias("_nd"), F.min(F.struct("_rp", F.col("_r._how").alias("h"))).alias("_ex")
    )
    df = df.join(agg, "item_id", "left")
    n = F.when(F.col("product_id").isNotNull(), F.coalesce(F.col("_nd"), F.lit(0))).cast("long")
    more = F.when(n > 1, F.concat(F.lit(" (and "), (n - 1).cast("string"), F.lit(" more)"))).otherwise(F.lit(""))
    ev = F.when(n > 0, F.concat(F.lit(phrase), F.col("_ex._rp"), F.col("_ex.h"), more))
    out = df.select("*", n.alias("item__duplicate_of_rejected"), ev.alias("ev__item__duplicate_of_rejected"))
    return out.drop("_nd", "_ex")


def _brand(df: DataFrame, inputs: DecisionInputs, as_of: datetime) -> DataFrame:
    t = inputs.tables
    auth = t["brand_authorizations"].where(
        (F.col("valid_from") < F.lit(as_of)) & (F.col("valid_to").isNull() | (F.col("valid_to") > F.lit(as_of)))
    )
    claims = (
        t["products"]
        .where(F.col("brand_id").isNotNull())
        .join(t["brands"].where(F.col("protected")).select("brand_id", F.col("name").alias("_bn")), "brand_id")
        .join(auth.select("brand_id", "merchant_id"), ["brand_id", "merchant_id"], "left_anti")
        .select(
            "product_id",
            F.concat(F.lit("claims protected brand '"), F.col("_bn"), F.lit("' ("), F.col("brand_id"),
                     F.lit(") without an authorisation")).alias("_bev"),
        )
    )  # fmt: skip
    if inputs.brand_violations is not None:
        bv = inputs.brand_violations
        text = F.col("evidence").cast("string") if "evidence" in bv.columns else F.lit("brand violation")
        flagged = bv.select("product_id", F.concat(F.lit("brand violation: "), text).alias("_bev"))
        claims = claims.unionByName(flagged)
    claims = claims.groupBy("product_id").agg(F.concat_ws("; ", F.sort_array(F.collect_set("_bev"))).alias("_bev"))
    df = df.join(claims, "product_id", "left")
    fact = F.when(F.col("product_id").isNotNull(), F.col("_bev").isNotNull())
    return df.select("*", fact.alias("item__unauthorised_brand"), F.col("_bev").alias("ev__item__unauthorised_brand"))


def item_facts(
    inputs: DecisionInputs,
    as_of: datetime,
    scored_types: set[str],
    cfg: DecisionsConfig,
    hub_min_degree: int,
) -> DataFrame:
    """Build the facts table of every pending item.

    Args:
        inputs: the run's decision inputs.
        as_of: the run cut-off; only data strictly before it is used.
        scored_types: entity types present in the scores (from :meth:`DecisionInputs.available`'s caller).
        cfg: exposure and prior settings.
        hub_min_degree: identifiers shared by at least this many accounts (and image hashes by more than
            this many listings) are public hubs, not evidence.

    Returns:
        One row per pending item: the item columns of :func:`pending_items`, one column per fact of
        :data:`FACTS` and its ``ev__`` evidence column, ``p_violation`` and ``exposure_usd``.
    """
    outcomes = inputs.outcomes
    latest = latest_label(labels_with_outcomes(inputs.tables["labels"], outcomes, as_of), as_of)
    rejected = latest.where((F.col("entity_type") == "merchant") & (F.col("label") == "fraud")).select(
        F.col("entity_id").alias("merchant_id"), F.col("labelled_at").alias("rejected_at")
    )
    # The items table is small (one day of queue) but gains ~80 columns through ~20 joins; PySpark
    # re-analyses the whole plan at every step, so the lineage is cut after each family of facts
    # (measured at s scale: building the plan alone took 45 s under load before the cuts).
    df = _cut(pending_items(inputs, as_of))
    for role, etype in ROLE_ENTITY.items():
        df = _scores(df, inputs, role, etype in scored_types)
    for labelled in LABELLED_ROLES:
        df = _labels(df, latest, labelled)
    df = _cut(df)
    for kind, roles in CLUSTER_KINDS.items():
        for role in roles:
            df = _clusters(df, inputs, kind, role)
    df = _cut(_peers(_cut(df), inputs, rejected, as_of, hub_min_degree))
    df = _upheld(df, inputs, as_of)
    df = _cut(_duplicates(df, inputs, rejected, outcomes, as_of, hub_min_degree))
    df = _brand(df, inputs, as_of)
    df = df.withColumn("p_violation", p_violation(cfg.unscored_prior))
    return _cut(exposure_usd(df, inputs.tables, as_of, cfg.exposure))
