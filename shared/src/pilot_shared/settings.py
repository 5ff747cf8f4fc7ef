"""Settings shared by every service (prefix PILOT_). Each service subclasses `PilotSettings`
once with what only it needs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
DEFAULT_MONGODB_URL = "mongodb://127.0.0.1:27017"


class PilotSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PILOT_", extra="ignore")

    nats_url: str = DEFAULT_NATS_URL
    mongodb_url: str = DEFAULT_MONGODB_URL
    mongodb_db: str = "pilot"
    data_dir: Path = Path(".pilot")
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str = "gpt-4o-mini"
    http_allowlist: Annotated[list[str], NoDecode] = Field(default_factory=list)
    otlp_endpoint: str | None = None
    log_level: str = "INFO"
    # A service without its own HTTP server serves /metrics, /healthz, /readyz here (0: off).
    metrics_port: int = 0

    @field_validator("http_allowlist", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [h.strip().lower() for h in value.split(",") if h.strip()]
        return value

    @property
    def llm_enabled(self) -> bool:
        return self.llm_api_key is not None and bool(self.llm_api_key.get_secret_value())
