"""Error responses: a one-line ``detail`` for bad input (422) that names the field and the rule."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validation_detail(errors: list[dict[str, Any]]) -> str:
    """One line for a list of pydantic errors: ``<location>: <rule> (got <value>)``; at most three listed."""
    parts = []
    for e in errors[:3]:
        got = f" (got {_short(e['input'])})" if "input" in e and e.get("type") != "missing" else ""
        parts.append(f"{_where(e['loc'])}: {e['msg']}{got}")
    more = f"; and {len(errors) - 3} more" if len(errors) > 3 else ""
    return "; ".join(parts) + more


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    body = {
        "detail": validation_detail(errors),
        "errors": [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors],
    }
    return JSONResponse(status_code=422, content=body)


def install(app: FastAPI) -> None:
    """Register the 422 handler on ``app``."""
    app.add_exception_handler(RequestValidationError, _on_validation_error)
