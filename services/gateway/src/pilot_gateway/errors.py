"""The gateway's one base exception, and the one place errors become HTTP responses.

Every error leaves as JSON `{"error": "<kind>", "detail": "…", "request_id": "…"}` (plus
structured extras such as `errors` or `issues`), never as a stack trace. Subclasses of
`PilotError` live next to the code that raises them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from bson.errors import InvalidDocument
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pymongo.errors import ConnectionFailure
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.routing import BaseRoute, Match

from .request_id import current_request_id

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
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status_code is not None:
            self.status_code = status_code
        if kind is not None:
            self.kind = kind
        self.extra = extra or {}
        self.headers = headers or {}


class BadRequestError(PilotError):
    status_code = 400
    kind = "bad_request"


class NotFoundError(PilotError):
    status_code = 404
    kind = "not_found"


class ForbiddenError(PilotError):
    status_code = 403
    kind = "forbidden"


class ConflictError(PilotError):
    status_code = 409
    kind = "conflict"


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
    429: "rate_limited",
}


class ErrorResponse(BaseModel):
    """The body of every error response."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "error": "not_found",
                    "detail": "workflow 'f3a…' does not exist",
                    "request_id": "5b0e8f2c9d8a4c1e9f3b7a6d2c1e0f9a",
                }
            ]
        },
    )

    error: str = Field(description="What kind of error: not_found, validation, conflict, …")
    detail: str = Field(description="What went wrong and what to change")
    request_id: str | None = Field(
        default=None, description="Also in the X-Request-ID header and the gateway's logs"
    )


_DESCRIPTIONS = {
    400: "Malformed request (e.g. the body is not valid JSON)",
    401: "Missing or invalid credentials: send `Authorization: Bearer <api key or token>`",
    403: "Authenticated, but this user may not do this",
    404: "No such resource, or it is not visible to this user",
    409: "Conflict: a stale version, or a name that is taken",
    413: "The request body is over the size limit",
    415: "Unsupported content type",
    422: "The request is well-formed but invalid; `detail` and `errors` say what to fix",
    429: "Too many requests or executions; retry after `Retry-After` seconds",
    503: "A backing service (NATS or the store) is unreachable",
    504: "A backing service did not answer in time",
}


def error_responses(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, all with the ErrorResponse body.
    `descriptions` override the defaults by code (`_404="…"`)."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        description = descriptions.get(f"_{code}", _DESCRIPTIONS.get(code, "Error"))
        out[code] = {"model": ErrorResponse, "description": description}
    return out


# Every authenticated operation can answer these.
COMMON_ERRORS = (400, 401, 413, 422, 429, 503)


class ErrorJSONResponse(JSONResponse):
    """ASCII-escaped: an error may quote the client's own input, which can hold text that
    is not valid UTF-8 (a lone surrogate from a `\\ud800` escape), and the error must still
    be deliverable."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode()


def error_body(kind: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"error": kind, "detail": detail, "request_id": current_request_id(), **extra}


def error_response(
    status_code: int,
    kind: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return ErrorJSONResponse(
        error_body(kind, detail, **extra), status_code=status_code, headers=headers
    )


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
    if cleaned and all(e["loc"][:1] == ["header"] for e in cleaned):
        # A malformed header (If-Match, Last-Event-ID) is a malformed request.
        return error_response(400, "bad_request", detail, errors=cleaned)
    return error_response(422, "validation", detail, errors=cleaned)


async def _pilot_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PilotError)
    return error_response(
        exc.status_code, exc.kind, exc.detail, headers=exc.headers or None, **exc.extra
    )


async def _request_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return validation_error_response(exc)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first
    route's, and FastAPI has one route per method)."""
    methods: set[str] = set()
    routes: list[BaseRoute] = request.app.router.routes
    for route in routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = _KIND_BY_STATUS.get(exc.status_code, "http_error")
    headers = dict(exc.headers or {})
    detail = str(exc.detail)
    if exc.status_code == 405:
        allowed = allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)
        detail = f"{request.method} is not allowed here; use {', '.join(allowed)}"
    return error_response(exc.status_code, kind, detail, headers=headers)


async def _unstorable(_: Request, exc: Exception) -> JSONResponse:
    """Values JSON can carry but the store cannot: the client's to fix, not a 500."""
    if isinstance(exc, OverflowError):
        detail = "a number is too large to store: integers must fit in 64 bits"
    elif isinstance(exc, UnicodeEncodeError):
        detail = "the request holds text that is not valid Unicode (a lone surrogate)"
    else:
        detail = f"the request holds a value that cannot be stored: {exc}"
    log.info("refused an unstorable value: %r", exc)
    return error_response(422, "unstorable_value", detail)


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
    for unstorable in (OverflowError, UnicodeEncodeError, InvalidDocument):
        app.add_exception_handler(unstorable, _unstorable)
