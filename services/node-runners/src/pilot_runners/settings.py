"""Settings of the node runners (prefix PILOT_)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from pilot_shared.settings import PilotSettings


class RunnerSettings(PilotSettings):
    # Tasks one process works on at once, per node type: LLM calls mostly wait on the network.
    runner_workers: int = Field(default=8, ge=1, le=256)
    # How long JetStream waits for an ack before redelivering a task. Long tasks tell it
    # they are still alive (`in_progress`) every third of this, so it bounds only the time
    # a crashed runner holds a task, not how long a node may run.
    runner_ack_wait_s: float = Field(default=10.0, gt=1)
    # Timeout of one call to the LLM provider; the node's own `timeout_s` bounds the whole node.
    llm_request_timeout_s: float = Field(default=120.0, gt=0)
    # The key that encrypts workflow secrets (a Fernet key, urlsafe base64 of 32 bytes).
    # Without one, a key is generated once and kept in `<data_dir>/secret.key` (mode 0600).
    secret_key: SecretStr | None = None
    # Largest response body the api node and HTTP tools read.
    http_max_response_bytes: int = Field(default=5 * 1024 * 1024, ge=1)
    # SMS tool: an HTTP provider that takes {"to", "text"} (override per node in params).
    sms_url: str | None = None
    sms_api_key: SecretStr | None = None
    # Knowledge retrieval: hybrid scoring when an OpenAI-compatible embeddings endpoint is set.
    embeddings_base_url: str | None = None
    embeddings_api_key: SecretStr | None = None
    embeddings_model: str = "text-embedding-3-small"
