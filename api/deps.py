"""Request dependencies: API-key check and the snapshot reader of the request."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from fraudmine.api.stores.base import SnapshotReader

API_KEY_HEADER = "X-API-Key"
_api_key = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="one of the keys in FRAUDMINE_API_KEYS")


def key_matches(candidate: str, digests: tuple[bytes, ...]) -> bool:
    """Whether ``candidate`` is one of the keys, in time independent of where (or whether) it matches.

    Both sides are SHA-256 digests (equal lengths) and every key is compared, so
    neither the key lengths nor the position of a match leak through timing.
    """
    d = hashlib.sha256(candidate.encode()).digest()
    ok = False
    for k in digests:
        ok |= hmac.compare_digest(d, k)
    return ok


async def require_api_key(request: Request, key: Annotated[str | None, Security(_api_key)]) -> None:
    """401 unless the ``X-API-Key`` header holds a configured key."""
    if key is None:
        raise HTTPException(401, f"missing {API_KEY_HEADER} header", headers={"WWW-Authenticate": "ApiKey"})
    if not key_matches(key, request.app.state.key_digests):
        raise HTTPException(401, "invalid API key", headers={"WWW-Authenticate": "ApiKey"})


async def snapshot_reader(request: Request) -> SnapshotReader:
    """The current snapshot's reader, taken once per request (503 while none is published)."""
    reader: SnapshotReader | None = request.app.state.store.current()
    if reader is None:
        raise HTTPException(503, f"no serving snapshot published yet in {request.app.state.settings.output}")
    return reader


Reader = Annotated[SnapshotReader, Depends(snapshot_reader)]
