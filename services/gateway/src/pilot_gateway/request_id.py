"""One request id per HTTP request or WebSocket connection: taken from the client's
`X-Request-ID` when it is a sane token (so a proxy's id follows the request through),
generated otherwise; sent back in the `X-Request-ID` header of every response, put in
every error body, and stamped on every log line written while the request is handled.
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from uuid import uuid4

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
# Anything else (too long, spaces, control characters) could forge log lines: replaced.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

_current: ContextVar[str | None] = ContextVar("pilot_request_id", default=None)


def current_request_id() -> str | None:
    return _current.get()


def new_request_id() -> str:
    return uuid4().hex


def accepted_request_id(raw: str | None) -> str:
    return raw if raw is not None and _ACCEPTABLE.match(raw) else new_request_id()


class RequestIdMiddleware:
    """Outermost middleware: everything inside, even the last-resort 500, sees the id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = accepted_request_id(Headers(scope=scope).get(HEADER))
        scope.setdefault("state", {})["request_id"] = request_id
        token = _current.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                if message["type"] == "http.response.start":
                    MutableHeaders(scope=message)[HEADER] = request_id
                else:
                    headers = list(message.get("headers", []))
                    headers.append((HEADER.lower().encode(), request_id.encode()))
                    message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)


class RequestIdLogFilter(logging.Filter):
    """Gives every record a `request_id` ("-" outside a request) for the log format."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get() or "-"
        return True


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [request_id=%(request_id)s]: %(message)s"


def install_request_id_logging() -> None:
    """Stamp the id on every line the root handlers write (call after logging is set up)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, RequestIdLogFilter) for f in handler.filters):
            handler.addFilter(RequestIdLogFilter())
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
