"""Configuration: pydantic models loaded from YAML.

Every model forbids unknown keys, so a misspelt key fails with its path and the
file it came from.  The written config (YAML) is separate from the resolved
runtime object: :func:`load_config` applies environment overrides for paths
and secrets and returns a new, validated :class:`Config`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fraudmine.graph_config import ClustersConfig

# ``conf/`` ships inside the package (``fraudmine/conf`` links to the top-level
# ``conf/`` in a checkout and is package data in the wheel), so the defaults
# resolve the same way from a checkout, an editable install and a wheel.
CONF_ROOT = Path(__file__).parent
DEFAULT_CONFIG = CONF_ROOT / "conf" / "default.yaml"


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PathsConfig(_Strict):
    """Where the raw input is read and the outputs are written."""

    input: str = "data/raw"
    output: str = "out"


class SparkConfig(_Strict):
    """Spark session settings; ``conf`` takes any ``spark.*`` key."""

    master: str = "local[*]"
    app_name: str = "fraudmine"
    shuffle_partitions: int | Literal["auto"] = Field(
        "auto", description="'auto': from the input size and the cores (fraudmine.spark.size_resources)"
    )
    driver_memory: str = Field(
        "auto", pattern=r"^(auto|\d+[kmgt])$", description="'auto': from the input size and the machine's RAM"
    )
    jit: Literal["auto", "quick", "full"] = Field(
        "auto",
        description="driver JVM JIT: 'quick' compiles with C1 only (less start-up CPU, for small inputs), "
        "'full' is the JVM default (C1 then C2); 'auto': quick up to fraudmine.spark.QUICK_JIT_MAX_INPUT_BYTES",
    )
    log_level: Literal["ERROR", "WARN", "INFO", "DEBUG"] = "ERROR"
    conf: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _spark_keys(self) -> SparkConfig:
        if isinstance(self.shuffle_partitions, int) and self.shuffle_partitions < 1:
            raise ValueError("spark.shuffle_partitions must be >= 1 or 'auto'")
        bad = [k for k in self.conf if not k.startswith("spark.")]
        if bad:
            raise ValueError(f"spark.conf keys must start with 'spark.': {bad}")
        return self


class ValidationConfig(_Strict):
    """Row-rule settings of the validation stage."""

    future_tolerance_minutes: int = Field(0, ge=0)
    max_quarantine_fraction: float = Field(0.2, ge=0.0, le=1.0)


class GraphConfig(_Strict):
    """Graph construction settings."""

    hub_identifier_min_degree: int = Field(
        25, ge=2, description="an identifier used by at least this many accounts is a public hub"
    )


class FeaturesConfig(_Strict):
    """Feature settings."""

    label_window_days: int = Field(
        60, ge=1, description="training features are taken this many days before the run date"
    )


class DedupConfig(_Strict):
    """The ``duplicates`` stage: near-duplicate listings and brand violations (``fraudmine.dedup``)."""

    embeddings: bool = Field(False, description="MiniLM embedding k-NN generator and feature (needs fraudmine[embed])")
    knn_k: int = Field(5, ge=1, description="neighbours per listing of the embedding k-NN generator")
    minhash_perm: int = Field(64, ge=8, description="MinHash permutations")
    minhash_bands: int = Field(16, ge=1, description="LSH bands (perm / bands rows each)")
    bucket_cap: int = Field(50, ge=2, description="hot-bucket guard: larger blocking buckets are skipped and reported")
    phash_radius: int = Field(6, ge=0, le=16, description="image-hash Hamming radius of the perceptual-hash generator")
    threshold_sample: int = Field(
        100_000,
        ge=1_000,
        description="candidate pairs (and as many random pairs) the match-threshold mixture is fitted on, seeded draws",
    )
    min_cohesion: float = Field(
        0.5, gt=0, le=1, description="components less dense than this are split (chaining control)"
    )
    variants: bool = Field(
        True,
        description="a shop's listings with equal price and description whose titles differ in one word "
        "(colour, size) are a variation family, not duplicates (fraudmine.dedup.variants)",
    )
    stock_photo_shops: int = Field(
        3,
        ge=0,
        description="a photo (exact image hash) shown by listings of this many shops is a stock photo: no evidence "
        "for or against a pair, which is scored as text-only (fraudmine.dedup.marketplace; 0: off)",
    )
    min_shop_pair_matches: int = Field(
        3,
        ge=1,
        description="a cross-shop pair joins clusters only when its two shops share this many confident pairs "
        "(copying repeats, generic titles collide once; fraudmine.dedup.marketplace; 1: off)",
    )
    price_ratio: float = Field(0.5, gt=0, lt=1, description="price under this share of the brand market is evidence")
    new_shop_days: int = Field(60, ge=1, description="a shop registered fewer days before the run is new")
    seed: int = 7
    engine: Literal["auto", "local", "spark"] = Field(
        "auto",
        description="local: listings collected to the driver (numpy/scikit-learn); spark: blocking, pair scoring "
        "and clustering on Spark DataFrames (fraudmine.dedup.spark_listings); auto: local up to local_max_listings",
    )
    local_max_listings: int = Field(
        2_000_000,
        ge=0,
        description="auto: the local path up to this many listings as of D, the Spark path above (measured, "
        "docs/benchmarks.md 'duplicates on Spark')",
    )
    fit_sample: int = Field(
        2_000_000,
        ge=1_000,
        description="Spark path: candidate pairs collected to the driver to fit the threshold, image cut and "
        "confirmation (all of them when fewer; a seeded hash sample otherwise)",
    )


class RegistryConfig(_Strict):
    """Model registry back end, chosen by ``type``."""

    type: Literal["mlflow", "none"] = "mlflow"
    tracking_uri: str | None = Field(None, description="defaults to sqlite:///<output>/mlflow.db")
    model_name: str = "fraudmine-merchant-risk"
    experiment: str = "fraudmine-nightly"


class PromotionConfig(_Strict):
    """Champion/challenger gate of the ``train`` stage (see :mod:`fraudmine.models.champion`)."""

    enabled: bool = Field(True, description="false: every run's freshly trained model scores")
    metric: Literal["auprc", "auroc"] = Field("auprc", description="holdout metric of the merchant fraud head")
    margin: float = Field(
        0.0, ge=-1, le=1, description="the challenger must beat the champion by this much (negative: non-inferiority)"
    )
    min_holdout_positives: int = Field(10, ge=1, description="fewer unseen positive labels: on_small_holdout decides")
    min_holdout_negatives: int = Field(10, ge=1)
    on_small_holdout: Literal["promote", "keep"] = Field(
        "promote", description="who scores when too few labels arrived since the champion's cut-off"
    )


class ModelConfig(_Strict):
    """Baseline LightGBM model settings."""

    type: Literal["lightgbm"] = "lightgbm"
    feature_set: Literal["all", "tabular"] = Field(
        "all", description="'tabular' drops every relational feature (ablation baseline)"
    )
    seed: int = 7
    n_estimators: int = Field(300, ge=1)
    learning_rate: float = Field(0.05, gt=0)
    num_leaves: int = Field(31, ge=2)
    min_child_samples: int = Field(20, ge=1)
    subsample: float = Field(0.8, gt=0, le=1)
    colsample_bytree: float = Field(0.8, gt=0, le=1)
    n_jobs: int = Field(2, ge=1)
    min_positive_labels: int = Field(10, ge=1)
    min_negative_labels: int = Field(10, ge=1)
    calibration_folds: int = Field(5, ge=2)
    calibration: Literal["auto", "sigmoid", "isotonic"] = Field(
        "auto", description="scikit-learn calibration; 'auto' keeps the lower validation Brier score"
    )
    early_stopping_rounds: int = Field(50, ge=1)
    validation_fraction: float = Field(0.2, gt=0, lt=1)
    head_vs_rule_margin: float = Field(
        0.0,
        ge=-1,
        le=1,
        description="a creator or listing head replaces its label-free rule only if its out-of-fold AUROC on the "
        "labelled rows beats the rule's on the same rows by this much",
    )
    head_vs_rule_folds: int = Field(5, ge=2, description="folds of that out-of-fold comparison")
    registry: RegistryConfig = RegistryConfig()
    promotion: PromotionConfig = PromotionConfig()


class ScoringConfig(_Strict):
    """Risk bands on the calibrated fraud probability, and reasons."""

    band_medium: float = Field(0.2, ge=0, le=1)
    band_high: float = Field(0.5, ge=0, le=1)
    band_critical: float = Field(0.8, ge=0, le=1)
    reasons_top_k: int = Field(3, ge=1, le=10)
    reasons_min_band: Literal["medium", "high", "critical"] = "medium"
    rank_band_medium: float = Field(
        0.95, ge=0, le=1, description="uncalibrated (label-free, rank-normalised) risks: medium band from this rank"
    )
    rank_band_high: float = Field(
        0.99, ge=0, le=1, description="uncalibrated risks: high band from this rank (never critical)"
    )

    @model_validator(mode="after")
    def _ordered(self) -> ScoringConfig:
        if not self.band_medium <= self.band_high <= self.band_critical:
            raise ValueError("scoring bands must satisfy band_medium <= band_high <= band_critical")
        return self


class PublishConfig(_Strict):
    """Audit gates applied before a run is published (see :mod:`fraudmine.audit`)."""

    max_score_row_change: float = Field(0.5, ge=0, description="relative change vs the previous published run")
    min_scored_rows: int = Field(1, ge=0)
    max_decision_row_change: float = Field(
        1.0, ge=0, description="relative change of the decisions row count vs the previous published run"
    )
    max_psi: float = Field(
        0.25, gt=0, description="population stability index of each model's score vs the previous published run"
    )
    psi_bins: int = Field(10, ge=2, le=100, description="quantile bins of the previous run's scores for the PSI")
    max_auto_reject_share: float = Field(0.2, ge=0, le=1, description="share of decisions that are automatic rejects")

    default_min_table_rows: int = Field(1, ge=0, description="clean rows every raw table must have")
    min_table_rows: dict[str, int] = Field(
        default_factory=lambda: {"moderation_queue": 0},
        description="per raw table, overrides default_min_table_rows (0: may be empty); an empty moderation "
        "queue only means nothing waits for a decision (a backfill date often has none)",
    )


class CapacityConfig(_Strict):
    """Reviewer capacity of one nightly run (one day of work)."""

    review_per_day: int = Field(300, ge=0, description="items the moderators can review per day")
    escalate_per_day: int = Field(50, ge=0, description="items the specialist team can take per day")


class ExplorationConfig(_Strict):
    """Share of review capacity spent on a random sample of uncertain items (unbiased labels)."""

    share: float = Field(0.05, ge=0, le=0.5, description="fraction of review_per_day reserved for exploration")
    min_p: float = Field(0.02, ge=0, le=1, description="uncertain = p_violation in [min_p, max_p]")
    max_p: float = Field(0.6, ge=0, le=1)
    seed: int = 7

    @model_validator(mode="after")
    def _interval(self) -> ExplorationConfig:
        if self.min_p > self.max_p:
            raise ValueError(f"exploration.min_p ({self.min_p}) must be <= exploration.max_p ({self.max_p})")
        return self


class ExposureConfig(_Strict):
    """How an item's exposure (USD-equivalent harm if it is bad) is estimated."""

    gmv_window_days: int = Field(30, ge=1, description="listing GMV is summed over this many days before D")
    usd_per_follower: float = Field(0.01, ge=0, description="value of one creator follower reached (video, live)")
    floor_usd: float = Field(1.0, gt=0, description="minimum exposure of any item")


class DecisionsConfig(_Strict):
    """Decision stage: the review queue under capacity (the rules live in the policy YAML)."""

    capacity: CapacityConfig = CapacityConfig()
    exploration: ExplorationConfig = ExplorationConfig()
    exposure: ExposureConfig = ExposureConfig()
    over_capacity: Literal["defer", "approve"] = Field(
        "defer",
        description="review items past capacity: 'defer' keeps them pending (action review, status deferred, "
        "re-ranked next run); 'approve' lets them through with reason OVER_CAPACITY_APPROVED",
    )
    unscored_prior: float = Field(
        0.05, ge=0, le=1, description="p_violation of an item none of whose entities is scored"
    )
    outcome_window_days: int = Field(30, ge=1, description="moderator outcomes of this many days feed realised KPIs")


class ServingConfig(_Strict):
    """Serving snapshots written at publish time (``<out>/serving/``)."""

    keep_snapshots: int = Field(5, ge=1, description="newest published snapshots kept on disk (rollback depth)")


class Neo4jConfig(_Strict):
    """Neo4j export and connection; the password comes from the environment or a file, never from YAML logs.

    ``export_bundle`` switches on the nightly ``neo4j`` stage (the bulk-import bundle);
    the Bolt writer (``fraudmine export bolt``) uses the connection settings.
    """

    uri: str | None = None
    user: str = "neo4j"
    password: SecretStr | None = None
    password_file: str | None = Field(None, description="file whose first line is the password (NEO4J_PASSWORD_FILE)")
    database: str = "neo4j"
    batch_size: int = Field(1000, ge=1, description="rows per UNWIND batch (one managed transaction each)")
    max_retry_time_s: float = Field(30.0, gt=0, description="driver retry budget for transient errors")
    export_bundle: bool = Field(False, description="nightly stage 'neo4j' writes the bulk-import bundle")
    rows_per_file: int = Field(1_000_000, ge=1, description="rows per CSV part of the bundle")

    def resolved_password(self) -> str | None:
        """The password from ``password`` or else the first line of ``password_file``.

        Raises:
            ConfigError: if the password file cannot be read.
        """
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_file:
            try:
                return Path(self.password_file).read_text().splitlines()[0].strip()
            except (OSError, IndexError):
                raise ConfigError(f"neo4j.password_file: cannot read a password from {self.password_file}") from None
        return None


class Config(_Strict):
    """The resolved configuration of a fraudmine run."""

    paths: PathsConfig = PathsConfig()
    spark: SparkConfig = SparkConfig()
    validation: ValidationConfig = ValidationConfig()
    graph: GraphConfig = GraphConfig()
    clusters: ClustersConfig = ClustersConfig()
    dedup: DedupConfig = DedupConfig()
    features: FeaturesConfig = FeaturesConfig()
    model: ModelConfig = ModelConfig()
    scoring: ScoringConfig = ScoringConfig()
    publish: PublishConfig = PublishConfig()
    decisions: DecisionsConfig = DecisionsConfig()
    serving: ServingConfig = ServingConfig()
    neo4j: Neo4jConfig = Neo4jConfig()
    policy_path: str = Field(
        "conf/policy.yaml",
        description="decision policy YAML; relative paths resolve against the package (conf/ ships in it)",
    )

    def fingerprint(self) -> str:
        """Stable hash of the resolved config (the ``neo4j`` section, with its secrets, excluded), used in run ids."""
        data = self.model_dump(mode="json")
        data.pop("neo4j", None)  # connection, secrets and the export switch change no computed output
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


class EnvOverrides(BaseSettings):
    """Environment variables that override config values (read by pydantic-settings).

    Each field names its variable and the dotted config key it sets; unset or
    empty variables leave the file's value.
    """

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=True, env_ignore_empty=True)

    input: str | None = Field(None, validation_alias="FRAUDMINE_INPUT", json_schema_extra={"key": "paths.input"})
    output: str | None = Field(None, validation_alias="FRAUDMINE_OUTPUT", json_schema_extra={"key": "paths.output"})
    spark_master: str | None = Field(
        None, validation_alias="FRAUDMINE_SPARK_MASTER", json_schema_extra={"key": "spark.master"}
    )
    mlflow_tracking_uri: str | None = Field(
        None, validation_alias="MLFLOW_TRACKING_URI", json_schema_extra={"key": "model.registry.tracking_uri"}
    )
    neo4j_uri: str | None = Field(None, validation_alias="NEO4J_URI", json_schema_extra={"key": "neo4j.uri"})
    neo4j_user: str | None = Field(None, validation_alias="NEO4J_USER", json_schema_extra={"key": "neo4j.user"})
    neo4j_password: str | None = Field(
        None, validation_alias="NEO4J_PASSWORD", json_schema_extra={"key": "neo4j.password"}
    )
    neo4j_password_file: str | None = Field(
        None, validation_alias="NEO4J_PASSWORD_FILE", json_schema_extra={"key": "neo4j.password_file"}
    )
    neo4j_database: str | None = Field(
        None, validation_alias="NEO4J_DATABASE", json_schema_extra={"key": "neo4j.database"}
    )

    def dotted(self) -> dict[str, str]:
        """The set variables as ``{dotted config key: value}``."""
        out: dict[str, str] = {}
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            extra = info.json_schema_extra
            if value and isinstance(extra, dict):
                out[str(extra["key"])] = value
        return out


# (variable, dotted key) pairs, for documentation and tests.
ENV_OVERRIDES: tuple[tuple[str, str], ...] = tuple(
    (str(f.validation_alias), str(f.json_schema_extra["key"]))  # type: ignore[index,call-overload]
    for f in EnvOverrides.model_fields.values()
)


def env_overrides(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Dotted config overrides from ``env`` (default: the process environment, via pydantic-settings)."""
    if env is None:
        return EnvOverrides().dotted()
    return EnvOverrides.model_validate({k: v for k, v in env.items() if v}).dotted()


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    node = data
    *parents, leaf = dotted.split(".")
    for p in parents:
        node = node.setdefault(p, {})
    node[leaf] = value


def load_config(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Load and validate a YAML config, then apply environment and explicit overrides.

    Args:
        path: YAML file; ``None`` means ``conf/default.yaml`` of this repository.
        env: environment to read overrides from (defaults to ``os.environ``).
        overrides: dotted keys to values (``{"paths.output": "/tmp/x"}``), applied last.

    Returns:
        The resolved :class:`Config`.

    Raises:
        ConfigError: naming the file and every offending key.
    """
    cfg_path = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        raw = yaml.safe_load(cfg_path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {cfg_path}") from None
    except IsADirectoryError:
        raise ConfigError(f"config {cfg_path}: is a folder, expected a YAML file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config {cfg_path}: not a text file, expected YAML") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" (line {where.line + 1}, column {where.column + 1})" if where is not None else ""
        raise ConfigError(f"{cfg_path}: not valid YAML{at}: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{cfg_path}: top level must be a mapping, got {type(raw).__name__}")
    for dotted, value in env_overrides(env).items():
        _set_dotted(raw, dotted, value)
    for dotted, value in (overrides or {}).items():
        _set_dotted(raw, dotted, value)
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ConfigError(f"{cfg_path}: invalid config: {problems}") from None
