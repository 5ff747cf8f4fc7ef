"""Settings of the node runners (prefix PILOT_)."""

from __future__ import annotations

from pydantic import Field

from pilot_shared.settings import PilotSettings


class RunnerSettings(PilotSettings):
    # Tasks one process works on at once, per node type: LLM calls mostly wait on the network.
    runner_workers: int = Field(default=8, ge=1, le=256)
    # How long JetStream waits for an ack before redelivering a task. Long tasks tell it
    # they are still alive (`in_progress`) every third of this, so it bounds only the time
    # a crashed runner holds a task, not how long a node may run.
    runner_ack_wait_s: float = Field(default=30.0, gt=1)
    # Timeout of one call to the LLM provider; the node's own `timeout_s` bounds the whole node.
    llm_request_timeout_s: float = Field(default=120.0, gt=0)
