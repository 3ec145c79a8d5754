"""Scenario: every rate and shift the generator uses, loaded from YAML.

All models forbid unknown keys, so a misspelt key fails with its dotted path
and the file it came from.  ``conf/scenarios/default.yaml`` documents each key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


class Hubs(_Strict):
    """Public hub identifiers (office Wi-Fi IPs, marketplace warehouses) shared by innocents."""

    wifi_ips: int = Field(default=4, ge=0)
    warehouses: int = Field(default=3, ge=0)
    members: IntRange = IntRange(min=30, max=300)
    household_pair_rate: float = Field(default=0.02, ge=0, le=1, description="honest merchants sharing one id")


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


class DuplicateListing(_Strict):
    """Solo duplicate-listing spammers."""

    merchant_rate: float = Field(default=0.01, ge=0, le=0.5)
    copies: IntRange = IntRange(min=5, max=20)
    ring_copies: IntRange = IntRange(min=2, max=6)
    max_bit_flips: int = Field(default=4, ge=0, le=16)


class Counterfeit(_Strict):
    """Sellers claiming protected brands without authorisation, or typo-squatting them."""

    merchant_rate: float = Field(default=0.01, ge=0, le=0.5)
    listing_share: tuple[float, float] = (0.3, 0.7)
    typo_squat_share: float = Field(default=0.5, ge=0, le=1)


class Brushing(_Strict):
    """Fake buyer blocks ordering and 5-star reviewing a few products."""

    merchant_rate: float = Field(default=0.008, ge=0, le=0.5)
    buyers: IntRange = IntRange(min=20, max=80)
    products: IntRange = IntRange(min=3, max=10)
    density: float = Field(default=0.6, gt=0, le=1)
    review_prob: float = Field(default=0.85, ge=0, le=1)
    window_days: int = Field(default=10, ge=1)
    shared_devices: IntRange = IntRange(min=2, max=6)


class CreatorCollusion(_Strict):
    """Creators sharing identifiers with ring merchants and promoting ring products."""

    ring_prob: float = Field(default=0.5, ge=0, le=1)
    creators_per_ring: IntRange = IntRange(min=1, max=3)
    promotions_per_member: IntRange = IntRange(min=1, max=3)
    view_multiplier: float = Field(default=8.0, ge=1)
    gmv_multiplier: float = Field(default=0.1, ge=0)


class MaliciousReporting(_Strict):
    """Reporter rings mass-reporting an honest competitor."""

    rings_per_1k_merchants: float = Field(default=2.0, ge=0)
    reporters: IntRange = IntRange(min=5, max=25)
    reports_per_reporter: IntRange = IntRange(min=1, max=3)
    window_days: int = Field(default=7, ge=1)
    reviewed_prob: float = Field(default=0.9, ge=0, le=1)
    rejected_prob: float = Field(default=0.85, ge=0, le=1)


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


class TabularShift(_Strict):
    """How far fraud merchants' tabular features move from honest ones (0 = identical)."""

    honest_recent_prob: float = Field(default=0.35, ge=0, le=1, description="registered inside the window")
    fraud_recent_prob: float = Field(default=0.38, ge=0, le=1)
    fraud_price_log_shift: float = Field(default=-0.05)
    fraud_activity_log_shift: float = Field(default=-0.3)
    fraud_refund_rate: float = Field(default=0.05, ge=0, le=1)
    fraud_report_multiplier: float = Field(default=1.2, ge=0)


class Background(_Strict):
    """Honest baseline behaviour."""

    refund_rate: float = Field(default=0.04, ge=0, le=1)
    cancel_rate: float = Field(default=0.03, ge=0, le=1)
    review_rate: float = Field(default=0.25, ge=0, le=1)
    report_upheld_prob: float = Field(default=0.2, ge=0, le=1)
    report_reviewed_prob: float = Field(default=0.7, ge=0, le=1)
    variant_rate: float = Field(default=0.05, ge=0, le=1, description="honest colour/size variants (near-dups)")
    english_listing_prob: float = Field(default=0.3, ge=0, le=1)


class Labels(_Strict):
    """Partial, delayed, noisy labels."""

    fraud_coverage: float = Field(default=0.35, ge=0, le=1)
    low_quality_coverage: float = Field(default=0.4, ge=0, le=1)
    ok_coverage: float = Field(default=0.1, ge=0, le=1)
    creator_coverage: float = Field(default=0.3, ge=0, le=1)
    delay_mean_days: float = Field(default=30.0, gt=0)
    noise_rate: float = Field(default=0.03, ge=0, le=0.5)


class Scenario(_Strict):
    """A complete generator scenario."""

    name: str = "default"
    hash_key: str = Field(default="fraudmine-synthetic-key", min_length=8, description="HMAC key for identifiers")
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
    labels: Labels = Labels()


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
