"""The gateway's settings: the shared ones plus what only an HTTP front door needs."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from pilot_shared.settings import PilotSettings


class GatewaySettings(PilotSettings):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # How long POST /api/workflows/generate waits for the planner and generator.
    generate_timeout_s: float = Field(default=30, gt=0)
    # How long a query to the planner (templates, recommendations, suggestions) may take
    # before the client gets a 503.
    planner_query_timeout_s: float = Field(default=10, gt=0)
    # Bodies above this are refused before they are parsed (a 2 MB prompt must not be
    # buffered, validated and shipped over the bus).
    max_body_bytes: int = Field(default=1_000_000, gt=0)
    max_prompt_chars: int = Field(default=20_000, gt=0)
    # A WebSocket message above this is refused (the connection stays open).
    max_ws_message_bytes: int = Field(default=1_000_000, gt=0)
    # An idle SSE stream sends a comment this often, so proxies do not cut it.
    sse_keepalive_s: float = Field(default=15, gt=0)

    # --- authentication -----------------------------------------------------------------
    # Signs bearer tokens (HS256). Unset: a secret generated once and kept in the store,
    # so every gateway of a deployment accepts the tokens of the others.
    jwt_secret: SecretStr | None = None
    jwt_ttl_s: int = Field(default=3600, ge=60, le=30 * 24 * 3600)

    # --- limits (per user; per gateway process) -----------------------------------------
    # Requests per minute, refilled continuously, with bursts up to `rate_limit_burst`.
    rate_limit_per_minute: float = Field(default=600, gt=0)
    rate_limit_burst: int = Field(default=100, ge=1)
    # Generations and executions cost model calls: they have a budget of their own.
    expensive_per_minute: float = Field(default=60, gt=0)
    expensive_burst: int = Field(default=20, ge=1)
    # Executions of one user that may be pending or running at once.
    max_concurrent_executions: int = Field(default=10, ge=1)
    # Requests per minute from one address that fail authentication.
    auth_failures_per_minute: float = Field(default=60, gt=0)

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # HS256 is only as strong as its key; a short one can be brute-forced offline.
        if value is not None and 0 < len(value.get_secret_value()) < 32:
            raise ValueError("PILOT_JWT_SECRET must be at least 32 characters")
        return value
