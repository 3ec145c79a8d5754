"""Run the API under uvicorn: ``fraudmine serve`` and the factory its worker processes import."""

from __future__ import annotations

import os

from fastapi import FastAPI

from fraudmine.api.app import create_app
from fraudmine.api.settings import ApiSettings
from fraudmine.api.stores import make_store


def app_from_env() -> FastAPI:
    """The app for the settings in the environment (``FRAUDMINE_*``); uvicorn's ``--factory`` target."""
    settings = ApiSettings()
    return create_app(settings, make_store(settings))


def serve(settings: ApiSettings, host: str, port: int, workers: int = 1, log_level: str = "warning") -> None:
    """Serve until interrupted (uvloop + httptools; ``workers`` processes share the port).

    Raises:
        ValueError: no API key configured (checked before uvicorn starts).
    """
    import uvicorn

    settings.key_digests()  # fail fast, before any worker starts
    common = {"host": host, "port": port, "log_level": log_level, "access_log": False, "loop": "uvloop"}
    if workers == 1:
        uvicorn.run(create_app(settings, make_store(settings)), http="httptools", **common)  # type: ignore[arg-type]
        return
    # Worker processes rebuild the app from the environment: pass the resolved settings through it.
    os.environ.update(
        {
            f"FRAUDMINE_{k.upper()}": ",".join(v) if isinstance(v, tuple) else str(v)
            for k, v in settings.model_dump().items()
            if v is not None
        }
    )
    uvicorn.run("fraudmine.api.main:app_from_env", factory=True, workers=workers, http="httptools", **common)  # type: ignore[arg-type]
