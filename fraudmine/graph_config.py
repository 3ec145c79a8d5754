"""Configuration of the graph-mining stage (``clusters:`` in the config YAML).

Kept beside :mod:`fraudmine.config` (which embeds it as ``Config.clusters``) so the
graph layer's knobs live in one small module.  Every model forbids unknown keys.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EngineConfig(_Strict):
    """Which graph engine runs the algorithms (see ``graph/README.md``)."""

    engine: Literal["auto", "local", "spark", "graphframes"] = "auto"
    local_max_edges: int = Field(
        5_000_000, ge=0, description="auto: collect to igraph up to this many edges (measured, docs/benchmarks.md)"
    )
    checkpoint_interval: int = Field(2, ge=1, description="reliable checkpoint every N rounds of a Spark loop")


class IdentityConfig(_Strict):
    """Identity linking on the account-identifier graph."""

    account_types: tuple[str, ...] = ("merchant", "creator")
    hub_max_degree: int = Field(20, ge=2, description="identifiers held by more accounts are pruned (public hubs)")
    type_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "device": 0.9,
            "payment": 0.9,
            "bank_account": 0.9,
            "phone": 0.7,
            "address": 0.5,
            "ip": 0.3,
        },
        description="evidence weight of one shared identifier, per identifier type (noisy-or per pair)",
    )
    min_link_weight: float = Field(0.5, gt=0, le=1, description="pairs linked when their noisy-or weight reaches this")


class CollusionConfig(_Strict):
    """Collusion communities on the seller projection (merchants and creators).

    Defaults chosen on synthetic seeds 7 and 8 (realistic default scenario, scale s), not on the
    seeds reported in ``docs/benchmarks.md``.
    """

    channel_cap: float = Field(1.0, gt=0, description="no channel contributes more than this to a link")
    min_link_score: float = Field(
        1.8, gt=0, description="summed capped channel evidence needed to keep a link (above the cap: two channels)"
    )
    robust_scale: float = Field(
        3.0, gt=0, description="evidence = (score - channel median) / (robust_scale x robust s.d.), clipped to the cap"
    )
    probability_channels: tuple[str, ...] = Field(
        ("duplicate",), description="channels whose score is already a match probability (capped, not standardised)"
    )
    channel_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "identifier": 1.0,
            "buyers": 1.0,
            "promotion": 1.0,
            "duplicate": 1.0,
            "co_reported": 1.0,
            "co_registration": 0.5,
            "co_activity": 0.5,
        }
    )
    max_pool_degree: int = Field(50, ge=2, description="buyers/creators/reporters linked to more sellers are skipped")
    min_shared: int = Field(2, ge=1, description="shared buyers/reporters needed for a pool link")
    burst_days: float = Field(14.0, gt=0, description="co-registration / co-activity window (two weeks)")
    resolution: float = Field(1.0, gt=0, description="Leiden resolution")
    min_size: int = Field(3, ge=2, description="smallest community reported as a collusion cluster")
    attach_min_share: float = Field(
        0.1,
        gt=0,
        le=1,
        description="a creator joins a community when it promotes at least this share of it ... (0.5 before "
        "2026-12-07; ring creators promote 2-4 of 3-15 shops: 0.1 chosen on dev seed 4, ARI 0.733 -> 0.867, "
        "precision 1.000)",
    )
    attach_min_links: int = Field(2, ge=1, description="... and at least this many of its members")
    partial_min_score: float = Field(
        2.0,
        ge=0,
        description="a seller outside every community joins one when its links of at least partial_min_link to the "
        "community's members sum to at least this (0 turns partial attachment off; chosen on seed 7) ...",
    )
    partial_min_links: int = Field(2, ge=1, description="... over at least this many of its members")
    partial_min_link: float = Field(1.0, gt=0, description="weakest combined link counted by the partial attachment")
    pooled_min_surprise: float = Field(
        0.0,
        ge=0,
        description="a seller outside every community joins one whose pooled buyers it shares surprisingly often "
        "(Poisson tail, -log10; 0 turns the pooled attachment off) ...",
    )
    pooled_min_link: float = Field(
        0.3, gt=0, description="... when one of its combined links to the community's members weighs at least this"
    )
    identified_min_members: int = Field(
        2,
        ge=0,
        description="a seller outside every community that promotes some of its members joins it when it shares "
        "identifiers with at least this many of them (0: off) ...",
    )
    identified_min_promoted: int = Field(1, ge=1, description="... and promotes at least this many of them")
    weak_link: float = Field(
        1.0, gt=0, description="weakest combined link counted by the community merge and the weak cores (one channel)"
    )
    merge_min_density: float = Field(
        0.3,
        ge=0,
        le=1,
        description="two communities merge when weak links join at least this share of their member pairs (0: off)",
    )
    weak_min_degree: int = Field(
        4,
        ge=0,
        description="sellers outside every community whose weak links form a core of at least this degree are one "
        "(0: off)",
    )
    seed: int = 0


class BrushingConfig(_Strict):
    """FRAUDAR dense-block detection on buyer-product orders and reviews, dense in time.

    ``window_days``, ``max_span_days``, ``expand_slack_days``, ``min_buyers`` and ``attach_min_excess``
    were chosen on synthetic seeds 7 and 8 (realistic default scenario of 2026-12-07, scale s), not on the
    reported seeds; ``attach_min_outside_days`` and ``attach_new_max_ratio`` on seeds 4, 5 and 6.
    ``min_core_buyers``, ``min_campaign_buyers``, ``shop_relative``, ``shop_lift_prior`` and
    ``campaign_reach_days`` (2026-12-07, session 23) on seeds 1 and 2 of the current generator, checked on
    seeds 3 and 4 (docs/benchmarks.md, "brushing blocks"); the reach is the candidate window's 21 days.
    """

    min_buyer_products: int = Field(
        2, ge=1, description="candidate edge: buyer touched this many products of the seller within window_days"
    )
    window_days: float = Field(21.0, gt=0, description="co-purchase window of the candidate rule")
    min_buyers: int = Field(3, ge=2)
    min_products: int = Field(2, ge=1)
    min_fill: float = Field(0.3, gt=0, le=1, description="edges / (buyers x products) of an accepted block")
    max_span_days: float = Field(
        21.0, gt=0, description="an accepted block's edges (5-95 % of their times) fall within this many days"
    )
    expand_slack_days: float = Field(
        1.0, ge=0, description="buyers touching a block product within its time span +- this join the block"
    )
    attach_min_excess: float = Field(
        0.75,
        le=1,
        description="a target product's buyers in the block's span join when at most 1 - this share of them is "
        "expected from the product's traffic outside the span (<= 0: every buyer in the span joins)",
    )
    attach_min_outside_days: float = Field(
        7.0,
        ge=0,
        description="a target product observed for fewer days outside the block's span has no outside rate "
        "for attach_min_excess (a popular new listing) ...",
    )
    attach_new_max_ratio: float | None = Field(
        3.0,
        gt=0,
        description="... and its span buyers join only when at most this many times the block's core buyers on it "
        "(null: the excess test on whatever outside time there is, the rule before 2026-12-07)",
    )
    min_core_buyers: int = Field(
        2,
        ge=2,
        description="smallest FRAUDAR core peeled; a core under min_buyers is kept only when its campaign adds "
        "min_campaign_buyers (sparse brushing: few accounts ordered two targets); >= min_buyers: off (before "
        "2026-12-07)",
    )
    min_campaign_buyers: int = Field(
        5, ge=1, description="buyers a small core's campaign must add beyond it (see min_core_buyers)"
    )
    shop_relative: bool = Field(
        True,
        description="the campaign excess test expects the shop's own traffic lift in the span (its other listings): "
        "a shop-wide sales event is not a campaign (off before 2026-12-07)",
    )
    shop_lift_prior: float = Field(
        2.0, ge=0, description="pseudo-buyers shrinking the shop's lift towards 1 (a quiet shop's few orders)"
    )
    campaign_reach_days: float = Field(
        21.0,
        ge=0,
        description="a block product's campaign window: its busiest window this long containing the block's span "
        "(0: the span itself, the rule before 2026-12-07)",
    )
    max_blocks_per_component: int = Field(20, ge=1)
    column_weight_c: float = Field(5.0, gt=0, description="FRAUDAR column weight 1 / log(degree + c)")


class ReporterRingsConfig(_Strict):
    """Reporter rings and reporter credibility."""

    window_days: float = Field(7.0, gt=0, description="co-reports of one target within this window link reporters")
    min_reporters: int = Field(4, ge=2, description="smallest ring")
    burst_share: float = Field(
        0.4, gt=0, le=1, description="share of a target's reports that fall in the first burst (0.5 before 2026-12-07)"
    )
    min_secondary_reporters: int | None = Field(
        2,
        ge=2,
        description="later report waves on a burst's target (peeled windows of the reports left) need this many "
        "reporters; a wave counts in the background until it is itself improbable; null: first burst only (off "
        "before 2026-12-07, when a wave left the background unconditionally and precision fell below 0.9)",
    )
    max_p_value: float = Field(
        3e-6,
        gt=0,
        le=1,
        description="a burst is Poisson-improbable at this level under the target's background (1e-4 before "
        "2026-12-07, with the span of the target's own reports as its period)",
    )
    observed_period: bool = Field(
        True,
        description="background rate over the target's observed period (later of registration and first report in "
        "the data, to the run date) instead of the span of its own reports",
    )
    scan_correction: bool = Field(
        False, description="divide max_p_value by the number of windows in the observed period"
    )
    max_ring_credibility: float = Field(0.5, ge=0, le=1, description="rings of reporters more credible are dropped")
    credibility_prior: float = Field(0.3, ge=0, le=1, description="prior upheld rate (Beta prior mean)")
    credibility_strength: float = Field(2.0, gt=0, description="prior pseudo-count")


class ClustersConfig(_Strict):
    """The ``clusters`` stage: engine choice and one section per detector."""

    engine: EngineConfig = EngineConfig()
    identity: IdentityConfig = IdentityConfig()
    collusion: CollusionConfig = CollusionConfig()
    brushing: BrushingConfig = BrushingConfig()
    reporter_rings: ReporterRingsConfig = ReporterRingsConfig()
    label_folds: int = Field(5, ge=2, description="folds for out-of-fold labelled-bad member counts")
    duplicate_edges: str | None = Field(
        "duplicates/edges",
        description="run-relative Parquet folder of near-duplicate listing pairs [src, dst(, score)] written by the "
        "duplicates stage (which runs before clusters); null turns the collusion 'duplicate' channel off",
    )
    train_features: bool = Field(True, description="also write entity features as of the training cut-off")
