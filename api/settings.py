"""API settings (pydantic-settings): environment variables ``FRAUDMINE_*``, unknown fields rejected.

| variable | field | default |
|---|---|---|
| ``FRAUDMINE_OUTPUT`` | ``output`` | ``out`` (the folder holding ``serving/current``) |
| ``FRAUDMINE_API_KEYS`` | ``api_keys`` | comma-separated keys |
| ``FRAUDMINE_API_KEY_FILE`` | ``api_key_file`` | one key per line, ``#`` comments |
| ``FRAUDMINE_STORE`` | ``store`` | ``sqlite`` (or ``redis``) |
| ``FRAUDMINE_REDIS_URL`` | ``redis_url`` | ``redis://127.0.0.1:6379/0`` |
| ``FRAUDMINE_RELOAD_INTERVAL_S`` | ``reload_interval_s`` | ``1.0`` (how often ``current`` is checked) |
| ``FRAUDMINE_MAX_BATCH`` | ``max_batch`` | ``1000`` |
| ``FRAUDMINE_FAST_PATH`` | ``fast_path`` | ``true`` (raw-ASGI fast path, :mod:`fraudmine.api.fastpath`) |
| ``FRAUDMINE_PRELOAD`` | ``preload`` | ``false`` (SQLite store: hold every risk body in memory, see below) |

``preload`` makes the SQLite store read the snapshot's ``risk_docs`` into a dict when it opens the snapshot
(stamped, ready to send), so a single lookup does no SQLite read. It costs memory for *every* scored entity
(about 105 MiB at s scale, 222k entities; about 1 GiB at m; twice that while a swap holds two snapshots) and
the load time at each swap (in a worker thread; 0.5 s CPU at s); it is not a cache: every entity is held,
whatever the traffic.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MAX_BATCH = 1000
"""Hard upper bound of ``POST /v1/risk:batch`` (``max_batch`` may only lower it)."""


class ApiSettings(BaseSettings):
    """Settings of ``fraudmine serve`` / :func:`fraudmine.api.app.create_app`."""

    model_config = SettingsConfigDict(env_prefix="FRAUDMINE_", extra="forbid", frozen=True)

    output: Path = Path("out")
    api_keys: Annotated[tuple[str, ...], NoDecode] = ()
    api_key_file: Path | None = None
    store: Literal["sqlite", "redis"] = "sqlite"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "fraudmine"
    redis_keep: int = Field(2, ge=1)
    reload_interval_s: float = Field(1.0, gt=0)
    max_batch: int = Field(MAX_BATCH, ge=1, le=MAX_BATCH)
    max_cluster_members: int = Field(10_000, ge=1)
    fast_path: bool = True
    preload: bool = False

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, v: object) -> object:
        if isinstance(v, str):
            return tuple(k.strip() for k in v.split(",") if k.strip())
        return v

    def key_digests(self) -> tuple[bytes, ...]:
        """SHA-256 digests of every configured key (``api_keys`` plus the key file's lines).

        Raises:
            ValueError: no key is configured, or the key file cannot be read.
        """
        keys = list(self.api_keys)
        if self.api_key_file is not None:
            try:
                lines = self.api_key_file.read_text().splitlines()
            except OSError as exc:
                raise ValueError(f"API key file {self.api_key_file}: {exc.strerror}") from None
            keys += [s.strip() for s in lines if s.strip() and not s.strip().startswith("#")]
        if not keys:
            raise ValueError(
                "no API keys configured: set FRAUDMINE_API_KEYS=key1,key2 or FRAUDMINE_API_KEY_FILE (or --api-key-file)"
            )
        return tuple(hashlib.sha256(k.encode()).digest() for k in keys)
