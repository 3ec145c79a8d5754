"""Scenario: every rate and shift the generator uses, loaded from YAML.

All models forbid unknown keys, so a misspelt key fails with its dotted path
and the file it came from.  ``conf/scenarios/default.yaml`` documents each key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_SCENARIO = Path(__file__).parents[1] / "conf" / "scenarios" / "default.yaml"


class ScenarioError(ValueError):
    """A scenario file is missing, unreadable or invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IntRange(_Strict):
    """Inclusive integer range ``[min, max]``."""

    min: int = Field(ge=0)
    max: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> IntRange:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must be <= max ({self.max})")
        return self


class Timeline(_Strict):
    """Observation window: ``[end_date - history_days, end_date)``."""

    end_date: datetime = datetime(2026, 11, 1, tzinfo=UTC)
    history_days: int = Field(default=180, ge=30)
    max_account_age_days: int = Field(default=1400, ge=1, description="oldest account, counted back from end_date")

    @field_validator("end_date")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)


class SharedGroups(_Strict):
    """Honest accounts sharing identifiers in groups (households, agencies, co-working Wi-Fi, aggregators).

    Group sizes follow a truncated power law (``P(size) ~ size**-alpha`` on
    ``size.min..size.max``), so identifier degrees are heavy-tailed without a gap.
    Members are drawn from *all* merchants, fraud included, as in a real marketplace.
    """

    merchant_share: float = Field(default=0.0, ge=0, le=5, description="memberships per merchant (expected)")
    size: IntRange = IntRange(min=2, max=4)
    alpha: float = Field(default=2.0, ge=0)
    types: tuple[str, ...] = ("address",)
    identifiers: IntRange = IntRange(min=1, max=1)
    use_prob: float = Field(default=1.0, ge=0, le=1, description="P(a member uses each group identifier)")
    creator_share: float = Field(default=0.0, ge=0, le=1, description="creators per merchant member")
    co_registration_prob: float = Field(default=0.0, ge=0, le=1, description="group registers shops in a burst")


class Hubs(_Strict):
    """Benign identifier sharing at every size."""

    households: SharedGroups = SharedGroups(
        merchant_share=0.1, size=IntRange(min=2, max=4), alpha=2.5, types=("address", "payment", "phone", "device")
    )
    agencies: SharedGroups = SharedGroups(
        merchant_share=0.15,
        size=IntRange(min=2, max=60),
        alpha=1.8,
        types=("bank_account", "payment", "phone", "address", "device", "ip"),
        identifiers=IntRange(min=1, max=4),
        use_prob=0.6,
        co_registration_prob=0.3,
    )
    coworking: SharedGroups = SharedGroups(
        merchant_share=0.15, size=IntRange(min=3, max=300), alpha=1.6, types=("ip", "address"), creator_share=0.2
    )
    aggregators: SharedGroups = SharedGroups(
        merchant_share=0.3, size=IntRange(min=20, max=3000), alpha=1.3, types=("payment", "bank_account")
    )
    buyer_identity_share: float = Field(default=0.3, ge=0, le=1, description="buyers with identity rows")
    buyer_devices: SharedGroups = SharedGroups(
        merchant_share=0.08, size=IntRange(min=2, max=150), alpha=2.0, types=("device", "ip")
    )


class CollusionRing(_Strict):
    """Rings of shops run by one operator."""

    merchant_rate: float = Field(default=0.035, ge=0, le=0.5)
    size: IntRange = IntRange(min=3, max=15)
    share_prob: float = Field(default=0.55, ge=0, le=1, description="P(member uses each pool identifier)")
    min_shared: int = Field(default=2, ge=1)
    burst_days: int = Field(default=6, ge=0)
    duplicate_prob: float = Field(default=0.6, ge=0, le=1, description="ring posts duplicates across shops")
    counterfeit_prob: float = Field(default=0.25, ge=0, le=1)
    solo_pair_rate: float = Field(default=0.5, ge=0, le=1, description="solo fraudsters paired with a second shop")
    share_nothing_prob: float = Field(default=0.0, ge=0, le=1, description="members sharing no ring identifier")
    same_country_prob: float = Field(default=0.0, ge=0, le=1, description="members moved to the ring's country")
    buyer_pool: IntRange = IntRange(min=0, max=0)
    buyer_pool_order_share: float = Field(default=0.0, ge=0, le=1, description="members' orders from the pool")
    buyer_pool_repeat: bool = Field(
        default=True,
        description="a pool buyer may place several of one shop's pooled orders (False: one each, as a typical buyer)",
    )


class DuplicateListing(_Strict):
    """Solo duplicate-listing spammers."""

    merchant_rate: float = Field(default=0.01, ge=0, le=0.5)
    copies: IntRange = IntRange(min=5, max=20)
    ring_copies: IntRange = IntRange(min=2, max=6)
    max_bit_flips: int = Field(default=4, ge=0, le=16)
    min_bit_flips: int = Field(default=0, ge=0, le=16, description="1+ means copies never keep an exact image hash")
    own_category_prob: float = Field(default=0.0, ge=0, le=1, description="template follows the shop's category")
    spam_tokens: bool = Field(default=True, description="perturbations may add spam tokens")
    exact_title_prob: float = Field(default=0.15, ge=0, le=1, description="copies keeping the template title")
    price_log_shift: float = Field(default=-0.3)
    copy_price: Literal["template", "like_honest"] = Field(
        default="template",
        description="template: each copy at the template's price +-10%; "
        "like_honest: priced as any listing of its category",
    )
    edits: Literal["planted", "like_variants"] = Field(
        default="planted",
        description="planted: word swaps, typos, case changes (+ spam tokens); like_variants: the edits honest "
        "titles get (a colour/size word as honest variants, word order, the background typo and promo-token rates)",
    )
    copies_replace: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="share of the copies that replace the shop's own listings (1: catalogue size as honest, "
        "copies capped by the catalogue)",
    )


class PhotoSharing(_Strict):
    """Honest shops showing near-identical photos across shops (what real marketplaces are full of).

    * **supplier stock photos**: resellers and dropshippers of one supplier's product list it with the
      supplier's photo (re-encoded or resized, so a few bits off), each shop under its own title and
      price.  Groups are drawn per category among *all* shops of that category (fraud included); sizes
      follow ``P(size) ~ size**-alpha``, so a popular product copied by many unrelated shops is the tail.
    * **brand official images**: a listing naming a protected brand (an authorised reseller's, or an
      honest grey-market claim) shows one of the brand's few official images.

    Off by default (``easy`` keeps cross-shop near-duplicates inside rings only); ``default.yaml``
    turns both on and says why its rates.
    """

    supplier_share: float = Field(
        default=0.0, ge=0, le=5, description="memberships per merchant in supplier stock-photo groups (expected)"
    )
    supplier_size: IntRange = IntRange(min=2, max=200)
    supplier_alpha: float = Field(default=2.0, ge=0)
    supplier_listings: IntRange = IntRange(min=1, max=3)
    official_image_prob: float = Field(
        default=0.0, ge=0, le=1, description="P(a listing naming a protected brand shows an official brand image)"
    )
    official_images: int = Field(default=4, ge=1, le=64, description="official images per protected brand")
    max_bit_flips: int = Field(
        default=3, ge=0, le=16, description="re-encoding: bits a shop's copy is off the original (pairwise x2)"
    )


class Counterfeit(_Strict):
    """Sellers claiming protected brands without authorisation, or typo-squatting them."""

    merchant_rate: float = Field(default=0.01, ge=0, le=0.5)
    listing_share: tuple[float, float] = (0.3, 0.7)
    typo_squat_share: float = Field(default=0.5, ge=0, le=1)
    price_factor: float = Field(default=0.45, gt=0, description="fake listings' price vs the category median")
    original_suffix_prob: float = Field(default=0.2, ge=0, le=1, description='fakes titled "... original 1:1"')
    counterfeit_report_prob: float = Field(default=0.5, ge=0, le=1, description="reports naming counterfeit")


class Brushing(_Strict):
    """Fake buyer blocks ordering and 5-star reviewing a few products."""

    merchant_rate: float = Field(default=0.008, ge=0, le=0.5)
    buyers: IntRange = IntRange(min=20, max=80)
    products: IntRange = IntRange(min=3, max=10)
    density: float = Field(default=0.6, gt=0, le=1)
    review_prob: float = Field(default=0.85, ge=0, le=1)
    window_days: int = Field(default=10, ge=1)
    shared_devices: IntRange = IntRange(min=2, max=6)
    device_share_prob: float = Field(default=1.0, ge=0, le=1, description="P(fake buyer uses a pool device)")
    pool_sizes: Literal["fixed", "like_households"] = Field(
        default="fixed",
        description="fixed: shared_devices pool (+ an IP pool); like_households: sharers grouped as "
        "hubs.buyer_devices groups (same size law, one device or IP per group)",
    )
    five_star_prob: float = Field(default=0.95, ge=0, le=1)
    honest_status: bool = Field(default=False, description="orders refunded/cancelled at honest rates")
    existing_accounts: bool = Field(default=False, description="fake buyers are existing buyer accounts")
    account_skew: float = Field(
        default=0.0, ge=0, description="0: existing accounts drawn uniformly; k: like buyers of orders (n * u**k)"
    )


class CreatorCollusion(_Strict):
    """Creators sharing identifiers with ring merchants and promoting ring products."""

    ring_prob: float = Field(default=0.5, ge=0, le=1)
    creators_per_ring: IntRange = IntRange(min=1, max=3)
    promotions_per_member: IntRange = IntRange(min=1, max=3)
    view_multiplier: float = Field(default=8.0, ge=1)
    view_offset: float = Field(default=2000.0, ge=0, description="views added to each collusive promotion")
    gmv_multiplier: float = Field(default=0.1, ge=0)
    like_rate: tuple[float, float] = Field(default=(8.0, 40.0), description="beta(a, b) of colluding likes/views")
    active_creators: bool = Field(default=False, description="colluders drawn like promotions (active creators)")
    reach_match: float = Field(
        default=0.0,
        ge=0,
        description="a colluder replaces only a slot whose creator's promotion count is within this factor of its own"
        " (0: any slot)",
    )


class MaliciousReporting(_Strict):
    """Reporter rings mass-reporting an honest competitor."""

    rings_per_1k_merchants: float = Field(default=2.0, ge=0)
    reporters: IntRange = IntRange(min=5, max=25)
    reports_per_reporter: IntRange = IntRange(min=1, max=3)
    window_days: int = Field(default=7, ge=1)
    reviewed_prob: float = Field(default=0.9, ge=0, le=1)
    rejected_prob: float = Field(default=0.85, ge=0, le=1)
    existing_accounts: bool = Field(default=False, description="reporters are existing buyer accounts")
    decoy_orders: bool = Field(default=True, description="reporters also place camouflage.buyer_decoy_orders")
    account_skew: float = Field(
        default=0.0, ge=0, description="0: existing accounts drawn uniformly; k: like reporters (n * u**k)"
    )


class LowQuality(_Strict):
    """Low-quality (not fraudulent) sellers: mostly a tabular signal."""

    merchant_rate: float = Field(default=0.05, ge=0, le=0.5)
    refund_rate: float = Field(default=0.14, ge=0, le=1)
    rating_shift: float = Field(default=-0.8, le=0)
    report_multiplier: float = Field(default=2.0, ge=0)
    upheld_prob: float = Field(default=0.6, ge=0, le=1)


class Camouflage(_Strict):
    """Fraud accounts that also get honest-looking activity."""

    rate: float = Field(default=0.3, ge=0, le=1)
    hub_links: IntRange = IntRange(min=1, max=2)
    authorised_products: IntRange = IntRange(min=1, max=4)
    buyer_decoy_orders: IntRange = IntRange(min=1, max=4)
    authorised_brand: bool = Field(default=True, description="camouflaged shops get a protected-brand authorisation")
    hide_ring_prob: float = Field(default=0.0, ge=0, le=1, description="camouflaged ring shops drop ring identifiers")
    links_replace_ring: bool = Field(
        default=False,
        description="benign-group links only for camouflaged ring shops hiding their ring identifiers, in their place",
    )
    decoys_replace: bool = Field(
        default=False,
        description="decoy orders are drawn like honest orders and replace part of the fake account's own orders",
    )


class TabularShift(_Strict):
    """How far fraud merchants' tabular features move from honest ones (0 = identical)."""

    honest_recent_prob: float = Field(default=0.35, ge=0, le=1, description="registered inside the window")
    fraud_recent_prob: float = Field(default=0.38, ge=0, le=1)
    fraud_price_log_shift: float = Field(default=-0.05)
    fraud_activity_log_shift: float = Field(default=-0.3)
    fraud_refund_rate: float = Field(default=0.05, ge=0, le=1)
    fraud_report_multiplier: float = Field(default=1.2, ge=0)
    fraud_upheld_prob: float = Field(default=0.5, ge=0, le=1, description="reports against fraud upheld")
    fraud_queue_multiplier: float = Field(default=2.0, ge=0, description="moderation-queue rate of fraud shops")
    brushing_activity_factor: float = Field(default=0.5, gt=0)
    planted_listing_times: Literal["after_fraud_start", "like_honest"] = Field(
        default="after_fraud_start",
        description="creation time of duplicate copies and counterfeit listings: after the fraud starts, or drawn "
        "as the shop's honest listings are (registration to end, catalogue-upload bursts)",
    )


class Background(_Strict):
    """Honest baseline behaviour."""

    refund_rate: float = Field(default=0.04, ge=0, le=1)
    cancel_rate: float = Field(default=0.03, ge=0, le=1)
    review_rate: float = Field(default=0.25, ge=0, le=1)
    report_upheld_prob: float = Field(default=0.2, ge=0, le=1)
    report_reviewed_prob: float = Field(default=0.7, ge=0, le=1)
    variant_rate: float = Field(default=0.05, ge=0, le=1, description="honest colour/size variants (near-dups)")
    english_listing_prob: float = Field(default=0.3, ge=0, le=1)
    spam_token_prob: float = Field(default=0.0, ge=0, le=1, description="honest titles with a promo token")
    exact_variant_prob: float = Field(default=0.0, ge=0, le=1, description="variants keeping title and image")
    unauthorised_claim_rate: float = Field(default=0.0, ge=0, le=1, description="honest shops naming a protected brand")
    unauthorised_claim_share: tuple[float, float] = (0.02, 0.3)
    lapsed_authorisation_prob: float = Field(default=0.25, ge=0, le=1)
    listing_burst_prob: float = Field(default=0.0, ge=0, le=1, description="share of listings from upload bursts")
    reporter_skew: float = Field(default=1.0, ge=1, description="reporter ~ buyers * u**skew (heavy reporters)")
    order_burst_prob: float = Field(default=0.0, ge=0, le=1, description="orders from a shop's sales events")
    typo_prob: float = Field(default=0.0, ge=0, le=1, description="honest titles with a typo")
    english_per_shop: bool = Field(default=False, description="English is a per-shop habit (share ~ the rate)")
    creator_skew: float = Field(default=1.5, ge=1, description="promoting creator ~ creators * u**skew")


class Labels(_Strict):
    """Partial, delayed, noisy labels."""

    fraud_coverage: float = Field(default=0.35, ge=0, le=1)
    low_quality_coverage: float = Field(default=0.4, ge=0, le=1)
    ok_coverage: float = Field(default=0.1, ge=0, le=1)
    creator_coverage: float = Field(default=0.3, ge=0, le=1)
    delay_mean_days: float = Field(default=30.0, gt=0)
    noise_rate: float = Field(default=0.03, ge=0, le=0.5)
    selection: bool = Field(default=False, description="coverage driven by reports, exposure and flags")
    base_review_logit: float = Field(default=-2.5)
    report_weight: float = Field(default=0.8, ge=0, description="logit per log report volume")
    exposure_weight: float = Field(default=0.5, ge=0, description="logit per log order volume")
    never_caught_share: float = Field(default=0.0, ge=0, le=1, description="fraud never labelled")
    fraud_cleared_prob: float = Field(default=0.0, ge=0, le=1, description="reviewed fraud labelled ok")
    victim_upheld_prob: float = Field(default=0.0, ge=0, le=1, description="malicious-report victims labelled fraud")


class Moderation(_Strict):
    """Human moderators deciding queue items beside fraudmine (used by the time slices, ``--days``)."""

    review_prob: float = Field(default=0.6, ge=0, le=1, description="share of queue items a moderator decides")
    delay_mean_days: float = Field(default=2.0, gt=0, description="mean delay from submission to verdict")
    error_rate: float = Field(default=0.05, ge=0, le=0.5, description="share of verdicts that are wrong")


class Scenario(_Strict):
    """A complete generator scenario."""

    name: str = "default"
    timeline: Timeline = Timeline()
    hubs: Hubs = Hubs()
    collusion_ring: CollusionRing = CollusionRing()
    duplicate_listing: DuplicateListing = DuplicateListing()
    counterfeit: Counterfeit = Counterfeit()
    brushing: Brushing = Brushing()
    creator_collusion: CreatorCollusion = CreatorCollusion()
    malicious_reporting: MaliciousReporting = MaliciousReporting()
    low_quality: LowQuality = LowQuality()
    camouflage: Camouflage = Camouflage()
    tabular_shift: TabularShift = TabularShift()
    background: Background = Background()
    photo_sharing: PhotoSharing = PhotoSharing()
    labels: Labels = Labels()
    moderation: Moderation = Moderation()


def load_scenario(path: Path | None = None) -> Scenario:
    """Load and validate a scenario YAML file.

    Args:
        path: the YAML file; ``None`` loads ``conf/scenarios/default.yaml`` (or the
            built-in defaults when that file does not exist).

    Returns:
        The validated, frozen :class:`Scenario`.

    Raises:
        ScenarioError: the file is missing, not YAML, not a mapping, or has an
            unknown / invalid key; the message names the dotted key and the file.
    """
    if path is None and not DEFAULT_SCENARIO.exists():
        return Scenario()
    p = Path(path) if path is not None else DEFAULT_SCENARIO
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"scenario file not found: {p}") from None
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{p}: not valid YAML: {exc}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ScenarioError(f"{p}: top level must be a mapping, got {type(raw).__name__}")
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ScenarioError(f"{p}: invalid scenario: {problems}") from None


def scenario_yaml(scenario: Scenario) -> str:
    """Render a resolved scenario as YAML (the copy stored in ``truth/scenario.yaml``)."""
    data = scenario.model_dump(mode="json")
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
