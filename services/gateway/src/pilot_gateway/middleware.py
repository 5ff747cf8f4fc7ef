"""Pure ASGI middleware: request body limit and the last-resort error handler.

Pure ASGI (not `BaseHTTPMiddleware`) so that streamed responses such as SSE pass through
untouched and the body limit can count bytes as they arrive.
"""

from __future__ import annotations

import logging

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import internal_error_response

log = logging.getLogger(__name__)


class BodyLimitMiddleware:
    """Refuse request bodies larger than `max_body_bytes` with a 413.

    A declared `Content-Length` over the limit is refused on the first read, before a byte
    is buffered; a chunked body is counted as it streams in. The error is raised as an
    `HTTPException` from `receive` because FastAPI re-raises those from body parsing (any
    other exception there becomes a generic 400), so it reaches the JSON error handlers.
    Unread bytes are discarded by the server, so the client still reads the 413.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        declared = _content_length(scope)
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if declared is not None and declared > limit:
                raise _too_large(limit, declared)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    raw = Headers(scope=scope).get("content-length")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _too_large(limit: int, declared: int | None = None) -> HTTPException:
    size = f" ({declared:,} bytes)" if declared is not None else ""
    return HTTPException(413, f"the request body{size} exceeds the limit of {limit:,} bytes")


class CatchAllMiddleware:
    """Turn an unexpected exception into `500 {"error": "internal"}` and log it once.

    Starlette's own fallback re-raises after answering (so servers log it again) and
    answers in plain text; this one answers in the error model and keeps the server calm.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if started:
                return  # a streamed response is under way: the server ends the connection
            await internal_error_response()(scope, receive, send)
