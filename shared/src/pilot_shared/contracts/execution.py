"""Executions, node runs and their events (DESIGN.md §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeAlias

from pydantic import Field

from .base import PilotModel, utcnow

ExecutionStatus: TypeAlias = Literal["pending", "running", "completed", "failed", "cancelled"]
NodeStatus: TypeAlias = Literal[
    "pending", "running", "retrying", "completed", "failed", "skipped", "cancelled"
]
TERMINAL_EXECUTION_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})

EventType: TypeAlias = Literal[
    "execution.started",
    "node.started",
    "node.chunk",
    "node.completed",
    "node.retrying",
    "node.failed",
    "node.skipped",
    "execution.completed",
    "execution.failed",
    "execution.cancelled",
]
TERMINAL_EVENT_TYPES: frozenset[str] = frozenset(
    {"execution.completed", "execution.failed", "execution.cancelled"}
)


class Usage(PilotModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    estimated: bool = False

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost_usd=round(self.cost_usd + other.cost_usd, 10),
            estimated=self.estimated or other.estimated,
        )


class NodeError(PilotModel):
    kind: str = Field(description="e.g. validation, timeout, provider, unsupported, internal")
    message: str
    retryable: bool = False


class NodeState(PilotModel):
    status: NodeStatus = "pending"
    attempt: int = 0
    output: Any = None
    error: NodeError | None = None
    handle: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: float | None = None
    usage: Usage | None = None


class Execution(PilotModel):
    id: str
    workflow_id: str
    workflow_version: int = 1
    owner_id: str = "anonymous"
    status: ExecutionStatus = "pending"
    input_data: dict[str, Any] = Field(default_factory=dict)
    output: Any = None
    error: str | None = None
    node_states: dict[str, NodeState] = Field(default_factory=dict)
    usage: Usage = Field(default_factory=Usage)
    last_seq: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: float | None = None


class NodeRun(PilotModel):
    """One attempt of one node in one execution: the execution log, one document each."""

    id: str
    execution_id: str
    workflow_id: str
    node_id: str
    node_type: str
    attempt: int
    status: NodeStatus
    input: Any = None
    output: Any = None
    error: NodeError | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: float | None = None
    usage: Usage | None = None


class ExecutionEvent(PilotModel):
    execution_id: str
    workflow_id: str
    seq: int = Field(ge=1)
    type: EventType
    ts: datetime = Field(default_factory=utcnow)
    node_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
