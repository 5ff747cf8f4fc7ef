"""The gateway's one base exception, and the one place errors become HTTP responses.

Every error leaves as JSON `{"error": "<kind>", "detail": "…"}` (plus structured extras
such as `errors` or `issues`), never as a stack trace. Subclasses of `PilotError` live next
to the code that raises them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

log = logging.getLogger(__name__)


class PilotError(Exception):
    """An error the client can act on. `extra` is merged into the JSON body."""

    status_code: int = 500
    kind: str = "internal"

    def __init__(
        self,
        detail: str,
        *,
        status_code: int | None = None,
        kind: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status_code is not None:
            self.status_code = status_code
        if kind is not None:
            self.kind = kind
        self.extra = extra or {}


class BadRequestError(PilotError):
    status_code = 400
    kind = "bad_request"


class ServiceUnavailableError(PilotError):
    status_code = 503
    kind = "unavailable"


# Kinds for errors Starlette/FastAPI raise themselves (unknown route, wrong method, …).
_KIND_BY_STATUS = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation",
}


def error_body(kind: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"error": kind, "detail": detail, **extra}


def error_response(
    status_code: int,
    kind: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(error_body(kind, detail, **extra), status_code=status_code, headers=headers)


def internal_error_response() -> JSONResponse:
    # The detail stays generic on purpose: the traceback goes to the log, not the client.
    return error_response(500, "internal", "internal error")


def _location(loc: tuple[int | str, ...] | list[int | str]) -> str:
    return ".".join(str(part) for part in loc)


def validation_error_response(exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    for err in errors:
        if err.get("type") == "json_invalid":
            reason = (err.get("ctx") or {}).get("error", "invalid JSON")
            pos = err["loc"][-1] if err.get("loc") else "?"
            detail = f"the request body is not valid JSON: {reason} (position {pos})"
            return error_response(400, "malformed_json", detail)
    cleaned = [
        {"loc": list(err.get("loc", ())), "msg": str(err.get("msg", "")), "type": err.get("type")}
        for err in errors
    ]
    detail = "; ".join(f"{_location(e['loc'])}: {e['msg']}" for e in cleaned) or "invalid request"
    return error_response(422, "validation", detail, errors=cleaned)


async def _pilot_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PilotError)
    return error_response(exc.status_code, exc.kind, exc.detail, **exc.extra)


async def _request_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return validation_error_response(exc)


async def _http_exception(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = _KIND_BY_STATUS.get(exc.status_code, "http_error")
    return error_response(exc.status_code, kind, str(exc.detail), headers=exc.headers)


async def _store_unreachable(_: Request, exc: Exception) -> JSONResponse:
    log.warning("document store unreachable: %s", exc)
    return error_response(503, "unavailable", "the document store is unreachable")


def install_error_handlers(app: FastAPI) -> None:
    """Map every error the gateway can meet to the JSON error model. Unexpected exceptions
    are handled by `middleware.CatchAllMiddleware`, which logs them once."""
    app.add_exception_handler(PilotError, _pilot_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(ConnectionFailure, _store_unreachable)
