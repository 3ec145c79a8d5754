"""Request dependencies: the snapshot reader of the request (authentication is :mod:`fraudmine.api.auth`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from fraudmine.api.stores.base import SnapshotReader


async def snapshot_reader(request: Request) -> SnapshotReader:
    """The current snapshot's reader, taken once per request (503 while none is published)."""
    reader: SnapshotReader | None = request.app.state.store.current()
    if reader is None:
        raise HTTPException(503, f"no serving snapshot published yet in {request.app.state.settings.output}")
    return reader


Reader = Annotated[SnapshotReader, Depends(snapshot_reader)]
