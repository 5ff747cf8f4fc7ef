"""The gateway's settings: the shared ones plus what only an HTTP front door needs."""

from __future__ import annotations

from pydantic import Field

from pilot_shared.settings import PilotSettings


class GatewaySettings(PilotSettings):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # How long POST /api/workflows/generate waits for the planner and generator.
    generate_timeout_s: float = Field(default=30, gt=0)
    # Bodies above this are refused before they are parsed (a 2 MB prompt must not be
    # buffered, validated and shipped over the bus).
    max_body_bytes: int = Field(default=1_000_000, gt=0)
    max_prompt_chars: int = Field(default=20_000, gt=0)
    # An idle SSE stream sends a comment this often, so proxies do not cut it.
    sse_keepalive_s: float = Field(default=15, gt=0)
