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
    # when the failure says how long to wait before retrying (e.g. a provider's Retry-After)
    retry_after_s: float | None = Field(default=None, ge=0)


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
    # when a node waits for a retry: when the next attempt is due (survives a restart)
    next_attempt_at: datetime | None = None


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
    # the states of loop body nodes, one per iteration, keyed `<loop>:<index>:<node>`
    loop_states: dict[str, NodeState] = Field(default_factory=dict)
    # node attempts dispatched so far (the max-steps limit counts them)
    steps: int = 0
    # how deep this execution is in a chain of sub-workflow calls (0: started directly)
    depth: int = 0
    parent_execution_id: str | None = None
    # optimistic concurrency: every state write of the executor requires the version it
    # read and increments it, so that two executors never both apply a decision
    version: int = 0
    # tasks and events a state write committed but whose publication may not have
    # happened yet (a transactional outbox, flushed idempotently)
    outbox: dict[str, Any] | None = None
    # a re-run: the execution it was derived from and the node it restarted at
    rerun_of: str | None = None
    rerun_from: list[str] | None = None
    # W3C traceparent of the span that created the execution: every executor step joins
    # that trace, even one started by a timer or a restarted executor (pilot_shared.tracing)
    trace_parent: str | None = None
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
    # a loop body node's run: its loop and the iteration (0-based, in item order)
    loop_id: str | None = None
    iteration: int | None = None
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
