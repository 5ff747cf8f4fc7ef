"""Server-sent events on the wire (DESIGN.md §4): `id: <seq>`, `event: <type>`,
`data: <json>`, a blank line; comments keep idle streams open through proxies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import StreamingResponse

EVENT_STREAM = "text/event-stream"
# One event of a stream, as OpenAPI documents it (and schemathesis checks it).
SSE_EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "event": {"type": "string"},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
    "required": ["data"],
}
KEEPALIVE = b": keepalive\n\n"
# no-cache: never replay a stale stream; X-Accel-Buffering: nginx must not hold frames back.
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse_frame(data: str, *, event: str | None = None, id: int | str | None = None) -> bytes:
    lines: list[str] = []
    if id is not None:
        lines.append(f"id: {id}")
    if event is not None:
        lines.append(f"event: {event}")
    # A newline inside data would end the field early; the spec joins data lines with \n.
    lines.extend(f"data: {line}" for line in data.splitlines() or [""])
    return ("\n".join(lines) + "\n\n").encode()


def wants_event_stream(request: Request) -> bool:
    return EVENT_STREAM in request.headers.get("accept", "")


def event_stream_response(
    frames: AsyncIterator[bytes], on_close: Callable[[], Awaitable[None]] | None = None
) -> StreamingResponse:
    """`on_close` also runs as a background task: a generator that never started (the
    client left before the first byte) never reaches its own `finally`."""
    return StreamingResponse(
        frames,
        media_type=EVENT_STREAM,
        headers=SSE_HEADERS,
        background=BackgroundTask(on_close) if on_close is not None else None,
    )
